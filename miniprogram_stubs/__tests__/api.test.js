const { createClient, ApiError, describeError, labelsFromGuide } = require('../utils/api.js');
const { fakeWx, envelope, ok } = require('./helpers/fakeWx.js');

const BASE = 'http://api.test';
const TOKENS = (n) => ({
  token_type: 'Bearer',
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  expires_in: 900,
  refresh_expires_in: 2592000,
});
const EXPIRED = envelope(401, 'auth.token_expired', '登录已过期，正在为您刷新，请稍候。');

/** A client on a scripted wx whose waits are recorded instead of slept. */
function setup(options) {
  const fake = fakeWx();
  const waits = [];
  const client = createClient(
    Object.assign(
      {
        baseUrl: BASE,
        wx: fake.wx,
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      },
      options,
    ),
  );
  return { fake, client, waits };
}

function loggedIn(fake, audience) {
  fake.storage[`zb.${audience || 'citizen'}.access_token`] = 'access-0';
  fake.storage[`zb.${audience || 'citizen'}.refresh_token`] = 'refresh-0';
}

describe('access token', () => {
  test('an expired token is refreshed once and the request retried with the new one', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('GET', '/api/v1/me', EXPIRED, ok({ id: 1, realname_level: 1 }));
    fake.on('POST', '/api/v1/auth/refresh', ok(TOKENS(1)));

    await expect(client.get('/api/v1/me')).resolves.toEqual({ id: 1, realname_level: 1 });

    const refreshes = fake.callsTo('POST', '/api/v1/auth/refresh');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0].data).toEqual({ refresh_token: 'refresh-0' });
    expect(refreshes[0].header.Authorization).toBeUndefined();
    const reads = fake.callsTo('GET', '/api/v1/me');
    expect(reads.map((c) => c.header.Authorization)).toEqual(['Bearer access-0', 'Bearer access-1']);
    expect(fake.storage['zb.citizen.access_token']).toBe('access-1');
    expect(fake.storage['zb.citizen.refresh_token']).toBe('refresh-1');
    expect(fake.wx.login).not.toHaveBeenCalled();
  });

  test('requests that find the token expired together share one refresh', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('GET', '/api/v1/me', (req) => (req.header.Authorization === 'Bearer access-0' ? EXPIRED : ok({ id: 1 })));
    fake.on('GET', '/api/v1/cases', (req) =>
      req.header.Authorization === 'Bearer access-0' ? EXPIRED : ok({ items: [] }),
    );
    fake.on('POST', '/api/v1/auth/refresh', ok(TOKENS(1)));

    await Promise.all([client.get('/api/v1/me'), client.get('/api/v1/cases', { group: 'draft' })]);

    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
  });

  test('a refused refresh logs in again with wx.login, then retries', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('GET', '/api/v1/me', EXPIRED, ok({ id: 1 }));
    fake.on(
      'POST',
      '/api/v1/auth/refresh',
      envelope(401, 'auth.refresh_reused', '检测到您的登录凭证被重复使用，为保障账号安全已退出该登录，请重新登录。'),
    );
    fake.on('POST', '/api/v1/auth/wechat/login', ok(Object.assign(TOKENS(2), { user: { id: 1 } })));

    await expect(client.get('/api/v1/me')).resolves.toEqual({ id: 1 });

    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
    expect(fake.wx.login).toHaveBeenCalledTimes(1);
    expect(fake.callsTo('POST', '/api/v1/auth/wechat/login')[0].data).toEqual({ code: 'wx-code-1' });
    expect(fake.callsTo('GET', '/api/v1/me')[1].header.Authorization).toBe('Bearer access-2');
    expect(fake.storage['zb.citizen.refresh_token']).toBe('refresh-2');
  });

  test('still expired after the refresh: one login, then the error is shown', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('GET', '/api/v1/me', EXPIRED);
    fake.on('POST', '/api/v1/auth/refresh', ok(TOKENS(1)));
    fake.on('POST', '/api/v1/auth/wechat/login', ok(Object.assign(TOKENS(2), { user: { id: 1 } })));

    await expect(client.get('/api/v1/me')).rejects.toMatchObject({ code: 'auth.token_expired', status: 401 });
    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
    expect(fake.callsTo('POST', '/api/v1/auth/wechat/login')).toHaveLength(1);
    expect(fake.callsTo('GET', '/api/v1/me')).toHaveLength(3);
  });

  test('no token at all: it logs in first (auth.token_missing)', async () => {
    const { fake, client } = setup();
    fake.on('GET', '/api/v1/me', (req) =>
      req.header.Authorization ? ok({ id: 7 }) : envelope(401, 'auth.token_missing', '请先登录。'),
    );
    fake.on('POST', '/api/v1/auth/wechat/login', ok(Object.assign(TOKENS(1), { user: { id: 7 } })));

    await expect(client.get('/api/v1/me')).resolves.toEqual({ id: 7 });
    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(0);
  });

  test('a refresh lost on the network is not retried (the token is spent by its first use)', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('GET', '/api/v1/me', EXPIRED);
    fake.on('POST', '/api/v1/auth/refresh', { fail: 'request:fail timeout' });

    await expect(client.get('/api/v1/me')).rejects.toMatchObject({ code: 'network.unreachable' });
    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
    expect(fake.wx.login).not.toHaveBeenCalled();
  });

  test('a refresh refused by an outage is shown, without logging in again', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('GET', '/api/v1/me', EXPIRED);
    fake.on('POST', '/api/v1/auth/refresh', envelope(503, 'service.unavailable', '服务暂时不可用，请稍后再试。'));
    await expect(client.get('/api/v1/me')).rejects.toMatchObject({ status: 503, message: '服务暂时不可用，请稍后再试。' });
    expect(fake.callsTo('POST', '/api/v1/auth/refresh')).toHaveLength(1);
    expect(fake.wx.login).not.toHaveBeenCalled();
  });

  test('DevTools against the embedded server: login codes from the sandbox, the same user each time', async () => {
    const { fake, client } = setup({ sandboxLogin: true });
    fake.on('POST', '/sandbox/wechat/_control/login-code', ok({ code: 'sandbox-code-1', openid: 'oSandboxUser1' }), ok({ code: 'sandbox-code-2', openid: 'oSandboxUser1' }));
    fake.on('POST', '/api/v1/auth/wechat/login', ok(Object.assign(TOKENS(1), { user: { id: 1 } })));
    await client.login();
    await client.login();
    expect(fake.wx.login).not.toHaveBeenCalled();
    const minted = fake.callsTo('POST', '/sandbox/wechat/_control/login-code');
    expect(minted.map((c) => c.data)).toEqual([{}, { openid: 'oSandboxUser1' }]);
    expect(fake.callsTo('POST', '/api/v1/auth/wechat/login').map((c) => c.data)).toEqual([{ code: 'sandbox-code-1' }, { code: 'sandbox-code-2' }]);
  });

  test('staff mode refreshes and logs in at the staff endpoints', async () => {
    const { fake, client } = setup({ audience: 'staff' });
    loggedIn(fake, 'staff');
    fake.on('GET', '/api/v1/staff/inbox', EXPIRED, ok({ items: [] }));
    fake.on('POST', '/api/v1/staff/auth/refresh', envelope(401, 'auth.refresh_invalid', '登录已失效，请重新登录。'));
    fake.on('POST', '/api/v1/staff/auth/login', ok(Object.assign(TOKENS(3), { staff: { id: 2 } })));

    await client.get('/api/v1/staff/inbox', { role: 'clerk' });
    expect(fake.callsTo('GET', '/api/v1/staff/inbox')[0].query).toEqual({ role: 'clerk' });
    expect(fake.callsTo('POST', '/api/v1/staff/auth/login')).toHaveLength(1);
    expect(fake.storage['zb.staff.access_token']).toBe('access-3');
  });
});

