/** Shared API answers of the citizen pages' tests, shaped as the server sends them. */
const GUIDE = {
  code: 'GA-SFZ-HL',
  name: '居民身份证换领',
  summary: '',
  kind: 'administrative_confirmation',
  legal_basis: ['《中华人民共和国居民身份证法》第八条'],
  lead_department: 'NC-GAJ',
  audience: 'person',
  statutory_limit_days: 60,
  promised_limit_days: 15,
  result: { name: '中华人民共和国居民身份证', sample_url: null },
  fee: { amount_fen: 2000, basis: '', description: '工本费 20 元/证', unit_field: null, unit: '', payment_working_days: 15 },
  materials: [
    { code: 'id-card', name: '原居民身份证（人像面、国徽面照片）', requirement: 'required', condition: null, formats: ['jpg'], max_files: 2, form: 'original', elicence_accepted: false, notes: '' },
    { code: 'photo-receipt', name: '居民身份证数字相片回执', requirement: 'required', condition: null, formats: ['jpg'], max_files: 1, form: 'original', elicence_accepted: false, notes: '' },
  ],
  form_schema: {
    type: 'object',
    properties: {
      reason: { type: 'string', title: '换领原因', enum: ['有效期满', '证件损坏', '登记项目变更'] },
      photo_receipt_no: { type: 'string', title: '数字相片回执编号', pattern: '^[A-Za-z0-9]{6,32}$' },
      delivery_method: { type: 'string', title: '领取方式', enum: ['窗口领取', '邮寄送达'] },
      mailing_address: { type: 'string', title: '邮寄地址', maxLength: 200 },
      recipient_phone: { type: 'string', 'x-personal': 'phone', title: '收件人手机号码', pattern: '^1[3-9][0-9]{9}$' },
    },
    required: ['reason', 'photo_receipt_no', 'delivery_method'],
    if: { properties: { delivery_method: { const: '邮寄送达' } } },
    then: { required: ['mailing_address', 'recipient_phone'] },
    additionalProperties: false,
  },
  process_steps: [
    { name: '申请', description: '在线提交申请。' },
    { name: '受理', description: '户籍民警核对材料。' },
  ],
  review_steps: [],
  handling_mode: 'online_then_pickup',
  min_realname_level: 2,
  handling_place: '南昌市政务服务中心',
  handling_hours: '工作日 9:00-17:00',
  enquiry_phone: '0791-12345',
  complaint_phone: '12345',
  themes: [],
  keywords: [],
};

const INTENT = {
  upload_id: 'bdbeb8be9f521c902d52ee45',
  url: 'http://store.test/objects/zhangban-materials',
  fields: { key: 'incoming/u1/x', policy: 'p', 'x-amz-signature': 's' },
  file_field: 'file',
  max_size: 10485760,
  expires_at: '2026-12-07T11:10:31Z',
};

const READY = {
  id: INTENT.upload_id,
  status: 'ready',
  url: 'http://store.test/get/full.jpg',
  thumbnail_url: 'http://store.test/get/thumb.jpg',
  material_code: 'photo-receipt',
  filename: 'IMG_0001.jpg',
  case_id: 42,
};

function caseDetail(overrides) {
  return Object.assign(
    {
      id: 42,
      item_code: 'GA-SFZ-HL',
      item_name: '居民身份证换领',
      status: 'draft',
      status_label: '草稿',
      acceptance_number: null,
      applicant: '张*',
      promised_due_on: null,
      card: '',
      updated_at: '2026-12-07T03:00:00+00:00',
      revision: 0,
      form: { reason: '有效期满', photo_receipt_no: 'ABC12345', delivery_method: '窗口领取' },
      fee_fen: 2000,
      submitted_at: null,
      accepted_on: null,
      statutory_due_on: null,
      answer_due_on: null,
      clock_stopped_since: null,
      predicted_on: null,
      decision: null,
      decision_reasons: null,
      rights_notice: null,
      checklist: [
        { code: 'id-card', name: '原居民身份证（人像面、国徽面照片）', requirement: 'required', condition: null, needed: true, files: 1, max_files: 2, satisfied: true },
        { code: 'photo-receipt', name: '居民身份证数字相片回执', requirement: 'required', condition: null, needed: true, files: 1, max_files: 1, satisfied: true },
      ],
      files: [
        { id: 'aaaa0001', material_code: 'id-card', purpose: 'material', status: 'ready', filename: 'front.jpg', url: 'http://store.test/a', thumbnail_url: 'http://store.test/at', created_at: '2026-12-07T03:00:00+00:00' },
        { id: 'aaaa0002', material_code: 'photo-receipt', purpose: 'material', status: 'ready', filename: 'receipt.jpg', url: 'http://store.test/b', thumbnail_url: null, created_at: '2026-12-07T03:00:00+00:00' },
      ],
      correction: null,
      evaluation: null,
      timeline: [],
    },
    overrides || {},
  );
}

const TO_ASK = {
  moment: 'submit',
  template_ids: ['ZbProgress', 'ZbCorrection'],
  templates: [
    { template_id: 'ZbProgress', title: '办件进度通知' },
    { template_id: 'ZbCorrection', title: '材料补正通知' },
  ],
};

