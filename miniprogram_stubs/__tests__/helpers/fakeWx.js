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
    // pages: navigation, feedback and the device's media and face verification
    navigateTo: jest.fn((opts) => settle(opts, { errMsg: 'navigateTo:ok' })),
    redirectTo: jest.fn((opts) => settle(opts, { errMsg: 'redirectTo:ok' })),
    navigateBack: jest.fn((opts) => settle(opts, { errMsg: 'navigateBack:ok' })),
    reLaunch: jest.fn((opts) => settle(opts, { errMsg: 'reLaunch:ok' })),
    showToast: jest.fn((opts) => settle(opts, { errMsg: 'showToast:ok' })),
    showModal: jest.fn((opts) => settle(opts, { errMsg: 'showModal:ok', confirm: true, cancel: false })),
    setClipboardData: jest.fn((opts) => settle(opts, { errMsg: 'setClipboardData:ok' })),
    stopPullDownRefresh: jest.fn(),
    chooseMedia: jest.fn((opts) => settle(opts, { errMsg: 'chooseMedia:fail cancel' }, true)),
    requestFacialVerify: jest.fn((opts) => settle(opts, { errMsg: 'requestFacialVerify:ok', verifyResult: opts.verifyId })),
  };

  /** call an options object's success (or fail) on a microtask, as WeChat does */
  function settle(opts, result, failed) {
    Promise.resolve().then(() => {
      if (!opts) return;
      if (failed) {
        if (opts.fail) opts.fail(result);
      } else if (opts.success) opts.success(result);
      if (opts.complete) opts.complete(result);
    });
  }

  /**
   * Script wx.uploadFile: each answer is `{ statusCode, data }` (after progress 50 then 100) or
   * `{ fail: 'uploadFile:fail …' }`; the last answer repeats. Returns the recorded calls.
   */
  function onUpload(...answers) {
    const sent = [];
    const queue = answers.slice();
    wx.uploadFile.mockImplementation((opts) => {
      sent.push(opts);
      const answer = queue.length > 1 ? queue.shift() : queue[0];
      const listeners = [];
      Promise.resolve().then(() => {
        if (answer.fail) {
          listeners.forEach((l) => l({ progress: 30, totalBytesSent: 300, totalBytesExpectedToSend: 1000 }));
          opts.fail({ errMsg: answer.fail });
          return;
        }
        listeners.forEach((l) => l({ progress: 50, totalBytesSent: 500, totalBytesExpectedToSend: 1000 }));
        listeners.forEach((l) => l({ progress: 100, totalBytesSent: 1000, totalBytesExpectedToSend: 1000 }));
        opts.success({ statusCode: answer.statusCode, data: answer.data || '' });
      });
      return { onProgressUpdate: (l) => listeners.push(l), abort: jest.fn() };
    });
    return sent;
  }

  /** Script wx.chooseMedia: the files the person picks (`[{ tempFilePath, size }]`). */
  function chooseFiles(...picks) {
    const queue = picks.slice();
    wx.chooseMedia.mockImplementation((opts) => {
      const files = queue.length > 1 ? queue.shift() : queue[0];
      settle(opts, { errMsg: 'chooseMedia:ok', type: 'image', tempFiles: files });
    });
  }

  const api = {
    wx,
    onUpload,
    chooseFiles,
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
