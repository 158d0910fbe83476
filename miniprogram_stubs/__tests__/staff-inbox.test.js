const { staffMe, inboxItem, envelope, ok, flush } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');

const reviewerRow = (id, status, assignee) =>
  inboxItem({
    id,
    status: status === 'open' ? 'accepted' : 'in_review',
    status_label: status === 'open' ? '已受理' : '审查中',
    acceptance_number: `NC-GAJ-20261207-0000${id}`,
    promised_due_on: '2026-12-28',
    card: id === 2 ? 'red' : '',
    task: { id: 10 + id, step_index: 0, step_name: '户籍民警审核', status, assignee_staff_id: assignee },
  });

describe('pages/staff/inbox', () => {
  let fake;
  let renderPage;
  let text;
  let all;

  beforeEach(() => {
    ({ fake, renderPage, text, all } = staffPage());
  });

  afterEach(leavePage);

  test('one tab per handling role with counts; the queue and my tasks; the other tab counted', async () => {
    fake.on('GET', '/api/v1/staff/me', ok(staffMe({ roles: ['reviewer', 'approver', 'supervisor'] })));
    fake.on('GET', '/api/v1/staff/inbox', (req) =>
      req.query.role === 'reviewer'
        ? ok({ role: 'reviewer', counts: { queue: 1, mine: 1, supervision: 2 }, counts_cap: 100, items: [reviewerRow(1, 'open', null), reviewerRow(2, 'claimed', 2)], next_cursor: null })
        : ok({ role: 'approver', counts: { queue: 100, mine: 0, supervision: 2 }, counts_cap: 100, items: [reviewerRow(3, 'open', null)], next_cursor: 'c1' }),
    );
    fake.on('GET', '/api/v1/staff/messages/unread-count', ok({ unread: 3 }));
    const page = await renderPage('pages/staff/inbox');

    expect(all(page, '.tab')).toEqual(['待审查2', '待审批99+']);
    expect(text(page, '.summary')).toBe('待领取 1 · 我办理中 1');
    expect(all(page, '.row-name')).toEqual(['居民身份证换领', '居民身份证换领']);
    expect(all(page, '.task')).toEqual(['户籍民警审核 · 待领取', '户籍民警审核 · 我办理中']);
    expect(text(page, '.card-red')).toBe('红牌');
    expect(text(page, '.supervision-count')).toBe('2');
    expect(text(page, '.unread-count')).toBe('3');
    expect(page.querySelector('.board-btn')).toBeTruthy();
    const other = fake.callsTo('GET', '/api/v1/staff/inbox').find((c) => c.query.role === 'approver');
    expect(other.query.limit).toBe('1');

    await page.instance.onTab({ currentTarget: { dataset: { role: 'approver' } } });
    expect(page.instance.data.role).toBe('approver');
    expect(all(page, '.row-line.task')).toEqual(['户籍民警审核 · 待领取']);

    page.instance.onOpen({ currentTarget: { dataset: { id: 3 } } });
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/case?id=3&role=approver' }));
  });

  test('cursor paging appends the next page; pull to refresh starts again and stops the spinner', async () => {
    fake.on('GET', '/api/v1/staff/me', ok(staffMe({ id: 1, roles: ['clerk'] })));
    fake.on(
      'GET',
      '/api/v1/staff/inbox',
      ok({ role: 'clerk', counts: { queue: 2, supervision: 0 }, counts_cap: 100, items: [inboxItem({ id: 1 })], next_cursor: 'cursor-1' }),
      ok({ role: 'clerk', counts: { queue: 2, supervision: 0 }, counts_cap: 100, items: [inboxItem({ id: 2, answer_due_on: '2026-12-14' })], next_cursor: null }),
      ok({ role: 'clerk', counts: { queue: 1, supervision: 0 }, counts_cap: 100, items: [inboxItem({ id: 2 })], next_cursor: null }),
    );
    fake.on('GET', '/api/v1/staff/messages/unread-count', ok({ unread: 0 }));
    const page = await renderPage('pages/staff/inbox');
    expect(text(page, '.single-tab')).toBe('待受理2');
    expect(text(page, '.summary')).toBe('共 2 件');
    expect(page.querySelectorAll('.row')).toHaveLength(1);
    expect(text(page, '.more')).toBe('加载更多');
    expect(page.querySelector('.board-btn')).toBeFalsy();
    expect(page.querySelector('.unread-count')).toBeFalsy();

    await page.instance.onReachBottom();
    const calls = fake.callsTo('GET', '/api/v1/staff/inbox');
    expect(calls[1].query).toEqual({ role: 'clerk', cursor: 'cursor-1' });
    expect(page.querySelectorAll('.row')).toHaveLength(2);
    expect(all(page, '.due')).toEqual(['答复期限 2026-12-14']);
    expect(page.querySelector('.more')).toBeFalsy();
    await page.instance.onReachBottom(); // at the end: nothing more is asked
    expect(fake.callsTo('GET', '/api/v1/staff/inbox')).toHaveLength(2);

    await page.instance.onPullDownRefresh();
    expect(fake.callsTo('GET', '/api/v1/staff/inbox')[2].query).toEqual({ role: 'clerk' });
    expect(page.querySelectorAll('.row')).toHaveLength(1);
    expect(text(page, '.single-tab')).toBe('待受理1');
    expect(fake.wx.stopPullDownRefresh).toHaveBeenCalled();
  });

  test('an expired staff token is refreshed by the client and the inbox still shows', async () => {
    fake.on('GET', '/api/v1/staff/me', envelope(401, 'auth.token_expired', '登录已过期，请重新登录。'), ok(staffMe({ roles: ['clerk'] })));
    fake.on('POST', '/api/v1/staff/auth/refresh', ok({ access_token: 'staff-access-9', refresh_token: 'staff-refresh-9', token_type: 'Bearer', expires_in: 600, refresh_expires_in: 43200 }));
    fake.on('GET', '/api/v1/staff/inbox', ok({ role: 'clerk', counts: { queue: 1, supervision: 0 }, counts_cap: 100, items: [inboxItem()], next_cursor: null }));
    fake.on('GET', '/api/v1/staff/messages/unread-count', ok({ unread: 0 }));
    const page = await renderPage('pages/staff/inbox');

    expect(page.querySelectorAll('.row')).toHaveLength(1);
    const [refresh] = fake.callsTo('POST', '/api/v1/staff/auth/refresh');
    expect(refresh.data).toEqual({ refresh_token: 'staff-refresh-1' });
    expect(fake.callsTo('GET', '/api/v1/staff/me')[1].header.Authorization).toBe('Bearer staff-access-9');
    expect(fake.callsTo('GET', '/api/v1/staff/inbox')[0].header.Authorization).toBe('Bearer staff-access-9');
    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(0); // never the citizen's
    expect(page.querySelector('.error')).toBeFalsy();
  });

  test('a WeChat with no staff account (login refused) is sent to the binding page', async () => {
    delete fake.storage['zb.staff.access_token'];
    delete fake.storage['zb.staff.refresh_token'];
    fake.on('GET', '/api/v1/staff/me', envelope(401, 'auth.unauthenticated', '请先登录。'));
    fake.on('POST', '/api/v1/staff/auth/login', envelope(403, 'auth.not_staff', '该微信未绑定工作人员账号，请使用管理员提供的绑定码绑定。'));
    const page = await renderPage('pages/staff/inbox');
    expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/bind' }));
    expect(text(page, '.error')).toContain('该微信未绑定工作人员账号');
  });

  test("a refused inbox shows the envelope's message", async () => {
    fake.on('GET', '/api/v1/staff/me', ok(staffMe({ roles: ['clerk'] })));
    fake.on('GET', '/api/v1/staff/inbox', envelope(403, 'case.role_not_allowed', '您的岗位不能进行此操作。', { required_role: 'clerk' }));
    fake.on('GET', '/api/v1/staff/messages/unread-count', ok({ unread: 1 }));
    const page = await renderPage('pages/staff/inbox');
    expect(text(page, '.error')).toBe('您的岗位不能进行此操作。');
    expect(fake.wx.redirectTo).not.toHaveBeenCalled();
  });

  test('an account without a handling role is told so, with the bottom bar still there', async () => {
    fake.on('GET', '/api/v1/staff/me', ok(staffMe({ roles: ['supervisor'] })));
    fake.on('GET', '/api/v1/staff/messages/unread-count', ok({ unread: 0 }));
    const other = await renderPage('pages/staff/inbox');
    await flush();
    expect(text(other, '.no-role')).toContain('没有受理、审查、审批或送达岗位');
    expect(other.querySelector('.board-btn')).toBeTruthy();
  });
});
