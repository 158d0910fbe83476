const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');
const { GUIDE, INTENT, READY, caseDetail, TO_ASK } = require('./fixtures.js');

describe('pages/apply', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage());
    fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(GUIDE));
    fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
    fake.on('POST', '/api/v1/me/subscriptions', ok({ granted: [] }));
    // WeChat's consent sheet: the person closes it without choosing (nothing to report)
    fake.wx.requestSubscribeMessage.mockImplementation((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'requestSubscribeMessage:fail cancel' })));
  });

  afterEach(leavePage);

  const tap = (dataset, detail) => ({ currentTarget: { dataset }, detail: detail || {} });

  test('the form is drawn from the JSON Schema, with required marks that follow its if/then', async () => {
    const page = await renderPage('pages/apply/apply', { code: 'GA-SFZ-HL' });
    const fields = page.instance.data.fields;
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['reason', 'enum', true],
      ['photo_receipt_no', 'text', true],
      ['delivery_method', 'enum', true],
      ['mailing_address', 'text', false],
      ['recipient_phone', 'text', false],
    ]);
    expect(page.querySelectorAll('.field')).toHaveLength(5);
    expect(page.querySelector('.field-mailing_address .required-mark')).toBeFalsy();
    page.instance.onPick(tap({ name: 'delivery_method' }, { value: '1' }));
    expect(page.querySelector('.field-mailing_address .required-mark')).toBeTruthy();
    expect(text(page, '.field-delivery_method .picker-value')).toBe('邮寄送达');
    expect(fake.callsTo('POST', '/api/v1/cases')).toHaveLength(0); // no draft before it is needed
  });

  test('submit: consent asked inside the tap, the draft made, the form saved and submitted', async () => {
    fake.on('POST', '/api/v1/cases', ok({ id: 42, status: 'draft', status_label: '草稿', revision: 0 }, 201));
    fake.on('PUT', '/api/v1/cases/42/form', ok({ id: 42, status: 'draft' }));
    fake.on('POST', '/api/v1/cases/42/submit', ok({ id: 42, status: 'submitted', status_label: '待预审' }));
    fake.on('POST', '/api/v1/me/subscriptions', ok({ granted: [] }));
    fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
      Promise.resolve().then(() => opts.success({ errMsg: 'requestSubscribeMessage:ok', ZbProgress: 'accept', ZbCorrection: 'reject' })),
    );
    const page = await renderPage('pages/apply/apply', { code: 'GA-SFZ-HL' });
    await page.instance.preparing;
    page.instance.onPick(tap({ name: 'reason' }, { value: '0' }));
    page.instance.onInput(tap({ name: 'photo_receipt_no' }, { value: ' ABC12345 ' }));
    page.instance.onPick(tap({ name: 'delivery_method' }, { value: '0' }));

    const submitting = page.instance.onSubmit();
    // the consent sheet is opened synchronously in the tap, before any request
    expect(fake.wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
    expect(fake.wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['ZbProgress', 'ZbCorrection']);
    await submitting;

    expect(fake.callsTo('POST', '/api/v1/me/subscriptions')[0].data).toEqual({ results: { ZbProgress: 'accept', ZbCorrection: 'reject' } });
    expect(fake.callsTo('POST', '/api/v1/cases')[0].data).toEqual({ item_code: 'GA-SFZ-HL', form: {} });
    expect(fake.callsTo('PUT', '/api/v1/cases/42/form')[0].data).toEqual({
      form: { reason: '有效期满', photo_receipt_no: 'ABC12345', delivery_method: '窗口领取' },
    });
    expect(fake.callsTo('POST', '/api/v1/cases/42/submit')).toHaveLength(1);
    expect(fake.wx.redirectTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/case/detail?id=42' }));
  });

  test("the server's field and material errors are shown beside each, labelled from the guide", async () => {
    fake.on('GET', '/api/v1/cases/42', ok(caseDetail({ form: {}, files: [] })));
    fake.on('PUT', '/api/v1/cases/42/form', ok({ id: 42, status: 'draft' }));
    fake.on(
      'POST',
      '/api/v1/cases/42/submit',
      envelope(400, 'case.incomplete', '申请信息不完整，请按清单补充后再提交。', {
        fields: [
          { field: 'form.photo_receipt_no', code: 'required', message: '此项为必填项。' },
          { field: 'materials.id-card', code: 'missing', message: '请上传「原居民身份证（人像面、国徽面照片）」。' },
        ],
      }),
    );
    const page = await renderPage('pages/apply/apply', { id: '42' });
    await page.instance.onSubmit();
    expect(text(page, '.field-photo_receipt_no .field-error')).toBe('此项为必填项。');
    expect(page.querySelector('.field-reason .field-error')).toBeFalsy();
    expect(text(page, '.material-id-card .material-error')).toBe('请上传「原居民身份证（人像面、国徽面照片）」。');
    expect(text(page, '.top-error')).toBe('申请信息不完整，请按清单补充后再提交。');
    expect(fake.wx.redirectTo).not.toHaveBeenCalled();

    page.instance.onInput(tap({ name: 'photo_receipt_no' }, { value: 'X' }));
    expect(page.querySelector('.field-photo_receipt_no .field-error')).toBeFalsy(); // typing clears it
  });

  test('photos: chosen, sent with a progress bar; a refused upload keeps the photo with a retry that sends it again', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(caseDetail({ files: [] })));
    fake.on('POST', '/api/v1/uploads', { status: 201, data: INTENT });
    fake.on('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`, ok(READY));
    fake.chooseFiles([{ tempFilePath: 'wxfile://tmp/IMG_0001.jpg', size: 1000 }]);
    const sent = fake.onUpload({ statusCode: 403, data: '<Error><Code>AccessDenied</Code></Error>' }, { statusCode: 204 });
    const progress = [];
    const page = await renderPage('pages/apply/apply', { id: '42' });
    const original = page.instance.render.bind(page.instance);
    page.instance.render = () => {
      original();
      const p = page.instance.data.materials.find((m) => m.code === 'photo-receipt').pending[0];
      if (p) progress.push(p.progress);
    };

    await page.instance.onChoose(tap({ code: 'photo-receipt' }));
    expect(fake.wx.chooseMedia.mock.calls[0][0]).toMatchObject({ count: 1, mediaType: ['image'] });
    expect(text(page, '.material-photo-receipt .upload-failed .field-error')).toBe('文件上传失败，请重新选择文件后上传。');
    expect(page.querySelector('.material-photo-receipt .retry')).toBeTruthy();
    expect(page.querySelector('.material-photo-receipt .choose')).toBeTruthy(); // a failed photo takes no place

    await page.instance.onRetry(tap({ code: 'photo-receipt', key: page.instance.data.materials[1].pending[0].key }));
    expect(sent).toHaveLength(2);
    expect(sent[1].filePath).toBe('wxfile://tmp/IMG_0001.jpg');
    expect(fake.callsTo('POST', '/api/v1/uploads')[1].data).toMatchObject({ item_code: 'GA-SFZ-HL', material_code: 'photo-receipt', case_id: 42, size: 1000, content_type: 'image/jpeg' });
    expect(progress).toContain(50);
    expect(progress).toContain(100);
    expect(page.querySelectorAll('.material-photo-receipt .file')).toHaveLength(1);
    expect(page.querySelector('.material-photo-receipt .pending')).toBeFalsy();
    // one file is the most: the button now takes a new photo in its place (replaces)
    expect(page.querySelector('.material-photo-receipt .choose')).toBeTruthy();
  });

  test('a level too low is said on load, and checked again when the person comes back verified', async () => {
    fake.on('GET', '/api/v1/me', ok({ id: 1, realname_level: 1 }), ok({ id: 1, realname_level: 2 }));
    const page = await renderPage('pages/apply/apply', { code: 'GA-SFZ-HL' });
    expect(text(page, '.need-level')).toMatch(/刷脸认证（二级实名）/);
    await page.instance.onShow(); // back from pages/login
    expect(page.querySelector('.need-level')).toBeFalsy();
  });

  test('the first photo of a new application makes the draft; a level too low shows the way to verify', async () => {
    fake.on('POST', '/api/v1/cases', envelope(403, 'auth.realname_level_too_low', '此事项需要更高的实名认证等级，请先完成实名认证。', { required: 2, current: 1 }));
    fake.chooseFiles([{ tempFilePath: 'wxfile://tmp/IMG_0002.png', size: 2000 }]);
    const page = await renderPage('pages/apply/apply', { code: 'GA-SFZ-HL' });
    await page.instance.onChoose(tap({ code: 'id-card' }));
    expect(fake.callsTo('POST', '/api/v1/cases')).toHaveLength(1);
    expect(fake.wx.uploadFile).not.toHaveBeenCalled();
    expect(text(page, '.material-id-card .upload-failed .field-error')).toBe('此事项需要更高的实名认证等级，请先完成实名认证。');
    expect(page.querySelector('.need-level')).toBeTruthy();
    page.instance.onRealname();
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/login/login?level=2&back=1' }));
  });

  test('a conflict on submission reloads the case', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(caseDetail()), ok(caseDetail({ status: 'submitted', status_label: '待预审' })));
    fake.on('PUT', '/api/v1/cases/42/form', envelope(409, 'case.not_editable', '办件当前不能修改。', { current_status: 'submitted' }));
    const page = await renderPage('pages/apply/apply', { id: '42' });
    await page.instance.onSubmit();
    expect(fake.callsTo('GET', '/api/v1/cases/42')).toHaveLength(2);
    expect(page.querySelector('.closed')).toBeTruthy();
    expect(text(page, '.notice')).toMatch(/已为您刷新/);
    expect(fake.callsTo('POST', '/api/v1/cases/42/submit')).toHaveLength(0);
  });

  test('submitting while a photo is on its way is held back', async () => {
    fake.on('GET', '/api/v1/cases/42', ok(caseDetail({ files: [] })));
    fake.on('POST', '/api/v1/uploads', { status: 201, data: INTENT });
    fake.chooseFiles([{ tempFilePath: 'wxfile://tmp/IMG_0003.jpg', size: 1000 }]);
    fake.wx.uploadFile.mockImplementation(() => ({ onProgressUpdate: () => {} })); // never answers
    const page = await renderPage('pages/apply/apply', { id: '42' });
    page.instance.onChoose(tap({ code: 'id-card' }));
    await new Promise((r) => setTimeout(r, 0));
    await page.instance.onSubmit();
    expect(text(page, '.top-error')).toBe('照片正在上传，请等待上传完成后再提交。');
    expect(fake.callsTo('PUT', '/api/v1/cases/42/form')).toHaveLength(0);
  });
});