module.exports = { GUIDE, INTENT, READY, caseDetail, TO_ASK };

// -- companies and family mandates (api/identity.py CompanyOut, AgentOut, InvitationOut, MandateOut)

const COMPANY_REP = { id: 7, uscc: '91360100MA35XXXX1X', name: '南昌掌办科技有限公司', role: 'legal_rep', scopes: ['apply', 'pay', 'view'] };
const COMPANY_AGENT = { id: 8, uscc: '91360100MA36YYYY2Y', name: '江西赣江商贸有限公司', role: 'agent', scopes: ['apply', 'view'] };

function agent(id, status, extra) {
  return Object.assign({ id, name: status === 'invited' ? null : `经办人${id}`, scopes: ['apply', 'view'], status }, extra || {});
}

const INVITATION = { agent_id: 23, invite_code: 'Qm9vX2ludml0ZV9j', scopes: ['apply', 'view'], expires_at: '2026-12-14T03:00:00+00:00' };

function mandate(id, extra) {
  return Object.assign(
    { id, principal: { id: 1, name: '张*' }, agent: { id: 2, name: '李*' }, item_codes: [], item_names: [], ends_on: '2027-06-30', active: true, status: 'active', ended_at: null, ended_by: null },
    extra || {},
  );
}

Object.assign(module.exports, { COMPANY_REP, COMPANY_AGENT, agent, INVITATION, mandate });

// -- the staff actions (pages/staff/case, pages/staff/evaluations), shaped as the server sends them

/** The staff case detail's `actions` for a viewer in each situation. */
const STAFF_ACTIONS = {
  clerkSubmitted: ['accept', 'refuse', 'request_correction', 'comment', 'attach', 'reveal'],
  reviewerHolding: ['decide', 'release', 'request_correction', 'suspend', 'comment', 'attach', 'reveal'],
  reviewerSuspended: ['resume', 'comment', 'attach', 'reveal'],
  dispatcherPending: ['complete', 'comment', 'attach'],
  supervisor: ['reassign'],
  nothing: [],
  // every name the server may list (a supervisor who is also a clerk, reviewer and dispatcher)
  every: ['accept', 'refuse', 'request_correction', 'claim', 'decide', 'release', 'suspend', 'resume', 'complete', 'comment', 'attach', 'reveal', 'reassign'],
};

/** GET /api/v1/staff/subscriptions/to-ask */
const STAFF_TO_ASK = {
  moment: 'staff',
  template_ids: ['ZbStaffTask', 'ZbStaffSupervision'],
  templates: [
    { template_id: 'ZbStaffTask', title: '新待办提醒' },
    { template_id: 'ZbStaffSupervision', title: '督办提醒' },
  ],
};

/** POST /api/v1/staff/cases/{id}/attachments */
const STAFF_INTENT = {
  upload_id: 'c0ffee0000000000000000a1',
  url: 'http://store.test/objects/zhangban-materials',
  fields: { key: 'incoming/s2/att', policy: 'p2', 'x-amz-signature': 's2' },
  file_field: 'file',
  max_size: 10485760,
  expires_at: '2026-12-07T11:10:31Z',
};

/** POST /api/v1/staff/uploads/{id}/complete */
const STAFF_ATTACHMENT = {
  id: STAFF_INTENT.upload_id,
  status: 'ready',
  purpose: 'attachment',
  item_code: 'GA-SFZ-HL',
  material_code: null,
  case_id: 1,
  filename: 'site.jpg',
  content_type: 'image/jpeg',
  size: 2048,
  width: 320,
  height: 240,
  pages: null,
  created_at: '2026-12-07T11:30:00+00:00',
  url: 'http://store.test/get/site.jpg',
  thumbnail_url: 'http://store.test/get/site.thumb.jpg',
};

/** One rating as GET /api/v1/staff/evaluations lists it. */
function staffEvaluation(overrides) {
  return Object.assign(
    {
      id: 7,
      case_id: 1,
      item_code: 'GA-SFZ-HL',
      department_code: 'NC-GAJ',
      score: 2,
      tags: ['等待时间长'],
      comment: '窗口排队太久。',
      follow_up: 'open',
      answer: null,
      answered_at: null,
      created_at: '2026-12-08T02:00:00+00:00',
      item_name: '居民身份证换领',
      acceptance_number: 'NC-GAJ-20261207-00001',
      applicant: '张*',
      case_status: 'completed',
    },
    overrides || {},
  );
}

/** GET /api/v1/staff/evaluations/stats */
const STAFF_EVALUATION_STATS = {
  department: 'NC-GAJ',
  item_code: null,
  count: 4,
  average: 3.75,
  distribution: { 1: 0, 2: 1, 3: 0, 4: 1, 5: 2 },
  satisfied_rate: 0.75,
  follow_ups: { open: 1, answered: 0 },
};

