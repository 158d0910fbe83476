/**
 * The staff pages' `wx`: helpers/fakeWx.js (scripted wx.request, storage, wx.login) with the UI
 * APIs those pages call as well — toasts, modals (answered by `fake.modal`, true by default),
 * navigation, wx.previewImage, pull-down refresh, document download — recorded as jest mocks.
 * Also a staff member already bound on this phone (`signedIn`), and the fixtures' shapes as the
 * real server answers them (taken from a run against `zhangban serve`): the staff detail carries
 * its form's titles (`form_titles`) and identifiers (`personal_fields`) and each timeline line its
 * `label`; `actions` is left out here so that the page's own reading stays tested (a test adds it).
 */
const { fakeWx, envelope, ok } = require('./fakeWx.js');

function staffFakeWx() {
  const fake = fakeWx();
  const { wx } = fake;
  fake.modal = true;
  const done = (opts, res) =>
    Promise.resolve().then(() => {
      if (opts && opts.success) opts.success(res || {});
      if (opts && opts.complete) opts.complete(res || {});
    });
  wx.showToast = jest.fn((opts) => done(opts));
  wx.showLoading = jest.fn((opts) => done(opts));
  wx.hideLoading = jest.fn();
  wx.showModal = jest.fn((opts) => done(opts, { confirm: fake.modal, cancel: !fake.modal }));
  wx.navigateTo = jest.fn((opts) => done(opts));
  wx.redirectTo = jest.fn((opts) => done(opts));
  wx.reLaunch = jest.fn((opts) => done(opts));
  wx.navigateBack = jest.fn((opts) => done(opts));
  wx.previewImage = jest.fn((opts) => done(opts));
  wx.stopPullDownRefresh = jest.fn();
  wx.setNavigationBarTitle = jest.fn();
  wx.downloadFile = jest.fn((opts) => done(opts, { statusCode: 200, tempFilePath: '/tmp/doc.pdf' }));
  wx.openDocument = jest.fn((opts) => done(opts));
  return fake;
}

/** Tokens of a staff member bound on this phone (never a real token). */
function signedIn(fake) {
  fake.storage['zb.staff.access_token'] = 'staff-access-1';
  fake.storage['zb.staff.refresh_token'] = 'staff-refresh-1';
  return fake;
}

function staffMe(overrides) {
  return Object.assign(
    { id: 2, username: 'reviewer-01', name: '李审查', department_code: 'NC-GAJ', roles: ['reviewer'], active: true, wechat_bound: true },
    overrides || {},
  );
}

function tokens(staff) {
  return { access_token: 'staff-access-2', token_type: 'Bearer', expires_in: 600, refresh_token: 'staff-refresh-2', refresh_expires_in: 43200, staff: staff || staffMe() };
}

function inboxItem(overrides) {
  return Object.assign(
    {
      id: 1,
      item_code: 'GA-SFZ-HL',
      item_name: '居民身份证换领',
      status: 'submitted',
      status_label: '待预审',
      acceptance_number: null,
      applicant: '张*',
      promised_due_on: null,
      card: '',
      updated_at: '2026-12-07T11:20:58.639580+00:00',
    },
    overrides || {},
  );
}

function caseDetail(overrides) {
  return Object.assign(
    {
      id: 1,
      item_code: 'GA-SFZ-HL',
      item_name: '居民身份证换领',
      status: 'submitted',
      status_label: '待预审',
      acceptance_number: null,
      applicant: '张*',
      promised_due_on: null,
      card: '',
      updated_at: '2026-12-07T11:20:58.639580+00:00',
      revision: 1,
      lead_department_code: 'NC-GAJ',
      company_id: null,
      applicant_user_id: 1,
      agent_user_id: null,
      form: { reason: '有效期满', photo_receipt_no: 'E2E2026A001', delivery_method: '邮寄送达', recipient_phone: '138****5678' },
      // the filed version's titles, and where its form holds identifiers (as the server sends them)
      form_titles: { reason: '换领原因', photo_receipt_no: '数字相片回执编号', delivery_method: '领取方式', mailing_address: '邮寄地址', recipient_phone: '收件人手机号码' },
      personal_fields: [{ path: 'recipient_phone', kind: 'phone' }],
      fee_fen: 2000,
      submitted_at: '2026-12-07T11:20:58.639580+00:00',
      accepted_on: null,
      statutory_due_on: null,
      answer_due_on: '2026-12-14',
      clock_stopped_since: null,
      predicted_on: null,
      decision: null,
      decision_reasons: null,
      rights_notice: null,
      checklist: [
        { code: 'id-card', name: '原居民身份证（人像面、国徽面照片）', requirement: 'required', condition: null, needed: true, files: 2, max_files: 2, satisfied: true },
        { code: 'photo-receipt', name: '居民身份证数字相片回执', requirement: 'required', condition: null, needed: true, files: 1, max_files: 1, satisfied: true },
        { code: 'hukou-book', name: '居民户口簿（户主页及本人页）', requirement: 'conditional', condition: '换领原因为登记项目变更时提供', needed: false, files: 0, max_files: 2, satisfied: true },
      ],
      files: [
        file('f1', 'id-card', 'IMG_0001.jpg'),
        file('f2', 'id-card', 'IMG_0002.jpg'),
        Object.assign(file('f3', 'photo-receipt', 'receipt.pdf'), { content_type: 'application/pdf', pages: 1, width: null, height: null }),
      ],
      correction: null,
      evaluation: null,
      timeline: [{ action: 'submit', label: '提交申请', role: 'applicant', from: 'draft', to: 'submitted', comment: '', details: {}, at: '2026-12-07T11:20:58.639580+00:00' }],
      tasks: [],
    },
    overrides || {},
  );
}

function file(id, material, filename) {
  return {
    id,
    material_code: material,
    purpose: 'material',
    status: 'ready',
    filename,
    content_type: 'image/jpeg',
    width: 320,
    height: 240,
    pages: null,
    created_at: '2026-12-07T11:20:58.423010+00:00',
    url: `http://127.0.0.1:8000/objects/zhangban-materials/${id}.jpg?X-Amz-Expires=300&X-Amz-Signature=abc`,
    thumbnail_url: `http://127.0.0.1:8000/objects/zhangban-materials/${id}.thumb.jpg?X-Amz-Expires=300&X-Amz-Signature=def`,
  };
}

/** Let every pending callback and promise run (the fake answers on microtasks). */
async function flush(times) {
  for (let i = 0; i < (times || 20); i += 1) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
}

module.exports = { staffFakeWx, signedIn, staffMe, tokens, inboxItem, caseDetail, file, flush, envelope, ok };
