/**
 * pages/staff/case: the staff actions besides accept, correct, claim and decide — refuse,
 * suspend / resume, complete, internal comments, attachments, the personal-data reveal and the
 * supervisors' reassignment — and the buttons the detail's `actions` shows; the staff consent
 * asked in the tap that accepts or claims.
 */
const { staffMe, caseDetail, envelope, ok, flush } = require('./helpers/staffWx.js');
const { staffPage, leavePage } = require('./helpers/setup.js');
const { STAFF_ACTIONS, STAFF_TO_ASK, STAFF_INTENT, STAFF_ATTACHMENT, STAFF_ASSIGNEES, STAFF_FAMILY_FORM } = require('./fixtures.js');

const CASE = '/api/v1/staff/cases/1';
const INVALID = '提交的信息不完整或格式不正确，请按提示修改。';
const LOST = { fail: 'request:fail timeout' };
const state = (status, label, extra) => ok(Object.assign({ id: 1, status, status_label: label, revision: 3, acceptance_number: 'NC-GAJ-20261207-00001' }, extra || {}));

const task = (overrides) => Object.assign({ id: 11, step_index: 0, step_name: '户籍民警审核', role: 'reviewer', department_code: 'NC-GAJ', status: 'claimed', assignee_staff_id: 2, opinion: '' }, overrides || {});
const submitted = (actions, overrides) => caseDetail(Object.assign({ actions }, overrides || {}));
const inReview = (actions, overrides) =>
  caseDetail(
    Object.assign(
      {
        status: 'in_review',
        status_label: '审查中',
        acceptance_number: 'NC-GAJ-20261207-00001',
        promised_due_on: '2026-12-28',
        answer_due_on: null,
        tasks: [task()],
        actions,
      },
      overrides || {},
    ),
  );
const suspended = (actions) => inReview(actions, { status: 'suspended', status_label: '特别程序中', clock_stopped_since: '2026-12-08' });
const resultPending = (actions) => inReview(actions, { status: 'result_pending', status_label: '待送达', tasks: [task({ status: 'passed' })] });