Object.assign(module.exports, { STAFF_ACTIONS, STAFF_TO_ASK, STAFF_INTENT, STAFF_ATTACHMENT, staffEvaluation, STAFF_EVALUATION_STATS });

// -- the staff case page's reassignment and nested forms (GET /api/v1/supervisor/tasks/{id}/assignees,
// the staff detail's form_titles and personal_fields with `*` for an array's index)

/** GET /api/v1/supervisor/tasks/11/assignees: the holder (李审查) and one other reviewer. */
const STAFF_ASSIGNEES = {
  task_id: 11,
  assignees: [
    { staff_id: 2, name: '李审查', holds_task: true },
    { staff_id: 4, name: '刘审查', holds_task: false },
  ],
};

/** A staff detail's form with a list of people: titles and identifiers by `*` pattern. */
const STAFF_FAMILY_FORM = {
  form: {
    household_no: 'HK2026001',
    persons: [
      { name: '张*', id_number: '3601**********1234', relation: '本人' },
      { name: '李*', id_number: '3601**********5678', relation: '配偶' },
    ],
  },
  form_titles: {
    household_no: '户号',
    persons: '家庭成员',
    'persons.*.name': '姓名',
    'persons.*.id_number': '身份证号码',
    'persons.*.relation': '与户主关系',
  },
  personal_fields: [{ path: 'persons.*.id_number', kind: 'id_number' }],
};

Object.assign(module.exports, { STAFF_ASSIGNEES, STAFF_FAMILY_FORM });

// -- the citizen's rating, receipt and fee notice with its ways to pay (api/schemas.py RatingOut,
// api/evaluations.py EvaluationOut, api/payments.py ReceiptOut, FeeOrderOut, PayOptionOut)

/** A case's `evaluation` as GET /api/v1/cases/{id} carries it (RatingOut). */
function rating(overrides) {
  return Object.assign({ score: 5, tags: ['办事快', '态度好'], comment: '一次办好。', answer: null }, overrides || {});
}

/** POST /api/v1/cases/{id}/evaluation */
function evaluationOut(overrides) {
  return Object.assign(
    {
      id: 11,
      case_id: 42,
      item_code: 'GA-SFZ-HL',
      department_code: 'NC-GAJ',
      score: 5,
      tags: ['办事快'],
      comment: '',
      follow_up: null,
      answer: null,
      answered_at: null,
      created_at: '2026-12-09T02:00:00+00:00',
    },
    overrides || {},
  );
}

/** GET /api/v1/cases/42/payments/3/receipt */
const RECEIPT = {
  receipt_number: 'PJ202612070000000003',
  notice_number: 'JF2026120700001',
  payer: '张三',
  title: null,
  tax_number: null,
  item: '居民身份证换领 工本费',
  reference: 'case:42',
  lines: [{ name: '居民身份证工本费', unit_fen: 2000, quantity: 1, unit: '证', amount_fen: 2000 }],
  amount_fen: 2000,
  amount: '20.00',
  amount_in_words: '贰拾元整',
  payee_department: '南昌市公安局',
  paid_at: '2026-12-07T04:00:00+00:00',
  paid_at_china: '2026-12-07 12:00:00',
  channel: 'wechatpay',
  channel_name: '微信支付',
  transaction_id: '4200001234202612071234567890',
  out_trade_no: 'ZB2026120700001',
  disposition: 'applied',
  note: null,
  refunded_fen: 0,
  fiscal_receipt: null,
  verification_code: 'A7K2M9QX',
};

/** One payment of a fee notice (PaymentOut). */
function payment(id, overrides) {
  return Object.assign(
    { id, channel: 'wechatpay', amount_fen: 2000, paid_at: '2026-12-07T04:00:00+00:00', disposition: 'applied', note: null, refunded_fen: 0, receipt_number: `PJ20261207000000000${id}` },
    overrides || {},
  );
}

/** An open notice's pay_options with both channels enabled (the server's order). */
const PAY_OPTIONS = [
  { channel: 'wechatpay', label: '微信支付', modes: ['in_app', 'qr'] },
  { channel: 'alipay', label: '支付宝', modes: ['qr'] },
];

/** GET /api/v1/cases/42/fee */
function feeNotice(overrides) {
  return Object.assign(
    {
      case_id: 42,
      id: 5,
      notice_number: 'JF2026120700001',
      title: '居民身份证换领 工本费',
      lines: [{ name: '居民身份证工本费', unit_fen: 2000, quantity: 1, unit: '证', amount_fen: 2000 }],
      amount_fen: 2000,
      amount: '20.00',
      amount_in_words: '贰拾元整',
      status: 'open',
      status_label: '待缴费',
      due_on: '2026-12-28',
      payee_department: { code: 'NC-GAJ', name: '南昌市公安局' },
      opened_at: '2026-12-07T03:00:00+00:00',
      paid_at: null,
      receipt_title: null,
      receipt_tax_number: null,
      payments: [],
      refunds: [],
      pay_options: PAY_OPTIONS,
    },
    overrides || {},
  );
}

Object.assign(module.exports, { rating, evaluationOut, RECEIPT, payment, PAY_OPTIONS, feeNotice });
