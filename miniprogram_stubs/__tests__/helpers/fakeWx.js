/**
 * A scripted `wx` for unit tests: answers wx.request by method and path from queued answers,
 * records every call, keeps storage in memory. An answer is `{ status, data, header }`,
 * `{ fail: 'request:fail …' }` (a network loss), or a function of the request returning one.
 * Callbacks run on a microtask, so jest's fake timers never hold them back.
 */
function fakeWx() {
  const storage = {};
  const queues = {};
  const calls = [];
  let loginCount = 0;

  function on(method, path, ...answers) {
    const key = `${method} ${path}`;
    queues[key] = (queues[key] || []).concat(answers);
    return api;
  }

  function answerFor(method, path, req) {
    const queue = queues[`${method} ${path}`] || [];
    if (!queue.length) {
      return { status: 599, data: { error: { code: 'test.unexpected', message: `no answer for ${method} ${path}`, details: {} } } };
    }
    const next = queue.length > 1 ? queue.shift() : queue[0];
    return typeof next === 'function' ? next(req) : next;
  }

  const wx = {
    getStorageSync: jest.fn((k) => (k in storage ? storage[k] : '')),
    setStorageSync: jest.fn((k, v) => {
      storage[k] = v;
    }),
    removeStorageSync: jest.fn((k) => {
      delete storage[k];
    }),
    request: jest.fn((opts) => {
      const url = new URL(opts.url);
      const req = {
        method: opts.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        header: opts.header || {},
        data: opts.data,
      };
      calls.push(req);
      const answer = answerFor(opts.method, url.pathname, req);
      Promise.resolve().then(() => {
        if (answer.fail) opts.fail({ errMsg: answer.fail });
        else opts.success({ statusCode: answer.status, data: answer.data, header: answer.header || {} });
      });
    }),
    login: jest.fn((opts) => {
      loginCount += 1;
      Promise.resolve().then(() => opts.success({ code: `wx-code-${loginCount}`, errMsg: 'login:ok' }));
    }),
    uploadFile: jest.fn(),
    requestPayment: jest.fn(),
    requestSubscribeMessage: jest.fn(),
  };

  const api = {
    wx,
    on,
    calls,
    storage,
    /** the recorded calls of one method and path */
    callsTo: (method, path) => calls.filter((c) => c.method === method && c.path === path),
  };
  return api;
}

/** An error envelope answer. */
function envelope(status, code, message, details, header) {
  return { status, data: { error: { code, message, details: details || {} } }, header: header || {} };
}

function ok(data, status) {
  return { status: status || 200, data };
}

module.exports = { fakeWx, envelope, ok };
