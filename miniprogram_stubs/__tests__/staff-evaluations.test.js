/**
 * pages/staff/evaluations (好差评 of my department: statistics, ratings, answering a bad one) and
 * the staff inbox's ways to it and to the staff subscribe messages.
 */
const { staffMe, envelope, ok, flush } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');
const { staffEvaluation, STAFF_EVALUATION_STATS, STAFF_TO_ASK } = require('./fixtures.js');

const LIST = '/api/v1/staff/evaluations';
const STATS = '/api/v1/staff/evaluations/stats';
const ANSWER = '/api/v1/staff/evaluations/7/answer';
const LOST = { fail: 'request:fail timeout' };

describe('pages/staff/evaluations', () => {
  let fake;
  let renderPage;
  let text;
  let all;

  beforeEach(() => {
    ({ fake, renderPage, text, all } = staffPage({ shortBackoff: true }));
  });

  afterEach(leavePage);

  const good = staffEvaluation({ id: 8, score: 5, tags: ['办事快', '态度好'], comment: '', follow_up: null });
  const answered = staffEvaluation({ follow_up: 'answered', answer: '已增加窗口，缩短排队时间。', answered_at: '2026-12-09T01:00:00+00:00' });

  test('the statistics and the ratings newest first; 待回复 asks the open follow-ups; paging; a rating opens its case', async () => {
    fake.on('GET', STATS, ok(STAFF_EVALUATION_STATS));
    fake.on('GET', LIST, (req) =>
      req.query.follow_up === 'open'
        ? ok({ items: [staffEvaluation()], next_cursor: null })
        : req.query.cursor
          ? ok({ items: [staffEvaluation({ id: 6, score: 4, follow_up: null, comment: '' })], next_cursor: null })
          : ok({ items: [good, staffEvaluation()], next_cursor: 'c1' }),
    );
    const page = await renderPage('pages/staff/evaluations');

    expect(text(page, '.dept')).toBe('NC-GAJ · 共 4 条评价');
    expect(text(page, '.average')).toBe('3.8');
    expect(text(page, '.satisfied')).toBe('75%');
    expect(text(page, '.open-count')).toBe('1');
    expect(all(page, '.bar-n')).toEqual(['2', '1', '0', '1', '0']);
    expect(all(page, '.stars')).toEqual(['★★★★★', '★★☆☆☆']);
    expect(all(page, '.tags')).toEqual(['办事快、态度好', '等待时间长']);
    expect(all(page, '.follow')).toEqual(['待回复']);
    expect(page.querySelectorAll('.answer-btn')).toHaveLength(1);
    expect(fake.callsTo('GET', LIST)[0].header.Authorization).toBe('Bearer staff-access-1');

    await page.instance.onReachBottom();
    expect(fake.callsTo('GET', LIST)[1].query.cursor).toBe('c1');
    expect(page.querySelectorAll('.rating')).toHaveLength(3);

    await page.instance.onFilter({ currentTarget: { dataset: { value: 'open' } } });
    expect(fake.callsTo('GET', LIST)[2].query).toEqual({ follow_up: 'open' });
    expect(page.querySelectorAll('.rating')).toHaveLength(1);
    expect(text(page, '.list-title')).toBe('待回复的差评');

    page.instance.onOpen({ currentTarget: { dataset: { case: 1 } } });
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/case?id=1' }));
  });

  test('answering a bad rating: too short on the phone, the server\'s field error beside it, a lost answer sent again with the same key', async () => {
    fake.on('GET', STATS, ok(STAFF_EVALUATION_STATS), ok(Object.assign({}, STAFF_EVALUATION_STATS, { follow_ups: { open: 0, answered: 1 } })));
    fake.on('GET', LIST, ok({ items: [staffEvaluation()], next_cursor: null }));
    fake.on(
      'POST',
      ANSWER,
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', { fields: [{ field: 'answer', code: 'identifier_not_allowed', message: '此栏不能填写身份证号码或手机号码。' }] }),
      LOST,
      LOST,
      LOST,
      LOST,
      ok(answered),
    );
    const page = await renderPage('pages/staff/evaluations');
    page.instance.onWriteAnswer({ currentTarget: { dataset: { id: 7 } } });
    page.instance.onAnswerInput({ detail: { value: '好' } });
    await page.instance.onSendAnswer();
    expect(text(page, '.answer-error')).toBe('请填写回复内容（至少 2 个字）。');
    expect(fake.callsTo('POST', ANSWER)).toHaveLength(0);

    page.instance.onAnswerInput({ detail: { value: '请致电 13812345678' } });
    await page.instance.onSendAnswer();
    expect(text(page, '.answer-error')).toBe('此栏不能填写身份证号码或手机号码。');

    page.instance.onAnswerInput({ detail: { value: '已增加窗口，缩短排队时间。' } });
    await page.instance.onSendAnswer();
    expect(text(page, '.page-error')).toBe('网络连接不稳定，请检查网络后重试。');
    await page.instance.onSendAnswer();
    const posts = fake.callsTo('POST', ANSWER);
    expect(posts).toHaveLength(6);
    expect(posts[5].data).toEqual({ answer: '已增加窗口，缩短排队时间。' });
    expect(new Set(posts.slice(1).map((p) => p.header['Idempotency-Key'])).size).toBe(1);
    expect(posts[1].header['Idempotency-Key']).not.toBe(posts[0].header['Idempotency-Key']);
    expect(text(page, '.answer-text')).toBe('回复：已增加窗口，缩短排队时间。');
    expect(page.querySelector('.answer-btn')).toBeFalsy();
    expect(text(page, '.answered-count')).toBe('1');
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已回复' }));
  });

  test('a rating answered meanwhile: 409 reloads the list with a notice', async () => {
    fake.on('GET', STATS, ok(STAFF_EVALUATION_STATS));
    fake.on('GET', LIST, ok({ items: [staffEvaluation()], next_cursor: null }), ok({ items: [answered], next_cursor: null }));
    fake.on('POST', ANSWER, envelope(409, 'evaluation.no_open_follow_up', '该评价没有待回复的整改事项，或已经回复过了。'));
    const page = await renderPage('pages/staff/evaluations');
    page.instance.onWriteAnswer({ currentTarget: { dataset: { id: 7 } } });
    page.instance.onAnswerInput({ detail: { value: '已整改。' } });
    await page.instance.onSendAnswer();
    expect(fake.callsTo('GET', LIST)).toHaveLength(2);
    expect(text(page, '.conflict-notice')).toBe('该评价没有待回复的整改事项，或已经回复过了。\n已为您刷新为最新状态。');
    expect(text(page, '.answer-text')).toBe('回复：已增加窗口，缩短排队时间。');
    expect(page.querySelector('.answer-btn')).toBeFalsy();
  });

  test("a staff member with no handling role gets the server's 403 message instead of the page", async () => {
    const forbidden = envelope(403, 'evaluation.forbidden', '只有办件所属部门的经办人员可以处理该评价。');
    fake.on('GET', STATS, forbidden);
    fake.on('GET', LIST, forbidden);
    const page = await renderPage('pages/staff/evaluations');
    expect(text(page, '.forbidden')).toBe('只有办件所属部门的经办人员可以处理该评价。');
    expect(page.querySelector('.stats')).toBeFalsy();
    expect(page.querySelector('.actions')).toBeFalsy();
    expect(page.querySelector('.empty')).toBeFalsy();
  });

  test('the large-text mode is on the page root', async () => {
    fake.storage['zb.pref.large_text'] = 1;
    fake.on('GET', STATS, ok(STAFF_EVALUATION_STATS));
    fake.on('GET', LIST, ok({ items: [], next_cursor: null }));
    const page = await renderPage('pages/staff/evaluations');
    expect(page.querySelector('.page.large-text')).toBeTruthy();
    expect(text(page, '.empty')).toBe('暂无评价');
  });
});

