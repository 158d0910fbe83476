const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');
const { GUIDE, INTENT, READY, caseDetail, TO_ASK } = require('./fixtures.js');

const CORRECTION = caseDetail({
  status: 'correction_requested',
  status_label: '待补正',
  revision: 3,
  submitted_at: '2026-12-07T03:00:00+00:00',
  correction: {
    round: 1,
    issued_at: '2026-12-07T05:00:00+00:00',
    resolved: false,
    items: [
      { kind: 'material', code: 'photo-receipt', problem: '照片模糊，请在光线充足处重新拍摄。' },
      { kind: 'field', code: 'photo_receipt_no', problem: '回执编号与照片不一致。' },
    ],
  },
  timeline: [
    { action: 'submit', role: 'applicant', from: 'draft', to: 'submitted', comment: '', details: {}, at: '2026-12-07T03:00:00+00:00' },
    { action: 'request_correction', role: 'clerk', from: 'submitted', to: 'correction_requested', comment: '请补正。', details: {}, at: '2026-12-07T05:00:00+00:00' },
  ],
});

describe('pages/case/detail', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage());
    fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(GUIDE));
    fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
    fake.on('POST', '/api/v1/me/subscriptions', ok({ granted: [] }));
    fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
      Promise.resolve().then(() => opts.success({ errMsg: 'requestSubscribeMessage:ok', ZbProgress: 'accept', ZbCorrection: 'accept' })),
    );
  });

  afterEach(leavePage);

  const tap = (dataset, detail) => ({ currentTarget: { dataset }, detail: detail || {} });

  test('status, the promised and predicted dates, the decision and the timeline (newest first)', async () => {
    fake.on(
      'GET',
      '/api/v1/cases/42',
      ok(
        caseDetail({
          status: 'fee_due',
          status_label: '待缴费',
          acceptance_number: 'NC-GAJ-20261207-0001',
          accepted_on: '2026-12-07',
          promised_due_on: '2026-12-28',
          predicted_on: '2026-12-21',
          decision: 'granted',
          decision_reasons: '材料齐全，符合法定条件。',
          rights_notice: '如不服本决定，可在六十日内申请行政复议。',
          timeline: [
            { action: 'submit', role: 'applicant', from: 'draft', to: 'submitted', comment: '', details: {}, at: '2026-12-07T03:00:00+00:00' },
            { action: 'grant', role: 'approver', from: 'in_review', to: 'decided_granted', comment: '同意。', details: {}, at: '2026-12-08T03:00:00+00:00' },
            { action: 'claim', role: 'reviewer', from: 'in_review', to: 'in_review', comment: '', details: {}, at: '2026-12-08T02:00:00+00:00' },
          ],
        }),
      ),
    );
    const page = await renderPage('pages/case/detail', { id: '42' });
    expect(text(page, '.status')).toBe('待缴费');
    expect(text(page, '.acceptance')).toBe('NC-GAJ-20261207-0001');
    const dates = page.instance.data.dates;
    expect(dates).toEqual(
      expect.arrayContaining([
        { label: '承诺办结日期', value: '2026年12月28日' },
        { label: '预计办结日期', value: '2026年12月21日' },
      ]),
    );
    expect(text(page, '.decision .section-title')).toBe('办理结果：准予许可');
    expect(text(page, '.rights')).toBe('如不服本决定，可在六十日内申请行政复议。');
    const events = page.querySelectorAll('.event-title').map((n) => n.dom.textContent);
    expect(events).toEqual(['工作人员开始办理', '准予许可', '提交申请']);
    expect(page.querySelector('.resubmit-btn')).toBeFalsy();
    page.instance.onPay();
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/pay/pay?id=42' }));
  });

  test('a correction: only the listed field and material can be changed', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(CORRECTION));
    const page = await renderPage('pages/case/detail', { id: '42' });
    expect(page.querySelectorAll('.problem')).toHaveLength(2);
    expect(text(page, '.problem-what')).toBe('居民身份证数字相片回执');
    // editable: exactly the listed field and the listed material
    expect(page.instance.data.fields.map((f) => f.name)).toEqual(['photo_receipt_no']);
    expect(page.querySelectorAll('.correction-fields .field')).toHaveLength(1);
    expect(page.querySelectorAll('.material')).toHaveLength(1);
    expect(page.querySelector('.material-photo-receipt .choose')).toBeTruthy(); // a new photo replaces its one file
    expect(page.querySelector('.material-id-card')).toBeFalsy();
    // the rest is shown read-only
    expect(page.querySelectorAll('.form-row')).toHaveLength(3);
    expect(text(page, '.form-row-reason')).toMatch(/有效期满/);
  });

  test('replace the listed photo, fix the listed field, resubmit: the whole form goes back', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(CORRECTION), ok(caseDetail({ status: 'submitted', status_label: '待预审' })));
    fake.on('DELETE', '/api/v1/uploads/aaaa0002', { status: 204, data: '' });
    fake.on('POST', '/api/v1/uploads', { status: 201, data: INTENT });
    fake.on('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`, ok(READY));
    fake.on('PUT', '/api/v1/cases/42/form', ok({ id: 42, status: 'correction_requested' }));
    fake.on('POST', '/api/v1/cases/42/submit', ok({ id: 42, status: 'submitted' }));
    fake.chooseFiles([{ tempFilePath: 'wxfile://tmp/IMG_0009.jpg', size: 1234 }]);
    fake.onUpload({ statusCode: 204 });
    const page = await renderPage('pages/case/detail', { id: '42' });
    await page.instance.preparing;

    await page.instance.onDeleteFile(tap({ code: 'photo-receipt', id: 'aaaa0002' }));
    expect(page.querySelector('.material-photo-receipt .choose')).toBeTruthy();
    await page.instance.onChoose(tap({ code: 'photo-receipt' }));
    expect(fake.callsTo('POST', '/api/v1/uploads')[0].data).toMatchObject({ material_code: 'photo-receipt', case_id: 42 });
    expect(page.querySelectorAll('.material-photo-receipt .file')).toHaveLength(1);

    page.instance.onInput(tap({ name: 'photo_receipt_no' }, { value: 'NEW12345' }));
    const resubmitting = page.instance.onResubmit();
    expect(fake.wx.requestSubscribeMessage).toHaveBeenCalledTimes(1); // inside the tap
    await resubmitting;
    expect(fake.callsTo('PUT', '/api/v1/cases/42/form')[0].data).toEqual({
      form: { reason: '有效期满', photo_receipt_no: 'NEW12345', delivery_method: '窗口领取' },
    });
    expect(fake.callsTo('POST', '/api/v1/cases/42/submit')).toHaveLength(1);
    expect(text(page, '.status')).toBe('待预审');
    expect(text(page, '.top-notice')).toMatch(/重新提交/);
  });

  test('a new photo of a one-file material takes the place of the old one: no deletion first', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(CORRECTION));
    fake.on('POST', '/api/v1/uploads', { status: 201, data: INTENT });
    fake.on('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`, ok(READY));
    fake.chooseFiles([{ tempFilePath: 'wxfile://tmp/IMG_0010.jpg', size: 1234 }]);
    fake.onUpload({ statusCode: 204 });
    const page = await renderPage('pages/case/detail', { id: '42' });
    await page.instance.preparing;

    expect(page.querySelector('.material-photo-receipt .choose')).toBeTruthy(); // full, yet offered
    await page.instance.onChoose(tap({ code: 'photo-receipt' }));
    expect(fake.callsTo('DELETE', '/api/v1/uploads/aaaa0002')).toHaveLength(0);
    expect(fake.callsTo('POST', '/api/v1/uploads')[0].data).toMatchObject({
      material_code: 'photo-receipt',
      case_id: 42,
      replaces: 'aaaa0002',
    });
    const files = page.querySelectorAll('.material-photo-receipt .file');
    expect(files).toHaveLength(1); // the new one, in the old one's place
  });

  test('a 409 on resubmission reloads the case and says so', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(CORRECTION), ok(caseDetail({ status: 'withdrawn', status_label: '已撤回' })));
    fake.on('PUT', '/api/v1/cases/42/form', envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。', { current_status: 'withdrawn' }));
    const page = await renderPage('pages/case/detail', { id: '42' });
    page.instance.onInput(tap({ name: 'photo_receipt_no' }, { value: 'NEW12345' }));
    await page.instance.onResubmit();
    expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(2);
    expect(text(page, '.status')).toBe('已撤回');
    expect(page.querySelector('.resubmit-btn')).toBeFalsy();
    expect(text(page, '.top-notice')).toBe('办件状态已变化，已为您刷新，请核对后再操作。');
    expect(fake.callsTo('POST', '/api/v1/cases/42/submit')).toHaveLength(0);
  });

  test('a material still to correct and a bad field value are shown beside them', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(CORRECTION));
    fake.on(
      'PUT',
      '/api/v1/cases/42/form',
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
        fields: [{ field: 'form.photo_receipt_no', code: 'pattern', message: '填写的内容格式不正确。' }],
      }),
      ok({ id: 42 }),
    );
    fake.on(
      'POST',
      '/api/v1/cases/42/submit',
      envelope(400, 'case.incomplete', '申请信息不完整，请按清单补充后再提交。', {
        fields: [{ field: 'materials.photo-receipt', code: 'not_corrected', message: '请按补正要求重新上传：照片模糊，请在光线充足处重新拍摄。' }],
      }),
    );
    const page = await renderPage('pages/case/detail', { id: '42' });
    page.instance.onInput(tap({ name: 'photo_receipt_no' }, { value: '!!' }));
    await page.instance.onResubmit();
    expect(text(page, '.field-photo_receipt_no .field-error')).toBe('填写的内容格式不正确。');
    page.instance.onInput(tap({ name: 'photo_receipt_no' }, { value: 'NEW12345' }));
    await page.instance.onResubmit();
    expect(text(page, '.material-photo-receipt .material-error')).toBe('请按补正要求重新上传：照片模糊，请在光线充足处重新拍摄。');
    expect(text(page, '.top-error')).toBe('申请信息不完整，请按清单补充后再提交。');
  });

  test('an upload refused because the case moved on reloads it', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(CORRECTION), ok(caseDetail({ status: 'withdrawn', status_label: '已撤回' })));
    fake.on('DELETE', '/api/v1/uploads/aaaa0002', { status: 204, data: '' });
    fake.on('POST', '/api/v1/uploads', envelope(409, 'case.not_editable', '办件当前不能修改。', {}));
    fake.chooseFiles([{ tempFilePath: 'wxfile://tmp/IMG_0010.jpg', size: 1234 }]);
    const page = await renderPage('pages/case/detail', { id: '42' });
    await page.instance.onDeleteFile(tap({ code: 'photo-receipt', id: 'aaaa0002' }));
    await page.instance.onChoose(tap({ code: 'photo-receipt' }));
    expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(2);
    expect(text(page, '.status')).toBe('已撤回');
  });

  test('a case not found shows the Chinese message', async () => {
    fake.on('GET', '/api/v1/cases/42', envelope(404, 'case.not_found', '办件不存在或您无权查看。'));
    const page = await renderPage('pages/case/detail', { id: '42' });
    expect(text(page, '.top-error')).toBe('办件不存在或您无权查看。');
  });
});
