/**
 * The one API client of the mini-program: every page talks to the Zhangban API through it.
 *
 * What it does for a page, so that no page does it again:
 * - the base URL from config.js; the bearer access token and the refresh token kept in storage;
 * - an expired access token (401 `auth.token_expired`) is refreshed once and the request retried;
 *   when the refresh fails, or any other 401 comes back, it logs in again (wx.login → the login
 *   endpoint) and retries once more; concurrent requests share one refresh and one login;
 * - every write (POST/PUT/PATCH/DELETE) carries an `Idempotency-Key`; the SAME key goes with every
 *   retry of that write, so a write the server received before the network dropped its answer is
 *   answered again (`Idempotent-Replayed: true`) instead of being done twice;
 * - a network loss (wx.request's fail callback) or a 503 is retried with exponential backoff,
 *   a bounded number of times, for reads and keyed writes (never for the login and refresh
 *   calls: a refresh token is spent by its first use);
 * - a 429 waits `Retry-After` seconds, then tries once more; a 409 `request.in_progress` (the
 *   first copy of a retried write still running) waits and asks again;
 * - every other error is an `ApiError` carrying the envelope's code, its Chinese message and
 *   details; `describeError` turns it into what a page shows, naming each invalid field;
 *   a 409 is an `ApiError` with `isConflict`, for the page to reload the case;
 * - `upload` sends a file the way the API wants it: an upload intent (a presigned POST policy),
 *   wx.uploadFile with the policy fields, retried on network loss with the same policy (never a
 *   second material), then the completion call; a citizen's material by default, another
 *   upload's routes and body (a staff attachment) given as its `route`.
 *
 * Runs in the mini-program and under Node (tests, end to end): `wx` is the global one unless a
 * client is made with its own (`createClient({ wx })`), as each phone of a test is.
 */

const config = require('../config.js');

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** Chinese messages of the errors the client itself raises (the server's come in its envelope). */
const MESSAGES = {
  network: '网络连接不稳定，请检查网络后重试。',
  badResponse: '服务器返回的内容无法识别，请稍后重试。',
  loginFailed: '微信登录失败，请稍后重试。',
  uploadRefused: '文件上传失败，请重新选择文件后上传。',
  uploadExpired: '上传链接已过期，请重新上传。',
  paymentFailed: '支付未完成，您可以稍后在办件详情中继续缴费。',
};

/** Labels of the fields the identity and payment endpoints name in `details.fields`. */
const DEFAULT_LABELS = {
  q: '搜索内容',
  name: '姓名',
  id_number: '身份证号码',
  phone: '手机号码',
  code: '验证码',
  bind_code: '绑定码',
  reason: '原因',
  reasons: '原因',
  comment: '意见',
  opinion: '意见',
  receipt_title: '发票抬头',
  tax_number: '纳税人识别号',
  size: '文件大小',
  filename: '文件名',
  content_type: '文件类型',
  materials: '申请材料',
  'Idempotency-Key': '请求编号',
};

/** An error a page can show: the envelope's code, Chinese message, details and HTTP status. */
class ApiError extends Error {
  constructor({ status = 0, code, message, details = {}, headers = {} }) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.headers = headers || {};
  }

  /** 409: the object changed under the page (or a write is still running): reload it. */
  get isConflict() {
    return this.status === 409;
  }

  /** the request never got an answer (no network, timeout) */
  get isNetwork() {
    return this.code === 'network.unreachable';
  }

  /** every invalid field the server named: `[{ field, code, message }]` */
  get fields() {
    const fields = this.details && this.details.fields;
    return Array.isArray(fields) ? fields : [];
  }
}

/**
 * What a page shows for an error: `{ title, fields: [{ field, label, message }], text }`.
 * `labels` maps field paths to their Chinese names (see `labelsFromGuide` for a case's form and
 * materials); a path without a label is shown as the server named it.
 */
