/**
 * End to end: utils/api.js (with utils/pay.js and utils/consent.js) run under Node, with a `wx`
 * over real HTTP (e2e/wxNode.js), drives the embedded server globalSetup started through the
 * whole flow, as a citizen's phone and as the staff's phones, and checks the final state through
 * the API. The tests of this file run in order and share the phones.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { client: api, createClient, ApiError, describeError, labelsFromGuide } = require('../utils/api.js');
const { pay } = require('../utils/pay.js');
const { prepareConsent, requestConsent } = require('../utils/consent.js');
const { createPhone } = require('./wxNode.js');

jest.setTimeout(60000);

const state = JSON.parse(fs.readFileSync(process.env.ZB_MP_E2E_STATE, 'utf8'));
const BASE = state.baseUrl;
const ITEM = 'GA-SFZ-HL'; // 居民身份证换领: level 2, two required photos, a fee
const FORM = { reason: '有效期满', photo_receipt_no: 'E2E2026A001', delivery_method: '窗口领取' };
const photoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zhangban-mp-photos-'));

/** Short waits: the real server answers at once, and a test should not sleep for seconds. */
const QUICK = { backoffBaseMs: 50, backoffMaxMs: 400 };

const citizen = createPhone({ baseUrl: BASE });
global.wx = citizen.wx; // the citizen's pages use the global wx, as in the mini-program
api.configure(Object.assign({ baseUrl: BASE }, QUICK)); // the pages' own client, pointed at this server

/** A valid resident ID number (GB 11643) that no other run has used. */
function idNumber() {
  const year = 1960 + Math.floor(Math.random() * 40);
  const seq = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
  const body = `360426${year}0101${seq}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = body.split('').reduce((acc, d, i) => acc + Number(d) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

let photoCount = 0;
/** A small valid JPEG, different each time (the server stores the same file once per owner). */
function photo() {
  photoCount += 1;
  const file = path.join(photoDir, `IMG_${String(photoCount).padStart(4, '0')}.jpg`);
  const script = [
    'import random, sys',
    'from PIL import Image',
    'img = Image.new("RGB", (320, 240), tuple(random.randrange(256) for _ in range(3)))',
    'for x in range(0, 320, 16): img.paste(tuple(random.randrange(256) for _ in range(3)), (x, 0, x + 8, 240))',
    'img.save(sys.argv[1], "JPEG", quality=80)',
  ].join('\n');
  execFileSync(path.join(state.repo, '.venv', 'bin', 'python'), ['-c', script, file]);
  return { filePath: file, size: fs.statSync(file).size, filename: path.basename(file), contentType: 'image/jpeg' };
}

/** `zhangban <args>` against the server's database, as the operator at the server runs it. */
function operator(args) {
  return execFileSync(state.zhangban, args, { cwd: state.repo, env: state.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const flow = {};
const office = {};

async function staffPhone(bindCode) {
  const phone = createPhone({ baseUrl: BASE });
  const client = createClient(Object.assign({ baseUrl: BASE, audience: 'staff', wx: phone.wx }, QUICK));
  await client.bindStaff(bindCode);
  return { phone, client };
}

async function inboxRow(role, caseId) {
  const inbox = await office[role].client.get('/api/v1/staff/inbox', { role });
  const row = inbox.items.find((r) => r.id === caseId);
  if (!row) throw new Error(`case ${caseId} is not in the ${role}'s inbox`);
  return row;
}

