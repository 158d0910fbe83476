const { createClient } = require('../utils/api.js');
const { pay } = require('../utils/pay.js');
const { prepareConsent, requestConsent } = require('../utils/consent.js');
const { fakeWx, envelope, ok } = require('./helpers/fakeWx.js');

const BASE = 'http://api.test';

function setup() {
  const fake = fakeWx();
  fake.storage['zb.citizen.access_token'] = 'access-0';
  fake.storage['zb.citizen.refresh_token'] = 'refresh-0';
  const waits = [];
  const client = createClient({
    baseUrl: BASE,
    wx: fake.wx,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { fake, client, waits };
}

describe('upload', () => {
  const INTENT = {
    upload_id: 'bdbeb8be9f521c902d52ee45',
    url: 'http://store.test/objects/zhangban-materials',
    fields: { key: 'incoming/u1/bdbeb8be9f521c902d52ee45', 'Content-Type': 'image/jpeg', policy: 'eyJ…', 'x-amz-signature': 'abc' },
    file_field: 'file',
    max_size: 10485760,
    expires_at: '2026-12-07T11:10:31Z',
  };
  const READY = { id: INTENT.upload_id, status: 'ready', url: 'http://store.test/get', material_code: 'photo-receipt' };

  /** A server side that opens one upload row per Idempotency-Key, like the real one. */
  function uploadServer(fake, { loseIntentAnswers = 0, complete = [ok(READY)] } = {}) {
    const intents = {};
    let lost = 0;
    fake.on('POST', '/api/v1/uploads', (req) => {
      const key = req.header['Idempotency-Key'];
      intents[key] = intents[key] || Object.assign({}, INTENT, { body: req.data });
      if (lost < loseIntentAnswers) {
        lost += 1;
        return { fail: 'request:fail timeout' };
      }
      const answer = Object.assign({}, intents[key]);
      delete answer.body;
      return { status: 201, data: answer };
    });
    fake.on('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`, ...complete);
    return intents;
  }

  /** wx.uploadFile that loses the network `losses` times, then answers 204 with progress. */
  function store(fake, losses, finalStatus) {
    const sent = [];
    let failures = 0;
    fake.wx.uploadFile.mockImplementation((opts) => {
      sent.push(opts);
      const listeners = [];
      Promise.resolve().then(() => {
        if (failures < losses) {
          failures += 1;
          listeners.forEach((l) => l({ progress: 40, totalBytesSent: 400, totalBytesExpectedToSend: 1000 }));
          opts.fail({ errMsg: 'uploadFile:fail socket timeout' });
          return;
        }
        listeners.forEach((l) => l({ progress: 100, totalBytesSent: 1000, totalBytesExpectedToSend: 1000 }));
        opts.success({ statusCode: finalStatus || 204, data: '' });
      });
      return { onProgressUpdate: (l) => listeners.push(l), abort: jest.fn() };
    });
    return sent;
  }

  const FILE = {
    itemCode: 'GA-SFZ-HL',
    materialCode: 'photo-receipt',
    caseId: 42,
    filePath: 'wxfile://tmp/IMG_0001.jpg',
    size: 1000,
  };

  test('intent, wx.uploadFile with the policy fields, completion; progress reported', async () => {
    const { fake, client } = setup();
    const intents = uploadServer(fake);
    const sent = store(fake, 0);
    const progress = [];

    const done = await client.upload(Object.assign({ onProgress: (p) => progress.push(p) }, FILE));

    expect(done).toEqual(READY);
    expect(Object.values(intents)[0].body).toEqual({
      purpose: 'material',
      item_code: 'GA-SFZ-HL',
      material_code: 'photo-receipt',
      case_id: 42,
      filename: 'IMG_0001.jpg',
      content_type: 'image/jpeg',
      size: 1000,
    });
    expect(sent[0]).toMatchObject({ url: INTENT.url, filePath: FILE.filePath, name: 'file', formData: INTENT.fields });
    expect(progress).toEqual([{ progress: 100, sent: 1000, total: 1000 }]);
    expect(fake.callsTo('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`)[0].header['Idempotency-Key']).toBeTruthy();
  });

  test('network loss during wx.uploadFile: retried to the same policy, no second material', async () => {
    const { fake, client, waits } = setup();
    const intents = uploadServer(fake);
    const sent = store(fake, 2);
    const progress = [];

    const done = await client.upload(Object.assign({ onProgress: (p) => progress.push(p.progress) }, FILE));

    expect(done.id).toBe(INTENT.upload_id);
    expect(sent).toHaveLength(3);
    sent.forEach((s) => expect(s).toMatchObject({ url: INTENT.url, formData: INTENT.fields, name: 'file' }));
    expect(fake.callsTo('POST', '/api/v1/uploads')).toHaveLength(1); // one intent: one material
    expect(Object.keys(intents)).toHaveLength(1);
    expect(fake.callsTo('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`)).toHaveLength(1);
    expect(progress).toEqual([40, 40, 100]);
    expect(waits).toEqual([500, 1000]);
  });

  test("the intent's answer lost: asked again with the same key, the server replays one intent", async () => {
    const { fake, client } = setup();
    const intents = uploadServer(fake, { loseIntentAnswers: 1 });
    store(fake, 0);

    await client.upload(FILE);

    const calls = fake.callsTo('POST', '/api/v1/uploads');
    expect(calls).toHaveLength(2);
    expect(calls[0].header['Idempotency-Key']).toBe(calls[1].header['Idempotency-Key']);
    expect(Object.keys(intents)).toHaveLength(1);
  });

  test('the completion lost on the network is retried with its own same key', async () => {
    const { fake, client } = setup();
    uploadServer(fake, { complete: [{ fail: 'request:fail timeout' }, ok(READY)] });
    store(fake, 0);

    await client.upload(FILE);
    const calls = fake.callsTo('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`);
    expect(calls).toHaveLength(2);
    expect(calls[0].header['Idempotency-Key']).toBe(calls[1].header['Idempotency-Key']);
  });

  test('an expired policy refused by the store is shown in Chinese', async () => {
    const { fake, client } = setup();
    uploadServer(fake);
    fake.wx.uploadFile.mockImplementation((opts) => {
      Promise.resolve().then(() =>
        opts.success({ statusCode: 403, data: '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>' }),
      );
      return { onProgressUpdate() {} };
    });
    await expect(client.upload(FILE)).rejects.toMatchObject({ code: 'upload.expired', message: '上传链接已过期，请重新上传。' });
    expect(fake.callsTo('POST', `/api/v1/uploads/${INTENT.upload_id}/complete`)).toHaveLength(0);
  });

  test('a file the server rejects at completion shows its message', async () => {
    const { fake, client } = setup();
    uploadServer(fake, {
      complete: [envelope(400, 'storage.type_not_allowed', '该材料不接受这种文件格式，请按办事指南要求上传。')],
    });
    store(fake, 0);
    await expect(client.upload(FILE)).rejects.toMatchObject({ code: 'storage.type_not_allowed' });
  });
});

describe('upload on other routes (a staff attachment): the same loop, its routes and body given', () => {
  const STAFF = { intentPath: '/api/v1/staff/cases/1/attachments', completePath: (id) => `/api/v1/staff/uploads/${id}/complete` };
  // the staff attachment's policy and its completion, as the server answers them
  const { STAFF_INTENT: POLICY, STAFF_ATTACHMENT: DONE } = require('./fixtures.js');
  const BODY = { filename: 'site.jpg', content_type: 'image/jpeg', size: 2048 };
  const COMPLETE = `/api/v1/staff/uploads/${POLICY.upload_id}/complete`;

  /** writeKeys() of pages/staff/shared.js, recorded */
  function keyBook() {
    const keys = {};
    const log = [];
    return {
      log,
      keys,
      keyFor(path, body) {
        const id = `${path} ${JSON.stringify(body || {})}`;
        keys[id] = keys[id] || `key-${Object.keys(keys).length + 1}-${log.length}`;
        log.push(['keyFor', path]);
        return keys[id];
      },
      done(path, body) {
        delete keys[`${path} ${JSON.stringify(body || {})}`];
        log.push(['done', path]);
      },
    };
  }

  function storeAnswers(fake, ...answers) {
    const sent = [];
    fake.wx.uploadFile.mockImplementation((opts) => {
      sent.push(opts);
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      Promise.resolve().then(() => (answer.fail ? opts.fail({ errMsg: answer.fail }) : opts.success({ statusCode: answer.statusCode, data: answer.data || '' })));
      return { onProgressUpdate() {} };
    });
    return sent;
  }

  test('the intent on its route with its body as given (no material fields), the file to its policy, the completion on its route', async () => {
    const { fake, client, waits } = setup();
    fake.on('POST', STAFF.intentPath, ok(POLICY, 201));
    fake.on('POST', COMPLETE, ok(DONE));
    const sent = storeAnswers(fake, { fail: 'uploadFile:fail socket timeout' }, { statusCode: 204 });

    const done = await client.upload({ filePath: 'http://tmp/site.jpg', size: 2048 }, Object.assign({ intentBody: BODY }, STAFF));

    expect(done).toEqual(DONE);
    expect(fake.callsTo('POST', STAFF.intentPath).map((c) => c.data)).toEqual([BODY]);
    expect(sent).toHaveLength(2); // the network loss retried to the same policy
    sent.forEach((s) => expect(s).toMatchObject({ url: POLICY.url, name: 'file', formData: POLICY.fields, filePath: 'http://tmp/site.jpg' }));
    expect(waits).toEqual([500]);
    expect(fake.callsTo('POST', COMPLETE)).toHaveLength(1);
    expect(fake.callsTo('POST', '/api/v1/uploads')).toHaveLength(0);
    expect(fake.calls.filter((c) => /^\/api\/v1\/uploads\//.test(c.path))).toHaveLength(0);
  });

  test("with `keys`: the intent's and the completion's keys come from them, kept across calls until the file is complete", async () => {
    const { fake, client, waits } = setup();
    const keys = keyBook();
    const lost = { fail: 'request:fail timeout' };
    fake.on('POST', STAFF.intentPath, lost, lost, lost, lost, ok(POLICY, 201));
    fake.on('POST', COMPLETE, envelope(409, 'storage.completion_running', '文件正在处理中，请稍候。', {}, { 'Retry-After': '1' }), ok(DONE));
    storeAnswers(fake, { statusCode: 204 });
    const route = Object.assign({ intentBody: BODY, keys }, STAFF);
    const file = { filePath: 'http://tmp/site.jpg', size: 2048 };

    await expect(client.upload(file, route)).rejects.toMatchObject({ code: 'network.unreachable' });
    expect(Object.keys(keys.keys)).toHaveLength(1); // the intent's key is kept for the next try
    const done = await client.upload(file, route);
    expect(done).toEqual(DONE);

    const intents = fake.callsTo('POST', STAFF.intentPath).map((c) => c.header['Idempotency-Key']);
    expect(intents).toHaveLength(5);
    expect(new Set(intents)).toEqual(new Set(['key-1-0']));
    const completes = fake.callsTo('POST', COMPLETE).map((c) => c.header['Idempotency-Key']);
    expect(completes).toHaveLength(2); // still running: asked again with its same key
    expect(new Set(completes).size).toBe(1);
    expect(completes[0]).toMatch(/^key-2-/); // from `keys`, its own
    expect(waits).toContain(1000); // the Retry-After of the running completion
    expect(keys.keys).toEqual({}); // both let go once complete
    expect(keys.log.filter(([what]) => what === 'done').map(([, path]) => path)).toEqual([STAFF.intentPath, COMPLETE]);
  });

  test('with `keys`: a policy the store refused lets the intent key go, so the next try asks for a new policy', async () => {
    const { fake, client } = setup();
    const keys = keyBook();
    fake.on('POST', STAFF.intentPath, ok(POLICY, 201));
    fake.on('POST', COMPLETE, ok(DONE));
    storeAnswers(fake, { statusCode: 403, data: '<Error><Message>Policy expired.</Message></Error>' }, { statusCode: 204 });
    const route = Object.assign({ intentBody: BODY, keys }, STAFF);
    const file = { filePath: 'http://tmp/site.jpg', size: 2048 };

    await expect(client.upload(file, route)).rejects.toMatchObject({ code: 'upload.expired', message: '上传链接已过期，请重新上传。', details: { upload_id: POLICY.upload_id } });
    expect(keys.keys).toEqual({});
    expect(fake.callsTo('POST', COMPLETE)).toHaveLength(0);
    await client.upload(file, route);
    const intents = fake.callsTo('POST', STAFF.intentPath).map((c) => c.header['Idempotency-Key']);
    expect(intents).toHaveLength(2);
    expect(intents[1]).not.toBe(intents[0]);
  });
});

describe('pay', () => {
  const CHECKOUT = {
    channel: 'wechatpay',
    mode: 'in_app',
    out_trade_no: 'ZB20261207000001',
    expires_at: '2026-12-07T13:00:00Z',
    client: { timeStamp: '1796630400', nonceStr: 'n0nce', package: 'prepay_id=wx07abc', signType: 'RSA', paySign: 'c2ln' },
  };

  test('a cancelled payment sheet leaves the order payable, and is not an error', async () => {
    const { fake, client } = setup();
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok(CHECKOUT));
    fake.on('POST', '/api/v1/cases/42/fee/returned', { status: 204, data: '' });
    fake.on('GET', '/api/v1/cases/42/fee', ok({ status: 'open', amount_fen: 2000 }));
    fake.wx.requestPayment.mockImplementation((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'requestPayment:fail cancel' })));

    const result = await pay(42, { client, wx: fake.wx });

    expect(result).toEqual({ status: 'cancelled', payable: true, outTradeNo: 'ZB20261207000001' });
    const shown = fake.wx.requestPayment.mock.calls[0][0];
    expect(shown).toMatchObject(CHECKOUT.client); // exactly the server's parameters
    expect(fake.callsTo('POST', '/api/v1/cases/42/fee/pay')[0].data).toEqual({ channel: 'wechatpay', mode: 'in_app' });
    expect(fake.callsTo('POST', '/api/v1/cases/42/fee/returned')[0].data).toEqual({ out_trade_no: 'ZB20261207000001' });
    await expect(client.get('/api/v1/cases/42/fee')).resolves.toMatchObject({ status: 'open' });
  });

  test('paying again after a cancel shows the same sheet and pays', async () => {
    const { fake, client } = setup();
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok(CHECKOUT));
    fake.on('POST', '/api/v1/cases/42/fee/returned', { status: 204, data: '' });
    fake.wx.requestPayment
      .mockImplementationOnce((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'requestPayment:fail cancel' })))
      .mockImplementationOnce((opts) => Promise.resolve().then(() => opts.success({ errMsg: 'requestPayment:ok' })));

    expect((await pay(42, { client, wx: fake.wx })).status).toBe('cancelled');
    expect(await pay(42, { client, wx: fake.wx })).toEqual({ status: 'paid', payable: false, outTradeNo: 'ZB20261207000001' });
    const keys = fake.callsTo('POST', '/api/v1/cases/42/fee/pay').map((c) => c.header['Idempotency-Key']);
    expect(keys[0]).not.toBe(keys[1]); // a new tap is a new request: the server gives the same sheet
  });

  test('a sheet that fails for another reason is an error the page shows, still payable', async () => {
    const { fake, client } = setup();
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok(CHECKOUT));
    fake.on('POST', '/api/v1/cases/42/fee/returned', { fail: 'request:fail timeout' });
    fake.wx.requestPayment.mockImplementation((opts) =>
      Promise.resolve().then(() => opts.fail({ errMsg: 'requestPayment:fail (detail message)' })),
    );
    await expect(pay(42, { client, wx: fake.wx })).rejects.toMatchObject({
      code: 'payment.failed',
      message: '支付未完成，您可以稍后在办件详情中继续缴费。',
    });
  });

  test('a fee already paid elsewhere is the server\'s conflict', async () => {
    const { fake, client } = setup();
    fake.on('POST', '/api/v1/cases/42/fee/pay', envelope(409, 'cases.fee_already_paid', '该费用已缴纳。'));
    const error = await pay(42, { client, wx: fake.wx }).catch((e) => e);
    expect(error.isConflict).toBe(true);
    expect(fake.wx.requestPayment).not.toHaveBeenCalled();
  });
});

describe('consent before submit', () => {
  const TO_ASK = {
    moment: 'submit',
    template_ids: ['tmpl-accepted', 'tmpl-corrections'],
    templates: [
      { template_id: 'tmpl-accepted', title: '办件受理通知' },
      { template_id: 'tmpl-corrections', title: '补正通知' },
    ],
  };

  test('asks for the templates the server names, then reports the answers', async () => {
    const { fake, client } = setup();
    fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
    fake.on('POST', '/api/v1/me/subscriptions', ok({ grants: [] }));
    fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
      Promise.resolve().then(() =>
        opts.success({ errMsg: 'requestSubscribeMessage:ok', 'tmpl-accepted': 'accept', 'tmpl-corrections': 'reject' }),
      ),
    );

    const prepared = await prepareConsent('submit', { client });
    const results = await requestConsent(prepared, { client, wx: fake.wx });

    expect(fake.callsTo('GET', '/api/v1/me/subscriptions/to-ask')[0].query).toEqual({ moment: 'submit' });
    expect(fake.wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['tmpl-accepted', 'tmpl-corrections']);
    expect(results).toEqual({ 'tmpl-accepted': 'accept', 'tmpl-corrections': 'reject' });
    expect(fake.callsTo('POST', '/api/v1/me/subscriptions')[0].data).toEqual({ results });
  });

  test('nothing to ask: no sheet; a sheet WeChat refuses to show blocks nothing', async () => {
    const { fake, client } = setup();
    expect(await requestConsent({ template_ids: [] }, { client, wx: fake.wx })).toEqual({});
    fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
      Promise.resolve().then(() => opts.fail({ errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.', errCode: 20001 })),
    );
    expect(await requestConsent(TO_ASK, { client, wx: fake.wx })).toEqual({});
    expect(fake.callsTo('POST', '/api/v1/me/subscriptions')).toHaveLength(0);
  });
});
