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
