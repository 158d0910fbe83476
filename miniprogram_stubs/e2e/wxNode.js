/**
 * A `wx` for Node over real HTTP: one phone, with its own WeChat user and storage.
 *
 * - wx.request → fetch, answering as WeChat does (`success({ statusCode, data, header })`, or
 *   `fail({ errMsg })` when no answer came);
 * - wx.uploadFile → a real multipart/form-data POST to the presigned URL: the policy's fields,
 *   then the file under `name`, with onProgressUpdate;
 * - wx.downloadFile → a real GET whose answer, whatever its status, is saved to a temporary file
 *   (as WeChat saves it), read back with wx.getFileSystemManager().readFileSync;
 * - wx.login → the sandbox's control API mints a login code for this phone's WeChat user (the
 *   first call makes the user, later ones log the same user in again), as `zhangban demo` does;
 * - wx.requestSubscribeMessage → the sandbox records the user's answers (every template accepted
 *   unless `phone.consent` says otherwise), as the demo's `_allow` does;
 * - wx.requestPayment → the sandbox's WeChat Pay sheet (`/sandbox/wechatpay/_control/request-payment`:
 *   the prepay_id and paySign checked as WeChat does), the payer's tap,
 *   or the payer closing the sheet when `phone.payment` is 'cancel';
 * - wx.requestFacialVerify → the sandbox completes the face verification of a verify_id.
 *
 * `phone.faults` injects network losses: `loseAnswers(predicate, n)` lets the request reach the
 * server and then reports `request:fail timeout` (the answer lost on the way back), `loseUploads(n)`
 * does the same to wx.uploadFile. Every request is recorded (method, path, Idempotency-Key; never
 * a token) in `phone.log`.
 */
const fs = require('fs');
const path = require('path');

