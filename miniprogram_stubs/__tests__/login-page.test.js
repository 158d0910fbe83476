const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');

const ME0 = { id: 7, realname_level: 0, real_name: null, id_number: null };
const ME1 = { id: 7, realname_level: 1, real_name: '张*', id_number: '3604**********0071' };
const ME2 = Object.assign({}, ME1, { realname_level: 2 });

describe('pages/login', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage({ loggedIn: false }));
  });

  afterEach(leavePage);

  function loggedIn() {
    fake.storage['zb.citizen.access_token'] = 'access-0';
    fake.storage['zb.citizen.refresh_token'] = 'refresh-0';
  }

  test('not logged in: the login button runs wx.login through the client', async () => {
    fake.on('POST', '/api/v1/auth/wechat/login', ok({ access_token: 'a1', refresh_token: 'r1', user: ME0 }));
    fake.on('GET', '/api/v1/me', ok(ME0));
    const page = await renderPage('pages/login/login');
    expect(page.querySelector('.login-btn')).toBeTruthy();
    expect(fake.callsTo('GET', '/api/v1/me')).toHaveLength(0);

    await page.instance.onLogin();
    expect(fake.wx.login).toHaveBeenCalledTimes(1);
    expect(fake.callsTo('POST', '/api/v1/auth/wechat/login')[0].data).toEqual({ code: 'wx-code-1' });
    expect(fake.storage['zb.citizen.access_token']).toBe('a1');
    expect(page.querySelector('.login-btn')).toBeFalsy();
    expect(page.querySelector('.realname-form')).toBeTruthy();
  });

  test('level 1: name and ID number sent; the wrong field is shown beside it', async () => {
    loggedIn();
    fake.on('GET', '/api/v1/me', ok(ME0));
    fake.on(
      'POST',
      '/api/v1/me/realname',
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
        fields: [{ field: 'id_number', code: 'id_number_checksum', message: '身份证号码校验位不正确。' }],
      }),
      ok(ME1),
    );
    const page = await renderPage('pages/login/login');
    page.instance.onInput({ currentTarget: { dataset: { field: 'name' } }, detail: { value: '张三' } });
    page.instance.onInput({ currentTarget: { dataset: { field: 'idNumber' } }, detail: { value: '360426199101010072' } });
    await page.instance.onRealname();
    expect(fake.callsTo('POST', '/api/v1/me/realname')[0].data).toEqual({ name: '张三', id_number: '360426199101010072' });
    expect(text(page, '.error-id_number')).toBe('身份证号码校验位不正确。');
    expect(page.querySelector('.error-name')).toBeFalsy();
    expect(text(page, '.error')).toBe('提交的信息不完整或格式不正确，请按提示修改。');

    page.instance.onInput({ currentTarget: { dataset: { field: 'idNumber' } }, detail: { value: '360426199101010071' } });
    expect(page.querySelector('.error-id_number')).toBeFalsy(); // typing clears the field's error
    await page.instance.onRealname();
    expect(page.querySelector('.realname-form')).toBeFalsy();
    expect(page.querySelector('.face-btn')).toBeTruthy();
    expect(text(page, '.level-text')).toBe('一级实名（已核验身份证件）');
    expect(page.instance.data.idNumber).toBe(''); // the full number is not kept on the page
  });

  test('empty fields are named before anything is sent', async () => {
    loggedIn();
    fake.on('GET', '/api/v1/me', ok(ME0));
    const page = await renderPage('pages/login/login');
    await page.instance.onRealname();
    expect(text(page, '.error-name')).toBe('请填写姓名。');
    expect(text(page, '.error-id_number')).toBe('请填写身份证号码。');
    expect(fake.callsTo('POST', '/api/v1/me/realname')).toHaveLength(0);
  });

  test('a rate-limited attempt shows the Chinese message at once', async () => {
    loggedIn();
    fake.on('GET', '/api/v1/me', ok(ME0));
    fake.on('POST', '/api/v1/me/realname', envelope(429, 'rate_limited', '操作过于频繁，请稍后再试。', { retry_after_s: 3600 }, { 'Retry-After': '3600' }));
    const page = await renderPage('pages/login/login');
    page.instance.onInput({ currentTarget: { dataset: { field: 'name' } }, detail: { value: '张三' } });
    page.instance.onInput({ currentTarget: { dataset: { field: 'idNumber' } }, detail: { value: '360426199101010071' } });
    await page.instance.onRealname();
    expect(text(page, '.error')).toBe('操作过于频繁，请稍后再试。');
    expect(fake.callsTo('POST', '/api/v1/me/realname')).toHaveLength(1);
  });

  test('level 2 by face, as the e2e drives it, then back to the page that asked', async () => {
    loggedIn();
    fake.on('GET', '/api/v1/me', ok(ME1));
    fake.on('POST', '/api/v1/me/face', ok({ verify_id: 'v-123', expires_in: 3600 }));
    fake.on('POST', '/api/v1/me/face/result', ok(ME2));
    const page = await renderPage('pages/login/login', { level: '2', back: '1' });
    expect(page.querySelector('.need-level')).toBeTruthy();
    await page.instance.onFace();
    expect(fake.wx.requestFacialVerify.mock.calls[0][0].verifyId).toBe('v-123');
    expect(fake.callsTo('POST', '/api/v1/me/face/result')[0].data).toEqual({ verify_id: 'v-123' });
    expect(text(page, '.level-text')).toBe('二级实名（已刷脸认证）');
    expect(fake.wx.navigateBack).toHaveBeenCalled();
  });

  test('a face verification the person did not finish is not reported as a result', async () => {
    loggedIn();
    fake.on('GET', '/api/v1/me', ok(ME1));
    fake.on('POST', '/api/v1/me/face', ok({ verify_id: 'v-9', expires_in: 3600 }));
    fake.wx.requestFacialVerify.mockImplementation((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'requestFacialVerify:fail cancel' })));
    const page = await renderPage('pages/login/login');
    await page.instance.onFace();
    expect(fake.callsTo('POST', '/api/v1/me/face/result')).toHaveLength(0);
    expect(text(page, '.error')).toMatch(/刷脸认证未完成/);
  });

  test('an expired token is refreshed by the client before the profile is shown', async () => {
    loggedIn();
    fake.on('GET', '/api/v1/me', envelope(401, 'auth.token_expired', '登录已过期，请重新登录。'), ok(ME1));
    fake.on('POST', '/api/v1/auth/refresh', ok({ access_token: 'a2', refresh_token: 'r2' }));
    const page = await renderPage('pages/login/login');
    expect(fake.callsTo('POST', '/api/v1/auth/refresh')[0].data).toEqual({ refresh_token: 'refresh-0' });
    expect(fake.callsTo('GET', '/api/v1/me')[1].header.Authorization).toBe('Bearer a2');
    expect(text(page, '.level-text')).toBe('一级实名（已核验身份证件）');
    expect(page.querySelector('.error')).toBeFalsy();
  });
});
