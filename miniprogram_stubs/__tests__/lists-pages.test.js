const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');

function caseRow(id, status, label, extra) {
  return Object.assign(
    { id, item_code: 'GA-SFZ-HL', item_name: '居民身份证换领', status, status_label: label, acceptance_number: null, applicant: '张*', promised_due_on: null, card: '', updated_at: '2026-12-07T03:00:00+00:00' },
    extra || {},
  );
}

function message(id, read, extra) {
  return Object.assign(
    { id, kind: 'case.accepted', title: `消息${id}`, body: `您的办件已受理（${id}）`, link: `pages/case/detail?id=${40 + id}`, subject: `case:${40 + id}`, created_at: '2026-12-07T03:00:00+00:00', read, read_at: null },
    extra || {},
  );
}

describe('citizen list pages', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage());
  });

  afterEach(leavePage);

  const tap = (dataset) => ({ currentTarget: { dataset }, detail: {} });

  describe('pages/cases', () => {
    test('lists a group, pages on with the cursor, switches group, opens a case or a draft', async () => {
      fake.on('GET', '/api/v1/cases', (req) => {
        if (req.query.group === 'draft') return ok({ items: [caseRow(9, 'draft', '草稿')], next_cursor: null });
        if (req.query.cursor === 'c2') return ok({ items: [caseRow(3, 'fee_due', '待缴费')], next_cursor: null });
        return ok({ items: [caseRow(5, 'correction_requested', '待补正', { promised_due_on: '2026-12-28' }), caseRow(4, 'fee_due', '待缴费')], next_cursor: 'c2' });
      });
      const page = await renderPage('pages/cases/cases');
      expect(fake.callsTo('GET', '/api/v1/cases')[0].query).toEqual({ group: 'action_needed' });
      expect(page.querySelectorAll('.case-row')).toHaveLength(2);
      expect(text(page, '.status')).toBe('待补正');
      await page.instance.onLoadMore();
      expect(fake.callsTo('GET', '/api/v1/cases')[1].query).toEqual({ group: 'action_needed', cursor: 'c2' });
      expect(page.querySelectorAll('.case-row')).toHaveLength(3);
      expect(page.querySelector('.load-more')).toBeFalsy();

      page.instance.onOpen(tap({ id: 5, draft: false }));
      expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=5' }));
      await page.instance.onGroup(tap({ group: 'draft' }));
      expect(page.querySelectorAll('.case-row')).toHaveLength(1);
      page.instance.onOpen(tap({ id: 9, draft: true }));
      expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/apply/apply?id=9' }));
    });

    test('an expired token is refreshed by the client; a revoked session logs in again', async () => {
      fake.on('GET', '/api/v1/cases', envelope(401, 'auth.token_expired', '登录已过期。'), ok({ items: [caseRow(1, 'submitted', '待预审')], next_cursor: null }));
      fake.on('POST', '/api/v1/auth/refresh', envelope(401, 'auth.refresh_invalid', '请重新登录。'));
      fake.on('POST', '/api/v1/auth/wechat/login', ok({ access_token: 'a9', refresh_token: 'r9' }));
      const page = await renderPage('pages/cases/cases');
      expect(fake.wx.login).toHaveBeenCalledTimes(1);
      expect(fake.callsTo('GET', '/api/v1/cases')[1].header.Authorization).toBe('Bearer a9');
      expect(page.querySelectorAll('.case-row')).toHaveLength(1);
      expect(page.querySelector('.error')).toBeFalsy();
    });

    test('a failed list shows the Chinese message', async () => {
      fake.on('GET', '/api/v1/cases', envelope(429, 'rate_limited', '操作过于频繁，请稍后再试。', {}, { 'Retry-After': '600' }));
      const page = await renderPage('pages/cases/cases');
      expect(text(page, '.error')).toBe('操作过于频繁，请稍后再试。');
      expect(page.querySelector('.empty')).toBeFalsy();
    });
  });

  describe('pages/inbox', () => {
    test('the unread count, load more by cursor, open one (read, then its case), all read', async () => {
      fake.on(
        'GET',
        '/api/v1/me/messages',
        (req) =>
          req.query.cursor === 'm2'
            ? ok({ messages: [message(1, false, { link: null })], unread: 3, next_cursor: null })
            : ok({ messages: [message(3, false), message(2, true)], unread: 3, next_cursor: 'm2' }),
      );
      fake.on('POST', '/api/v1/me/messages/3/read', ok(Object.assign(message(3, true), { unread: 2 })));
      fake.on('POST', '/api/v1/me/messages/read-all', ok({ marked: 2, unread: 0 }));
      const page = await renderPage('pages/inbox/inbox');
      expect(text(page, '.unread-count')).toBe('未读 3 条');
      expect(page.querySelectorAll('.message-unread')).toHaveLength(1);

      await page.instance.onLoadMore();
      expect(fake.callsTo('GET', '/api/v1/me/messages')[1].query).toEqual({ cursor: 'm2' });
      expect(page.querySelectorAll('.message')).toHaveLength(3);
      expect(page.querySelector('.load-more')).toBeFalsy();

      await page.instance.onOpen(tap({ id: 3 }));
      expect(fake.callsTo('POST', '/api/v1/me/messages/3/read')).toHaveLength(1);
      expect(text(page, '.unread-count')).toBe('未读 2 条');
      expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=43' }));

      await page.instance.onOpen(tap({ id: 2 })); // already read: no second mark
      expect(fake.callsTo('POST', '/api/v1/me/messages/2/read')).toHaveLength(0);
      await page.instance.onOpen(tap({ id: 1 }));
      // no link: the case from its subject
      expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=41' }));

      await page.instance.onReadAll();
      expect(text(page, '.unread-count')).toBe('没有未读消息');
      expect(page.querySelectorAll('.message-unread')).toHaveLength(0);
    });

    test('a mark that fails still opens the message, and says why', async () => {
      fake.on('GET', '/api/v1/me/messages', ok({ messages: [message(3, false)], unread: 1, next_cursor: null }));
      fake.on('POST', '/api/v1/me/messages/3/read', envelope(404, 'notify.message_not_found', '消息不存在。'));
      const page = await renderPage('pages/inbox/inbox');
      await page.instance.onOpen(tap({ id: 3 }));
      expect(text(page, '.error')).toBe('消息不存在。');
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=43' }));
    });

    test('a link to a page this app does not have falls back to the case', async () => {
      fake.on('GET', '/api/v1/me/messages', ok({ messages: [message(5, true, { link: 'pages/case/archived?id=45' })], unread: 0, next_cursor: null }));
      const page = await renderPage('pages/inbox/inbox');
      await page.instance.onOpen(tap({ id: 5 }));
      expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=45' }));
    });
  });
});
