/**
 * Where the mini-program finds the Zhangban API.
 *
 * The embedded server (`make serve` in the repository) listens on http://127.0.0.1:8000; in
 * WeChat DevTools tick "不校验合法域名、web-view（业务域名）、TLS 版本以及 HTTPS 证书" to reach it.
 * A release build points at the deployment's HTTPS domain, which must be listed among the
 * mini-program's request and uploadFile legal domains (the object store's too).
 */
module.exports = {
  baseUrl: 'http://127.0.0.1:8000',
  /** milliseconds a single request may take before wx.request fails with a timeout */
  timeoutMs: 15000,
  /** retries after a network loss (or a 503) for reads and keyed writes, waiting 0.5 s, 1 s, 2 s… */
  networkRetries: 3,
  backoffBaseMs: 500,
  backoffMaxMs: 8000,
  /** a 429 whose Retry-After is longer than this is shown at once instead of waited for */
  maxRetryAfterS: 30,
  /** retries of wx.uploadFile after a network loss, with the same upload policy */
  uploadRetries: 3,
  /**
   * DevTools against the embedded server only: take login codes from the sandbox's control API
   * (the sandbox knows no code the real wx.login gives). Never true in a release build.
   */
  sandboxLogin: false,
};
