const { staffMe, caseDetail, envelope, ok, flush } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');
const { STAFF_FAMILY_FORM } = require('./fixtures.js');

const CASE = '/api/v1/staff/cases/1';
const CONFLICT = envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。', { case_id: 1, current_status: 'accepted', action: 'accept' });

const accepted = (overrides) =>
  caseDetail(
    Object.assign(
      {
        status: 'accepted',
        status_label: '已受理',
        acceptance_number: 'NC-GAJ-20261207-00001',
        promised_due_on: '2026-12-28',
        statutory_due_on: '2027-03-04',
        answer_due_on: null,
        tasks: [{ id: 11, step_index: 0, step_name: '户籍民警审核', role: 'reviewer', department_code: 'NC-GAJ', status: 'open', assignee_staff_id: null, opinion: '' }],
      },
      overrides || {},
    ),
  );
const claimed = () =>
  accepted({
    status: 'in_review',
    status_label: '审查中',
    tasks: [{ id: 11, step_index: 0, step_name: '户籍民警审核', role: 'reviewer', department_code: 'NC-GAJ', status: 'claimed', assignee_staff_id: 2, opinion: '' }],
  });

describe('pages/staff/case', () => {
  let fake;
  let renderPage;
  let text;
  let all;

  beforeEach(() => {
    ({ fake, renderPage, text, all } = staffPage({ shortBackoff: true }));
  });

  /** The page reads the case only: titles and identifiers come with it, never from a guide. */
  const guideReads = () => fake.calls.filter((c) => c.path.indexOf('/api/v1/items') === 0);

  afterEach(() => {
    leavePage();
    jest.restoreAllMocks();
  });

  const asClerk = () => fake.on('GET', '/api/v1/staff/me', ok(staffMe({ id: 1, name: '王窗口', roles: ['clerk'] })));
  const asReviewer = () => fake.on('GET', '/api/v1/staff/me', ok(staffMe()));

  test("the applicant's form titled by the detail's form_titles, masked as given; materials grouped; no guide read", async () => {
    asClerk();
    fake.on('GET', CASE, ok(caseDetail()));
    const page = await renderPage('pages/staff/case', { id: '1' });

    expect(text(page, '.item-name')).toBe('居民身份证换领');
    expect(text(page, '.applicant')).toBe('张*');
    expect(all(page, '.form-row')).toEqual(['换领原因有效期满', '数字相片回执编号E2E2026A001', '领取方式邮寄送达', '收件人手机号码138****5678']);
    expect(page.querySelectorAll('.material')).toHaveLength(2);
    expect(page.querySelectorAll('.thumb')).toHaveLength(2);
    expect(text(page, '.doc')).toBe('PDF 共 1 页');
    expect(guideReads()).toEqual([]);
    expect(fake.callsTo('GET', CASE)[0].header.Authorization).toBe('Bearer staff-access-1');
    expect(page.querySelector('.accept-btn')).toBeTruthy();
    expect(page.querySelector('.correct-btn')).toBeTruthy();
    expect(page.querySelector('.claim-btn')).toBeFalsy();
  });

  test('the photo viewer previews every image of the case; a PDF opens as a document; stale links are fetched again', async () => {
    asClerk();
    const fresh = caseDetail();
    fresh.files.forEach((f) => { f.url = f.url.replace('abc', 'fresh'); });
    fake.on('GET', CASE, ok(caseDetail()), ok(fresh));
    const page = await renderPage('pages/staff/case', { id: '1' });

    await page.instance.onPreview({ currentTarget: { dataset: { id: 'f2' } } });
    const shown = fake.wx.previewImage.mock.calls[0][0];
    expect(shown.urls).toHaveLength(2);
    expect(shown.urls[0]).toContain('/f1.jpg');
    expect(shown.current).toBe(shown.urls[1]);
    expect(fake.callsTo('GET', CASE)).toHaveLength(1);

    await page.instance.onOpenFile({ currentTarget: { dataset: { id: 'f3' } } });
    await flush();
    expect(fake.wx.downloadFile.mock.calls[0][0].url).toContain('/f3.jpg');
    expect(fake.wx.openDocument).toHaveBeenCalledWith(expect.objectContaining({ filePath: '/tmp/doc.pdf', fileType: 'pdf' }));

    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 5 * 60 * 1000);
    await page.instance.onPreview({ currentTarget: { dataset: { id: 'f1' } } });
    expect(fake.callsTo('GET', CASE)).toHaveLength(2);
    expect(fake.wx.previewImage.mock.calls[1][0].current).toContain('Signature=fresh');
  });

  test('the clerk accepts with a comment, after confirming; the case reloads with its acceptance number', async () => {
    asClerk();
    fake.on('GET', CASE, ok(caseDetail()), ok(accepted()));
    fake.on('POST', `${CASE}/accept`, ok({ id: 1, status: 'accepted', status_label: '已受理', revision: 2, acceptance_number: 'NC-GAJ-20261207-00001' }));
    const page = await renderPage('pages/staff/case', { id: '1' });

    page.instance.onOpenAccept();
    expect(page.querySelector('.confirm-accept')).toBeTruthy();
    fake.modal = false; // the clerk thinks again
    await page.instance.onAccept();
    expect(fake.callsTo('POST', `${CASE}/accept`)).toHaveLength(0);

    fake.modal = true;
    page.instance.onCommentInput({ detail: { value: ' 材料齐全，予以受理。 ' } });
    await page.instance.onAccept();
    const [post] = fake.callsTo('POST', `${CASE}/accept`);
    expect(post.data).toEqual({ comment: '材料齐全，予以受理。' });
    expect(post.header['Idempotency-Key']).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(text(page, '.acceptance')).toBe('NC-GAJ-20261207-00001');
    expect(text(page, '.status')).toBe('已受理');
    expect(page.querySelector('.accept-btn')).toBeFalsy();
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已受理' }));
  });

  test('409 (another clerk acted first): the case is reloaded and a Chinese notice says why', async () => {
    asClerk();
    fake.on('GET', CASE, ok(caseDetail()), ok(accepted()));
    fake.on('POST', `${CASE}/accept`, CONFLICT);
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenAccept();
    await page.instance.onAccept();

    expect(fake.callsTo('GET', CASE)).toHaveLength(2);
    expect(text(page, '.conflict-notice')).toBe('办件状态已变化，当前不能进行此操作，请刷新后查看。\n已为您刷新为最新状态。');
    expect(page.instance.data.panel).toBe('');
    expect(text(page, '.status')).toBe('已受理');
    expect(page.querySelector('.accept-btn')).toBeFalsy();
    expect(page.querySelector('.error')).toBeFalsy();
  });

  test('the one-time correction list: pick, write a reason each, errors by item, then sent once', async () => {
    asClerk();
    const corrected = caseDetail({
      status: 'correction_requested',
      status_label: '待补正',
      answer_due_on: null,
      correction: { round: 1, issued_at: '2026-12-07T11:20:59+00:00', resolved: false, items: [{ kind: 'material', code: 'id-card', problem: '照片模糊，请重新拍摄。' }, { kind: 'field', code: 'reason', problem: '换领原因填写不完整。' }] },
    });
    fake.on('GET', CASE, ok(caseDetail()), ok(corrected));
    fake.on(
      'POST',
      `${CASE}/corrections`,
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
        fields: [{ field: 'items[1].problem', code: 'string_too_short', message: '至少需要 2 个字符。' }],
      }),
      ok({ id: 1, status: 'correction_requested', status_label: '待补正', revision: 2, acceptance_number: null }),
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenCorrect();
    expect(all(page, '.candidate-label')).toEqual([
      '材料：原居民身份证（人像面、国徽面照片）',
      '材料：居民身份证数字相片回执',
      '填写信息：换领原因',
      '填写信息：数字相片回执编号',
      '填写信息：领取方式',
      '填写信息：收件人手机号码',
      '填写信息：邮寄地址', // a field of the filed version left empty may be asked for too
    ]);

    await page.instance.onSendCorrection(); // nothing ticked
    expect(text(page, '.correction-error')).toBe('请至少选择一项需要补正的材料或填写信息。');

    page.instance.onToggleCandidate({ currentTarget: { dataset: { index: 0 } } });
    page.instance.onToggleCandidate({ currentTarget: { dataset: { index: 2 } } });
    await page.instance.onSendCorrection(); // ticked without reasons
    expect(all(page, '.candidate-error')).toEqual(['请写明需要补正的原因。', '请写明需要补正的原因。']);
    expect(fake.callsTo('POST', `${CASE}/corrections`)).toHaveLength(0);

    page.instance.onProblemInput({ currentTarget: { dataset: { index: 0 } }, detail: { value: '照片模糊，请重新拍摄。' } });
    page.instance.onProblemInput({ currentTarget: { dataset: { index: 2 } }, detail: { value: '缺' } });
    await page.instance.onSendCorrection();
    const [first] = fake.callsTo('POST', `${CASE}/corrections`);
    expect(first.data).toEqual({
      items: [
        { kind: 'material', code: 'id-card', problem: '照片模糊，请重新拍摄。' },
        { kind: 'field', code: 'reason', problem: '缺' },
      ],
    });
    // the server's field error lands under the reason it is about, not on the whole list
    const candidates = page.instance.data.candidates;
    expect(candidates[2].error).toBe('至少需要 2 个字符。');
    expect(candidates[0].error).toBe('');
    expect(all(page, '.candidate-error')).toEqual(['至少需要 2 个字符。']);
    expect(text(page, '.correction-error')).toBe('提交的信息不完整或格式不正确，请按提示修改。');
    expect(page.instance.data.panel).toBe('correct');

    page.instance.onProblemInput({ currentTarget: { dataset: { index: 2 } }, detail: { value: '换领原因填写不完整。' } });
    await page.instance.onSendCorrection();
    const posts = fake.callsTo('POST', `${CASE}/corrections`);
    expect(posts).toHaveLength(2);
    expect(posts[1].data.items[1].problem).toBe('换领原因填写不完整。');
    expect(posts[1].header['Idempotency-Key']).not.toBe(posts[0].header['Idempotency-Key']);
    expect(page.instance.data.panel).toBe('');
    expect(all(page, '.correction-item')[1]).toContain('填写信息：换领原因');
    expect(page.querySelector('.correct-btn')).toBeFalsy(); // once: the case moved on
  });

  test('a correction whose answer never came is sent again with the same key, so the applicant gets one notice', async () => {
    asClerk();
    fake.on('GET', CASE, ok(caseDetail()));
    const lost = { fail: 'request:fail timeout' };
    fake.on('POST', `${CASE}/corrections`, lost, lost, lost, lost, ok({ id: 1, status: 'correction_requested', status_label: '待补正', revision: 2, acceptance_number: null }));
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenCorrect();
    page.instance.onToggleCandidate({ currentTarget: { dataset: { index: 1 } } });
    page.instance.onProblemInput({ currentTarget: { dataset: { index: 1 } }, detail: { value: '回执编号不清晰。' } });
    await page.instance.onSendCorrection();
    expect(text(page, '.correct-panel .error')).toBe('网络连接不稳定，请检查网络后重试。');
    await page.instance.onSendCorrection();
    const keys = fake.callsTo('POST', `${CASE}/corrections`).map((c) => c.header['Idempotency-Key']);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(1);
  });

  test('a reviewer claims the open task, then passes it with an opinion', async () => {
    asReviewer();
    fake.on('GET', CASE, ok(accepted()), ok(claimed()), ok(accepted({ status: 'in_review', status_label: '审查中', tasks: [] })));
    fake.on('POST', '/api/v1/staff/tasks/11/claim', ok({ task_id: 11, status: 'claimed', case_id: 1 }));
    fake.on('POST', '/api/v1/staff/tasks/11/decide', ok({ id: 1, status: 'in_review', status_label: '审查中', revision: 3, acceptance_number: 'NC-GAJ-20261207-00001' }));
    const page = await renderPage('pages/staff/case', { id: '1' });
    expect(text(page, '.claim-btn')).toBe('领取任务（户籍民警审核）');
    expect(page.querySelector('.accept-btn')).toBeFalsy();

    await page.instance.onClaim();
    expect(fake.callsTo('POST', '/api/v1/staff/tasks/11/claim')[0].header['Idempotency-Key']).toBeTruthy();
    expect(text(page, '.task-status')).toBe('我办理中');
    expect(page.querySelector('.pass-btn')).toBeTruthy();
    expect(page.querySelector('.deny-btn')).toBeTruthy();
    expect(page.querySelector('.correct-btn')).toBeTruthy();

    page.instance.onOpenDecide({ currentTarget: { dataset: { outcome: 'pass' } } });
    await page.instance.onDecide(); // no opinion yet
    expect(text(page, '.opinion-error')).toBe('请填写审查意见。');
    page.instance.onOpinionInput({ detail: { value: '材料齐全，符合法定条件。' } });
    await page.instance.onDecide();
    const [decide] = fake.callsTo('POST', '/api/v1/staff/tasks/11/decide');
    expect(decide.data).toEqual({ outcome: 'pass', opinion: '材料齐全，符合法定条件。' });
    expect(fake.wx.showModal.mock.calls.pop()[0].title).toBe('确认通过');
    expect(page.instance.data.panel).toBe('');
    expect(page.querySelector('.pass-btn')).toBeFalsy();
  });

  test('a deny refused for its opinion shows the field; a task someone else took reloads with a notice', async () => {
    asReviewer();
    fake.on('GET', CASE, ok(claimed()), ok(accepted({ status: 'in_review', status_label: '审查中', tasks: [{ id: 11, step_index: 0, step_name: '户籍民警审核', role: 'reviewer', department_code: 'NC-GAJ', status: 'claimed', assignee_staff_id: 3, opinion: '' }] })));
    fake.on(
      'POST',
      '/api/v1/staff/tasks/11/decide',
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', { fields: [{ field: 'opinion', code: 'string_too_short', message: '至少需要 2 个字符。' }] }),
      envelope(409, 'case.task_taken', '该任务已被他人领取或已处理，请刷新后查看。', { task_id: 11 }),
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenDecide({ currentTarget: { dataset: { outcome: 'deny' } } });
    page.instance.onOpinionInput({ detail: { value: '否' } });
    await page.instance.onDecide();
    expect(fake.wx.showModal.mock.calls[0][0].title).toBe('确认不通过');
    expect(text(page, '.opinion-error')).toBe('至少需要 2 个字符。');
    expect(page.instance.data.panel).toBe('decide');

    page.instance.onOpinionInput({ detail: { value: '不符合换领条件。' } });
    await page.instance.onDecide();
    expect(text(page, '.conflict-notice')).toContain('该任务已被他人领取或已处理');
    expect(fake.callsTo('GET', CASE)).toHaveLength(2);
    expect(page.querySelector('.pass-btn')).toBeFalsy();
    expect(text(page, '.no-action')).toBe('当前无需您处理的操作。');
  });

  test('form_titles by path: a list of people titled row by row (`*` matching each index); a field without a title keeps its name; still no guide', async () => {
    asClerk();
    const form = Object.assign({}, STAFF_FAMILY_FORM.form, { note: '无' });
    fake.on('GET', CASE, ok(caseDetail(Object.assign({}, STAFF_FAMILY_FORM, { form }))));
    const page = await renderPage('pages/staff/case', { id: '1' });
    expect(all(page, '.form-row .k')).toEqual([
      '户号',
      '家庭成员 第1项 姓名',
      '家庭成员 第1项 身份证号码',
      '家庭成员 第1项 与户主关系',
      '家庭成员 第2项 姓名',
      '家庭成员 第2项 身份证号码',
      '家庭成员 第2项 与户主关系',
      'note',
    ]);
    expect(guideReads()).toEqual([]);

    page.instance.onOpenCorrect(); // the top level of the filed version: its fields, titled
    expect(all(page, '.candidate-label').filter((l) => l.indexOf('填写信息') === 0)).toEqual(['填写信息：户号', '填写信息：家庭成员', '填写信息：note']);
  });

  test('a detail without form_titles (an older server) shows the field names; a correction item is titled by form_titles', async () => {
    asClerk();
    const bare = caseDetail();
    delete bare.form_titles;
    delete bare.personal_fields;
    const corrected = caseDetail({
      status: 'correction_requested',
      status_label: '待补正',
      correction: { round: 1, issued_at: '2026-12-07T11:20:59+00:00', resolved: false, items: [{ kind: 'field', code: 'mailing_address', problem: '请填写邮寄地址。' }] },
    });
    fake.on('GET', CASE, ok(bare), ok(corrected));
    const page = await renderPage('pages/staff/case', { id: '1' });
    expect(all(page, '.form-row .k')).toEqual(['reason', 'photo_receipt_no', 'delivery_method', 'recipient_phone']);
    expect(page.querySelector('.reveal-btn')).toBeFalsy();

    await page.instance.load();
    expect(all(page, '.correction-item')[0]).toContain('填写信息：邮寄地址');
    expect(guideReads()).toEqual([]);
  });

  test("the timeline in the server's words (`label`), the page's own labels only for a line without one", async () => {
    asClerk();
    fake.on(
      'GET',
      CASE,
      ok(
        caseDetail({
          timeline: [
            { action: 'submit', label: '提交申请', role: 'applicant', from: 'draft', to: 'submitted', comment: '', details: {}, at: '2026-12-07T11:20:58+00:00' },
            { action: 'request_correction', label: '一次性告知补正材料', role: 'clerk', from: 'submitted', to: 'correction_requested', comment: '请补充户口簿。', details: {}, at: '2026-12-07T12:00:00+00:00' },
            { action: 'resubmit', role: 'applicant', from: 'correction_requested', to: 'submitted', comment: '', details: {}, at: '2026-12-08T01:00:00+00:00' },
            { action: 'fee_refunded', label: '已退款', role: 'system', from: 'completed', to: 'completed', comment: '', details: {}, at: '2026-12-09T01:00:00+00:00' },
            { action: 'something_new', role: 'system', from: 'completed', to: 'completed', comment: '', details: {}, at: '2026-12-09T02:00:00+00:00' },
          ],
        }),
      ),
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    const lines = page.instance.data.timeline.map((e) => e.what);
    // newest first: the server's label wins over the page's (一次性告知补正 there), which only fills a gap
    expect(lines).toEqual(['办理', '已退款', '补正后重新提交', '一次性告知补正材料', '提交申请']);
    expect(all(page, '.event')[3]).toContain('一次性告知补正材料（窗口受理）');
    expect(all(page, '.event')[3]).toContain('请补充户口簿。');
  });

  test('a case the staff member may not see shows the envelope message; an expired token is refreshed on the way', async () => {
    asClerk();
    fake.on('GET', CASE, envelope(401, 'auth.token_expired', '登录已过期，请重新登录。'), envelope(404, 'not_found', '您要找的内容不存在。'));
    fake.on('POST', '/api/v1/staff/auth/refresh', envelope(401, 'auth.refresh_invalid', '请重新登录。'));
    fake.on('POST', '/api/v1/staff/auth/login', ok({ access_token: 'staff-access-3', refresh_token: 'staff-refresh-3', token_type: 'Bearer', expires_in: 600, refresh_expires_in: 43200, staff: staffMe() }));
    const page = await renderPage('pages/staff/case', { id: '1' });
    expect(fake.callsTo('POST', '/api/v1/staff/auth/login')).toHaveLength(1);
    expect(fake.callsTo('GET', CASE)[1].header.Authorization).toBe('Bearer staff-access-3');
    expect(text(page, '.error')).toBe('您要找的内容不存在。');
    expect(page.querySelector('.actions')).toBeFalsy();
  });
});