async function waitFor(check, what, timeoutMs) {
  const deadline = Date.now() + (timeoutMs || 30000);
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

afterAll(() => {
  fs.rmSync(photoDir, { recursive: true, force: true });
  delete global.wx;
});

describe('a citizen and the staff drive the embedded server through the mini-program client', () => {
  test('browse: search the catalogue by pinyin initials and open a guide, anonymously', async () => {
    const page = await api.get('/api/v1/items', { q: 'sfz' });
    expect(page.items.map((i) => i.code)).toContain(ITEM);
    const guide = await api.get(`/api/v1/items/${ITEM}`);
    expect(guide.materials.length).toBeGreaterThan(0);
    flow.guide = guide;
    expect(citizen.requests('GET', '/api/v1/items')[0].key).toBeNull();
  });

  test('login: the first call that needs a login logs in with wx.login by itself', async () => {
    const me = await api.get('/api/v1/me');
    expect(me.realname_level).toBe(0);
    expect(citizen.requests('POST', '/api/v1/auth/wechat/login')).toHaveLength(1);
    flow.userId = me.id;
  });

  test('an expired access token is refreshed once, against the real refresh endpoint', async () => {
    // the e2e server gives citizens 6-second access tokens (ZB_ACCESS_TTL_S)
    await new Promise((r) => setTimeout(r, 7000));
    const before = citizen.requests('POST', '/api/v1/auth/refresh').length;
    const me = await api.get('/api/v1/me');
    expect(me.id).toBe(flow.userId);
    expect(citizen.requests('POST', '/api/v1/auth/refresh')).toHaveLength(before + 1);
    const expired = citizen.log.filter((r) => r.path === '/api/v1/me' && r.status === 401);
    expect(expired.length).toBeGreaterThan(0);
  });

  test('a refresh the server refuses falls back to logging in again, as the same WeChat user', async () => {
    await new Promise((r) => setTimeout(r, 7000));
    citizen.storage['zb.citizen.refresh_token'] = 'not-a-refresh-token-of-ours';
    const logins = citizen.requests('POST', '/api/v1/auth/wechat/login').length;
    const me = await api.get('/api/v1/me');
    expect(me.id).toBe(flow.userId);
    expect(citizen.requests('POST', '/api/v1/auth/wechat/login')).toHaveLength(logins + 1);
  });

  test('real name: a wrong ID number shows the field; level 1, then level 2 by face', async () => {
    const wrong = await api.post('/api/v1/me/realname', { name: '张三', id_number: '360426199101010072' }).catch((e) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong.code).toBe('request.validation_failed');
    const shown = describeError(wrong);
    expect(shown.fields[0]).toMatchObject({ field: 'id_number', label: '身份证号码' });
    expect(shown.text).toMatch(/身份证号码：.+/);

    const number = idNumber();
    const me = await api.post('/api/v1/me/realname', { name: '张三', id_number: number });
    expect(me.realname_level).toBe(1);
    expect(JSON.stringify(me)).not.toContain(number);

    const { verify_id: verifyId } = await api.post('/api/v1/me/face');
    await new Promise((resolve, reject) => global.wx.requestFacialVerify({ verifyId, success: resolve, fail: reject }));
    const after = await api.post('/api/v1/me/face/result', { verify_id: verifyId });
    expect(after.realname_level).toBe(2);
  });

  test('draft: the answer lost on the way back, retried with the same key: one draft', async () => {
    citizen.faults.loseAnswers((r) => r.method === 'POST' && r.path === '/api/v1/cases' && r.status === 201, 1);
    const draft = await api.post('/api/v1/cases', { item_code: ITEM, form: FORM });
    expect(draft.status).toBe('draft');
    const posts = citizen.served('POST', '/api/v1/cases');
    expect(posts).toHaveLength(2);
    expect(posts[0].key).toBe(posts[1].key);
    expect(posts[0].status).toBe(201); // the server made it; the phone never heard
    const drafts = await api.get('/api/v1/cases', { group: 'draft' });
    expect(drafts.items.filter((c) => c.item_code === ITEM || c.id === draft.id)).toHaveLength(1);
    flow.caseId = draft.id;
  });

  test('uploads: every required photo, one of them through a lost network, no second material', async () => {
    const required = flow.guide.materials.filter((m) => m.requirement === 'required');
    expect(required.length).toBeGreaterThan(0);
    citizen.faults.loseUploads(1); // the store got the bytes, the phone heard nothing
    citizen.faults.loseAnswers((r) => r.path === '/api/v1/uploads' && r.method === 'POST' && r.status === 201, 1);
    for (const material of required) {
      const progress = [];
      const done = await api.upload(
        Object.assign(photo(), {
          itemCode: ITEM,
          materialCode: material.code,
          caseId: flow.caseId,
          onProgress: (p) => progress.push(p.progress),
        }),
      );
      expect(done).toMatchObject({ status: 'ready', material_code: material.code, case_id: flow.caseId });
      expect(progress).toContain(100);
    }
    const intents = citizen.served('POST', '/api/v1/uploads');
    expect(intents).toHaveLength(required.length + 1);
    expect(intents[0].key).toBe(intents[1].key);
    expect(citizen.requests('UPLOAD', /.*/).length).toBe(required.length + 1);
    for (const material of required) {
      const files = await api.get('/api/v1/uploads', { item_code: ITEM, material_code: material.code });
      const mine = files.uploads.filter((f) => f.case_id === flow.caseId);
      expect(mine).toHaveLength(1);
    }
    const detail = await api.get(`/api/v1/cases/${flow.caseId}`);
    expect(detail.checklist.filter((row) => row.needed).every((row) => row.satisfied)).toBe(true);
  });

  test('consent before submitting, then submit', async () => {
    const prepared = await prepareConsent('submit');
    expect(prepared.template_ids.length).toBeGreaterThan(0);
    const results = await requestConsent(prepared);
    expect(Object.values(results).every((r) => r === 'accept')).toBe(true);
    const grants = await api.get('/api/v1/me/subscriptions');
    expect(JSON.stringify(grants)).toContain(prepared.template_ids[0]);

    const submitted = await api.post(`/api/v1/cases/${flow.caseId}/submit`);
    expect(submitted.status).toBe('submitted');
  });

  test('staff: an admin made by the operator, clerk, reviewer and approver by the admin, each bound on its own phone', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const department = flow.guide.lead_department;
    const created = JSON.parse(
      operator(['staff', 'create', '--username', `e2e-admin-${tag}`, '--name', '测试管理员', '--department', department, '--roles', 'admin']),
    );
    office.admin = await staffPhone(created.bind_code);
    for (const [role, name] of [
      ['clerk', '测试窗口人员'],
      ['reviewer', '测试审查人员'],
      ['approver', '测试审批人员'],
    ]) {
      const made = await office.admin.client.post('/api/v1/admin/staff', { username: `e2e-${role}-${tag}`, name, roles: [role] });
      office[role] = await staffPhone(made.bind_code);
    }
    const me = await office.clerk.client.get('/api/v1/staff/me');
    expect(me.roles).toEqual(['clerk']);
    const staffAsk = await prepareConsent('staff', { client: office.clerk.client });
    await requestConsent(staffAsk, { client: office.clerk.client, wx: office.clerk.phone.wx });
  });

  test('correction loop: the clerk lists a photo; acting on the old state is a conflict; the citizen replaces it and resubmits', async () => {
    await inboxRow('clerk', flow.caseId);
    const required = flow.guide.materials.filter((m) => m.requirement === 'required');
    const listed = required.find((m) => m.code === 'photo-receipt') || required[required.length - 1];
    const returned = await office.clerk.client.post(`/api/v1/staff/cases/${flow.caseId}/corrections`, {
      items: [{ kind: 'material', code: listed.code, problem: '照片模糊，请在光线充足处重新拍摄。' }],
    });
    expect(returned.status).toBe('correction_requested');

    // a second clerk tap on a case that has moved on: a conflict the page reacts to by reloading
    const conflict = await office.clerk.client.post(`/api/v1/staff/cases/${flow.caseId}/accept`, { comment: '予以受理。' }).catch((e) => e);
    expect(conflict).toBeInstanceOf(ApiError);
    expect(conflict.isConflict).toBe(true);
    expect(conflict.code).toBe('case.invalid_transition');
    expect(conflict.message).toMatch(/[\u4e00-\u9fa5]/);

    const detail = await api.get(`/api/v1/cases/${flow.caseId}`);
    expect(detail.status).toBe('correction_requested');
    expect(detail.correction.items.map((i) => i.code)).toEqual([listed.code]);
    // a file not listed cannot be touched: the error names why, in Chinese
    const other = required.find((m) => m.code !== listed.code);
    if (other) {
      const refused = await api
        .upload(Object.assign(photo(), { itemCode: ITEM, materialCode: other.code, caseId: flow.caseId }))
        .catch((e) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused.code).toBe('case.not_listed_for_correction');
      expect(refused.message).toMatch(/[\u4e00-\u9fa5]/);
    }
    for (const file of detail.files.filter((f) => f.material_code === listed.code)) {
      await api.del(`/api/v1/uploads/${file.id}`);
    }
    await api.upload(Object.assign(photo(), { itemCode: ITEM, materialCode: listed.code, caseId: flow.caseId }));
    const resubmitted = await api.post(`/api/v1/cases/${flow.caseId}/submit`);
    expect(resubmitted.status).toBe('submitted');
  });

  test('accept, review and decide on the staff phones', async () => {
    await inboxRow('clerk', flow.caseId);
    const accepted = await office.clerk.client.post(`/api/v1/staff/cases/${flow.caseId}/accept`, { comment: '材料齐全，予以受理。' });
    expect(accepted.status).toBe('accepted');
    expect(accepted.acceptance_number).toBeTruthy();
    flow.acceptanceNumber = accepted.acceptance_number;

    for (const [role, opinion] of [
      ['reviewer', '材料齐全，符合法定条件。'],
      ['approver', '同意，准予许可。'],
    ]) {
      const row = await inboxRow(role, flow.caseId);
      expect(row.task.status).toBe('open');
      await office[role].client.post(`/api/v1/staff/tasks/${row.task.id}/claim`);
      await office[role].client.post(`/api/v1/staff/tasks/${row.task.id}/decide`, { outcome: 'pass', opinion });
    }
    const detail = await api.get(`/api/v1/cases/${flow.caseId}`);
    expect(detail.decision).toBe('granted');
    expect(detail.status).toBe('fee_due');
  });

  test('pay: the payer closes the sheet (still payable), then pays; the case moves on', async () => {
    const prepared = await prepareConsent('pay');
    await requestConsent(prepared);

    citizen.payment = 'cancel';
    const cancelled = await pay(flow.caseId);
    expect(cancelled).toMatchObject({ status: 'cancelled', payable: true });
    const open = await api.get(`/api/v1/cases/${flow.caseId}/fee`);
    expect(open.status).toBe('open');
    expect((await api.get(`/api/v1/cases/${flow.caseId}`)).status).toBe('fee_due');

    citizen.payment = 'pay';
    const paid = await pay(flow.caseId);
    expect(paid.status).toBe('paid');
    expect(paid.outTradeNo).toBe(cancelled.outTradeNo); // the same order, paid once
    await waitFor(async () => (await api.get(`/api/v1/cases/${flow.caseId}`)).status === 'result_pending', 'the payment callback');
  });

  test('final state, read back through the API', async () => {
    const detail = await api.get(`/api/v1/cases/${flow.caseId}`);
    expect(detail).toMatchObject({ status: 'result_pending', decision: 'granted', acceptance_number: flow.acceptanceNumber });
    const fee = await api.get(`/api/v1/cases/${flow.caseId}/fee`);
    expect(fee.payments).toHaveLength(1);
    const receipt = await api.get(`/api/v1/cases/${flow.caseId}/payments/${fee.payments[0].id}/receipt`);
    const checked = await api.get('/api/v1/public/receipts/verify', {
      receipt_number: receipt.receipt_number,
      code: receipt.verification_code,
    });
    expect(checked.valid).toBe(true);
    // the receipt's PDF through the client's download (wx.downloadFile with the token)
    const pdf = await api.download(`/api/v1/cases/${flow.caseId}/payments/${fee.payments[0].id}/receipt.pdf`);
    expect(fs.readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    const missing = await api.download(`/api/v1/cases/${flow.caseId}/payments/999999/receipt.pdf`).catch((e) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing.status).toBe(404);
    expect(missing.message).toMatch(/[\u4e00-\u9fa5]/); // the server's message, read from the saved answer
    const mine = await api.get('/api/v1/cases', { group: 'in_progress' });
    expect(mine.items.filter((c) => c.id === flow.caseId)).toHaveLength(1);
    const drafts = await api.get('/api/v1/cases', { group: 'draft' });
    expect(drafts.items).toHaveLength(0);
    // no request of any phone carried a token in its log, and every write had a key
    const writes = citizen.log.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method));
    expect(writes.every((r) => r.key)).toBe(true);
    expect(labelsFromGuide(flow.guide)['form.reason']).toBe('换领原因');
  });
});

