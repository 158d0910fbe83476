const { envelope, ok } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');

const message = (id, read, link) => ({
  id,
  kind: link && link.indexOf('case') >= 0 ? 'staff.supervision' : 'staff.queue',
  title: link && link.indexOf('case') >= 0 ? '督办通知' : '新办件待审查',
  body: '居民身份证换领（NC-GAJ-20261207-00001）新办件待审查。',
  link: link || 'pages/staff/inbox',
  subject: 'case:1',
  created_at: '2026-12-07T11:20:59.259700+00:00',
  read,
  read_at: read ? '2026-12-07T11:30:00+00:00' : null,
});

describe('pages/staff/messages', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = staffPage());
  });

  afterEach(leavePage);

  test('the unread count; opening a message marks it read and opens its page', async () => {
    fake.on('GET', '/api/v1/staff/messages', ok({ messages: [message(10, false, 'pages/staff/case?id=1'), message(7, false), message(4, true)], unread: 2, next_cursor: null }));
    fake.on('POST', '/api/v1/staff/messages/10/read', ok(Object.assign(message(10, true, 'pages/staff/case?id=1'), { unread: 1 })));
    const page = await renderPage('pages/staff/messages');
    expect(text(page, '.unread-count')).toBe('2');
    expect(page.querySelectorAll('.message.unread')).toHaveLength(2);
    expect(text(page, '.read-all-btn')).toBe('全部标为已读（2）');

    await page.instance.onOpen({ currentTarget: { dataset: { id: 10 } } });
    expect(fake.callsTo('POST', '/api/v1/staff/messages/10/read')[0].header['Idempotency-Key']).toBeTruthy();
    expect(text(page, '.unread-count')).toBe('1');
    expect(page.querySelectorAll('.message.unread')).toHaveLength(1);
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/case?id=1' }));

    await page.instance.onOpen({ currentTarget: { dataset: { id: 4 } } }); // already read: no call
    expect(fake.callsTo('POST', '/api/v1/staff/messages/4/read')).toHaveLength(0);
    expect(fake.wx.navigateTo).toHaveBeenLastCalledWith(expect.objectContaining({ url: '/pages/staff/inbox' }));
  });

  test('read all; the unread tab asks unread=true; paging and pull to refresh', async () => {
    fake.on(
      'GET',
      '/api/v1/staff/messages',
      ok({ messages: [message(10, false), message(7, false)], unread: 2, next_cursor: 'm1' }),
      ok({ messages: [message(4, true)], unread: 2, next_cursor: null }),
      ok({ messages: [], unread: 0, next_cursor: null }),
      ok({ messages: [message(10, true)], unread: 0, next_cursor: null }),
    );
    fake.on('POST', '/api/v1/staff/messages/read-all', ok({ marked: 2, unread: 0 }));
    const page = await renderPage('pages/staff/messages');
    await page.instance.onReachBottom();
    expect(fake.callsTo('GET', '/api/v1/staff/messages')[1].query).toEqual({ cursor: 'm1' });
    expect(page.querySelectorAll('.message')).toHaveLength(3);

    await page.instance.onReadAll();
    expect(fake.callsTo('POST', '/api/v1/staff/messages/read-all')).toHaveLength(1);
    expect(page.querySelectorAll('.message.unread')).toHaveLength(0);
    expect(page.querySelector('.unread-count')).toBeFalsy();
    await page.instance.onReadAll(); // nothing unread: nothing sent
    expect(fake.callsTo('POST', '/api/v1/staff/messages/read-all')).toHaveLength(1);

    await page.instance.onFilter({ currentTarget: { dataset: { filter: 'unread' } } });
    expect(fake.callsTo('GET', '/api/v1/staff/messages')[2].query).toEqual({ unread: 'true' });
    expect(text(page, '.empty')).toBe('没有未读消息');

    await page.instance.onFilter({ currentTarget: { dataset: { filter: 'all' } } });
    await page.instance.onPullDownRefresh();
    expect(fake.wx.stopPullDownRefresh).toHaveBeenCalled();
  });

  test("a failed read shows the envelope's message and does not open the page", async () => {
    fake.on('GET', '/api/v1/staff/messages', ok({ messages: [message(10, false)], unread: 1, next_cursor: null }));
    fake.on('POST', '/api/v1/staff/messages/10/read', envelope(404, 'not_found', '您要找的内容不存在。'));
    const page = await renderPage('pages/staff/messages');
    await page.instance.onOpen({ currentTarget: { dataset: { id: 10 } } });
    expect(text(page, '.error')).toBe('您要找的内容不存在。');
    expect(fake.wx.navigateTo).not.toHaveBeenCalled();
  });
});