describe('pages/staff/inbox: the ways to 好差评 and to the staff subscribe messages', () => {
  let fake;
  let renderPage;

  beforeEach(() => {
    ({ fake, renderPage } = staffPage());
    fake.on('GET', '/api/v1/staff/inbox', ok({ role: 'reviewer', counts: { queue: 0, mine: 0, supervision: 0 }, counts_cap: 100, items: [], next_cursor: null }));
    fake.on('GET', '/api/v1/staff/messages/unread-count', ok({ unread: 0 }));
  });

  afterEach(leavePage);

  test('好差评 beside 督办 and 消息 opens the ratings page; 接收消息提醒 asks in its tap and goes once all is granted', async () => {
    fake.on('GET', '/api/v1/staff/me', ok(staffMe()));
    fake.on('GET', '/api/v1/staff/subscriptions/to-ask', ok(STAFF_TO_ASK), ok({ moment: 'staff', template_ids: [], templates: [] }));
    fake.on('POST', '/api/v1/staff/subscriptions', ok({ grants: [] }));
    fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
      Promise.resolve().then(() => opts.success({ errMsg: 'requestSubscribeMessage:ok', ZbStaffTask: 'accept', ZbStaffSupervision: 'accept' })),
    );
    const page = await renderPage('pages/staff/inbox');
    expect(page.querySelector('.evaluations-btn')).toBeTruthy();
    page.instance.onEvaluations();
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/staff/evaluations' }));

    expect(page.querySelector('.consent-btn')).toBeTruthy();
    const tapped = page.instance.onConsent();
    expect(fake.wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: ['ZbStaffTask', 'ZbStaffSupervision'] }));
    await tapped;
    expect(fake.callsTo('POST', '/api/v1/staff/subscriptions')[0].data).toEqual({ results: { ZbStaffTask: 'accept', ZbStaffSupervision: 'accept' } });
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已开启消息提醒' }));
    expect(page.querySelector('.consent-btn')).toBeFalsy();
  });

  test('no 好差评 for an account with no handling role and no supervision; a to-ask that fails leaves no button', async () => {
    fake.on('GET', '/api/v1/staff/me', ok(staffMe({ roles: ['finance'] })));
    fake.on('GET', '/api/v1/staff/subscriptions/to-ask', envelope(500, 'internal', '系统繁忙，请稍后再试。'));
    const page = await renderPage('pages/staff/inbox');
    await flush();
    expect(page.querySelector('.evaluations-btn')).toBeFalsy();
    expect(page.querySelector('.consent-btn')).toBeFalsy();
    expect(page.querySelector('.no-role')).toBeTruthy();
  });
});