describe('after the payment: dispatch, rating, the messages\' links, a family mandate', () => {
  const appPages = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'app.json'), 'utf8')).pages;
  const pageOf = (link) => String(link || '').split('?')[0];

  test('dispatch: the staff detail offers each member what they may do; the dispatcher completes', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const made = await office.admin.client.post('/api/v1/admin/staff', { username: `e2e-dispatcher-${tag}`, name: '测试送达人员', roles: ['dispatcher'] });
    office.dispatcher = await staffPhone(made.bind_code);
    const seen = await office.dispatcher.client.get(`/api/v1/staff/cases/${flow.caseId}`);
    expect(seen.actions).toContain('complete');
    const clerkSees = await office.clerk.client.get(`/api/v1/staff/cases/${flow.caseId}`);
    expect(clerkSees.actions).not.toContain('complete');
    expect(clerkSees.actions).not.toContain('accept');
    expect(clerkSees.form_titles.reason).toBe('换领原因');

    const done = await office.dispatcher.client.post(`/api/v1/staff/cases/${flow.caseId}/complete`, { comment: '申请人已到窗口领取。' });
    expect(done.status).toBe('completed');
    const detail = await api.get(`/api/v1/cases/${flow.caseId}`);
    expect(detail.status).toBe('completed');
    // every line of the citizen's timeline says what it was, in Chinese
    expect(detail.timeline.length).toBeGreaterThan(5);
    detail.timeline.forEach((line) => expect(line.label).toMatch(/^[\u4e00-\u9fa5（），]+$/));
  });

  test('evaluate: rated once, a second rating is a conflict, the department answers it', async () => {
    const rated = await api.post(`/api/v1/cases/${flow.caseId}/evaluation`, { score: 2, tags: ['跑了多次'], comment: '补正了一次。' });
    expect(rated.score).toBe(2);
    const again = await api.post(`/api/v1/cases/${flow.caseId}/evaluation`, { score: 5 }).catch((e) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect(again.isConflict).toBe(true);
    expect(again.message).toMatch(/[\u4e00-\u9fa5]/);

    const listed = await office.reviewer.client.get('/api/v1/staff/evaluations', { follow_up: 'open' });
    const row = listed.items.find((e) => e.case_id === flow.caseId);
    expect(row).toMatchObject({ score: 2, follow_up: 'open' });
    await office.reviewer.client.post(`/api/v1/staff/evaluations/${row.id}/answer`, { answer: '已核实，今后一次告知到位。' });
    const detail = await api.get(`/api/v1/cases/${flow.caseId}`);
    expect(detail.evaluation).toMatchObject({ score: 2, answer: '已核实，今后一次告知到位。' });
  });

  test('messages: every link the server wrote, to the citizen and to the staff, opens a page the mini-program has', async () => {
    const inbox = await waitFor(async () => {
      const page = await api.get('/api/v1/me/messages');
      return page.messages.length >= 5 ? page : null;
    }, 'the citizen\'s messages');
    const links = inbox.messages.map((m) => m.link).filter(Boolean);
    expect(links.length).toBeGreaterThan(0);
    for (const role of ['clerk', 'reviewer', 'approver', 'dispatcher']) {
      const page = await office[role].client.get('/api/v1/staff/messages');
      page.messages.forEach((m) => m.link && links.push(m.link));
    }
    links.forEach((link) => expect(appPages).toContain(pageOf(link)));
  });

  test('mandate: a relative is given the item, both sides see it, the principal ends it', async () => {
    const relative = createPhone({ baseUrl: BASE });
    const theirs = createClient(Object.assign({ baseUrl: BASE, wx: relative.wx, storagePrefix: 'zb.relative.' }, QUICK));
    const number = idNumber();
    await theirs.post('/api/v1/me/realname', { name: '李四', id_number: number });
    const endsOn = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);

    const wrong = await api.post('/api/v1/mandates', { agent_name: '李四', agent_id_number: '123', item_codes: [ITEM], ends_on: endsOn }).catch((e) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(describeError(wrong).fields.map((f) => f.field)).toContain('agent_id_number');

    const given = await api.post('/api/v1/mandates', { agent_name: '李四', agent_id_number: number, item_codes: [ITEM], ends_on: endsOn });
    expect(given).toMatchObject({ status: 'active', item_codes: [ITEM] });
    expect(JSON.stringify(given)).not.toContain(number);
    const held = await theirs.get('/api/v1/mandates');
    expect(held.held.map((m) => m.id)).toEqual([given.id]);
    const told = await waitFor(async () => {
      const page = await theirs.get('/api/v1/me/messages');
      return page.messages.find((m) => pageOf(m.link) === 'pages/mandates/index');
    }, 'the relative\'s message about the mandate');
    expect(appPages).toContain(pageOf(told.link));

    await api.del(`/api/v1/mandates/${given.id}`);
    const after = await theirs.get('/api/v1/mandates');
    expect(after.held[0]).toMatchObject({ id: given.id, status: 'ended', ended_by: 'principal' });
  });
});

