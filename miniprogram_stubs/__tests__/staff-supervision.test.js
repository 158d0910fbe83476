const { envelope, ok, flush } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');

const notice = (id, overrides) =>
  Object.assign(
    {
      id,
      case_id: 1,
      item_name: '居民身份证换领',
      acceptance_number: 'NC-GAJ-20261207-00001',
      case_status: 'in_review',
      promised_due_on: '2026-12-28',
      department_code: 'NC-GAJ',
      assignee_staff_id: 2,
      issued_by: { staff_id: 5, name: '赵督查' },
      message: '请尽快办理此件。',
      card: null,
      created_at: '2026-12-07T11:20:59.183592+00:00',
      acknowledged: false,
      acknowledged_at: null,
    },
    overrides || {},
  );

const carded = (id, card) => ({
  id,
  item_code: 'GA-SFZ-HL',
  item_name: '居民身份证换领',
  status: 'in_review',
  status_label: '审查中',
  acceptance_number: `NC-GAJ-20261201-0000${id}`,
  applicant: '张*',
  promised_due_on: '2026-12-04',
  card,
  updated_at: '2026-12-07T11:20:59+00:00',
  lead_department_code: 'NC-GAJ',
  accepted_on: '2026-12-01',
  overdue_working_days: card === 'red' ? 2 : 0,
  holders: [{ task_id: 11, step_name: '户籍民警审核', role: 'reviewer', department_code: 'NC-GAJ', status: 'claimed', assignee_staff_id: 2 }],
});

describe('pages/staff/notices', () => {
  let fake;
  let renderPage;
  let text;
  let all;

  beforeEach(() => {
    ({ fake, renderPage, text, all } = staffPage());
  });

  afterEach(leavePage);

  test('lists the notices with the unacknowledged count, acknowledges one, opens its case', async () => {
    fake.on('GET', '/api/v1/staff/supervision-notices', ok({ counts: { unacknowledged: 1 }, items: [notice(1, { card: 'red' }), notice(2, { acknowledged: true, acknowledged_at: '2026-12-06T02:00:00+00:00' })], next_cursor: null }));
    fake.on('POST', '/api/v1/staff/supervision-notices/1/acknowledge', ok(notice(1, { card: 'red', acknowledged: true, acknowledged_at: '2026-12-07T03:00:00+00:00' })));
    const page = await renderPage('pages/staff/notices');
    expect(text(page, '.unack-count')).toBe('1');
    expect(page.querySelectorAll('.notice-card')).toHaveLength(2);
    expect(page.querySelectorAll('.ack-btn')).toHaveLength(1);
    expect(text(page, '.message')).toBe('请尽快办理此件。');
    expect(text(page, '.card-red')).toBe('红牌');
    expect(all(page, '.acked')).toEqual(['已签收 2026-12-06 10:00']);

    await page.instance.onAcknowledge({ currentTarget: { dataset: { id: 1 } } });
    const [ack] = fake.callsTo('POST', '/api/v1/staff/supervision-notices/1/acknowledge');
    expect(ack.header['Idempotency-Key']).toBeTruthy();
    expect(page.querySelectorAll('.ack-btn')).toHaveLength(0);
    expect(text(page, '.unack-count')).toBe('0');

    page.instance.onOpen({ currentTarget: { dataset: { case: 1 } } });
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/case?id=1' }));
  });

  test("a notice addressed to someone else shows the envelope's message; paging and pull to refresh", async () => {
    fake.on(
      'GET',
      '/api/v1/staff/supervision-notices',
      ok({ counts: { unacknowledged: 2 }, items: [notice(1)], next_cursor: 'n1' }),
      ok({ counts: { unacknowledged: 2 }, items: [notice(2)], next_cursor: null }),
      ok({ counts: { unacknowledged: 2 }, items: [notice(1)], next_cursor: 'n1' }),
    );
    fake.on('POST', '/api/v1/staff/supervision-notices/1/acknowledge', envelope(403, 'supervision.not_addressed_to_you', '该督办通知不是发给您或您所在部门的。', { notice_id: 1 }));
    const page = await renderPage('pages/staff/notices');
    await page.instance.onAcknowledge({ currentTarget: { dataset: { id: 1 } } });
    expect(text(page, '.error')).toBe('该督办通知不是发给您或您所在部门的。');
    expect(page.querySelectorAll('.ack-btn')).toHaveLength(1);

    await page.instance.onReachBottom();
    expect(fake.callsTo('GET', '/api/v1/staff/supervision-notices')[1].query).toEqual({ cursor: 'n1' });
    expect(page.querySelectorAll('.notice-card')).toHaveLength(2);

    await page.instance.onPullDownRefresh();
    expect(page.querySelectorAll('.notice-card')).toHaveLength(1);
    expect(fake.wx.stopPullDownRefresh).toHaveBeenCalled();
  });
});