function describeError(error, labels) {
  const known = Object.assign({}, DEFAULT_LABELS, labels || {});
  if (!(error instanceof ApiError)) {
    return { title: '系统繁忙，请稍后再试。', fields: [], text: '系统繁忙，请稍后再试。' };
  }
  const fields = error.fields.map((entry) => {
    const field = String(entry.field || '');
    return { field, label: known[field] || field, message: String(entry.message || '') };
  });
  const lines = fields.map((f) => (f.label ? `${f.label}：${f.message}` : f.message));
  return { title: error.message, fields, text: [error.message].concat(lines).join('\n') };
}

/** The Chinese labels of a guide's form fields (`form.<name>`) and materials (`materials.<code>`). */
function labelsFromGuide(guide) {
  const labels = {};
  const properties = (guide && guide.form_schema && guide.form_schema.properties) || {};
  Object.keys(properties).forEach((name) => {
    if (properties[name] && properties[name].title) labels[`form.${name}`] = properties[name].title;
  });
  ((guide && guide.materials) || []).forEach((m) => {
    labels[`materials.${m.code}`] = m.name;
  });
  return labels;
}

function headerValue(headers, name) {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === wanted);
  return key === undefined ? undefined : headers[key];
}

function retryAfterSeconds(error) {
  const header = Number(headerValue(error.headers, 'Retry-After'));
  if (Number.isFinite(header) && header >= 0) return header;
  const detail = Number(error.details && error.details.retry_after_s);
  return Number.isFinite(detail) && detail >= 0 ? detail : 1;
}

function networkError(errMsg) {
  return new ApiError({
    status: 0,
    code: 'network.unreachable',
    message: MESSAGES.network,
    details: { errMsg: errMsg ? String(errMsg).slice(0, 200) : '' },
  });
}

function queryString(query) {
  if (!query) return '';
  const parts = [];
  Object.keys(query).forEach((key) => {
    const value = query[key];
    if (value === undefined || value === null || value === '') return;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  });
  return parts.length ? `?${parts.join('&')}` : '';
}

let keyCounter = 0;

/** A fresh Idempotency-Key (`^[A-Za-z0-9_.:-]{8,128}$`): unique per write, not a secret. */
function newIdempotencyKey() {
  keyCounter = (keyCounter + 1) % 1679616;
  const random = () => Math.floor(Math.random() * 2176782336).toString(36);
  return `mp-${Date.now().toString(36)}-${keyCounter.toString(36)}-${random()}${random()}`;
}

function defaultSleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The endpoints of each audience: a citizen's phone, or a staff member's (staff mode). */
const AUDIENCES = {
  citizen: {
    login: '/api/v1/auth/wechat/login',
    refresh: '/api/v1/auth/refresh',
    logout: '/api/v1/auth/logout',
    toAsk: '/api/v1/me/subscriptions/to-ask',
    consent: '/api/v1/me/subscriptions',
  },
  staff: {
    login: '/api/v1/staff/auth/login',
    refresh: '/api/v1/staff/auth/refresh',
    logout: '/api/v1/staff/auth/logout',
    bind: '/api/v1/staff/auth/bind',
    toAsk: '/api/v1/staff/subscriptions/to-ask',
    consent: '/api/v1/staff/subscriptions',
  },
};

/**
 * A client for one phone. Options (all optional): `baseUrl`, `audience` (`citizen` | `staff`),
 * `wx` (default: the global), `storagePrefix`, `sleep(ms)`, and the retry settings of config.js.
 */