describe('the real server\'s rate limit', () => {
  test('a 429 is read with its Retry-After and shown in Chinese', async () => {
    // a public page's client that never waits (unit tests wait Retry-After on fake timers)
    const impatient = createClient({ baseUrl: BASE, wx: citizen.wx, storagePrefix: 'zb.public.', maxRetryAfterS: 0 });
    const statusOf = () =>
      impatient.get(`/api/v1/public/cases/${flow.acceptanceNumber}`, { name: '张三' }).then(
        () => null,
        (e) => e,
      );
    let limited = null;
    for (let i = 0; i < 40 && !limited; i += 1) {
      const error = await statusOf();
      if (error && error.status === 429) limited = error;
    }
    expect(limited).toBeInstanceOf(ApiError);
    expect(limited.code).toBe('rate_limited');
    expect(limited.message).toMatch(/[\u4e00-\u9fa5]/);
    const retryAfter = Number(Object.entries(limited.headers).find(([k]) => k.toLowerCase() === 'retry-after')[1]);
    expect(retryAfter).toBeGreaterThan(0);
    // the pages' client: a wait longer than a person would bear (here the number's hourly limit)
    // is shown at once rather than waited for
    const started = Date.now();
    const shown = await api.get(`/api/v1/public/cases/${flow.acceptanceNumber}`, { name: '张三' }).catch((e) => e);
    expect(shown.status).toBe(429);
    expect(Date.now() - started).toBeLessThan(Math.min(retryAfter, 30) * 1000);
  });
});