describe('pages/staff/board', () => {
  let fake;
  let renderPage;
  let text;
  let all;

  beforeEach(() => {
    ({ fake, renderPage, text, all } = staffPage());
  });

  afterEach(leavePage);

  test('the counts and the red cases; the yellow tab; a 督办 sent to whoever holds a case', async () => {
    fake.on('GET', '/api/v1/supervisor/board', ok({ department: 'NC-GAJ', today: '2026-12-07', yellow_card_days: 2, counts: { red: 1, yellow: 1, running: 5, paused: 1 } }));
    fake.on('GET', '/api/v1/supervisor/cases', (req) =>
      ok({ department: 'NC-GAJ', card: req.query.card, items: [carded(req.query.card === 'red' ? 1 : 2, req.query.card)], next_cursor: null }),
    );
    fake.on(
      'POST',
      '/api/v1/supervisor/cases/1/notices',
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', { fields: [{ field: 'message', code: 'identifier_not_allowed', message: '请不要填写身份证号码或手机号码。' }] }),
      { status: 201, data: { notices: [] } },
    );
    const page = await renderPage('pages/staff/board');
    expect([text(page, '.red-count'), text(page, '.yellow-count'), text(page, '.running-count'), text(page, '.paused-count')]).toEqual(['1', '1', '5', '1']);
    expect(text(page, '.overdue')).toBe('，已超期 2 个工作日');
    expect(text(page, '.holders')).toBe('户籍民警审核·办理中');
    expect(fake.callsTo('GET', '/api/v1/supervisor/cases')[0].query).toEqual({ card: 'red', department: 'NC-GAJ' });

    await page.instance.onCard({ currentTarget: { dataset: { card: 'yellow' } } });
    expect(text(page, '.list-title')).toBe('黄牌办件');
    expect(all(page, '.carded .card-yellow')).toEqual(['黄牌']);

    await page.instance.onCard({ currentTarget: { dataset: { card: 'red' } } });
    page.instance.onWriteNotice({ currentTarget: { dataset: { id: 1 } } });
    await page.instance.onSendNotice();
    expect(text(page, '.message-error')).toBe('请写明督办要求（至少 2 个字）。');
    page.instance.onMessageInput({ detail: { value: '请联系 13800138000 尽快办结' } });
    await page.instance.onSendNotice();
    expect(text(page, '.message-error')).toBe('请不要填写身份证号码或手机号码。');
    page.instance.onMessageInput({ detail: { value: '请于今日内办结并反馈。' } });
    await page.instance.onSendNotice();
    const posts = fake.callsTo('POST', '/api/v1/supervisor/cases/1/notices');
    expect(posts[1].data).toEqual({ message: '请于今日内办结并反馈。' });
    expect(page.instance.data.noticeFor).toBe(0);
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已发出督办' }));
  });

  test("403 for someone who is not a supervisor: the envelope's message, no board", async () => {
    fake.on('GET', '/api/v1/supervisor/board', envelope(403, 'auth.forbidden', '您的岗位不能进行此操作。', { action: 'supervise', roles: ['supervisor'] }));
    const page = await renderPage('pages/staff/board');
    await flush();
    expect(text(page, '.forbidden')).toBe('您的岗位不能进行此操作。');
    expect(page.querySelector('.tiles')).toBeFalsy();
    expect(fake.callsTo('GET', '/api/v1/supervisor/cases')).toHaveLength(0);
    expect(fake.wx.redirectTo).not.toHaveBeenCalled();
  });

  test('pages of carded cases by cursor; another department by its query', async () => {
    fake.on('GET', '/api/v1/supervisor/board', ok({ department: 'NC-MZJ', today: '2026-12-07', yellow_card_days: 2, counts: { red: 2, yellow: 0, running: 2, paused: 0 } }));
    fake.on(
      'GET',
      '/api/v1/supervisor/cases',
      ok({ department: 'NC-MZJ', card: 'red', items: [carded(1, 'red')], next_cursor: 'r1' }),
      ok({ department: 'NC-MZJ', card: 'red', items: [carded(3, 'red')], next_cursor: null }),
    );
    const page = await renderPage('pages/staff/board', { department: 'NC-MZJ' });
    expect(fake.callsTo('GET', '/api/v1/supervisor/board')[0].query).toEqual({ department: 'NC-MZJ' });
    await page.instance.onReachBottom();
    expect(fake.callsTo('GET', '/api/v1/supervisor/cases')[1].query).toEqual({ card: 'red', cursor: 'r1', department: 'NC-MZJ' });
    expect(page.querySelectorAll('.carded')).toHaveLength(2);
    page.instance.onOpen({ currentTarget: { dataset: { id: 3 } } });
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/case?id=3' }));
  });
});