function createClient(options) {
  const opts = Object.assign({}, config, options || {});
  const audience = opts.audience || 'citizen';
  const routes = AUDIENCES[audience];
  if (!routes) throw new Error(`unknown audience ${audience}`);
  const prefix = opts.storagePrefix || `zb.${audience}.`;
  const sleep = opts.sleep || defaultSleep;
  // eslint-disable-next-line no-undef
  const wxApi = () => opts.wx || (typeof wx !== 'undefined' ? wx : undefined);
  let refreshing = null;
  let loggingIn = null;

  // -- storage ---------------------------------------------------------------------------------

  function load(name) {
    try {
      return wxApi().getStorageSync(prefix + name) || '';
    } catch (e) {
      return '';
    }
  }

  function store(name, value) {
    try {
      if (value) wxApi().setStorageSync(prefix + name, value);
      else wxApi().removeStorageSync(prefix + name);
    } catch (e) {
      // storage full or unavailable: the session lives until the next launch
    }
  }

  function keepTokens(answer) {
    store('access_token', answer.access_token);
    store('refresh_token', answer.refresh_token);
    return answer;
  }

  // -- one HTTP exchange -----------------------------------------------------------------------

  /** wx.request once: resolves `{ status, data, headers }`, rejects only on a network loss. */
  function exchange({ method, url, data, headers }) {
    return new Promise((resolve, reject) => {
      wxApi().request({
        url,
        method,
        data,
        header: headers,
        timeout: opts.timeoutMs,
        dataType: 'json',
        success: (res) => resolve({ status: res.statusCode, data: res.data, headers: res.header || {} }),
        fail: (err) => reject(networkError(err && err.errMsg)),
      });
    });
  }

  /**
   * wx.downloadFile once (a file the API serves, a receipt's PDF): resolves `{ status, data,
   * headers }` as `exchange` does, `data` being the saved file's path on a 2xx, and the error
   * envelope read back from the saved file otherwise (wx.downloadFile saves any answer); rejects
   * only on a network loss.
   */
  function fetchFile({ url, headers }) {
    return new Promise((resolve, reject) => {
      wxApi().downloadFile({
        url,
        header: headers,
        timeout: opts.timeoutMs * 4,
        success: (res) => {
          const status = res.statusCode;
          const answered = { status, data: res.tempFilePath, headers: res.header || {} };
          if (status < 200 || status >= 300) {
            try {
              answered.data = JSON.parse(wxApi().getFileSystemManager().readFileSync(res.tempFilePath, 'utf8'));
            } catch (e) {
              answered.data = null; // not the envelope: the status alone speaks
            }
          }
          resolve(answered);
        },
        fail: (err) => reject(networkError(err && err.errMsg)),
      });
    });
  }

  function asError(response) {
    const body = response.data;
    const envelope = body && typeof body === 'object' ? body.error : null;
    if (envelope && typeof envelope.code === 'string' && typeof envelope.message === 'string') {
      return new ApiError({
        status: response.status,
        code: envelope.code,
        message: envelope.message,
        details: envelope.details,
        headers: response.headers,
      });
    }
    return new ApiError({
      status: response.status,
      code: `http.${response.status}`,
      message: MESSAGES.badResponse,
      headers: response.headers,
    });
  }

  function backoff(attempt) {
    return Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** attempt);
  }

  // -- login and refresh -----------------------------------------------------------------------

  /** DevTools against the embedded server: the sandbox mints the code, for one user a phone. */
  function sandboxLoginCode() {
    return new Promise((resolve, reject) => {
      const openid = load('sandbox_openid');
      wxApi().request({
        url: `${(opts.baseUrl || '').replace(/\/$/, '')}/sandbox/wechat/_control/login-code`,
        method: 'POST',
        data: openid ? { openid } : {},
        header: { 'Content-Type': 'application/json' },
        success: (res) => {
          if (res.statusCode !== 200 || !res.data || !res.data.code) {
            reject(new ApiError({ code: 'wechat.login_failed', message: MESSAGES.loginFailed }));
            return;
          }
          store('sandbox_openid', res.data.openid);
          resolve(res.data.code);
        },
        fail: (err) => reject(networkError(err && err.errMsg)),
      });
    });
  }

  function wxLogin() {
    if (opts.sandboxLogin) return sandboxLoginCode();
    return new Promise((resolve, reject) => {
      wxApi().login({
        success: (res) =>
          res && res.code
            ? resolve(res.code)
            : reject(new ApiError({ code: 'wechat.login_failed', message: MESSAGES.loginFailed })),
        fail: () => reject(new ApiError({ code: 'wechat.login_failed', message: MESSAGES.loginFailed })),
      });
    });
  }

  /** wx.login, then the audience's login endpoint; the tokens are kept. One at a time. */
  function login() {
    if (!loggingIn) {
      loggingIn = (async () => {
        for (let waited = false; ; waited = true) {
          // a login code is spent by its first use: a retry needs a fresh wx.login
          const code = await wxLogin();
          try {
            return keepTokens(
              await call({ method: 'POST', path: routes.login, data: { code }, auth: false }),
            );
          } catch (error) {
            const wait = error.status === 429 ? retryAfterSeconds(error) : Infinity;
            if (waited || wait > opts.maxRetryAfterS) throw error;
            await sleep(wait * 1000);
          }
        }
      })();
      loggingIn.then(
        () => { loggingIn = null; },
        () => { loggingIn = null; },
      );
    }
    return loggingIn;
  }

  /**
   * Rotate the refresh token, once for every request that found its access token expired at the
   * same time. Never retried on a network loss: the server spends the token on its first use, and
   * a second use revokes the whole session.
   */
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const token = load('refresh_token');
        if (!token) throw new ApiError({ status: 401, code: 'auth.refresh_invalid', message: '请重新登录。' });
        const answer = await call({
          method: 'POST',
          path: routes.refresh,
          data: { refresh_token: token },
          auth: false,
        });
        keepTokens(answer);
        return answer;
      })();
      refreshing.then(
        () => { refreshing = null; },
        () => { refreshing = null; },
      );
    }
    return refreshing;
  }

  /**
   * Refresh; a refused refresh (401: spent, expired, revoked; 400: none kept) logs in again
   * instead. A network loss or an outage during the refresh is the request's error.
   */
  async function refreshOrLogin() {
    try {
      await refresh();
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 400)) throw error;
      await login();
    }
  }

  // -- the request loop --------------------------------------------------------------------------

  const AUTH_PATHS = Object.keys(routes).filter((k) => ['login', 'refresh', 'bind'].indexOf(k) >= 0).map((k) => routes[k]);

  /**
   * One API call with every rule of the module docstring. `options`: `method`, `path`, `query`,
   * `data`, `auth` (false: no token and no re-login), `idempotencyKey` (a write's key, to reuse
   * one across calls), `retry` (false: no retry on network loss), `download` (a GET whose answer
   * is a file: wx.downloadFile, resolving the saved file's path).
   */
  async function call(options) {
    const method = (options.method || 'GET').toUpperCase();
    const isWrite = WRITE_METHODS.indexOf(method) >= 0;
    const isAuthCall = AUTH_PATHS.indexOf(options.path) >= 0;
    const key = isWrite ? options.idempotencyKey || newIdempotencyKey() : null;
    const retriable = options.retry !== false && !isAuthCall;
    const url = (opts.baseUrl || '').replace(/\/$/, '') + options.path + queryString(options.query);
    let data;
    if (isWrite && method !== 'DELETE') data = options.data === undefined ? {} : options.data;
    let authStage = 0; // 0 as stored, 1 refreshed, 2 logged in again
    let netAttempts = 0;
    let rateWaited = false;
    let busyWaits = 0;
    let lostAnswer = false;

    for (;;) {
      const headers = { Accept: options.download ? '*/*' : 'application/json' };
      if (data !== undefined) headers['Content-Type'] = 'application/json';
      if (key) headers['Idempotency-Key'] = key;
      const token = options.auth === false ? '' : load('access_token');
      if (token) headers.Authorization = `Bearer ${token}`;

      let response;
      try {
        response = await (options.download ? fetchFile({ url, headers }) : exchange({ method, url, data, headers }));
      } catch (error) {
        if (retriable && netAttempts < opts.networkRetries) {
          await sleep(backoff(netAttempts));
          netAttempts += 1;
          lostAnswer = true;
          continue;
        }
        throw error;
      }

      if (response.status >= 200 && response.status < 300) {
        return response.status === 204 || response.data === '' ? null : response.data;
      }
      const error = asError(response);

      if (error.status === 401 && options.auth !== false) {
        if (error.code === 'auth.token_expired' && authStage === 0) {
          authStage = 1;
          await refreshOrLogin();
          continue;
        }
        if (authStage < 2) {
          authStage = 2;
          await login();
          continue;
        }
        throw error;
      }
      if (error.status === 429 && !rateWaited && !isAuthCall) {
        const wait = retryAfterSeconds(error);
        if (wait <= opts.maxRetryAfterS) {
          rateWaited = true;
          await sleep(wait * 1000);
          continue;
        }
        throw error;
      }
      if (error.status === 409 && error.code === 'request.in_progress' && busyWaits < opts.networkRetries) {
        busyWaits += 1;
        await sleep(retryAfterSeconds(error) * 1000);
        continue;
      }
      if (error.status === 503 && retriable && netAttempts < opts.networkRetries) {
        await sleep(Math.max(backoff(netAttempts), retryAfterSeconds(error) * 1000));
        netAttempts += 1;
        continue;
      }
      if (error.status === 404 && method === 'DELETE' && lostAnswer) {
        return null; // the first copy deleted it before its answer was lost
      }
      throw error;
    }
  }

  // -- uploads -----------------------------------------------------------------------------------

  /** wx.uploadFile once: resolves the store's answer, rejects with a network loss. */
  function uploadOnce(intent, filePath, onProgress) {
    return new Promise((resolve, reject) => {
      const task = wxApi().uploadFile({
        url: intent.url,
        filePath,
        name: intent.file_field,
        formData: intent.fields,
        timeout: opts.timeoutMs * 4,
        success: (res) => resolve({ status: res.statusCode, data: res.data }),
        fail: (err) => reject(networkError(err && err.errMsg)),
      });
      if (task && typeof task.onProgressUpdate === 'function' && onProgress) {
        task.onProgressUpdate((p) =>
          onProgress({
            progress: p.progress,
            sent: p.totalBytesSent,
            total: p.totalBytesExpectedToSend,
          }),
        );
      }
    });
  }

  /**
   * Upload one file and return the processed file (the API's UploadOut). By default a citizen's
   * material: POST /api/v1/uploads, then POST /api/v1/uploads/{id}/complete, with
   * `file`: `{ itemCode, materialCode, caseId?, companyId?, principalUserId?, replaces?,
   * filePath, size, filename?, contentType?, onProgress? }` (`size` as wx.chooseMedia reports it).
   * `route` (optional) takes another upload of the same three steps (a staff attachment):
   * - `intentPath` and `intentBody`: the intent's route and its whole body (then `file` needs
   *   only `filePath` and `onProgress`);
   * - `completePath(uploadId)`: the completion's route;
   * - `keys` (pages' `writeKeys()`: `keyFor(path, body)`, `done(path, body)`): the intent's and
   *   the completion's Idempotency-Keys kept beyond this call, so a photo sent again gets the
   *   same policy back; a policy the store refused is let go (the next try asks for a new one),
   *   and both keys once the file is complete. Without `keys` each call has its own.
   * A network loss at any step is retried without a second upload: the intent and the
   * completion are keyed writes, and the file goes again to the same presigned policy.
   */
  async function upload(file, route) {
    const way = route || {};
    let body = way.intentBody;
    if (!body) {
      body = {
        purpose: 'material',
        item_code: file.itemCode,
        material_code: file.materialCode,
        filename: file.filename || String(file.filePath).split('/').pop() || 'photo.jpg',
        content_type: file.contentType || 'image/jpeg',
        size: file.size,
      };
      if (file.caseId != null) body.case_id = file.caseId;
      if (file.companyId != null) body.company_id = file.companyId;
      if (file.principalUserId != null) body.principal_user_id = file.principalUserId;
      // the kept file this one takes the place of once it is ready (a one-file material)
      if (file.replaces != null) body.replaces = file.replaces;
    }
    const intentPath = way.intentPath || '/api/v1/uploads';
    const keys = way.keys || null;
    const intent = await call({
      method: 'POST',
      path: intentPath,
      data: body,
      idempotencyKey: keys ? keys.keyFor(intentPath, body) : undefined,
    });

    for (let attempt = 0; ; attempt += 1) {
      let sent;
      try {
        sent = await uploadOnce(intent, file.filePath, file.onProgress);
      } catch (error) {
        if (attempt < opts.uploadRetries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw error;
      }
      if (sent.status >= 200 && sent.status < 300) break;
      const text = typeof sent.data === 'string' ? sent.data : '';
      if (sent.status >= 500 && attempt < opts.uploadRetries) {
        await sleep(backoff(attempt));
        continue;
      }
      const expired = /expired/i.test(text);
      if (keys) keys.done(intentPath, body); // a refused or expired policy: the next try asks anew
      throw new ApiError({
        status: sent.status,
        code: expired ? 'upload.expired' : 'upload.refused',
        message: expired ? MESSAGES.uploadExpired : MESSAGES.uploadRefused,
        details: { upload_id: intent.upload_id },
      });
    }

    const completePath = way.completePath
      ? way.completePath(intent.upload_id)
      : `/api/v1/uploads/${intent.upload_id}/complete`;
    const completeKey = keys ? keys.keyFor(completePath) : newIdempotencyKey();
    for (let waits = 0; ; waits += 1) {
      try {
        const done = await call({ method: 'POST', path: completePath, idempotencyKey: completeKey });
        if (keys) {
          keys.done(intentPath, body);
          keys.done(completePath);
        }
        return done;
      } catch (error) {
        // another copy of this completion is still verifying the file: ask again shortly
        if (error.code === 'storage.completion_running' && waits < opts.networkRetries) {
          await sleep(retryAfterSeconds(error) * 1000);
          continue;
        }
        throw error;
      }
    }
  }

  // -- the rest of the session -------------------------------------------------------------------

  /** Staff mode: bind this WeChat to a staff account with the administrator's one-time code. */
  async function bindStaff(bindCode) {
    if (!routes.bind) throw new Error('binding is for staff clients');
    const code = await wxLogin();
    const answer = await call({ method: 'POST', path: routes.bind, data: { bind_code: bindCode, code }, auth: false });
    keepTokens(answer);
    return answer;
  }

  async function logout() {
    try {
      if (load('access_token')) await call({ method: 'POST', path: routes.logout, retry: false });
    } finally {
      store('access_token', '');
      store('refresh_token', '');
    }
  }

  return {
    audience,
    routes,
    /** change settings at run time (a test's server, another deployment): `{ baseUrl, … }` */
    configure: (changes) => Object.assign(opts, changes),
    call,
    get: (path, query, extra) => call(Object.assign({ method: 'GET', path, query }, extra)),
    post: (path, data, extra) => call(Object.assign({ method: 'POST', path, data }, extra)),
    put: (path, data, extra) => call(Object.assign({ method: 'PUT', path, data }, extra)),
    patch: (path, data, extra) => call(Object.assign({ method: 'PATCH', path, data }, extra)),
    del: (path, extra) => call(Object.assign({ method: 'DELETE', path }, extra)),
    /** A file the API serves (a receipt's PDF), with every rule of a GET: its saved path. */
    download: (path, extra) => call(Object.assign({ method: 'GET', path, download: true }, extra)),
    login,
    refresh,
    bindStaff,
    logout,
    upload,
    isLoggedIn: () => Boolean(load('access_token')),
    sleep,
  };
}

/** The citizen's client of this mini-program, and the staff mode's (its own tokens and routes). */
const client = createClient();
const staffClient = createClient({ audience: 'staff' });

module.exports = {
  ApiError,
  MESSAGES,
  createClient,
  client,
  staffClient,
  describeError,
  labelsFromGuide,
  newIdempotencyKey,
};