function createPhone({ baseUrl }) {
  let downloadDir = null;
  /** This phone's temporary folder of downloads, removed when the test process exits. */
  function downloads() {
    if (!downloadDir) {
      const made = fs.mkdtempSync(path.join(require('os').tmpdir(), 'zhangban-mp-downloads-'));
      process.on('exit', () => fs.rmSync(made, { recursive: true, force: true }));
      downloadDir = made;
    }
    return downloadDir;
  }
  const storage = {};
  const log = [];
  const faults = { answers: [], uploads: 0 };
  const phone = {
    openid: null,
    log,
    storage,
    consent: 'accept',
    payment: 'pay',
    faults: {
      loseAnswers(predicate, count) {
        faults.answers.push({ predicate, left: count || 1 });
      },
      loseUploads(count) {
        faults.uploads += count || 1;
      },
    },
    /** recorded requests of one method whose path matches */
    requests: (method, pattern) =>
      log.filter((r) => r.method === method && (pattern instanceof RegExp ? pattern.test(r.path) : r.path === pattern)),
    /** the same, without those refused for an expired token (the client refreshed and asked again) */
    served: (method, pattern) => phone.requests(method, pattern).filter((r) => r.status !== 401),
  };

  async function control(route, body) {
    const res = await fetch(`${baseUrl}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
    const data = await res.json();
    if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(data).slice(0, 300)}`);
    return data;
  }

  function takeFault(entry) {
    const fault = faults.answers.find((f) => f.left > 0 && f.predicate(entry));
    if (!fault) return false;
    fault.left -= 1;
    return true;
  }

  const wx = {
    getStorageSync: (k) => (k in storage ? storage[k] : ''),
    setStorageSync: (k, v) => {
      storage[k] = v;
    },
    removeStorageSync: (k) => {
      delete storage[k];
    },

    request(opts) {
      const method = (opts.method || 'GET').toUpperCase();
      const url = new URL(opts.url);
      const headers = Object.assign({}, opts.header || {});
      const entry = { method, path: url.pathname, query: url.search, key: headers['Idempotency-Key'] || null };
      log.push(entry);
      let body;
      if (opts.data !== undefined && method !== 'GET') {
        body = typeof opts.data === 'string' ? opts.data : JSON.stringify(opts.data);
      }
      (async () => {
        let res;
        let text;
        try {
          res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(opts.timeout || 60000) });
          text = await res.text();
        } catch (error) {
          entry.outcome = 'network';
          opts.fail && opts.fail({ errMsg: `request:fail ${error.message}` });
          return;
        }
        entry.status = res.status;
        if (takeFault(entry)) {
          entry.outcome = 'answer lost';
          opts.fail && opts.fail({ errMsg: 'request:fail timeout' });
          return;
        }
        let data = text;
        try {
          data = text ? JSON.parse(text) : '';
        } catch (e) {
          // not JSON: WeChat hands the text over as it is
        }
        const header = {};
        res.headers.forEach((v, k) => {
          header[k] = v;
        });
        opts.success && opts.success({ statusCode: res.status, data, header, errMsg: 'request:ok' });
      })();
      return { abort() {} };
    },

    uploadFile(opts) {
      const listeners = [];
      const entry = { method: 'UPLOAD', path: new URL(opts.url).pathname, key: (opts.formData || {}).key || null };
      log.push(entry);
      (async () => {
        let res;
        let text;
        try {
          const bytes = fs.readFileSync(opts.filePath);
          const form = new FormData();
          Object.keys(opts.formData || {}).forEach((k) => form.append(k, opts.formData[k]));
          const type = (opts.formData && opts.formData['Content-Type']) || 'application/octet-stream';
          form.append(opts.name, new Blob([bytes], { type }), path.basename(opts.filePath));
          res = await fetch(opts.url, { method: 'POST', body: form, signal: AbortSignal.timeout(opts.timeout || 60000) });
          text = await res.text();
          listeners.forEach((l) =>
            l({ progress: 100, totalBytesSent: bytes.length, totalBytesExpectedToSend: bytes.length }),
          );
        } catch (error) {
          entry.outcome = 'network';
          opts.fail && opts.fail({ errMsg: `uploadFile:fail ${error.message}` });
          return;
        }
        entry.status = res.status;
        if (faults.uploads > 0) {
          faults.uploads -= 1;
          entry.outcome = 'answer lost';
          opts.fail && opts.fail({ errMsg: 'uploadFile:fail socket timeout' });
          return;
        }
        opts.success && opts.success({ statusCode: res.status, data: text, errMsg: 'uploadFile:ok' });
      })();
      return { onProgressUpdate: (l) => listeners.push(l), abort() {} };
    },

    downloadFile(opts) {
      const url = new URL(opts.url);
      const entry = { method: 'DOWNLOAD', path: url.pathname, key: null };
      log.push(entry);
      (async () => {
        let res;
        let bytes;
        try {
          res = await fetch(url, { headers: opts.header || {}, signal: AbortSignal.timeout(opts.timeout || 60000) });
          bytes = Buffer.from(await res.arrayBuffer());
        } catch (error) {
          entry.outcome = 'network';
          opts.fail && opts.fail({ errMsg: `downloadFile:fail ${error.message}` });
          return;
        }
        entry.status = res.status;
        const saved = path.join(downloads(), `download-${log.length}`);
        fs.writeFileSync(saved, bytes);
        const header = {};
        res.headers.forEach((v, k) => {
          header[k] = v;
        });
        opts.success && opts.success({ statusCode: res.status, tempFilePath: saved, header, errMsg: 'downloadFile:ok' });
      })();
      return { onProgressUpdate() {}, abort() {} };
    },

    getFileSystemManager() {
      return { readFileSync: (file, encoding) => fs.readFileSync(file, encoding) };
    },

    login(opts) {
      control('/sandbox/wechat/_control/login-code', phone.openid ? { openid: phone.openid } : {}).then(
        (issued) => {
          phone.openid = issued.openid;
          opts.success && opts.success({ code: issued.code, errMsg: 'login:ok' });
        },
        (error) => opts.fail && opts.fail({ errMsg: `login:fail ${error.message}` }),
      );
    },

    requestSubscribeMessage(opts) {
      const results = {};
      (opts.tmplIds || []).forEach((id) => {
        results[id] = phone.consent;
      });
      control('/sandbox/wechat/_control/subscribe', { openid: phone.openid, results }).then(
        () => opts.success && opts.success(Object.assign({ errMsg: 'requestSubscribeMessage:ok' }, results)),
        (error) => opts.fail && opts.fail({ errMsg: `requestSubscribeMessage:fail ${error.message}`, errCode: 20004 }),
      );
    },

    requestPayment(opts) {
      // What WeChat does with the five parameters the phone holds: the peer finds the order by
      // its prepay_id and checks the paySign with the merchant's key, then the payer taps or
      // closes the sheet.
      const params = {};
      ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign'].forEach((k) => {
        params[k] = opts[k];
      });
      control('/sandbox/wechatpay/_control/request-payment', { params, cancel: phone.payment === 'cancel' }).then(
        (answer) => {
          if (answer && answer.errMsg === 'requestPayment:ok') {
            if (opts.success) opts.success({ errMsg: answer.errMsg });
          } else if (opts.fail) {
            opts.fail({ errMsg: (answer && answer.errMsg) || 'requestPayment:fail' });
          }
        },
        (error) => opts.fail && opts.fail({ errMsg: `requestPayment:fail ${error.message}` }),
      );
    },

    requestFacialVerify(opts) {
      control('/sandbox/wechat/_control/face-complete', { verify_id: opts.verifyId }).then(
        () => opts.success && opts.success({ errMsg: 'requestFacialVerify:ok', verifyResult: opts.verifyId }),
        (error) => opts.fail && opts.fail({ errMsg: `requestFacialVerify:fail ${error.message}` }),
      );
    },
  };

  phone.wx = wx;
  return phone;
}

module.exports = { createPhone };
