const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');
const { COMPANY_REP, COMPANY_AGENT, agent, INVITATION, mandate } = require('./fixtures.js');

const VALIDATION = '提交的信息不完整或格式不正确，请按提示修改。';
const NO_CONTENT = { status: 204, data: '' };
const LOST = { fail: 'request:fail timeout' };

describe('companies and family mandates', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage());
  });

  afterEach(leavePage);

  const tap = (dataset) => ({ currentTarget: { dataset }, detail: {} });
  const input = (field, value) => ({ currentTarget: { dataset: { field } }, detail: { value } });
  const keyOf = (call) => call.header['Idempotency-Key'];
  const cancelModal = () =>
    fake.wx.showModal.mockImplementationOnce((opts) => Promise.resolve().then(() => opts.success({ errMsg: 'showModal:ok', confirm: false, cancel: true })));

  // -- pages/companies/index ---------------------------------------------------------------------

  describe('pages/companies/index', () => {
    test('lists my companies with my role and scopes; a company opens its page', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP, COMPANY_AGENT] }));
      const page = await renderPage('pages/companies/index');
      expect(page.querySelectorAll('.company')).toHaveLength(2);
      expect(page.querySelectorAll('.role').map((n) => n.dom.textContent)).toEqual(['法定代表人', '经办人']);
      expect(text(page, '.scopes')).toBe('可办理：申请、查看');
      expect(page.querySelector('.empty')).toBeFalsy();

      page.instance.onOpen(tap({ id: 8 }));
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/companies/detail?id=8' }));
    });

    test('no company: the empty state; the large-text class on the root', async () => {
      fake.storage['zb.pref.large_text'] = 1;
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      const page = await renderPage('pages/companies/index');
      expect(text(page, '.empty')).toMatch(/您还没有企业/);
      expect(page.querySelector('.page.large-text')).toBeTruthy();
    });

    test('a list lost to the network is retried by the client; an expired token is refreshed', async () => {
      fake.on('GET', '/api/v1/companies', LOST, envelope(401, 'auth.token_expired', '登录已过期。'), ok({ companies: [COMPANY_REP] }));
      fake.on('POST', '/api/v1/auth/refresh', ok({ access_token: 'access-1', refresh_token: 'refresh-1' }));
      const page = await renderPage('pages/companies/index');
      const gets = fake.callsTo('GET', '/api/v1/companies');
      expect(gets).toHaveLength(3);
      expect(gets[2].header.Authorization).toBe('Bearer access-1');
      expect(fake.wx.login).not.toHaveBeenCalled();
      expect(page.querySelectorAll('.company')).toHaveLength(1);
      expect(page.querySelector('.error')).toBeFalsy();
    });

    test('a list that fails shows the Chinese message and no empty state', async () => {
      fake.on('GET', '/api/v1/companies', envelope(500, 'internal', '系统繁忙，请稍后再试。'));
      const page = await renderPage('pages/companies/index');
      expect(text(page, '.list-error')).toBe('系统繁忙，请稍后再试。');
      expect(page.querySelector('.empty')).toBeFalsy();
    });

    test('registers my company: the code as the server reads it, then the list again', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }), ok({ companies: [COMPANY_REP] }));
      fake.on('POST', '/api/v1/companies', ok(COMPANY_REP, 201));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('uscc', ' 91360100ma35xxxx1x '));
      page.instance.onInput(input('name', ' 南昌掌办科技有限公司 '));
      await page.instance.onRegister();
      const [post] = fake.callsTo('POST', '/api/v1/companies');
      expect(post.data).toEqual({ uscc: '91360100MA35XXXX1X', name: '南昌掌办科技有限公司' });
      expect(keyOf(post)).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
      expect(text(page, '.notice')).toBe('已注册南昌掌办科技有限公司，您是该企业的法定代表人。');
      expect(page.querySelectorAll('.company')).toHaveLength(1);
      expect(page.instance.data.uscc).toBe('');
    });

    test('empty or too short fields are said beside them, with no request', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('name', '南'));
      await page.instance.onRegister();
      expect(text(page, '.error-uscc')).toBe('请填写统一社会信用代码。');
      expect(text(page, '.error-name')).toBe('企业名称至少 2 个字。');
      page.instance.onInput(input('uscc', '9'));
      expect(page.querySelector('.error-uscc')).toBeFalsy(); // typing clears its error
      page.instance.onInput(input('name', 'x'.repeat(150)));
      expect(page.instance.data.name).toHaveLength(100); // the API's bound
      expect(fake.callsTo('POST', '/api/v1/companies')).toHaveLength(0);
    });

    test("the server's field errors go beside their fields, another one above", async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      fake.on('POST', '/api/v1/companies', envelope(400, 'request.validation_failed', VALIDATION, {
        fields: [
          { field: 'uscc', code: 'check_digit', message: '统一社会信用代码校验位不正确，请核对。' },
          { field: 'body', code: 'json_invalid', message: '不是有效的 JSON。' },
        ],
      }));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('uscc', '91360100MA35XXXX19'));
      page.instance.onInput(input('name', '南昌掌办科技有限公司'));
      await page.instance.onRegister();
      expect(text(page, '.error-uscc')).toBe('统一社会信用代码校验位不正确，请核对。');
      expect(page.querySelector('.error-name')).toBeFalsy();
      expect(text(page, '.register-error')).toBe(`${VALIDATION}\nbody：不是有效的 JSON。`);
    });

    test('a 403 for want of real name says so and offers the way to it', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      fake.on('POST', '/api/v1/companies', envelope(403, 'auth.realname_level_too_low', '此事项需要更高的实名认证等级，请先完成实名认证。', { required: 1, current: 0 }));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('uscc', '91360100MA35XXXX1X'));
      page.instance.onInput(input('name', '南昌掌办科技有限公司'));
      await page.instance.onRegister();
      expect(text(page, '.register-error')).toBe('此事项需要更高的实名认证等级，请先完成实名认证。');
      expect(page.querySelector('.register-form .realname-btn')).toBeTruthy();
      page.instance.onRealname();
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/login/login?level=1&back=1' }));
    });

    test("a 403 (not the legal representative) shows the server's message, no way to real name", async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      fake.on('POST', '/api/v1/companies', envelope(403, 'auth.not_legal_representative', '登记信息显示您不是该企业的法定代表人，无法以法定代表人身份注册。'));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('uscc', '91360100MA35XXXX1X'));
      page.instance.onInput(input('name', '南昌掌办科技有限公司'));
      await page.instance.onRegister();
      expect(text(page, '.register-error')).toBe('登记信息显示您不是该企业的法定代表人，无法以法定代表人身份注册。');
      expect(page.querySelector('.realname-btn')).toBeFalsy();
    });

    test('a 404 (not in the registry) is shown; a 409 (registered already) reloads and says why', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      fake.on(
        'POST',
        '/api/v1/companies',
        envelope(404, 'auth.company_not_in_registry', '登记机关没有该统一社会信用代码的记录，请核对。'),
        envelope(409, 'auth.company_registered', '该企业已由其法定代表人注册。'),
      );
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('uscc', '91360100MA35XXXX1X'));
      page.instance.onInput(input('name', '南昌掌办科技有限公司'));
      await page.instance.onRegister();
      expect(text(page, '.register-error')).toBe('登记机关没有该统一社会信用代码的记录，请核对。');
      expect(fake.callsTo('GET', '/api/v1/companies')).toHaveLength(1);

      await page.instance.onRegister();
      expect(fake.callsTo('GET', '/api/v1/companies')).toHaveLength(2);
      expect(text(page, '.notice')).toBe('该企业已由其法定代表人注册。');
      expect(page.querySelector('.register-error')).toBeFalsy();
    });

    test('a registration whose answer is lost: retried with the same key, and tapped again with it too', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }), ok({ companies: [COMPANY_REP] }));
      // the client's own tries (1 + 3) all lost, then the person taps again: the server replays
      fake.on('POST', '/api/v1/companies', LOST, LOST, LOST, LOST, { status: 201, data: COMPANY_REP, header: { 'Idempotent-Replayed': 'true' } });
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('uscc', '91360100MA35XXXX1X'));
      page.instance.onInput(input('name', '南昌掌办科技有限公司'));
      await page.instance.onRegister();
      expect(text(page, '.register-error')).toBe('网络连接不稳定，请检查网络后重试。');
      await page.instance.onRegister();
      const posts = fake.callsTo('POST', '/api/v1/companies');
      expect(posts).toHaveLength(5);
      expect(new Set(posts.map(keyOf)).size).toBe(1);
      expect(page.querySelectorAll('.company')).toHaveLength(1);

      // a later registration is another write: another key
      fake.on('POST', '/api/v1/companies', ok(COMPANY_REP, 201));
      page.instance.onInput(input('uscc', '91360100MA35XXXX1X'));
      page.instance.onInput(input('name', '南昌掌办科技有限公司'));
      await page.instance.onRegister();
      expect(keyOf(fake.callsTo('POST', '/api/v1/companies')[5])).not.toBe(keyOf(posts[0]));
    });

    test('accepts an invitation code, then the list again', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }), ok({ companies: [COMPANY_AGENT] }));
      fake.on('POST', '/api/v1/company-invitations/accept', ok(COMPANY_AGENT));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('code', ' Qm9vX2ludml0ZV9j '));
      await page.instance.onAccept();
      const [post] = fake.callsTo('POST', '/api/v1/company-invitations/accept');
      expect(post.data).toEqual({ code: 'Qm9vX2ludml0ZV9j' });
      expect(keyOf(post)).toBeTruthy();
      expect(text(page, '.notice')).toBe('已成为江西赣江商贸有限公司的经办人。');
      expect(text(page, '.role')).toBe('经办人');
    });

    test('a short code is refused here; a code the server refuses is said beside the field; 409 reloads', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      fake.on(
        'POST',
        '/api/v1/company-invitations/accept',
        envelope(400, 'auth.invitation_invalid', '邀请码无效、已使用或已过期，请联系企业法定代表人重新邀请。'),
        envelope(400, 'request.validation_failed', VALIDATION, { fields: [{ field: 'code', code: 'string_too_long', message: '最多 64 个字符。' }] }),
        envelope(409, 'auth.already_member', '您已是该企业的经办人。'),
      );
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('code', 'abc'));
      await page.instance.onAccept();
      expect(text(page, '.error-code')).toBe('邀请码至少 4 位，请核对。');
      expect(fake.callsTo('POST', '/api/v1/company-invitations/accept')).toHaveLength(0);

      page.instance.onInput(input('code', 'abcd-wrong'));
      await page.instance.onAccept();
      expect(text(page, '.error-code')).toBe('邀请码无效、已使用或已过期，请联系企业法定代表人重新邀请。');

      await page.instance.onAccept();
      expect(text(page, '.error-code')).toBe('最多 64 个字符。');
      expect(text(page, '.accept-error')).toBe(VALIDATION);

      await page.instance.onAccept();
      expect(fake.callsTo('GET', '/api/v1/companies')).toHaveLength(2);
      expect(text(page, '.notice')).toBe('您已是该企业的经办人。');
    });

    test('accepting for want of real name offers the way to it beside the code', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [] }));
      fake.on('POST', '/api/v1/company-invitations/accept', envelope(403, 'auth.realname_level_too_low', '此事项需要更高的实名认证等级，请先完成实名认证。'));
      const page = await renderPage('pages/companies/index');
      page.instance.onInput(input('code', 'Qm9vX2ludml0ZV9j'));
      await page.instance.onAccept();
      expect(text(page, '.accept-error')).toBe('此事项需要更高的实名认证等级，请先完成实名认证。');
      expect(page.querySelector('.accept-form .realname-btn')).toBeTruthy();
      expect(page.querySelector('.register-form .realname-btn')).toBeFalsy();
    });
  });

  // -- pages/companies/detail --------------------------------------------------------------------

  describe('pages/companies/detail', () => {
    const AGENTS = '/api/v1/companies/7/agents';
    const INVITE = '/api/v1/companies/7/invitations';

    test('the legal representative sees the agents; invites one, the code shown once and copied', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP, COMPANY_AGENT] }));
      fake.on(
        'GET',
        AGENTS,
        ok({ agents: [agent(21, 'active'), agent(22, 'revoked', { scopes: ['pay'] })] }),
        ok({ agents: [agent(21, 'active'), agent(22, 'revoked', { scopes: ['pay'] }), agent(23, 'invited')] }),
      );
      fake.on('POST', INVITE, ok(INVITATION, 201));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      expect(text(page, '.company-name')).toBe('南昌掌办科技有限公司');
      expect(text(page, '.my-role')).toBe('法定代表人');
      expect(page.querySelectorAll('.agent')).toHaveLength(2);
      expect(text(page, '.agent-revoked .agent-status')).toBe('已移除');
      expect(page.querySelectorAll('.remove')).toHaveLength(1); // a removed one offers nothing

      // apply and view are ticked; pay added
      page.instance.onScopes({ detail: { value: ['apply', 'view', 'pay'] } });
      await page.instance.onInvite();
      const [post] = fake.callsTo('POST', INVITE);
      expect(post.data).toEqual({ scopes: ['apply', 'pay', 'view'] });
      expect(keyOf(post)).toBeTruthy();
      expect(text(page, '.invite-code')).toBe('Qm9vX2ludml0ZV9j');
      expect(text(page, '.invite-expires')).toBe('有效期至 2026年12月14日 11:00');
      expect(page.querySelectorAll('.agent')).toHaveLength(3);
      expect(text(page, '.agent-invited .agent-name')).toBe('（尚未接受邀请）');
      expect(text(page, '.agent-invited .remove')).toBe('撤销邀请');

      page.instance.onCopy();
      expect(fake.wx.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: 'Qm9vX2ludml0ZV9j' }));
    });

    test('no scope ticked: said beside the scopes, no request; the server refusing them too', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      fake.on('GET', AGENTS, ok({ agents: [] }));
      fake.on('POST', INVITE, envelope(400, 'request.validation_failed', VALIDATION, {
        fields: [{ field: 'scopes[0]', code: 'literal_error', message: '取值不在允许范围内。' }],
      }));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      expect(text(page, '.no-agents')).toBe('暂无经办人');
      page.instance.onScopes({ detail: { value: [] } });
      await page.instance.onInvite();
      expect(text(page, '.error-scopes')).toBe('请至少选择一项权限。');
      expect(fake.callsTo('POST', INVITE)).toHaveLength(0);

      page.instance.onScopes({ detail: { value: ['view'] } });
      await page.instance.onInvite();
      expect(text(page, '.error-scopes')).toBe('取值不在允许范围内。');
      expect(text(page, '.top-error')).toBe(VALIDATION);
      expect(page.querySelector('.invitation')).toBeFalsy();
    });

    test("a 403 shows the server's message", async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      fake.on('GET', AGENTS, ok({ agents: [] }));
      fake.on('POST', INVITE, envelope(403, 'auth.not_company_rep', '只有企业法定代表人可以管理经办人。'));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      await page.instance.onInvite();
      expect(text(page, '.top-error')).toBe('只有企业法定代表人可以管理经办人。');
      expect(page.querySelector('.invitation')).toBeFalsy();
    });

    test('an invitation whose answer is lost: tapped again with the same key, the same code back', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      fake.on('GET', AGENTS, ok({ agents: [] }));
      fake.on('POST', INVITE, LOST, LOST, LOST, LOST, ok(INVITATION, 201));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      await page.instance.onInvite();
      expect(text(page, '.top-error')).toBe('网络连接不稳定，请检查网络后重试。');
      await page.instance.onInvite();
      const posts = fake.callsTo('POST', INVITE);
      expect(posts).toHaveLength(5);
      expect(new Set(posts.map(keyOf)).size).toBe(1);
      expect(text(page, '.invite-code')).toBe('Qm9vX2ludml0ZV9j');
      // another invitation after that one succeeded is a new write
      await page.instance.onInvite();
      expect(keyOf(fake.callsTo('POST', INVITE)[5])).not.toBe(keyOf(posts[0]));
    });

    test('removing an agent is asked first: cancelled, nothing is sent; confirmed, removed and reloaded', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      fake.on('GET', AGENTS, ok({ agents: [agent(21, 'active')] }), ok({ agents: [agent(21, 'revoked')] }));
      fake.on('DELETE', `${AGENTS}/21`, NO_CONTENT);
      const page = await renderPage('pages/companies/detail', { id: '7' });

      cancelModal();
      await page.instance.onRemove(tap({ id: 21 }));
      expect(fake.wx.showModal).toHaveBeenCalledTimes(1);
      expect(fake.wx.showModal.mock.calls[0][0].content).toMatch(/经办人21将立即不能再为本企业办理事项/);
      expect(fake.callsTo('DELETE', `${AGENTS}/21`)).toHaveLength(0);

      await page.instance.onRemove(tap({ id: 21 }));
      const [del] = fake.callsTo('DELETE', `${AGENTS}/21`);
      expect(keyOf(del)).toBeTruthy();
      expect(text(page, '.notice')).toBe('经办人已移除。');
      expect(text(page, '.agent-status')).toBe('已移除');
      expect(page.querySelector('.remove')).toBeFalsy();
    });

    test('a removal lost to the network that then finds nothing has succeeded (same key)', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      fake.on('GET', AGENTS, ok({ agents: [agent(23, 'invited')] }), ok({ agents: [agent(23, 'revoked')] }));
      fake.on('DELETE', `${AGENTS}/23`, LOST, envelope(404, 'auth.agent_not_found', '没有找到该经办人。'));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      await page.instance.onRemove(tap({ id: 23 }));
      expect(fake.wx.showModal.mock.calls[0][0].title).toBe('撤销邀请');
      const dels = fake.callsTo('DELETE', `${AGENTS}/23`);
      expect(dels).toHaveLength(2);
      expect(keyOf(dels[0])).toBe(keyOf(dels[1]));
      expect(text(page, '.notice')).toBe('邀请已撤销。');
      expect(page.querySelector('.top-error')).toBeFalsy();
    });

    test('a 404 or a 409 on removal reloads and says why', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      fake.on('GET', AGENTS, ok({ agents: [agent(21, 'active')] }));
      fake.on('DELETE', `${AGENTS}/21`, envelope(404, 'auth.agent_not_found', '没有找到该经办人。'), envelope(409, 'request.conflict', '数据已变化，请刷新后重试。'));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      await page.instance.onRemove(tap({ id: 21 }));
      expect(fake.callsTo('GET', AGENTS)).toHaveLength(2);
      expect(text(page, '.notice')).toBe('没有找到该经办人。');
      await page.instance.onRemove(tap({ id: 21 }));
      expect(fake.callsTo('GET', AGENTS)).toHaveLength(3);
      expect(text(page, '.notice')).toBe('数据已变化，请刷新后重试。');
      expect(page.querySelector('.top-error')).toBeFalsy();
    });

    test('an agent sees the scopes only: no agents request, no invitation, no removal', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP, COMPANY_AGENT] }));
      const page = await renderPage('pages/companies/detail', { id: '8' });
      expect(text(page, '.my-role')).toBe('经办人');
      expect(text(page, '.my-scopes')).toBe('申请、查看');
      expect(page.querySelector('.agent-note')).toBeTruthy();
      expect(page.querySelector('.invite-form')).toBeFalsy();
      expect(page.querySelector('.agents')).toBeFalsy();
      expect(fake.calls.filter((c) => c.path.indexOf('/agents') >= 0)).toHaveLength(0);
    });

    test('a company no longer mine (a removed agent opening the message): said, with the way to the list', async () => {
      fake.on('GET', '/api/v1/companies', ok({ companies: [COMPANY_REP] }));
      const page = await renderPage('pages/companies/detail', { id: '8' });
      expect(text(page, '.missing')).toMatch(/没有找到该企业/);
      page.instance.onBack();
      expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/companies/index' }));
    });

    test("the agents refused (403) show the server's message; an expired token is refreshed first", async () => {
      fake.on('GET', '/api/v1/companies', envelope(401, 'auth.token_expired', '登录已过期。'), ok({ companies: [COMPANY_REP] }));
      fake.on('POST', '/api/v1/auth/refresh', ok({ access_token: 'access-1', refresh_token: 'refresh-1' }));
      fake.on('GET', AGENTS, envelope(403, 'auth.not_company_rep', '只有企业法定代表人可以管理经办人。'));
      const page = await renderPage('pages/companies/detail', { id: '7' });
      expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
      expect(fake.callsTo('GET', AGENTS)[0].header.Authorization).toBe('Bearer access-1');
      expect(text(page, '.top-error')).toBe('只有企业法定代表人可以管理经办人。');
    });
  });

  // -- pages/mandates/index ----------------------------------------------------------------------

  describe('pages/mandates/index', () => {
    const GIVEN = mandate(31, { item_codes: ['GA-SFZ-HL'], item_names: ['居民身份证换领'] });
    const ENDED = mandate(30, { active: false, status: 'ended', ended_by: 'agent', ended_at: '2026-11-30T02:00:00+00:00', ends_on: '2026-12-01' });
    const EXPIRED = mandate(29, { active: false, status: 'expired', ends_on: '2026-11-01' });
    const HELD = mandate(32, { principal: { id: 3, name: '王*' }, agent: { id: 1, name: '张*' } });

    test('what I gave and what I hold, active and ended, names as the server masked them', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [GIVEN, ENDED, EXPIRED], held: [HELD] }));
      const page = await renderPage('pages/mandates/index');
      expect(page.querySelectorAll('.given')).toHaveLength(3);
      expect(page.querySelectorAll('.held')).toHaveLength(1);
      expect(text(page, '.given .person')).toBe('被授权人：李*');
      expect(text(page, '.held .person')).toBe('授权人：王*');
      expect(text(page, '.given .items')).toBe('授权事项：居民身份证换领'); // named by the server
      expect(text(page, '.held .items')).toBe('授权事项：全部事项');
      expect(page.querySelectorAll('.mandate-ended .state').map((n) => n.dom.textContent.trim())).toEqual(['已终止', '已到期']);
      expect(page.querySelectorAll('.end')).toHaveLength(2); // an ended one offers nothing
      expect(page.querySelector('.empty')).toBeFalsy();
    });

    test('none: both empty states; a failed list shows its message instead', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [], held: [] }), envelope(429, 'rate_limited', '操作过于频繁，请稍后再试。', {}, { 'Retry-After': '600' }));
      const page = await renderPage('pages/mandates/index');
      expect(text(page, '.empty-given')).toBe('您还没有授权他人代办');
      expect(text(page, '.empty-held')).toBe('暂无亲友授权您代办');
      await page.instance.onPullDownRefresh();
      expect(fake.wx.stopPullDownRefresh).toHaveBeenCalled();
      expect(text(page, '.top-error')).toBe('操作过于频繁，请稍后再试。');
      expect(page.querySelector('.empty')).toBeFalsy();
    });

    test('gives a mandate for chosen items until a date, then the list again', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [], held: [] }), ok({ given: [GIVEN], held: [] }));
      fake.on('GET', '/api/v1/items', ok({ items: [{ code: 'GA-SFZ-HL', name: '居民身份证换领' }], next_cursor: null }));
      fake.on('POST', '/api/v1/mandates', ok(GIVEN, 201));
      const page = await renderPage('pages/mandates/index');
      page.instance.onNew();
      expect(page.instance.data.minDay).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(page.instance.data.maxDay > page.instance.data.minDay).toBe(true);
      page.instance.onInput(input('agentName', ' 李四 '));
      page.instance.onInput(input('agentIdNumber', '36010219900101003x'));
      page.instance.onEndsOn({ detail: { value: '2027-06-30' } });
      page.instance.onAllItems({ detail: { value: 'some' } });
      page.instance.onItemQuery({ detail: { value: '身份证' } });
      await page.instance.onItemSearch();
      expect(fake.callsTo('GET', '/api/v1/items')[0].query).toEqual({ q: '身份证' });
      page.instance.onAddItem(tap({ code: 'GA-SFZ-HL' }));
      expect(text(page, '.item-chosen .tag')).toBe('居民身份证换领');

      await page.instance.onGrant();
      const [post] = fake.callsTo('POST', '/api/v1/mandates');
      expect(post.data).toEqual({ agent_name: '李四', agent_id_number: '36010219900101003X', item_codes: ['GA-SFZ-HL'], ends_on: '2027-06-30' });
      expect(keyOf(post)).toBeTruthy();
      expect(text(page, '.notice')).toMatch(/授权成功/);
      expect(page.querySelector('.grant-form')).toBeFalsy();
      expect(text(page, '.given .items')).toBe('授权事项：居民身份证换领'); // the name learned in the search
    });

    test('what is missing is said beside each field, with no request', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [], held: [] }));
      const page = await renderPage('pages/mandates/index');
      page.instance.onNew();
      page.instance.onAllItems({ detail: { value: 'some' } });
      await page.instance.onGrant();
      expect(text(page, '.error-agent_name')).toBe('请填写被授权人姓名。');
      expect(text(page, '.error-agent_id_number')).toBe('请填写被授权人身份证号码。');
      expect(text(page, '.error-ends_on')).toBe('请选择授权截止日期。');
      expect(text(page, '.error-item_codes')).toBe('请选择授权事项，或选择“全部事项”。');
      page.instance.onInput(input('agentName', '李'.repeat(40)));
      expect(page.instance.data.agentName).toHaveLength(30);
      expect(page.querySelector('.error-agent_name')).toBeFalsy();
      expect(fake.callsTo('POST', '/api/v1/mandates')).toHaveLength(0);
    });

    test("the server's field errors go beside their fields; a 404 (no such person) above the form", async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [], held: [] }));
      fake.on(
        'POST',
        '/api/v1/mandates',
        envelope(400, 'request.validation_failed', VALIDATION, {
          fields: [
            { field: 'agent_id_number', code: 'check_digit', message: '身份证号码校验位不正确，请核对。' },
            { field: 'ends_on', code: 'out_of_range', message: '授权截止日期应在今天之后、一年以内。' },
          ],
        }),
        envelope(404, 'auth.agent_user_not_found', '没有找到已实名认证的被授权人，请核对姓名和身份证号码，并请对方先完成实名认证。'),
      );
      const page = await renderPage('pages/mandates/index');
      page.instance.onNew();
      page.instance.onInput(input('agentName', '李四'));
      page.instance.onInput(input('agentIdNumber', '360102199001010031'));
      page.instance.onEndsOn({ detail: { value: '2030-01-01' } });
      await page.instance.onGrant();
      expect(text(page, '.error-agent_id_number')).toBe('身份证号码校验位不正确，请核对。');
      expect(text(page, '.error-ends_on')).toBe('授权截止日期应在今天之后、一年以内。');
      expect(text(page, '.form-error')).toBe(VALIDATION);
      expect(page.querySelector('.error-agent_name')).toBeFalsy();

      await page.instance.onGrant();
      expect(text(page, '.form-error')).toBe('没有找到已实名认证的被授权人，请核对姓名和身份证号码，并请对方先完成实名认证。');
      expect(page.querySelector('.error-ends_on')).toBeFalsy();
    });

    test('a 409 (a running mandate already) reloads and says why; a 403 shows its message', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [], held: [] }), ok({ given: [GIVEN], held: [] }));
      fake.on(
        'POST',
        '/api/v1/mandates',
        envelope(403, 'auth.realname_level_too_low', '此事项需要更高的实名认证等级，请先完成实名认证。'),
        envelope(409, 'auth.mandate_exists', '您已授权此人代办，如需修改请先结束原授权。'),
      );
      const page = await renderPage('pages/mandates/index');
      page.instance.onNew();
      page.instance.onInput(input('agentName', '李四'));
      page.instance.onInput(input('agentIdNumber', '360102199001010031'));
      page.instance.onEndsOn({ detail: { value: '2027-06-30' } });
      await page.instance.onGrant();
      expect(text(page, '.form-error')).toBe('此事项需要更高的实名认证等级，请先完成实名认证。');
      await page.instance.onGrant();
      expect(fake.callsTo('GET', '/api/v1/mandates')).toHaveLength(2);
      expect(text(page, '.notice')).toBe('您已授权此人代办，如需修改请先结束原授权。');
      expect(page.querySelectorAll('.given')).toHaveLength(1);
    });

    test('a grant whose answer is lost: the client retries with one key, a second tap reuses it', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [], held: [] }), ok({ given: [GIVEN], held: [] }));
      fake.on('POST', '/api/v1/mandates', LOST, LOST, LOST, LOST, LOST, ok(GIVEN, 201));
      const page = await renderPage('pages/mandates/index');
      page.instance.onNew();
      page.instance.onInput(input('agentName', '李四'));
      page.instance.onInput(input('agentIdNumber', '360102199001010031'));
      page.instance.onEndsOn({ detail: { value: '2027-06-30' } });
      await page.instance.onGrant();
      expect(fake.callsTo('POST', '/api/v1/mandates')).toHaveLength(4);
      expect(text(page, '.form-error')).toBe('网络连接不稳定，请检查网络后重试。');
      await page.instance.onGrant();
      const posts = fake.callsTo('POST', '/api/v1/mandates');
      expect(posts).toHaveLength(6);
      expect(new Set(posts.map(keyOf)).size).toBe(1);
      expect(page.querySelectorAll('.given')).toHaveLength(1);
    });

    test('ending one is asked first: cancelled, nothing is sent; confirmed, ended and reloaded', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [GIVEN], held: [HELD] }), ok({ given: [GIVEN], held: [Object.assign({}, HELD, { active: false, status: 'ended', ended_by: 'agent' })] }));
      fake.on('DELETE', '/api/v1/mandates/32', NO_CONTENT);
      const page = await renderPage('pages/mandates/index');

      cancelModal();
      await page.instance.onEnd(tap({ id: 32, side: 'held' }));
      expect(fake.wx.showModal.mock.calls[0][0].content).toBe('结束后，您将立即不能再为王*办理事项。');
      expect(fake.callsTo('DELETE', '/api/v1/mandates/32')).toHaveLength(0);

      await page.instance.onEnd(tap({ id: 32, side: 'held' }));
      expect(keyOf(fake.callsTo('DELETE', '/api/v1/mandates/32')[0])).toBeTruthy();
      expect(text(page, '.notice')).toBe('授权已结束。');
      expect(text(page, '.held .state')).toBe('已终止');
      expect(page.querySelectorAll('.end')).toHaveLength(1);
    });

    test('a 404 on ending reloads and says why; another failure is shown', async () => {
      fake.on('GET', '/api/v1/mandates', ok({ given: [GIVEN], held: [] }), ok({ given: [], held: [] }));
      fake.on('DELETE', '/api/v1/mandates/31', envelope(404, 'auth.mandate_not_found', '没有找到该代办授权。'));
      const page = await renderPage('pages/mandates/index');
      await page.instance.onEnd(tap({ id: 31, side: 'given' }));
      expect(fake.wx.showModal.mock.calls[0][0].content).toBe('结束后，李*将立即不能再为您办理事项。');
      expect(fake.callsTo('GET', '/api/v1/mandates')).toHaveLength(2);
      expect(text(page, '.notice')).toBe('没有找到该代办授权。');
      expect(text(page, '.empty-given')).toBe('您还没有授权他人代办');
    });

    test('a revoked session logs in again, then the list', async () => {
      fake.on('GET', '/api/v1/mandates', envelope(401, 'auth.token_expired', '登录已过期。'), ok({ given: [], held: [HELD] }));
      fake.on('POST', '/api/v1/auth/refresh', envelope(401, 'auth.refresh_invalid', '请重新登录。'));
      fake.on('POST', '/api/v1/auth/wechat/login', ok({ access_token: 'a9', refresh_token: 'r9' }));
      const page = await renderPage('pages/mandates/index');
      expect(fake.wx.login).toHaveBeenCalledTimes(1);
      expect(fake.callsTo('GET', '/api/v1/mandates')[1].header.Authorization).toBe('Bearer a9');
      expect(page.querySelectorAll('.held')).toHaveLength(1);
    });
  });

  // -- pages/me: the two entries ------------------------------------------------------------------

  test('pages/me: 我的企业 and 委托代办 open their pages', async () => {
    fake.on('GET', '/api/v1/me', ok({ id: 1, realname_level: 1, real_name: '张*' }));
    fake.on('GET', '/api/v1/me/messages/unread-count', ok({ unread: 0 }));
    const page = await renderPage('pages/me/me');
    expect(text(page, '.entry-companies')).toMatch(/我的企业/);
    expect(text(page, '.entry-mandates')).toMatch(/委托代办/);
    page.instance.go(tap({ url: '/pages/companies/index' }));
    expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/companies/index' }));
    page.instance.go(tap({ url: '/pages/mandates/index' }));
    expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/mandates/index' }));
  });
});