describe('rate limit', () => {
  afterEach(() => jest.useRealTimers());

  test('429 waits Retry-After seconds, then tries once more', async () => {
    jest.useFakeTimers();
    const fake = fakeWx();
    const client = createClient({ baseUrl: BASE, wx: fake.wx }); // the real sleep, on fake timers
    loggedIn(fake);
    fake.on(
      'POST',
      '/api/v1/me/realname',
      envelope(429, 'rate_limited', '操作过于频繁，请稍后再试。', { retry_after_s: 3 }, { 'Retry-After': '3' }),
      ok({ realname_level: 1 }),
    );

    const done = client.post('/api/v1/me/realname', { name: '张三', id_number: '360426199101010071' });
    await jest.advanceTimersByTimeAsync(2900);
    expect(fake.callsTo('POST', '/api/v1/me/realname')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(200);
    await expect(done).resolves.toEqual({ realname_level: 1 });
    const calls = fake.callsTo('POST', '/api/v1/me/realname');
    expect(calls).toHaveLength(2);
    expect(calls[1].header['Idempotency-Key']).toBe(calls[0].header['Idempotency-Key']);
  });

  test('a second 429 is shown with its Chinese message', async () => {
    jest.useFakeTimers();
    const fake = fakeWx();
    const client = createClient({ baseUrl: BASE, wx: fake.wx });
    loggedIn(fake);
    fake.on(
      'GET',
      '/api/v1/public/cases/SJ-20261207-00001',
      envelope(429, 'rate_limited', '操作过于频繁，请稍后再试。', { retry_after_s: 2 }, { 'retry-after': '2' }),
    );

    const done = client.get('/api/v1/public/cases/SJ-20261207-00001', { name: '张三' });
    const settled = expect(done).rejects.toMatchObject({ status: 429, message: '操作过于频繁，请稍后再试。' });
    await jest.advanceTimersByTimeAsync(2000);
    await settled;
    expect(fake.callsTo('GET', '/api/v1/public/cases/SJ-20261207-00001')).toHaveLength(2);
  });

  test('a Retry-After longer than a person waits is shown at once', async () => {
    const { fake, client, waits } = setup();
    loggedIn(fake);
    fake.on('POST', '/api/v1/me/realname', envelope(429, 'rate_limited', '今日认证次数已用完，请明天再试。', {}, { 'Retry-After': '40000' }));
    await expect(client.post('/api/v1/me/realname', {})).rejects.toMatchObject({ status: 429 });
    expect(waits).toEqual([]);
  });
});

describe('errors a page shows', () => {
  test('a validation error names each field in Chinese', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on(
      'POST',
      '/api/v1/me/realname',
      envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
        fields: [{ field: 'id_number', code: 'check_digit', message: '身份证号码校验位不正确，请核对。' }],
      }),
    );

    const error = await client.post('/api/v1/me/realname', { name: '张三', id_number: '360426199101010072' }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.fields).toEqual([{ field: 'id_number', code: 'check_digit', message: '身份证号码校验位不正确，请核对。' }]);
    const shown = describeError(error);
    expect(shown.title).toBe('提交的信息不完整或格式不正确，请按提示修改。');
    expect(shown.fields).toEqual([{ field: 'id_number', label: '身份证号码', message: '身份证号码校验位不正确，请核对。' }]);
    expect(shown.text).toContain('身份证号码：身份证号码校验位不正确，请核对。');
    expect(fake.callsTo('POST', '/api/v1/me/realname')).toHaveLength(1); // not retried
  });

  test("a case's form and material errors are labelled from its guide", async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on(
      'POST',
      '/api/v1/cases/5/submit',
      envelope(400, 'case.incomplete', '申请信息不完整，请按清单补充后再提交。', {
        fields: [
          { field: 'form.reason', code: 'required', message: '此项为必填项。' },
          { field: 'materials.photo-receipt', code: 'missing', message: '请上传「居民身份证数字相片回执」。' },
        ],
      }),
    );
    const guide = {
      form_schema: { properties: { reason: { type: 'string', title: '换领原因' } } },
      materials: [{ code: 'photo-receipt', name: '居民身份证数字相片回执' }],
    };
    const error = await client.post('/api/v1/cases/5/submit').catch((e) => e);
    const shown = describeError(error, labelsFromGuide(guide));
    expect(shown.text).toBe(
      '申请信息不完整，请按清单补充后再提交。\n换领原因：此项为必填项。\n居民身份证数字相片回执：请上传「居民身份证数字相片回执」。',
    );
  });

  test('409 is a conflict the page reacts to by reloading, not retried', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on(
      'POST',
      '/api/v1/cases/5/withdraw',
      envelope(409, 'case.invalid_transition', '办件状态已变化，当前不能进行此操作，请刷新后查看。', { status: 'accepted' }),
    );
    const error = await client.post('/api/v1/cases/5/withdraw').catch((e) => e);
    expect(error.isConflict).toBe(true);
    expect(error.code).toBe('case.invalid_transition');
    expect(error.details.status).toBe('accepted');
    expect(describeError(error).title).toBe('办件状态已变化，当前不能进行此操作，请刷新后查看。');
    expect(fake.callsTo('POST', '/api/v1/cases/5/withdraw')).toHaveLength(1);
  });

  test('a 409 request.in_progress (the first copy still running) waits and asks again with the same key', async () => {
    const { fake, client, waits } = setup();
    loggedIn(fake);
    fake.on(
      'POST',
      '/api/v1/cases/5/submit',
      envelope(409, 'request.in_progress', '相同的请求正在处理中，请稍候。', {}, { 'Retry-After': '1' }),
      { status: 200, data: { id: 5, status: 'submitted' }, header: { 'Idempotent-Replayed': 'true' } },
    );
    await expect(client.post('/api/v1/cases/5/submit')).resolves.toMatchObject({ status: 'submitted' });
    const calls = fake.callsTo('POST', '/api/v1/cases/5/submit');
    expect(calls[0].header['Idempotency-Key']).toBe(calls[1].header['Idempotency-Key']);
    expect(waits).toEqual([1000]);
  });

  test('an answer outside the envelope still gives a Chinese message', async () => {
    const { fake, client } = setup();
    fake.on('GET', '/api/v1/items', { status: 502, data: '<html>Bad Gateway</html>' });
    const error = await client.get('/api/v1/items').catch((e) => e);
    expect(error.message).toBe('服务器返回的内容无法识别，请稍后重试。');
    expect(describeError(new Error('boom')).title).toBe('系统繁忙，请稍后再试。');
  });
});

