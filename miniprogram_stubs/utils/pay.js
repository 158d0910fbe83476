/**
 * Paying a case's fee with WeChat Pay inside the mini-program.
 *
 * 1. POST /api/v1/cases/{id}/fee/pay {channel: 'wechatpay', mode: 'in_app'}: the server opens (or,
 *    on a retried tap, gives again) the payment sheet's parameters, already signed;
 * 2. wx.requestPayment with exactly those parameters;
 * 3. POST …/fee/returned {out_trade_no} whatever the sheet answered, so the server asks WeChat Pay
 *    at once instead of waiting for the callback;
 * 4. the case moves to "result pending" when the signed callback is recorded: the page reloads it.
 *
 * A payer who closes the sheet (`requestPayment:fail cancel`) has not failed: the order stays
 * open and payable, and `pay` answers `{ status: 'cancelled', payable: true }` for the page to
 * offer the button again. Any other failure of the sheet is an ApiError `payment.failed`.
 */

const { ApiError, MESSAGES, client: defaultClient } = require('./api.js');

function requestPayment(wxApi, params) {
  return new Promise((resolve, reject) => {
    wxApi.requestPayment(
      Object.assign({}, params, {
        success: resolve,
        fail: (err) => reject(err || { errMsg: 'requestPayment:fail' }),
      }),
    );
  });
}

/**
 * Pay case `caseId`'s fee. Options: `client` (default: the citizen's), `wx` (default: the global),
 * `channel` ('wechatpay'), `receiptTitle`, `taxNumber` (a company's receipt).
 * Answers `{ status: 'paid' | 'cancelled', payable, outTradeNo }`.
 */
async function pay(caseId, options) {
  const opts = options || {};
  const api = opts.client || defaultClient;
  // eslint-disable-next-line no-undef
  const wxApi = opts.wx || (typeof wx !== 'undefined' ? wx : undefined);
  const body = { channel: opts.channel || 'wechatpay', mode: 'in_app' };
  if (opts.receiptTitle) body.receipt_title = opts.receiptTitle;
  if (opts.taxNumber) body.tax_number = opts.taxNumber;
  const checkout = await api.post(`/api/v1/cases/${caseId}/fee/pay`, body);
  const c = checkout.client || {};
  let outcome = 'paid';
  let failure = null;
  try {
    await requestPayment(wxApi, {
      timeStamp: c.timeStamp,
      nonceStr: c.nonceStr,
      package: c.package,
      signType: c.signType,
      paySign: c.paySign,
    });
  } catch (err) {
    const errMsg = String((err && err.errMsg) || '');
    outcome = /cancel/i.test(errMsg) ? 'cancelled' : 'failed';
    failure = errMsg;
  }
  try {
    await api.post(`/api/v1/cases/${caseId}/fee/returned`, { out_trade_no: checkout.out_trade_no });
  } catch (e) {
    // only a hint to the server: the payment callback and the worker settle the order anyway
  }
  if (outcome === 'failed') {
    throw new ApiError({
      code: 'payment.failed',
      message: MESSAGES.paymentFailed,
      details: { errMsg: failure.slice(0, 200), out_trade_no: checkout.out_trade_no },
    });
  }
  return { status: outcome, payable: outcome !== 'paid', outTradeNo: checkout.out_trade_no };
}

module.exports = { pay };