describe('pages/staff/case: the other staff actions', () => {
  let fake;
  let renderPage;
  let text;
  let all;

  beforeEach(() => {
    ({ fake, renderPage, text, all } = staffPage({ shortBackoff: true }));
  });

  afterEach(() => {
    leavePage();
    jest.restoreAllMocks();
  });

  const as = (overrides) => fake.on('GET', '/api/v1/staff/me', ok(staffMe(overrides)));
  const asClerk = () => as({ id: 1, name: '王窗口', roles: ['clerk'] });
  const asReviewer = () => as();
  const asDispatcher = () => as({ id: 4, name: '陈送达', roles: ['dispatcher'] });
  const asSupervisor = () => as({ id: 5, name: '赵督查', roles: ['supervisor'] });
  const tap = (dataset) => ({ currentTarget: { dataset } });
  const shown = (page, selectors) => selectors.filter((s) => page.querySelector(s));
  const BUTTONS = ['.accept-btn', '.refuse-btn', '.correct-btn', '.claim-btn', '.pass-btn', '.deny-btn', '.release-btn', '.suspend-btn', '.resume-btn', '.complete-btn', '.comment-btn', '.attach-btn', '.reassign-btn', '.reveal-btn'];

  describe('the buttons follow `actions`', () => {
    test("a clerk's submitted case: what the server lists, each identifier row with its reveal; large text on the root", async () => {
      asClerk();
      fake.storage['zb.pref.large_text'] = 1;
      fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted)));
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(page.querySelector('.page.large-text')).toBeTruthy();
      expect(shown(page, BUTTONS)).toEqual(['.accept-btn', '.refuse-btn', '.correct-btn', '.comment-btn', '.attach-btn', '.reveal-btn']);
      expect(page.querySelectorAll('.reveal-btn')).toHaveLength(1); // recipient_phone, in personal_fields
      expect(page.querySelector('.no-action')).toBeFalsy();
    });

    test('an empty list shows nothing to do, whatever the roles say; a listed action shows though the page would not guess it', async () => {
      asClerk();
      fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.nothing)), ok(resultPending(['complete'])));
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(shown(page, BUTTONS)).toEqual([]);
      expect(text(page, '.no-action')).toBe('当前无需您处理的操作。');

      await page.instance.load();
      expect(shown(page, BUTTONS)).toEqual(['.complete-btn']);
    });

    test('`actions: []`: not one button anywhere on the page, only the line that says there is nothing to do', async () => {
      // roles that would guess a lot: the server's empty list wins
      as({ id: 2, roles: ['clerk', 'reviewer', 'approver', 'dispatcher', 'supervisor'] });
      fake.on('GET', CASE, ok(submitted([])));
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(page.instance.data.c.actions).toEqual([]);
      expect(page.querySelectorAll('button')).toHaveLength(0);
      expect(page.querySelectorAll('.reveal-btn')).toHaveLength(0);
      expect(page.querySelector('.actions')).toBeTruthy();
      expect(text(page, '.actions')).toBe('当前无需您处理的操作。');
    });

    test('every action listed: every button, each opening its panel', async () => {
      as({ id: 2, roles: ['clerk', 'reviewer', 'dispatcher', 'supervisor'] });
      // my claimed step and an open one of the same case, so that claim, decide and release all apply
      const tasks = [task(), task({ id: 12, step_index: 1, step_name: '科长审批', role: 'approver', status: 'open', assignee_staff_id: null })];
      fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.every, { tasks })));
      fake.on('GET', '/api/v1/supervisor/tasks/11/assignees', ok(STAFF_ASSIGNEES));
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(shown(page, BUTTONS)).toEqual(BUTTONS);
      expect(text(page, '.claim-btn')).toBe('领取任务（科长审批）');
      expect(page.querySelector('.no-action')).toBeFalsy();
      const panels = { refuse: '.refuse-panel', suspend: '.suspend-panel', resume: '.resume-panel', complete: '.complete-panel', comment: '.comment-panel' };
      Object.keys(panels).forEach((panel) => {
        page.instance.onOpenPanel(tap({ panel }));
        expect(page.querySelector(panels[panel])).toBeTruthy();
        page.instance.onClosePanel();
      });
      page.instance.onOpenPanel(tap({ panel: 'reassign' }));
      await flush();
      expect(all(page, '.reassign-task')).toEqual(['◉户籍民警审核（办理中）', '○科长审批（待领取）']);
      expect(all(page, '.assignee')).toEqual(['●李审查（已领取）', '○刘审查']);
    });

    test('the lists of a reviewer holding the task, of a suspended case, and of a supervisor', async () => {
      asReviewer();
      fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)), ok(suspended(STAFF_ACTIONS.reviewerSuspended)), ok(inReview(STAFF_ACTIONS.supervisor)));
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(shown(page, BUTTONS)).toEqual(['.correct-btn', '.pass-btn', '.deny-btn', '.release-btn', '.suspend-btn', '.comment-btn', '.attach-btn', '.reveal-btn']);
      await page.instance.load();
      expect(shown(page, BUTTONS)).toEqual(['.resume-btn', '.comment-btn', '.attach-btn', '.reveal-btn']);
      expect(text(page, '.no-action')).toBe('');
      await page.instance.load();
      expect(shown(page, BUTTONS)).toEqual(['.reassign-btn']);
      expect(text(page, '.no-action')).toBe('当前无需您处理的操作。');
    });

    test('without `actions` the page reads roles and status: a dispatcher of a result_pending case may complete it', async () => {
      asDispatcher();
      const detail = resultPending();
      delete detail.actions;
      fake.on('GET', CASE, ok(detail));
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(shown(page, BUTTONS)).toEqual(['.complete-btn', '.comment-btn', '.attach-btn']);
    });
  });

  test('不予受理: reasons first, a cancelled confirmation sends nothing, a field error beside the reasons, then refused', async () => {
    asClerk();
    fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted)), ok(submitted([], { status: 'refused', status_label: '不予受理', decision_reasons: '不属于本部门职权范围。' })));
    fake.on(
      'POST',
      `${CASE}/refuse`,
      envelope(400, 'request.validation_failed', INVALID, { fields: [{ field: 'reasons', code: 'identifier_not_allowed', message: '此栏不能填写身份证号码或手机号码。' }] }),
      state('refused', '不予受理', { acceptance_number: null }),
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenPanel(tap({ panel: 'refuse' }));
    expect(page.querySelector('.confirm-refuse')).toBeTruthy();

    await page.instance.onRefuse(); // nothing written
    expect(text(page, '.reasons-error')).toBe('请写明不予受理的理由（至少 2 个字）。');
    expect(fake.wx.showModal).not.toHaveBeenCalled();

    page.instance.onReasonsInput({ detail: { value: '不属于本部门职权范围，联系电话13812345678。' } });
    fake.modal = false;
    await page.instance.onRefuse();
    expect(fake.wx.showModal.mock.calls[0][0].title).toBe('确认不予受理');
    expect(fake.callsTo('POST', `${CASE}/refuse`)).toHaveLength(0);

    fake.modal = true;
    await page.instance.onRefuse();
    expect(text(page, '.reasons-error')).toBe('此栏不能填写身份证号码或手机号码。');
    expect(text(page, '.refuse-panel .error')).toBe(INVALID);
    expect(page.instance.data.panel).toBe('refuse');

    page.instance.onReasonsInput({ detail: { value: ' 不属于本部门职权范围。 ' } });
    await page.instance.onRefuse();
    const posts = fake.callsTo('POST', `${CASE}/refuse`);
    expect(posts).toHaveLength(2);
    expect(posts[1].data).toEqual({ reasons: '不属于本部门职权范围。' });
    expect(posts[1].header['Idempotency-Key']).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(posts[1].header['Idempotency-Key']).not.toBe(posts[0].header['Idempotency-Key']);
    expect(text(page, '.status')).toBe('不予受理');
    expect(page.instance.data.panel).toBe('');
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已不予受理' }));
  });

  test('不予受理 after another clerk accepted: 409 reloads the case with a notice', async () => {
    asClerk();
    fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted)), ok(inReview(STAFF_ACTIONS.nothing, { status: 'accepted', status_label: '已受理', tasks: [] })));
    fake.on('POST', `${CASE}/refuse`, envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。', { current_status: 'accepted' }));
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenPanel(tap({ panel: 'refuse' }));
    page.instance.onReasonsInput({ detail: { value: '材料不符合法定形式。' } });
    await page.instance.onRefuse();
    expect(fake.callsTo('GET', CASE)).toHaveLength(2);
    expect(text(page, '.conflict-notice')).toBe('办件状态已变化，当前不能进行此操作，请刷新后查看。\n已为您刷新为最新状态。');
    expect(page.instance.data.panel).toBe('');
    expect(page.querySelector('.refuse-btn')).toBeFalsy();
  });

  test('特别程序: a procedure and a reason are needed; a 403 shows the server\'s message; then suspended and resumed', async () => {
    asReviewer();
    fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)), ok(suspended(STAFF_ACTIONS.reviewerSuspended)), ok(inReview(STAFF_ACTIONS.reviewerHolding)));
    fake.on('POST', `${CASE}/suspend`, envelope(403, 'case.task_not_held', '请先领取该办件的审查任务。'), state('suspended', '特别程序中'));
    fake.on('POST', `${CASE}/resume`, state('in_review', '审查中'));
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenPanel(tap({ panel: 'suspend' }));
    expect(all(page, '.procedure')).toEqual(['听证', '现场核查', '专家评审', '其他']);

    await page.instance.onSuspend();
    expect(text(page, '.procedure-error')).toBe('请选择特别程序。');
    expect(text(page, '.suspend-reason-error')).toBe('请写明进入特别程序的原因（至少 2 个字）。');
    expect(fake.callsTo('POST', `${CASE}/suspend`)).toHaveLength(0);

    page.instance.onProcedure(tap({ value: 'inspection' }));
    page.instance.onSuspendReasonInput({ detail: { value: '需现场核查住所。' } });
    await page.instance.onSuspend();
    expect(text(page, '.suspend-panel .error')).toBe('请先领取该办件的审查任务。');
    expect(page.instance.data.panel).toBe('suspend');

    await page.instance.onSuspend();
    const posts = fake.callsTo('POST', `${CASE}/suspend`);
    expect(posts[1].data).toEqual({ procedure: 'inspection', reason: '需现场核查住所。' });
    expect(posts[1].header['Idempotency-Key']).toBe(posts[0].header['Idempotency-Key']); // the same act tapped again
    expect(text(page, '.status')).toBe('特别程序中');
    expect(page.querySelector('.resume-btn')).toBeTruthy();

    page.instance.onOpenPanel(tap({ panel: 'resume' }));
    page.instance.onResumeCommentInput({ detail: { value: '核查已完成。' } });
    await page.instance.onResume();
    const [resume] = fake.callsTo('POST', `${CASE}/resume`);
    expect(resume.data).toEqual({ comment: '核查已完成。' });
    expect(resume.header['Idempotency-Key']).toBeTruthy();
    expect(text(page, '.status')).toBe('审查中');
  });

  test('送达办结: cancelled sends nothing; a lost answer is sent again with the same key; then completed', async () => {
    asDispatcher();
    fake.on('GET', CASE, ok(resultPending(STAFF_ACTIONS.dispatcherPending)), ok(resultPending([]), { status: 'completed' }));
    fake.on('POST', `${CASE}/complete`, LOST, LOST, LOST, LOST, state('completed', '已办结'));
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenPanel(tap({ panel: 'complete' }));
    fake.modal = false;
    await page.instance.onComplete();
    expect(fake.wx.showModal.mock.calls[0][0].title).toBe('确认送达办结');
    expect(fake.callsTo('POST', `${CASE}/complete`)).toHaveLength(0);

    fake.modal = true;
    page.instance.onCompleteCommentInput({ detail: { value: '已邮寄送达。' } });
    await page.instance.onComplete();
    expect(text(page, '.complete-panel .error')).toBe('网络连接不稳定，请检查网络后重试。');
    await page.instance.onComplete();
    const posts = fake.callsTo('POST', `${CASE}/complete`);
    expect(posts).toHaveLength(5);
    expect(new Set(posts.map((p) => p.header['Idempotency-Key'])).size).toBe(1);
    expect(posts[4].data).toEqual({ comment: '已邮寄送达。' });
    expect(page.instance.data.panel).toBe('');
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已办结' }));
  });

  test('内部意见: empty refused on the phone, the server\'s field error beside it, then on the timeline', async () => {
    asReviewer();
    const withComment = inReview(STAFF_ACTIONS.reviewerHolding, {
      timeline: [
        { action: 'submit', label: '提交申请', role: 'applicant', from: 'draft', to: 'submitted', comment: '', details: {}, at: '2026-12-07T11:20:58+00:00' },
        { action: 'comment', label: '内部意见', role: 'reviewer', from: 'in_review', to: 'in_review', comment: '请核对户籍信息。', details: { internal: true }, at: '2026-12-08T02:00:00+00:00' },
      ],
    });
    fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)), ok(withComment));
    fake.on(
      'POST',
      `${CASE}/comments`,
      envelope(400, 'request.validation_failed', INVALID, { fields: [{ field: 'text', code: 'identifier_not_allowed', message: '此栏不能填写身份证号码或手机号码。' }] }),
      { status: 204, data: '' },
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenPanel(tap({ panel: 'comment' }));
    await page.instance.onSendComment();
    expect(text(page, '.comment-error')).toBe('请填写内部意见。');

    page.instance.onCommentTextInput({ detail: { value: '申请人电话 13812345678' } });
    await page.instance.onSendComment();
    expect(text(page, '.comment-error')).toBe('此栏不能填写身份证号码或手机号码。');

    page.instance.onCommentTextInput({ detail: { value: '请核对户籍信息。' } });
    await page.instance.onSendComment();
    const posts = fake.callsTo('POST', `${CASE}/comments`);
    expect(posts[1].data).toEqual({ text: '请核对户籍信息。' });
    expect(page.instance.data.panel).toBe('');
    expect(all(page, '.event')[0]).toContain('内部意见');
    expect(all(page, '.event')[0]).toContain('请核对户籍信息。');
  });

  test('上传附件: a photo chosen, its policy from the staff route, wx.uploadFile with the policy, completed; the case reloads with it', async () => {
    asReviewer();
    const withFile = inReview(STAFF_ACTIONS.reviewerHolding);
    withFile.files = withFile.files.concat([Object.assign({}, STAFF_ATTACHMENT, { purpose: 'attachment', material_code: null })]);
    delete withFile.files[withFile.files.length - 1].item_code;
    fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)), ok(withFile));
    fake.chooseFiles([{ tempFilePath: 'http://tmp/site.jpg', size: 2048 }]);
    const sent = fake.onUpload({ statusCode: 204 });
    fake.on('POST', `${CASE}/attachments`, LOST, ok(STAFF_INTENT, 201));
    fake.on('POST', `/api/v1/staff/uploads/${STAFF_INTENT.upload_id}/complete`, ok(STAFF_ATTACHMENT));
    const page = await renderPage('pages/staff/case', { id: '1' });

    await page.instance.onAttach();
    expect(fake.wx.chooseMedia.mock.calls[0][0].count).toBe(9);
    const intents = fake.callsTo('POST', `${CASE}/attachments`);
    expect(intents).toHaveLength(2); // a lost answer asked again, with the same key
    expect(intents[1].data).toEqual({ filename: 'site.jpg', content_type: 'image/jpeg', size: 2048 });
    expect(intents[1].header['Idempotency-Key']).toBe(intents[0].header['Idempotency-Key']);
    expect(intents[1].header.Authorization).toBe('Bearer staff-access-1');
    expect(sent[0]).toEqual(expect.objectContaining({ url: STAFF_INTENT.url, name: 'file', formData: STAFF_INTENT.fields, filePath: 'http://tmp/site.jpg' }));
    expect(fake.callsTo('POST', `/api/v1/staff/uploads/${STAFF_INTENT.upload_id}/complete`)[0].header['Idempotency-Key']).toBeTruthy();
    expect(fake.callsTo('POST', '/api/v1/uploads')).toHaveLength(0); // never the citizen's route
    expect(fake.callsTo('GET', CASE)).toHaveLength(2);
    expect(all(page, '.material-name')).toContain('其他附件');
    expect(page.querySelector('.attach-card')).toBeFalsy();
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '附件已上传' }));
  });

  test('an attachment whose policy never came stays with its error and a retry that keeps the key; a 409 reloads', async () => {
    asReviewer();
    fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)), ok(inReview(STAFF_ACTIONS.nothing, { status: 'decided_granted', status_label: '准予许可' })));
    fake.chooseFiles([{ tempFilePath: 'http://tmp/site.jpg', size: 2048 }]);
    fake.on('POST', `${CASE}/attachments`, LOST, LOST, LOST, LOST, envelope(409, 'case.closed', '办件已办结，不能再添加附件。'));
    const page = await renderPage('pages/staff/case', { id: '1' });

    await page.instance.onAttach();
    expect(text(page, '.attach-error')).toBe('网络连接不稳定，请检查网络后重试。');
    expect(page.querySelector('.retry-attach')).toBeTruthy();

    await page.instance.onRetryAttachment(tap({ key: page.instance.data.attachPending[0].key }));
    const keys = fake.callsTo('POST', `${CASE}/attachments`).map((c) => c.header['Idempotency-Key']);
    expect(keys).toHaveLength(5);
    expect(new Set(keys).size).toBe(1);
    expect(fake.wx.uploadFile).not.toHaveBeenCalled();
    expect(text(page, '.conflict-notice')).toBe('办件已办结，不能再添加附件。\n已为您刷新为最新状态。');
    expect(page.querySelector('.attach-card')).toBeFalsy();
    expect(page.querySelector('.attach-btn')).toBeFalsy();
  });

  test("an attachment the store refused (its policy expired) goes again on a new policy; it is the staff client's own upload, on the staff routes", async () => {
    asReviewer();
    const spy = jest.spyOn(require('../utils/api.js').staffClient, 'upload');
    fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)));
    fake.chooseFiles([{ tempFilePath: 'http://tmp/site.png', size: 4096 }]);
    const sent = fake.onUpload({ statusCode: 403, data: '<Error><Message>Invalid according to Policy: Policy expired.</Message></Error>' }, { statusCode: 204 });
    fake.on('POST', `${CASE}/attachments`, ok(STAFF_INTENT, 201));
    fake.on('POST', `/api/v1/staff/uploads/${STAFF_INTENT.upload_id}/complete`, ok(STAFF_ATTACHMENT));
    const page = await renderPage('pages/staff/case', { id: '1' });

    await page.instance.onAttach();
    expect(text(page, '.attach-error')).toBe('上传链接已过期，请重新上传。');
    expect(fake.callsTo('POST', `/api/v1/staff/uploads/${STAFF_INTENT.upload_id}/complete`)).toHaveLength(0);
    expect(spy).toHaveBeenCalledWith(
      expect.objectContaining({ caseId: 1, filePath: 'http://tmp/site.png', size: 4096 }),
      expect.objectContaining({ intentPath: `${CASE}/attachments`, intentBody: { filename: 'site.png', content_type: 'image/png', size: 4096 } }),
    );
    expect(spy.mock.calls[0][1].completePath('abc')).toBe('/api/v1/staff/uploads/abc/complete');

    await page.instance.onRetryAttachment(tap({ key: page.instance.data.attachPending[0].key }));
    const keys = fake.callsTo('POST', `${CASE}/attachments`).map((c) => c.header['Idempotency-Key']);
    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(keys[0]); // a refused policy is not asked for again: a new one
    expect(sent).toHaveLength(2);
    expect(fake.callsTo('POST', `/api/v1/staff/uploads/${STAFF_INTENT.upload_id}/complete`)).toHaveLength(1);
    expect(page.querySelector('.attach-card')).toBeFalsy();
    expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '附件已上传' }));
  });

  test('查看完整: a reason under 4 characters is refused on the phone; the value shows in its row only, is never stored, and is masked again on reload', async () => {
    asClerk();
    fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted)));
    fake.on(
      'POST',
      `${CASE}/personal-data`,
      envelope(400, 'request.validation_failed', INVALID, { fields: [{ field: 'reason', code: 'identifier_not_allowed', message: '此栏不能填写身份证号码或手机号码。' }] }),
      ok({ field: 'recipient_phone', kind: 'phone', value: '13812345678' }),
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenReveal(tap({ key: 'recipient_phone' }));
    expect(text(page, '.reveal-panel .section')).toBe('查看完整信息：收件人手机号码');

    page.instance.onRevealReasonInput({ detail: { value: ' 核实 ' } });
    await page.instance.onReveal();
    expect(text(page, '.reveal-error')).toBe('请写明查看原因（至少 4 个字）。');
    expect(fake.callsTo('POST', `${CASE}/personal-data`)).toHaveLength(0);

    page.instance.onRevealReasonInput({ detail: { value: '核实 13800000000' } });
    await page.instance.onReveal();
    expect(text(page, '.reveal-error')).toBe('此栏不能填写身份证号码或手机号码。');

    page.instance.onRevealReasonInput({ detail: { value: '电话核实邮寄地址' } });
    await page.instance.onReveal();
    const posts = fake.callsTo('POST', `${CASE}/personal-data`);
    expect(posts[1].data).toEqual({ field: 'recipient_phone', reason: '电话核实邮寄地址' });
    expect(posts[1].header['Idempotency-Key']).toBeTruthy();
    expect(page.instance.data.panel).toBe('');
    expect(all(page, '.form-row')).toEqual(['换领原因有效期满', '数字相片回执编号E2E2026A001', '领取方式邮寄送达', '收件人手机号码13812345678']);
    expect(page.querySelector('.revealed-note')).toBeTruthy();
    expect(page.querySelector('.reveal-btn')).toBeFalsy();
    // nowhere but the row: not in storage, not on the case the page keeps
    expect(JSON.stringify(fake.storage)).not.toContain('13812345678');
    fake.wx.setStorageSync.mock.calls.forEach((call) => expect(JSON.stringify(call)).not.toContain('13812345678'));
    expect(JSON.stringify(page.instance.data.c)).not.toContain('13812345678');

    await page.instance.load(); // a reload: masked again
    expect(all(page, '.form-row')[3]).toBe('收件人手机号码138****5678');
    expect(page.querySelector('.reveal-btn')).toBeTruthy();
    expect(fake.callsTo('POST', `${CASE}/personal-data`)).toHaveLength(2);
  });

  test('查看完整 refused by the server shows its message; a revealed value is masked again when the page is hidden', async () => {
    asReviewer();
    fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.reviewerHolding)));
    fake.on(
      'POST',
      `${CASE}/personal-data`,
      envelope(403, 'auth.forbidden', '您没有权限查看该信息。'),
      ok({ field: 'recipient_phone', kind: 'phone', value: '13812345678' }),
    );
    const page = await renderPage('pages/staff/case', { id: '1' });
    page.instance.onOpenReveal(tap({ key: 'recipient_phone' }));
    page.instance.onRevealReasonInput({ detail: { value: '电话核实邮寄地址' } });
    await page.instance.onReveal();
    expect(text(page, '.reveal-panel .error')).toBe('您没有权限查看该信息。');
    await page.instance.onReveal();
    expect(all(page, '.form-row')[3]).toBe('收件人手机号码13812345678');
    page.instance.onHide();
    expect(all(page, '.form-row')[3]).toBe('收件人手机号码138****5678');
  });

  test('查看完整 on the rows personal_fields names (`persons.*.id_number`), the concrete path sent as `field`; no guide read', async () => {
    asClerk();
    fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted, STAFF_FAMILY_FORM)));
    fake.on('POST', `${CASE}/personal-data`, ok({ field: 'persons.1.id_number', kind: 'id_number', value: '360102199001015678' }));
    const page = await renderPage('pages/staff/case', { id: '1' });
    expect(page.querySelectorAll('.reveal-btn')).toHaveLength(2);
    expect(page.instance.data.formRows.filter((r) => r.personal).map((r) => r.key)).toEqual(['persons.0.id_number', 'persons.1.id_number']);

    page.instance.onOpenReveal(tap({ key: 'persons.1.id_number' }));
    expect(text(page, '.reveal-panel .section')).toBe('查看完整信息：家庭成员 第2项 身份证号码');
    page.instance.onOpenReveal(tap({ key: 'persons.1.name' })); // not an identifier: nothing opens
    expect(text(page, '.reveal-panel .section')).toBe('查看完整信息：家庭成员 第2项 身份证号码');
    page.instance.onRevealReasonInput({ detail: { value: '核对户籍登记信息' } });
    await page.instance.onReveal();
    const [post] = fake.callsTo('POST', `${CASE}/personal-data`);
    expect(post.data).toEqual({ field: 'persons.1.id_number', reason: '核对户籍登记信息' });
    const rows = all(page, '.form-row');
    expect(rows[5]).toBe('家庭成员 第2项 身份证号码360102199001015678');
    expect(rows[2]).toBe('家庭成员 第1项 身份证号码3601**********1234');
    expect(fake.calls.filter((c) => c.path.indexOf('/api/v1/items') === 0)).toEqual([]);
  });

  test('no personal_fields (a form without identifiers): no 查看完整 though `reveal` is listed', async () => {
    asClerk();
    fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted, { personal_fields: [] })));
    const page = await renderPage('pages/staff/case', { id: '1' });
    expect(page.querySelector('.reveal-btn')).toBeFalsy();
    page.instance.onOpenReveal(tap({ key: 'recipient_phone' }));
    expect(page.instance.data.panel).toBe('');
  });

  describe('改派: a supervisor picks whom from the list of those who may take the task', () => {
    const ASSIGNEES = '/api/v1/supervisor/tasks/11/assignees';
    const REASSIGN = '/api/v1/supervisor/tasks/11/reassign';
    const refusal = (code, message) =>
      envelope(400, code, message, { staff_id: 4, task_id: 11, fields: [{ field: 'staff_id', code: code.split('.').pop(), message }] });

    test('the list with the holder marked; nothing picked is refused on the phone; a refusal beside the list; then reassigned; a closed task reloads', async () => {
      asSupervisor();
      fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.supervisor)), ok(inReview(STAFF_ACTIONS.supervisor, { tasks: [task({ assignee_staff_id: 4 })] })), ok(inReview(STAFF_ACTIONS.nothing, { tasks: [task({ status: 'passed' })] })));
      fake.on('GET', ASSIGNEES, ok(STAFF_ASSIGNEES), ok({ task_id: 11, assignees: [{ staff_id: 2, name: '李审查', holds_task: false }, { staff_id: 4, name: '刘审查', holds_task: true }] }));
      fake.on(
        'POST',
        REASSIGN,
        refusal('supervision.assignee_inactive', '该工作人员账号已停用。'),
        ok({ task_id: 11, case_id: 1, status: 'claimed', assignee_staff_id: 4, previous_assignee_staff_id: 2, case_status: 'in_review' }),
        envelope(409, 'case.task_closed', '该任务已办结，不能改派。'),
      );
      const page = await renderPage('pages/staff/case', { id: '1' });
      expect(fake.callsTo('GET', ASSIGNEES)).toHaveLength(0); // asked when the panel opens, not before
      page.instance.onOpenPanel(tap({ panel: 'reassign' }));
      await flush();
      expect(all(page, '.reassign-task')).toEqual(['◉户籍民警审核（办理中）']);
      expect(fake.callsTo('GET', ASSIGNEES)[0].header.Authorization).toBe('Bearer staff-access-1');
      expect(all(page, '.assignee')).toEqual(['●李审查（已领取）', '○刘审查']);
      expect(page.querySelector('.no-assignee')).toBeFalsy();
      expect(page.querySelector('.reassign-panel input')).toBeFalsy(); // no staff number typed any more

      page.instance.onPickAssignee(tap({ id: 2 })); // the holder has it already
      await page.instance.onReassign();
      expect(text(page, '.staff-id-error')).toBe('请选择接手的工作人员。');
      expect(fake.callsTo('POST', REASSIGN)).toHaveLength(0);

      page.instance.onPickAssignee(tap({ id: 4 }));
      expect(all(page, '.assignee')).toEqual(['●李审查（已领取）', '◉刘审查']);
      expect(text(page, '.staff-id-error')).toBe('');
      await page.instance.onReassign();
      // details.fields names staff_id: beside the list, said once (not again above it)
      expect(text(page, '.staff-id-error')).toBe('该工作人员账号已停用。');
      expect(page.querySelector('.reassign-panel .error')).toBeFalsy();
      expect(page.querySelector('.assignees.invalid')).toBeTruthy();
      expect(page.instance.data.panel).toBe('reassign');

      await page.instance.onReassign();
      const posts = fake.callsTo('POST', REASSIGN);
      expect(posts.map((p) => p.data)).toEqual([{ staff_id: 4 }, { staff_id: 4 }]);
      expect(posts[1].header['Idempotency-Key']).toBe(posts[0].header['Idempotency-Key']); // the same act tapped again
      expect(fake.wx.showToast).toHaveBeenCalledWith(expect.objectContaining({ title: '已改派' }));
      expect(text(page, '.task-status')).toBe('办理中');
      expect(page.instance.data.panel).toBe('');

      page.instance.onOpenPanel(tap({ panel: 'reassign' }));
      await flush();
      expect(all(page, '.assignee')).toEqual(['○李审查', '●刘审查（已领取）']);
      page.instance.onPickAssignee(tap({ id: 2 }));
      await page.instance.onReassign();
      expect(fake.callsTo('POST', REASSIGN)[2].data).toEqual({ staff_id: 2 });
      expect(text(page, '.conflict-notice')).toBe('该任务已办结，不能改派。\n已为您刷新为最新状态。');
      expect(page.querySelector('.reassign-btn')).toBeFalsy();
    });

    test('an empty list says so and sends nothing; so does a list of the holder alone', async () => {
      asSupervisor();
      fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.supervisor)));
      fake.on('GET', ASSIGNEES, ok({ task_id: 11, assignees: [] }), ok({ task_id: 11, assignees: [{ staff_id: 2, name: '李审查', holds_task: true }] }));
      const page = await renderPage('pages/staff/case', { id: '1' });
      page.instance.onOpenPanel(tap({ panel: 'reassign' }));
      await flush();
      expect(page.querySelectorAll('.assignee')).toHaveLength(0);
      expect(text(page, '.no-assignee')).toBe('本部门暂无可改派的工作人员');
      expect(page.instance.data.noAssignee).toBe(true); // the confirm button's disabled="{{busy || noAssignee}}"
      await page.instance.onReassign();
      expect(text(page, '.staff-id-error')).toBe('本部门暂无可改派的工作人员。');

      page.instance.onClosePanel();
      page.instance.onOpenPanel(tap({ panel: 'reassign' }));
      await flush();
      expect(all(page, '.assignee')).toEqual(['●李审查（已领取）']);
      expect(text(page, '.no-assignee')).toBe('本部门暂无可改派的工作人员');
      expect(fake.callsTo('POST', '/api/v1/supervisor/tasks/11/reassign')).toHaveLength(0);
    });

    test('two tasks: each has its own list (a late answer for the other dropped); a list that cannot be read shows why; a refusal without fields stays above', async () => {
      asSupervisor();
      const tasks = [task(), task({ id: 12, step_index: 1, step_name: '科长审批', role: 'approver', status: 'open', assignee_staff_id: null })];
      fake.on('GET', CASE, ok(inReview(STAFF_ACTIONS.supervisor, { tasks })));
      fake.on('GET', ASSIGNEES, ok(STAFF_ASSIGNEES));
      let secondAsked;
      fake.on('GET', '/api/v1/supervisor/tasks/12/assignees', envelope(403, 'supervision.other_department', '该任务不属于您所在的部门。'), () => {
        secondAsked = true;
        return ok({ task_id: 12, assignees: [{ staff_id: 7, name: '周审批', holds_task: false }] });
      });
      fake.on('POST', '/api/v1/supervisor/tasks/12/reassign', envelope(400, 'supervision.invalid_assignee', '不能把任务交给该工作人员。', { staff_id: 7, task_id: 12 }));
      const page = await renderPage('pages/staff/case', { id: '1' });
      page.instance.onOpenPanel(tap({ panel: 'reassign' }));
      page.instance.onReassignTask(tap({ id: 12 })); // before task 11's list came back
      await flush();
      expect(all(page, '.reassign-task')).toEqual(['○户籍民警审核（办理中）', '◉科长审批（待领取）']);
      expect(page.querySelectorAll('.assignee')).toHaveLength(0); // task 11's answer was not shown for 12
      expect(text(page, '.reassign-panel .error')).toBe('该任务不属于您所在的部门。');

      page.instance.onReassignTask(tap({ id: 11 }));
      await flush();
      expect(all(page, '.assignee')).toEqual(['●李审查（已领取）', '○刘审查']);
      page.instance.onReassignTask(tap({ id: 12 }));
      await flush();
      expect(secondAsked).toBe(true);
      expect(all(page, '.assignee')).toEqual(['○周审批']);
      page.instance.onPickAssignee(tap({ id: 7 }));
      await page.instance.onReassign();
      expect(fake.callsTo('POST', '/api/v1/supervisor/tasks/12/reassign')[0].data).toEqual({ staff_id: 7 });
      expect(text(page, '.staff-id-error')).toBe('');
      expect(text(page, '.reassign-panel .error')).toBe('不能把任务交给该工作人员。');
    });
  });

  describe('the staff subscribe messages, asked in the tap', () => {
    const answered = () =>
      fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
        Promise.resolve().then(() => opts.success({ errMsg: 'requestSubscribeMessage:ok', ZbStaffTask: 'accept', ZbStaffSupervision: 'reject' })),
      );

    test('受理 asks for the staff templates first (the staff routes, no moment), and reports the answers', async () => {
      asClerk();
      answered();
      fake.on('GET', '/api/v1/staff/subscriptions/to-ask', ok(STAFF_TO_ASK));
      fake.on('POST', '/api/v1/staff/subscriptions', ok({ grants: [] }));
      fake.on('GET', CASE, ok(submitted(STAFF_ACTIONS.clerkSubmitted)));
      const page = await renderPage('pages/staff/case', { id: '1' });
      await flush();
      const [ask] = fake.callsTo('GET', '/api/v1/staff/subscriptions/to-ask');
      expect(ask.query).toEqual({});
      expect(ask.header.Authorization).toBe('Bearer staff-access-1');

      page.instance.onOpenAccept();
      expect(fake.wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: ['ZbStaffTask', 'ZbStaffSupervision'] }));
      await flush();
      const [report] = fake.callsTo('POST', '/api/v1/staff/subscriptions');
      expect(report.data).toEqual({ results: { ZbStaffTask: 'accept', ZbStaffSupervision: 'reject' } });
      expect(fake.callsTo('POST', '/api/v1/me/subscriptions')).toHaveLength(0);
      expect(page.instance.data.panel).toBe('accept');
    });

    test('领取任务 asks first, in the tap, then claims', async () => {
      asReviewer();
      answered();
      fake.on('GET', '/api/v1/staff/subscriptions/to-ask', ok(STAFF_TO_ASK));
      fake.on('POST', '/api/v1/staff/subscriptions', ok({ grants: [] }));
      fake.on('GET', CASE, ok(inReview(['claim', 'comment', 'attach', 'reveal'], { status: 'accepted', status_label: '已受理', tasks: [task({ status: 'open', assignee_staff_id: null })] })), ok(inReview(STAFF_ACTIONS.reviewerHolding)));
      fake.on('POST', '/api/v1/staff/tasks/11/claim', ok({ task_id: 11, status: 'claimed', case_id: 1 }));
      const page = await renderPage('pages/staff/case', { id: '1' });
      await flush();
      await page.instance.onClaim();
      const order = fake.wx.requestSubscribeMessage.mock.invocationCallOrder[0];
      const claimAt = fake.wx.request.mock.calls.findIndex((c) => c[0].url.endsWith('/tasks/11/claim'));
      expect(order).toBeLessThan(fake.wx.request.mock.invocationCallOrder[claimAt]);
      expect(fake.callsTo('POST', '/api/v1/staff/tasks/11/claim')).toHaveLength(1);
      expect(page.querySelector('.pass-btn')).toBeTruthy();
    });
  });
});