describe('network loss and Idempotency-Key', () => {
  /** A server that creates a draft once per Idempotency-Key, like api/idempotency.py. */
  function draftServer(fake, { loseFirstAnswer }) {
    const created = [];
    const byKey = {};
    let lost = 0;
    fake.on('POST', '/api/v1/cases', (req) => {
      const key = req.header['Idempotency-Key'];
      if (!byKey[key]) {
        created.push(req.data);
        byKey[key] = { id: 100 + created.length, status: 'draft', revision: 1 };
      }
      if (lost < loseFirstAnswer) {
        lost += 1;
        return { fail: 'request:fail timeout' }; // the draft was made; its answer never came back
      }
      return { status: 201, data: byKey[key] };
    });
    return created;
  }

  test('every write carries an Idempotency-Key, a new one per write', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on('PUT', '/api/v1/cases/5/form', ok({ id: 5 }));
    fake.on('DELETE', '/api/v1/uploads/abcdef0123', { status: 204, data: '' });
    fake.on('GET', '/api/v1/cases/5', ok({ id: 5 }));
    await client.put('/api/v1/cases/5/form', { form: {} });
    await client.put('/api/v1/cases/5/form', { form: {} });
    await client.del('/api/v1/uploads/abcdef0123');
    await client.get('/api/v1/cases/5');
    const keys = fake.calls.map((c) => c.header['Idempotency-Key']);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(keys[1]).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(keys[3]).toBeUndefined();
    expect(fake.calls[2].data).toBeUndefined(); // a DELETE sends no body
  });

  test('a write whose answer was lost is retried with the same key: one draft, not two', async () => {
    const { fake, client, waits } = setup();
    loggedIn(fake);
    const created = draftServer(fake, { loseFirstAnswer: 2 });

    const draft = await client.post('/api/v1/cases', { item_code: 'GA-SFZ-HL', form: {} });

    expect(draft).toEqual({ id: 101, status: 'draft', revision: 1 });
    expect(created).toHaveLength(1);
    const keys = fake.callsTo('POST', '/api/v1/cases').map((c) => c.header['Idempotency-Key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(waits).toEqual([500, 1000]); // exponential backoff
  });

  test('network loss is retried a bounded number of times, then shown in Chinese', async () => {
    const { fake, client, waits } = setup();
    fake.on('GET', '/api/v1/items', { fail: 'request:fail timeout' });
    const error = await client.get('/api/v1/items', { q: 'sfz' }).catch((e) => e);
    expect(error.code).toBe('network.unreachable');
    expect(error.message).toBe('网络连接不稳定，请检查网络后重试。');
    expect(fake.callsTo('GET', '/api/v1/items')).toHaveLength(4);
    expect(waits).toEqual([500, 1000, 2000]);
  });

  test('503 is retried with backoff like a network loss', async () => {
    const { fake, client } = setup();
    fake.on('GET', '/api/v1/items', envelope(503, 'service.unavailable', '服务暂时不可用，请稍后再试。'), ok({ items: [] }));
    await expect(client.get('/api/v1/items')).resolves.toEqual({ items: [] });
  });

  test('a DELETE retried after its answer was lost and now 404 has succeeded', async () => {
    const { fake, client } = setup();
    loggedIn(fake);
    fake.on(
      'DELETE',
      '/api/v1/uploads/abcdef0123',
      { fail: 'request:fail timeout' },
      envelope(404, 'storage.upload_not_found', '没有找到这个文件，可能已删除或已过期，请重新上传。'),
    );
    await expect(client.del('/api/v1/uploads/abcdef0123')).resolves.toBeNull();
  });
});
