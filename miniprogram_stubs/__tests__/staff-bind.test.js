const { staffMe, tokens, envelope, ok, flush } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');

describe('pages/staff/bind', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = staffPage({ signedIn: false }));
  });

  afterEach(leavePage);

  test('a WeChat already bound logs in at once and shows who it is', async () => {
    fake.on('POST', '/api/v1/staff/auth/login', ok(tokens(staffMe({ name: '王窗口', roles: ['clerk', 'supervisor'] }))));
    const page = await renderPage('pages/staff/bind');
    expect(page.instance.data.mode).toBe('signedIn');
    expect(text(page, '.who-name')).toBe('王窗口');
    expect(text(page, '.who')).toContain('岗位：窗口受理、督查');
    const [login] = fake.callsTo('POST', '/api/v1/staff/auth/login');
    expect(login.data).toEqual({ code: 'wx-code-1' });
    expect(fake.storage['zb.staff.access_token']).toBe('staff-access-2');
    expect(fake.storage['zb.citizen.access_token']).toBeUndefined();

    page.instance.onEnter();
    expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/inbox' }));
  });

  test('an unbound WeChat binds with the code (normalised) and goes to the inbox', async () => {
    fake.on('POST', '/api/v1/staff/auth/login', envelope(403, 'auth.not_staff', '该微信未绑定工作人员账号，请使用管理员提供的绑定码绑定。'));
    fake.on('POST', '/api/v1/staff/auth/bind', ok(tokens(staffMe({ name: '李审查' }))));
    const page = await renderPage('pages/staff/bind');
    expect(page.instance.data.mode).toBe('bind');
    expect(text(page, '.hint')).toContain('尚未绑定');
    expect(page.querySelector('.error')).toBeFalsy();

    page.instance.onCodeInput({ detail: { value: ' 6b5d 1476 e48d ' } });
    await page.instance.onBind();
    const [bind] = fake.callsTo('POST', '/api/v1/staff/auth/bind');
    expect(bind.data).toEqual({ bind_code: '6B5D-1476-E48D', code: 'wx-code-2' });
    expect(bind.header.Authorization).toBeUndefined();
    expect(bind.header['Idempotency-Key']).toBeTruthy();
    expect(page.instance.data.mode).toBe('signedIn');
    expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/inbox' }));
    expect(fake.storage['zb.staff.refresh_token']).toBe('staff-refresh-2');
  });

  test('a wrong or spent code is shown under the field, and nothing is sent without a code', async () => {
    fake.on('POST', '/api/v1/staff/auth/login', envelope(403, 'auth.not_staff', '该微信未绑定工作人员账号，请使用管理员提供的绑定码绑定。'));
    fake.on('POST', '/api/v1/staff/auth/bind', envelope(400, 'auth.bind_code_invalid', '绑定码无效或已过期，请联系管理员重新获取。'));
    const page = await renderPage('pages/staff/bind');

    await page.instance.onBind();
    expect(fake.callsTo('POST', '/api/v1/staff/auth/bind')).toHaveLength(0);
    expect(text(page, '.code-error')).toContain('请输入管理员提供的绑定码');

    page.instance.onCodeInput({ detail: { value: 'AAAA-BBBB-CCCC' } });
    await page.instance.onBind();
    expect(text(page, '.code-error')).toBe('绑定码无效或已过期，请联系管理员重新获取。');
    expect(page.instance.data.mode).toBe('bind');
    expect(fake.wx.redirectTo).not.toHaveBeenCalled();
  });

  test('a WeChat bound to another account, and an inactive account, show the envelope message', async () => {
    fake.on('POST', '/api/v1/staff/auth/login', envelope(403, 'auth.staff_inactive', '该工作人员账号已停用，请联系管理员。'));
    fake.on('POST', '/api/v1/staff/auth/bind', envelope(409, 'auth.wechat_bound_elsewhere', '该微信已绑定其他工作人员账号。'));
    const page = await renderPage('pages/staff/bind');
    expect(text(page, '.error')).toBe('该工作人员账号已停用，请联系管理员。');

    page.instance.onCodeInput({ detail: { value: 'AAAA-BBBB-CCCC' } });
    await page.instance.onBind();
    expect(text(page, '.error')).toBe('该微信已绑定其他工作人员账号。');
  });

  test('log out and bind another account', async () => {
    fake.on('POST', '/api/v1/staff/auth/login', ok(tokens()));
    fake.on('POST', '/api/v1/staff/auth/logout', { status: 204, data: '' });
    const page = await renderPage('pages/staff/bind');
    await page.instance.onLogout();
    await flush();
    expect(fake.callsTo('POST', '/api/v1/staff/auth/logout')).toHaveLength(1);
    expect(fake.storage['zb.staff.access_token']).toBeUndefined();
    expect(page.instance.data.mode).toBe('bind');
    expect(page.querySelector('.bind-btn')).toBeTruthy();
  });
});
