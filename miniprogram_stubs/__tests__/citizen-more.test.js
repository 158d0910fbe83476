const { fakeWx, envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');
const { GUIDE, TO_ASK, caseDetail, rating, evaluationOut, RECEIPT, payment, PAY_OPTIONS, feeNotice } = require('./fixtures.js');

const VALIDATION = '提交的信息不完整或格式不正确，请按提示修改。';
const NETWORK = '网络连接不稳定，请检查网络后重试。';
const NO_CONTENT = { status: 204, data: '' };
const LOST = { fail: 'request:fail timeout' };
const EXPIRED = envelope(401, 'auth.token_expired', '登录已过期。');
const REFRESHED = ok({ access_token: 'access-1', refresh_token: 'refresh-1', token_type: 'Bearer', expires_in: 900, refresh_expires_in: 86400 });
const NOT_MINE = envelope(403, 'auth.forbidden', '您没有权限进行此操作。');
const NO_CASE = envelope(404, 'case.not_found', '办件不存在或您无权查看。');

const COMPLETED = caseDetail({
  status: 'completed',
  status_label: '已办结',
  acceptance_number: 'NC-GAJ-20261207-0001',
  submitted_at: '2026-12-07T03:00:00+00:00',
  decision: 'granted',
});

describe('the citizen pages still missing: rating, receipt, settings, withdraw and drafts', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage());
  });

  afterEach(leavePage);

  const tap = (dataset, detail) => ({ currentTarget: { dataset }, detail: detail || {} });
  /** a wx API fakeWx has not: miniprogram-simulate copied `wx` when it loaded, so set both */
  const setWx = (name, fn) => {
    fake.wx[name] = fn;
    global.wx[name] = fn;
    return fn;
  };
  /** the same page again in one test: miniprogram-simulate runs a page's js once per module registry */
  const fresh = () => {
    jest.resetModules();
    ({ renderPage, text } = require('./helpers/page.js'));
    require('../utils/api.js').client.configure({ backoffBaseMs: 0, backoffMaxMs: 0 });
  };
  const keyOf = (call) => call.header['Idempotency-Key'];
  const cancelModal = () =>
    fake.wx.showModal.mockImplementationOnce((opts) => Promise.resolve().then(() => opts.success({ errMsg: 'showModal:ok', confirm: false, cancel: true })));

  // -- pages/case/evaluate -----------------------------------------------------------------------

  describe('pages/case/evaluate', () => {
    const RATE = '/api/v1/cases/42/evaluation';

    async function rateFive(page) {
      page.instance.onScore(tap({ score: 5 }));
      page.instance.onTag(tap({ tag: '办事快' }));
      page.instance.onTag(tap({ tag: '材料一次讲清' }));
      page.instance.onComment({ detail: { value: ' 一次办好，谢谢。 ' } });
    }

    test('rates a finished case once: score, tags, comment; the answer shown read only', async () => {
      fake.storage['zb.pref.large_text'] = 1;
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('POST', RATE, ok(evaluationOut({ score: 5, tags: ['办事快', '材料一次讲清'], comment: '一次办好，谢谢。' }), 201));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      expect(page.querySelector('.page.large-text')).toBeTruthy();
      expect(text(page, '.case-name')).toBe('居民身份证换领');
      expect(page.querySelector('.rate-form')).toBeTruthy();
      expect(page.querySelector('.rating')).toBeFalsy();

      await rateFive(page);
      expect(text(page, '.score-text')).toBe('非常满意');
      expect(page.querySelectorAll('.tag-on').map((n) => n.dom.textContent)).toEqual(['办事快', '材料一次讲清']);
      await page.instance.onSubmit();
      const [post] = fake.callsTo('POST', RATE);
      expect(post.data).toEqual({ score: 5, tags: ['办事快', '材料一次讲清'], comment: '一次办好，谢谢。' });
      expect(keyOf(post)).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
      expect(page.querySelector('.rate-form')).toBeFalsy();
      expect(text(page, '.rating-stars')).toBe('★★★★★');
      expect(page.querySelectorAll('.rating-tag').map((n) => n.dom.textContent)).toEqual(['办事快', '材料一次讲清']);
      expect(text(page, '.rating-comment')).toBe('一次办好，谢谢。');
      expect(text(page, '.top-notice')).toBe('感谢您的评价！');
      expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(1); // no second read
    });

    test('a bad score offers the bad tags and says the department will answer', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(caseDetail({ status: 'refused', status_label: '不予受理' })));
      fake.on('POST', RATE, ok(evaluationOut({ score: 1, tags: ['跑了多次'], comment: '', follow_up: 'open' }), 201));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      page.instance.onScore(tap({ score: 5 }));
      page.instance.onTag(tap({ tag: '态度好' }));
      page.instance.onScore(tap({ score: 1 }));
      const offered = page.querySelectorAll('.tag-option').map((n) => n.dom.textContent);
      expect(offered).toContain('跑了多次');
      expect(offered).not.toContain('态度好');
      page.instance.onTag(tap({ tag: '跑了多次' }));
      await page.instance.onSubmit();
      expect(fake.callsTo('POST', RATE)[0].data).toEqual({ score: 1, tags: ['跑了多次'], comment: '' }); // 态度好 went with 5
      expect(text(page, '.awaiting')).toBe('办理部门正在核实整改，答复后会通知您。');
      expect(text(page, '.top-notice')).toBe('感谢您的评价，办理部门将核实整改并答复您。');
    });

    test('a case already rated shows its rating and the department answer, no form', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(Object.assign({}, COMPLETED, { evaluation: rating({ score: 2, tags: ['等待时间长'], comment: '排队太久。', answer: '已增设窗口，感谢监督。' }) })));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      expect(page.querySelector('.rate-form')).toBeFalsy();
      expect(text(page, '.rating-score')).toBe('2 分 · 不满意');
      expect(text(page, '.answer-text')).toBe('已增设窗口，感谢监督。');
      expect(page.querySelector('.awaiting')).toBeFalsy();
    });

    test('a case not finished cannot be rated: said, with the way to its progress', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(caseDetail({ status: 'in_review', status_label: '审查中' })));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      expect(text(page, '.not-rateable')).toMatch(/办结（或不予受理、不予许可）后才能评价/);
      expect(page.querySelector('.rate-form')).toBeFalsy();
      page.instance.onOpenCase();
      expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=42' }));
    });

    test('no score: said beside the stars, nothing sent', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      await page.instance.onSubmit();
      expect(text(page, '.error-score')).toBe('请选择评分。');
      expect(fake.callsTo('POST', RATE)).toHaveLength(0);
      page.instance.onScore(tap({ score: 4 }));
      expect(page.querySelector('.error-score')).toBeFalsy();
    });

    test("the server's field errors go beside the comment and the tags", async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('POST', RATE, envelope(400, 'request.validation_failed', VALIDATION, {
        fields: [
          { field: 'comment', code: 'identifier_not_allowed', message: '此栏不能填写身份证号码或手机号码。' },
          { field: 'tags[1]', code: 'string_too_long', message: '最多 20 个字符。' },
        ],
      }));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      await rateFive(page);
      await page.instance.onSubmit();
      expect(text(page, '.error-comment')).toBe('此栏不能填写身份证号码或手机号码。');
      expect(text(page, '.error-tags')).toBe('最多 20 个字符。');
      expect(text(page, '.form-error')).toBe(VALIDATION);
      expect(page.querySelector('.rate-form')).toBeTruthy();
      page.instance.onComment({ detail: { value: '好' } });
      expect(page.querySelector('.error-comment')).toBeFalsy();
    });

    test("a 403 shows the server's message; a case not found on load too", async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('POST', RATE, envelope(403, 'evaluation.applicant_only', '只有申请人可以评价。'));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      await rateFive(page);
      await page.instance.onSubmit();
      expect(text(page, '.form-error')).toBe('只有申请人可以评价。');

      fake.on('GET', '/api/v1/cases/43', NO_CASE);
      fresh();
      const missing = await renderPage('pages/case/evaluate', { id: '43' });
      expect(text(missing, '.top-error')).toBe('办件不存在或您无权查看。');
      expect(missing.querySelector('.rate-form')).toBeFalsy();
    });

    test('a 409 (rated already, on another phone) reloads: the rating shown, and why', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED), ok(Object.assign({}, COMPLETED, { evaluation: rating() })));
      fake.on('POST', RATE, envelope(409, 'case.already_rated', '该办件已经评价过了，每个办件只能评价一次。'));
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      await rateFive(page);
      await page.instance.onSubmit();
      expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(2);
      expect(text(page, '.top-notice')).toBe('该办件已经评价过了，每个办件只能评价一次。');
      expect(page.querySelector('.rate-form')).toBeFalsy();
      expect(text(page, '.rating-stars')).toBe('★★★★★');
    });

    test('a rating lost to the network is tapped again with the same Idempotency-Key', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('POST', RATE, LOST, LOST, LOST, LOST, { status: 201, data: evaluationOut(), header: { 'Idempotent-Replayed': 'true' } });
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      await rateFive(page);
      await page.instance.onSubmit();
      expect(text(page, '.form-error')).toBe(NETWORK);
      await page.instance.onSubmit();
      const posts = fake.callsTo('POST', RATE);
      expect(posts).toHaveLength(5);
      expect(new Set(posts.map(keyOf)).size).toBe(1);
      expect(page.querySelector('.rating')).toBeTruthy();
    });

    test('an expired token is refreshed and the rating sent again', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('POST', RATE, EXPIRED, ok(evaluationOut(), 201));
      fake.on('POST', '/api/v1/auth/refresh', REFRESHED);
      const page = await renderPage('pages/case/evaluate', { id: '42' });
      await rateFive(page);
      await page.instance.onSubmit();
      const posts = fake.callsTo('POST', RATE);
      expect(posts[1].header.Authorization).toBe('Bearer access-1');
      expect(keyOf(posts[1])).toBe(keyOf(posts[0]));
      expect(page.querySelector('.rating')).toBeTruthy();
    });
  });

  // -- pages/case/receipt ------------------------------------------------------------------------

  describe('pages/case/receipt', () => {
    const RECEIPT_PATH = '/api/v1/cases/42/payments/3/receipt';
    const PDF_URL = 'http://127.0.0.1:8000/api/v1/cases/42/payments/3/receipt.pdf';

    /** Each answer: `{ statusCode, body? }` (wx.downloadFile saves any answer: `body` is what
     * the saved file holds, read back through getFileSystemManager) or `{ fail }`. */
    function scriptDownload(...answers) {
      const queue = answers.slice();
      const saved = {};
      setWx('getFileSystemManager', jest.fn(() => ({
        readFileSync: jest.fn((file) => {
          if (!(file in saved)) throw new Error('readFileSync:fail no such file');
          return saved[file];
        }),
      })));
      let count = 0;
      setWx('downloadFile', jest.fn((opts) => {
        const answer = queue.length > 1 ? queue.shift() : queue[0];
        count += 1;
        const file = answer.statusCode === 200 ? 'wxfile://tmp/receipt-3.pdf' : `wxfile://tmp/answer-${count}`;
        if (answer.body !== undefined) saved[file] = JSON.stringify(answer.body);
        Promise.resolve().then(() => (answer.fail ? opts.fail({ errMsg: answer.fail }) : opts.success({ statusCode: answer.statusCode, tempFilePath: file })));
      }));
      setWx('openDocument', jest.fn((opts) => Promise.resolve().then(() => opts.success({ errMsg: 'openDocument:ok' }))));
    }

    test('laid out like a receipt: number, payer, item, amount in figures and capitals, payee, time, channel, code', async () => {
      fake.storage['zb.pref.large_text'] = 1;
      fake.on('GET', RECEIPT_PATH, ok(RECEIPT));
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      expect(page.querySelector('.page.large-text')).toBeTruthy();
      expect(text(page, '.receipt-number')).toBe('PJ202612070000000003');
      expect(text(page, '.payer')).toBe('张三');
      expect(text(page, '.item')).toBe('居民身份证换领 工本费');
      expect(text(page, '.amount')).toBe('¥ 20.00');
      expect(text(page, '.amount-words')).toBe('人民币贰拾元整');
      expect(text(page, '.payee')).toBe('南昌市公安局');
      expect(text(page, '.paid-at')).toBe('2026-12-07 12:00:00');
      expect(text(page, '.channel')).toBe('微信支付');
      expect(text(page, '.verification-code')).toBe('A7K2M9QX');
      expect(page.querySelector('.refund-note')).toBeFalsy();
      page.instance.onCopyCode();
      expect(fake.wx.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: 'PJ202612070000000003 A7K2M9QX' }));
    });

    test('a refunded payment says so on the receipt', async () => {
      fake.on('GET', RECEIPT_PATH, ok(Object.assign({}, RECEIPT, { disposition: 'surplus', refunded_fen: 2000, note: '重复缴费，原路退回。' })));
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      expect(text(page, '.refund-note')).toMatch(/多缴款项.*已退款 ¥ 20.00.*重复缴费，原路退回。/);
    });

    test('下载 PDF: wx.downloadFile with the bearer token, then wx.openDocument', async () => {
      fake.on('GET', RECEIPT_PATH, ok(RECEIPT));
      scriptDownload({ statusCode: 200 });
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      await page.instance.onDownload();
      const [download] = fake.wx.downloadFile.mock.calls[0];
      expect(download.url).toBe(PDF_URL);
      expect(download.header).toEqual({ Accept: '*/*', Authorization: 'Bearer access-0' });
      expect(fake.wx.openDocument).toHaveBeenCalledWith(expect.objectContaining({ filePath: 'wxfile://tmp/receipt-3.pdf', fileType: 'pdf' }));
      expect(page.querySelector('.top-error')).toBeFalsy();
      expect(page.instance.data.downloading).toBe(false);
    });

    test('an expired token on the download is refreshed by the client, then the download again', async () => {
      fake.on('GET', RECEIPT_PATH, ok(RECEIPT));
      fake.on('POST', '/api/v1/auth/refresh', REFRESHED);
      scriptDownload({ statusCode: 401, body: EXPIRED.data }, { statusCode: 200 });
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      await page.instance.onDownload();
      expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
      expect(fake.wx.downloadFile).toHaveBeenCalledTimes(2);
      expect(fake.wx.downloadFile.mock.calls[1][0].header).toEqual({ Accept: '*/*', Authorization: 'Bearer access-1' });
      expect(fake.wx.openDocument).toHaveBeenCalledTimes(1);
    });

    test('a refused refresh logs in again before the second download', async () => {
      fake.on('GET', RECEIPT_PATH, ok(RECEIPT));
      fake.on('POST', '/api/v1/auth/refresh', envelope(401, 'auth.refresh_invalid', '请重新登录。'));
      fake.on('POST', '/api/v1/auth/wechat/login', ok({ access_token: 'access-2', refresh_token: 'refresh-2' }));
      scriptDownload({ statusCode: 401, body: EXPIRED.data }, { statusCode: 200 });
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      await page.instance.onDownload();
      expect(fake.wx.login).toHaveBeenCalledTimes(1);
      expect(fake.wx.downloadFile.mock.calls[1][0].header).toEqual({ Accept: '*/*', Authorization: 'Bearer access-2' });
    });

    test('a download lost to the network is tried once more; lost twice, said; a server error said', async () => {
      fake.on('GET', RECEIPT_PATH, ok(RECEIPT));
      scriptDownload({ fail: 'downloadFile:fail timeout' }, { statusCode: 200 });
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      await page.instance.onDownload();
      expect(fake.wx.downloadFile).toHaveBeenCalledTimes(2);
      expect(fake.wx.openDocument).toHaveBeenCalledTimes(1);

      scriptDownload({ fail: 'downloadFile:fail timeout' });
      await page.instance.onDownload();
      // the client's own rule for a read lost to the network: tried again, a bounded number of times
      expect(fake.wx.downloadFile).toHaveBeenCalledTimes(1 + require('../config.js').networkRetries);
      expect(fake.wx.openDocument).not.toHaveBeenCalled();
      expect(text(page, '.top-error')).toBe(NETWORK);

      // the server's answer is saved as a file: its message is read back and shown
      scriptDownload({ statusCode: 404, body: { error: { code: 'payments.payment_not_found', message: '缴费记录不存在。', details: {} } } });
      await page.instance.onDownload();
      expect(text(page, '.top-error')).toBe('缴费记录不存在。');
      scriptDownload({ statusCode: 502 }); // no envelope: the status alone
      await page.instance.onDownload();
      expect(text(page, '.top-error')).toMatch(/[\u4e00-\u9fa5]/);
    });

    test('a file the phone cannot open is said', async () => {
      fake.on('GET', RECEIPT_PATH, ok(RECEIPT));
      scriptDownload({ statusCode: 200 });
      setWx('openDocument', jest.fn((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'openDocument:fail filetype not supported' }))));
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      await page.instance.onDownload();
      expect(text(page, '.top-error')).toBe('无法打开电子票据文件，请稍后重试。');
    });

    test("a 404 or a 403 shows the server's message and no receipt; an expired token is refreshed", async () => {
      fake.on('GET', RECEIPT_PATH, envelope(404, 'payments.payment_not_found', '缴费记录不存在。'));
      const page = await renderPage('pages/case/receipt', { case: '42', payment: '3' });
      expect(text(page, '.top-error')).toBe('缴费记录不存在。');
      expect(page.querySelector('.download-btn')).toBeFalsy();

      fake.on('GET', '/api/v1/cases/43/payments/4/receipt', NOT_MINE);
      fresh();
      const other = await renderPage('pages/case/receipt', { case: '43', payment: '4' });
      expect(text(other, '.top-error')).toBe('您没有权限进行此操作。');

      fake.on('GET', '/api/v1/cases/44/payments/5/receipt', LOST, EXPIRED, ok(RECEIPT));
      fake.on('POST', '/api/v1/auth/refresh', REFRESHED);
      fresh();
      const later = await renderPage('pages/case/receipt', { case: '44', payment: '5' });
      expect(text(later, '.receipt-number')).toBe('PJ202612070000000003');
    });

    test('opened from each payment of the fee notice (pages/pay)', async () => {
      fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
      fake.on('GET', '/api/v1/cases/42/fee', ok(feeNotice({ status: 'paid', status_label: '已缴费', pay_options: [], payments: [payment(3)] })));
      const page = await renderPage('pages/pay/pay', { id: '42' });
      expect(page.querySelectorAll('.receipt-link')).toHaveLength(1);
      page.instance.onReceipt(tap({ id: 3 }));
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/receipt?case=42&payment=3' }));
    });
  });

  // -- pages/me/settings -------------------------------------------------------------------------

  describe('pages/me/settings', () => {
    const ME = { id: 1, realname_level: 1, real_name: '张*', id_number: '3601**********0071', phone: null, sex: null, age: null, region_code: null };
    const SETTINGS = '/api/v1/me/notification-settings';

    test('the masked phone and the SMS switch; binding from getPhoneNumber', async () => {
      fake.storage['zb.pref.large_text'] = 1;
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      fake.on('POST', '/api/v1/me/phone', ok(Object.assign({}, ME, { phone: '138****5678' })));
      const page = await renderPage('pages/me/settings');
      expect(page.querySelector('.page.large-text')).toBeTruthy();
      expect(text(page, '.phone')).toBe('未绑定');
      expect(text(page, '.no-phone')).toBe('尚未绑定手机号，暂时收不到短信。');
      expect(page.querySelector('.bind-btn')).toBeTruthy();
      // the button WeChat gives the code through (the simulator renders no open-type)
      const wxml = require('fs').readFileSync(require('path').resolve(__dirname, '..', 'pages/me/settings.wxml'), 'utf8');
      expect(wxml).toMatch(/<button[^>]*bind-btn[^>]*open-type="getPhoneNumber"[^>]*bindgetphonenumber="onPhone"/);

      await page.instance.onPhone({ detail: { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' } });
      const [post] = fake.callsTo('POST', '/api/v1/me/phone');
      expect(post.data).toEqual({ code: 'phone-code-1' });
      expect(keyOf(post)).toBeTruthy();
      expect(text(page, '.phone')).toBe('138****5678');
      expect(text(page, '.top-notice')).toBe('手机号已绑定。');
      expect(page.querySelector('.no-phone')).toBeFalsy();
    });

    test('a number that came back whole is still shown masked', async () => {
      fake.on('GET', '/api/v1/me', ok(Object.assign({}, ME, { phone: '13812345678' })));
      fake.on('GET', SETTINGS, ok({ sms: false }));
      const page = await renderPage('pages/me/settings');
      expect(text(page, '.phone')).toBe('138****5678');
      expect(page.instance.data.sms).toBe(false);
    });

    test('getPhoneNumber declined or not allowed: nothing is sent, and the page says so', async () => {
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      const page = await renderPage('pages/me/settings');
      await page.instance.onPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
      expect(text(page, '.top-notice')).toBe('您没有授权手机号，未作任何更改。');
      await page.instance.onPhone({ detail: { errMsg: 'getPhoneNumber:fail no permission' } });
      expect(text(page, '.top-notice')).toBe('当前微信无法授权手机号，未作任何更改。');
      expect(fake.callsTo('POST', '/api/v1/me/phone')).toHaveLength(0);
    });

    test('a code WeChat no longer takes is said beside the number; a field error too; 429 at once', async () => {
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      fake.on(
        'POST',
        '/api/v1/me/phone',
        envelope(400, 'auth.phone_code_invalid', '手机号授权已失效，请重新授权。'),
        envelope(400, 'request.validation_failed', VALIDATION, { fields: [{ field: 'code', code: 'string_too_long', message: '最多 128 个字符。' }] }),
        envelope(429, 'rate_limited', '今天绑定手机号的次数已用完，请明天再试。', {}, { 'Retry-After': '36000' }),
      );
      const page = await renderPage('pages/me/settings');
      await page.instance.onPhone({ detail: { code: 'old-code' } });
      expect(text(page, '.error-phone')).toBe('手机号授权已失效，请重新授权。');
      expect(page.querySelector('.top-error')).toBeFalsy();

      await page.instance.onPhone({ detail: { code: 'x'.repeat(200) } });
      expect(text(page, '.error-phone')).toBe('最多 128 个字符。');
      expect(text(page, '.top-error')).toBe(VALIDATION);

      await page.instance.onPhone({ detail: { code: 'code-3' } });
      expect(text(page, '.top-error')).toBe('今天绑定手机号的次数已用完，请明天再试。');
      expect(fake.callsTo('POST', '/api/v1/me/phone')).toHaveLength(3);
    });

    test('a binding lost to the network is sent again with the same key, the same code', async () => {
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      fake.on('POST', '/api/v1/me/phone', LOST, ok(Object.assign({}, ME, { phone: '138****5678' })));
      const page = await renderPage('pages/me/settings');
      await page.instance.onPhone({ detail: { code: 'phone-code-1' } });
      const posts = fake.callsTo('POST', '/api/v1/me/phone');
      expect(posts).toHaveLength(2);
      expect(keyOf(posts[1])).toBe(keyOf(posts[0]));
      expect(posts[1].data).toEqual({ code: 'phone-code-1' });
      expect(text(page, '.phone')).toBe('138****5678');
    });

    test('SMS off then on: a strict boolean each time; the switch shows the answer', async () => {
      fake.on('GET', '/api/v1/me', ok(Object.assign({}, ME, { phone: '138****5678' })));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      fake.on('PUT', SETTINGS, (req) => ok({ sms: req.data.sms }));
      const page = await renderPage('pages/me/settings');
      expect(page.instance.data.sms).toBe(true);
      await page.instance.onSms({ detail: { value: false } });
      expect(fake.callsTo('PUT', SETTINGS)[0].data).toEqual({ sms: false });
      expect(page.instance.data.sms).toBe(false);
      expect(text(page, '.top-notice')).toMatch(/已关闭短信通知/);
      await page.instance.onSms({ detail: { value: true } });
      expect(fake.callsTo('PUT', SETTINGS)[1].data).toEqual({ sms: true });
      expect(typeof fake.callsTo('PUT', SETTINGS)[1].data.sms).toBe('boolean');
      expect(text(page, '.top-notice')).toBe('已开启短信通知。');
    });

    test('a switch write that fails turns the switch back; lost, it is tapped again with the same key', async () => {
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      fake.on('PUT', SETTINGS, LOST, LOST, LOST, LOST, ok({ sms: false }));
      const page = await renderPage('pages/me/settings');
      await page.instance.onSms({ detail: { value: false } });
      expect(page.instance.data.sms).toBe(true);
      expect(text(page, '.top-error')).toBe(NETWORK);
      await page.instance.onSms({ detail: { value: false } });
      const puts = fake.callsTo('PUT', SETTINGS);
      expect(puts).toHaveLength(5);
      expect(new Set(puts.map(keyOf)).size).toBe(1);
      expect(page.instance.data.sms).toBe(false);
    });

    test('an expired token is refreshed on load; not logged in, nothing is asked', async () => {
      fake.on('GET', '/api/v1/me', EXPIRED, ok(ME));
      fake.on('GET', SETTINGS, ok({ sms: true }));
      fake.on('POST', '/api/v1/auth/refresh', REFRESHED);
      const page = await renderPage('pages/me/settings');
      expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
      expect(page.querySelector('.top-error')).toBeFalsy();
      expect(page.instance.data.smsKnown).toBe(true);

      delete fake.storage['zb.citizen.access_token'];
      const calls = fake.calls.length;
      fresh();
      const out = await renderPage('pages/me/settings');
      expect(fake.calls.length).toBe(calls);
      expect(out.querySelector('.not-logged-in')).toBeTruthy();
      out.instance.onLogin();
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/login/login' }));
    });

    test('a settings read that fails shows the Chinese message', async () => {
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', SETTINGS, envelope(500, 'internal', '系统繁忙，请稍后再试。'));
      const page = await renderPage('pages/me/settings');
      expect(text(page, '.top-error')).toBe('系统繁忙，请稍后再试。');
    });

    test('pages/me has the 设置 entry', async () => {
      fake.on('GET', '/api/v1/me', ok(ME));
      fake.on('GET', '/api/v1/me/messages/unread-count', ok({ unread: 0 }));
      const page = await renderPage('pages/me/me');
      const entry = page.querySelector('.entry-settings');
      expect(entry).toBeTruthy();
      page.instance.go(tap({ url: entry.dom.getAttribute('data-url') || '/pages/me/settings' }));
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/me/settings' }));
    });
  });

  // -- pages/case/detail: withdraw, rating, receipts, the filed titles, the server's labels ---------

  describe('pages/case/detail', () => {
    const WITHDRAW = '/api/v1/cases/42/withdraw';
    const SUBMITTED = caseDetail({ status: 'submitted', status_label: '待预审', submitted_at: '2026-12-07T03:00:00+00:00' });
    const WITHDRAWN = caseDetail({ status: 'withdrawn', status_label: '已撤回' });

    beforeEach(() => {
      fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(GUIDE));
      fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
    });

    async function openWithdraw(page, reason) {
      page.instance.onWithdrawOpen();
      page.instance.onWithdrawReason({ detail: { value: reason } });
    }

    test('撤回申请: a reason, confirmed, then the withdrawal; the case reloads', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(SUBMITTED), ok(WITHDRAWN));
      fake.on('POST', WITHDRAW, ok({ id: 42, status: 'withdrawn', status_label: '已撤回', revision: 2, acceptance_number: null }));
      const page = await renderPage('pages/case/detail', { id: '42' });
      expect(page.querySelector('.withdraw-btn')).toBeTruthy();
      expect(page.querySelector('.withdraw-form')).toBeFalsy();
      await openWithdraw(page, ' 不需要办理了 ');
      expect(page.querySelector('.withdraw-form')).toBeTruthy();
      await page.instance.onWithdraw();
      expect(fake.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '撤回申请', confirmText: '撤回' }));
      const [post] = fake.callsTo('POST', WITHDRAW);
      expect(post.data).toEqual({ reason: '不需要办理了' });
      expect(keyOf(post)).toBeTruthy();
      expect(text(page, '.status')).toBe('已撤回');
      expect(text(page, '.top-notice')).toBe('申请已撤回。');
      expect(page.querySelector('.withdraw-btn')).toBeFalsy();
      expect(page.querySelector('.withdraw-form')).toBeFalsy();
    });

    test('a fee due case may be withdrawn too, the modal says the notice goes; cancelled: nothing sent', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(caseDetail({ status: 'fee_due', status_label: '待缴费' })));
      const page = await renderPage('pages/case/detail', { id: '42' });
      await openWithdraw(page, '');
      cancelModal();
      await page.instance.onWithdraw();
      expect(fake.wx.showModal.mock.calls[0][0].content).toMatch(/缴费通知同时作废/);
      expect(fake.callsTo('POST', WITHDRAW)).toHaveLength(0);
      expect(page.querySelector('.withdraw-form')).toBeTruthy();
      page.instance.onWithdrawClose();
      expect(page.querySelector('.withdraw-form')).toBeFalsy();
    });

    test('no withdrawal for a draft, a decided or a finished case', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(caseDetail()));
      fake.on('GET', '/api/v1/cases/43', ok(caseDetail({ id: 43, status: 'decided_granted', status_label: '准予许可' })));
      fake.on('GET', '/api/v1/cases/44', ok(caseDetail({ id: 44, status: 'withdrawn', status_label: '已撤回' })));
      for (const id of ['42', '43', '44']) {
        fresh();
        const page = await renderPage('pages/case/detail', { id });
        expect(page.querySelector('.withdraw-btn')).toBeFalsy();
      }
    });

    test('a 409 reloads the case and says so', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(SUBMITTED), ok(caseDetail({ status: 'decided_granted', status_label: '准予许可' })));
      fake.on('POST', WITHDRAW, envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。'));
      const page = await renderPage('pages/case/detail', { id: '42' });
      await openWithdraw(page, '');
      await page.instance.onWithdraw();
      expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(2);
      expect(text(page, '.status')).toBe('准予许可');
      expect(text(page, '.top-notice')).toBe('办件状态已变化，已为您刷新，请核对后再操作。');
      expect(page.querySelector('.withdraw-btn')).toBeFalsy();
    });

    test("a reason the server refuses is said beside it; a 403 shows the server's message", async () => {
      fake.on('GET', '/api/v1/cases/42', ok(SUBMITTED));
      fake.on(
        'POST',
        WITHDRAW,
        envelope(400, 'request.validation_failed', VALIDATION, { fields: [{ field: 'reason', code: 'identifier_not_allowed', message: '此栏不能填写身份证号码或手机号码。' }] }),
        envelope(403, 'auth.forbidden', '只有申请人可以撤回申请。'),
      );
      const page = await renderPage('pages/case/detail', { id: '42' });
      await openWithdraw(page, '联系我 13812345678');
      await page.instance.onWithdraw();
      expect(text(page, '.error-reason')).toBe('此栏不能填写身份证号码或手机号码。');
      expect(text(page, '.top-error')).toBe(VALIDATION);
      page.instance.onWithdrawReason({ detail: { value: '不需要了' } });
      expect(page.querySelector('.error-reason')).toBeFalsy();
      await page.instance.onWithdraw();
      expect(text(page, '.top-error')).toBe('只有申请人可以撤回申请。');
      expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(1);
    });

    test('a withdrawal lost to the network is tapped again with the same key; an expired token refreshed', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(SUBMITTED), ok(WITHDRAWN));
      fake.on('POST', WITHDRAW, LOST, LOST, LOST, LOST, EXPIRED, ok({ id: 42, status: 'withdrawn', status_label: '已撤回', revision: 2, acceptance_number: null }));
      fake.on('POST', '/api/v1/auth/refresh', REFRESHED);
      const page = await renderPage('pages/case/detail', { id: '42' });
      await openWithdraw(page, '重复申请');
      await page.instance.onWithdraw();
      expect(text(page, '.top-error')).toBe(NETWORK);
      await page.instance.onWithdraw();
      const posts = fake.callsTo('POST', WITHDRAW);
      expect(posts).toHaveLength(6);
      expect(new Set(posts.map(keyOf)).size).toBe(1);
      expect(posts[5].header.Authorization).toBe('Bearer access-1');
      expect(text(page, '.status')).toBe('已撤回');
    });

    test('a finished case links to its rating: 去评价, or 查看评价 once rated', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(Object.assign({}, COMPLETED, { fee_fen: 0 })));
      fake.on('GET', '/api/v1/cases/43', ok(caseDetail({ id: 43, status: 'decided_denied', status_label: '不予许可', evaluation: rating() })));
      fake.on('GET', '/api/v1/cases/44', ok(caseDetail({ id: 44, status: 'in_review', status_label: '审查中' })));
      const page = await renderPage('pages/case/detail', { id: '42' });
      expect(text(page, '.evaluate-btn')).toBe('去评价');
      page.instance.onEvaluate();
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/evaluate?id=42' }));
      fresh();
      const rated = await renderPage('pages/case/detail', { id: '43' });
      expect(text(rated, '.evaluate-btn')).toBe('查看评价');
      fresh();
      const running = await renderPage('pages/case/detail', { id: '44' });
      expect(running.querySelector('.evaluate-btn')).toBeFalsy();
    });

    test('a paid case lists its receipts (its fee notice read); one opens pages/case/receipt', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('GET', '/api/v1/cases/42/fee', ok(feeNotice({ status: 'paid', status_label: '已缴费', pay_options: [], payments: [payment(3)] })));
      const page = await renderPage('pages/case/detail', { id: '42' });
      expect(page.querySelectorAll('.receipt-row')).toHaveLength(1);
      expect(text(page, '.receipt-row')).toMatch(/微信支付 ¥ 20.00/);
      page.instance.onReceipt(tap({ id: 3 }));
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/receipt?case=42&payment=3' }));
    });

    test('no fee notice to read: no receipts, and the case still shows', async () => {
      fake.on('GET', '/api/v1/cases/42', ok(COMPLETED));
      fake.on('GET', '/api/v1/cases/42/fee', envelope(404, 'fees.order_not_found', '该办件没有缴费通知。'));
      const page = await renderPage('pages/case/detail', { id: '42' });
      expect(page.querySelector('.receipts')).toBeFalsy();
      expect(page.querySelector('.top-error')).toBeFalsy();
      expect(text(page, '.status')).toBe('已办结');

      // a case with no fee, or not yet paid, does not ask
      fake.on('GET', '/api/v1/cases/43', ok(caseDetail({ id: 43, status: 'submitted', status_label: '待预审' })));
      fresh();
      await renderPage('pages/case/detail', { id: '43' });
      expect(fake.callsTo('GET', '/api/v1/cases/43/fee')).toHaveLength(0);
    });

    test("the filed version's titles name the filed values; the timeline uses the server's labels", async () => {
      fake.on(
        'GET',
        '/api/v1/cases/42',
        ok(
          caseDetail({
            status: 'submitted',
            status_label: '待预审',
            form: { reason: '有效期满', photo_receipt_no: 'ABC12345', delivery_method: '窗口领取', old_field: '旧值' },
            form_titles: { reason: '申领原因（旧版）', old_field: '已停用的栏目' },
            timeline: [
              { action: 'submit', label: '提交申请（服务端）', role: 'applicant', from: 'draft', to: 'submitted', comment: '', details: {}, at: '2026-12-07T03:00:00+00:00' },
              { action: 'something_new', role: 'system', from: 'submitted', to: 'submitted', comment: '', details: {}, at: '2026-12-07T04:00:00+00:00' },
            ],
          }),
        ),
      );
      const page = await renderPage('pages/case/detail', { id: '42' });
      const rows = page.instance.data.formRows.map((r) => [r.name, r.label]);
      expect(rows).toEqual([
        ['reason', '申领原因（旧版）'],
        ['photo_receipt_no', '数字相片回执编号'],
        ['delivery_method', '领取方式'],
        ['old_field', '已停用的栏目'],
      ]);
      expect(page.querySelectorAll('.event-title').map((n) => n.dom.textContent)).toEqual(['办理进展', '提交申请（服务端）']);
    });
  });

  // -- deleting a draft: pages/cases (the draft group) and pages/apply ------------------------------

  describe('删除草稿', () => {
    function row(id, extra) {
      return Object.assign(
        { id, item_code: 'GA-SFZ-HL', item_name: '居民身份证换领', status: 'draft', status_label: '草稿', acceptance_number: null, applicant: '张*', promised_due_on: null, card: '', updated_at: '2026-12-07T03:00:00+00:00' },
        extra || {},
      );
    }

    test('pages/cases: confirmed, the draft deleted and its row gone; cancelled, nothing sent', async () => {
      fake.on('GET', '/api/v1/cases', ok({ items: [row(9), row(8)], next_cursor: null }));
      fake.on('DELETE', '/api/v1/cases/9', NO_CONTENT);
      const page = await renderPage('pages/cases/cases', { group: 'draft' });
      expect(page.querySelectorAll('.delete-draft')).toHaveLength(2);

      cancelModal();
      await page.instance.onDeleteDraft(tap({ id: 8 }));
      expect(fake.callsTo('DELETE', '/api/v1/cases/8')).toHaveLength(0);

      await page.instance.onDeleteDraft(tap({ id: 9 }));
      expect(fake.wx.showModal).toHaveBeenCalledWith(expect.objectContaining({ title: '删除草稿', confirmText: '删除' }));
      expect(keyOf(fake.callsTo('DELETE', '/api/v1/cases/9')[0])).toBeTruthy();
      expect(page.querySelectorAll('.case-row')).toHaveLength(1);
      expect(text(page, '.notice')).toBe('草稿已删除。');
      expect(fake.wx.navigateTo).not.toHaveBeenCalled(); // the tap did not open the draft
    });

    test('pages/cases: a lost answer that then finds nothing has deleted it', async () => {
      fake.on('GET', '/api/v1/cases', ok({ items: [row(9)], next_cursor: null }));
      fake.on('DELETE', '/api/v1/cases/9', LOST, envelope(404, 'case.not_found', '办件不存在或您无权查看。'));
      const page = await renderPage('pages/cases/cases', { group: 'draft' });
      await page.instance.onDeleteDraft(tap({ id: 9 }));
      const dels = fake.callsTo('DELETE', '/api/v1/cases/9');
      expect(dels).toHaveLength(2);
      expect(keyOf(dels[1])).toBe(keyOf(dels[0]));
      expect(page.querySelectorAll('.case-row')).toHaveLength(0);
      expect(text(page, '.notice')).toBe('草稿已删除。');
      expect(page.querySelector('.error')).toBeFalsy();
    });

    test('pages/cases: a 409 (submitted meanwhile) reloads and says why; a 403 is shown; an expired token refreshed', async () => {
      fake.on('GET', '/api/v1/cases', ok({ items: [row(9), row(8), row(7)], next_cursor: null }), ok({ items: [row(8), row(7)], next_cursor: null }));
      fake.on('DELETE', '/api/v1/cases/9', envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。'));
      fake.on('DELETE', '/api/v1/cases/8', NOT_MINE);
      fake.on('DELETE', '/api/v1/cases/7', EXPIRED, NO_CONTENT);
      fake.on('POST', '/api/v1/auth/refresh', REFRESHED);
      const page = await renderPage('pages/cases/cases', { group: 'draft' });
      await page.instance.onDeleteDraft(tap({ id: 9 }));
      expect(fake.callsTo('GET', '/api/v1/cases')).toHaveLength(2);
      expect(text(page, '.notice')).toBe('办件状态已变化，当前不能进行此操作，请刷新后查看。');
      expect(page.querySelectorAll('.case-row')).toHaveLength(2);

      await page.instance.onDeleteDraft(tap({ id: 8 }));
      expect(text(page, '.error')).toBe('您没有权限进行此操作。');
      expect(page.querySelectorAll('.case-row')).toHaveLength(2);

      await page.instance.onDeleteDraft(tap({ id: 7 }));
      expect(fake.callsTo('DELETE', '/api/v1/cases/7')[1].header.Authorization).toBe('Bearer access-1');
      expect(page.querySelectorAll('.case-row')).toHaveLength(1);
    });

    test('pages/apply: a draft deleted after the modal, then the drafts list; cancelled or 409', async () => {
      fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
      fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(GUIDE));
      fake.on('GET', '/api/v1/cases/42', ok(caseDetail()), ok(caseDetail({ status: 'submitted', status_label: '待预审' })));
      fake.on('DELETE', '/api/v1/cases/42', envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。'), NO_CONTENT);
      const page = await renderPage('pages/apply/apply', { id: '42' });
      expect(page.querySelector('.delete-draft-btn')).toBeTruthy();

      cancelModal();
      await page.instance.onDeleteDraft();
      expect(fake.callsTo('DELETE', '/api/v1/cases/42')).toHaveLength(0);

      await page.instance.onDeleteDraft();
      expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(2);
      expect(page.querySelector('.closed')).toBeTruthy();
      expect(text(page, '.notice')).toMatch(/办件状态已变化/);

      fake.on('GET', '/api/v1/cases/43', ok(caseDetail({ id: 43 })));
      fake.on('DELETE', '/api/v1/cases/43', NO_CONTENT);
      fresh();
      const other = await renderPage('pages/apply/apply', { id: '43' });
      await other.instance.onDeleteDraft();
      expect(fake.callsTo('DELETE', '/api/v1/cases/43')).toHaveLength(1);
      expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/cases/cases?group=draft' }));
    });

    test('pages/apply: a new application with no draft yet has nothing to delete', async () => {
      fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
      fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(Object.assign({}, GUIDE, { min_realname_level: 0 })));
      const page = await renderPage('pages/apply/apply', { code: 'GA-SFZ-HL' });
      expect(page.querySelector('.delete-draft-btn')).toBeFalsy();
    });
  });

  // -- pages/pay: the notice's pay_options --------------------------------------------------------

  describe('pages/pay with pay_options', () => {
    beforeEach(() => {
      fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
    });

    test('both channels: WeChat Pay here, and a QR of each channel for another phone', async () => {
      fake.on('GET', '/api/v1/cases/42/fee', ok(feeNotice()));
      fake.on('POST', '/api/v1/cases/42/fee/pay', ok({ channel: 'wechatpay', mode: 'qr', out_trade_no: 'ZB3', expires_at: '2026-12-07T05:00:00+00:00', client: { qr_code: 'weixin://wxpay/bizpayurl?pr=abc' } }));
      const page = await renderPage('pages/pay/pay', { id: '42' });
      expect(page.querySelector('.pay-btn')).toBeTruthy();
      expect(page.querySelectorAll('.qr-btn').map((n) => n.dom.textContent.trim())).toEqual(['由他人用微信扫码支付', '由他人用支付宝扫码支付']);
      await page.instance.onQr(tap({ channel: 'wechatpay' }));
      expect(fake.callsTo('POST', '/api/v1/cases/42/fee/pay')[0].data).toEqual({ channel: 'wechatpay', mode: 'qr' });
      expect(text(page, '.qr .section-title')).toBe('微信付款码');
      expect(text(page, '.qr-code')).toBe('weixin://wxpay/bizpayurl?pr=abc');
    });

    test('only an Alipay QR offered: no WeChat Pay button', async () => {
      fake.on('GET', '/api/v1/cases/42/fee', ok(feeNotice({ pay_options: [PAY_OPTIONS[1]] })));
      const page = await renderPage('pages/pay/pay', { id: '42' });
      expect(page.querySelector('.pay-btn')).toBeFalsy();
      expect(page.querySelectorAll('.qr-btn')).toHaveLength(1);
      expect(page.querySelector('.alipay-btn')).toBeTruthy();
    });

    test('an open notice with no way to pay online says so, with no button', async () => {
      fake.on('GET', '/api/v1/cases/42/fee', ok(feeNotice({ pay_options: [] })));
      const page = await renderPage('pages/pay/pay', { id: '42' });
      expect(text(page, '.no-way')).toBe('暂时无法在线缴费，请稍后再试，或到办事窗口缴费。');
      expect(page.querySelector('.pay-btn')).toBeFalsy();
      expect(page.querySelector('.qr-btn')).toBeFalsy();
    });

    test('a notice without pay_options keeps the former ways: WeChat Pay and an Alipay QR', async () => {
      const older = feeNotice();
      delete older.pay_options;
      fake.on('GET', '/api/v1/cases/42/fee', ok(older));
      const page = await renderPage('pages/pay/pay', { id: '42' });
      expect(page.querySelector('.pay-btn')).toBeTruthy();
      expect(page.querySelectorAll('.qr-btn')).toHaveLength(1);
      expect(page.querySelector('.alipay-btn')).toBeTruthy();
    });

    test('a QR channel the server refuses goes away; the others stay', async () => {
      fake.on('GET', '/api/v1/cases/42/fee', ok(feeNotice()));
      fake.on('POST', '/api/v1/cases/42/fee/pay', envelope(400, 'request.validation_failed', VALIDATION, {
        fields: [{ field: 'channel', code: 'channel_not_enabled', message: '不支持该支付方式，请选择其他支付方式。' }],
      }));
      const page = await renderPage('pages/pay/pay', { id: '42' });
      await page.instance.onQr(tap({ channel: 'alipay' }));
      expect(page.querySelector('.alipay-btn')).toBeFalsy();
      expect(page.querySelectorAll('.qr-btn')).toHaveLength(1);
      expect(text(page, '.top-notice')).toBe('暂不支持支付宝缴费，请使用微信支付。');
    });
  });

  // -- pages/inbox: the pages the server's messages link to ----------------------------------------

  describe('pages/inbox links', () => {
    function message(id, link) {
      return { id, kind: 'x', title: `消息${id}`, body: '', link, subject: null, created_at: '2026-12-07T03:00:00+00:00', read: true, read_at: null };
    }

    test.each([
      ['pages/case/evaluate?id=42', '/pages/case/evaluate?id=42'],
      ['pages/companies/detail?id=7', '/pages/companies/detail?id=7'],
      ['pages/mandates/index', '/pages/mandates/index'],
    ])('a message linking to %s opens it', async (link, url) => {
      fake.on('GET', '/api/v1/me/messages', ok({ messages: [message(5, link)], unread: 0, next_cursor: null }));
      const page = await renderPage('pages/inbox/inbox');
      await page.instance.onOpen(tap({ id: 5 }));
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url }));
    });

    test('every page a message may open is one of app.json', () => {
      const fs = require('fs');
      const path = require('path');
      const app = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'app.json'), 'utf8'));
      const source = fs.readFileSync(path.resolve(__dirname, '..', 'pages/inbox/inbox.js'), 'utf8');
      const listed = /const PAGES = \[([\s\S]*?)\];/.exec(source)[1].match(/'([^']+)'/g).map((s) => s.slice(1, -1));
      listed.forEach((p) => expect(app.pages).toContain(p));
      ['pages/case/evaluate', 'pages/companies/detail', 'pages/mandates/index'].forEach((p) => expect(listed).toContain(p));
    });
  });
});
