/**
 * Paying a case's fee: the fee notice (amount in figures and 大写, deadline, lines), WeChat Pay
 * in the mini-program (utils/pay.js: the server's sheet, wx.requestPayment, the "returned" hint),
 * with consent to the payment's messages asked first thing in the tap. A payer who closes the
 * sheet is told gently that the order is still payable. For another device (a company's finance
 * officer), a QR code: its text, to copy or show. Query: `id` (the case).
 *
 * - GET /api/v1/cases/{id}/fee on load: the notice, its payments (each opens its electronic
 *   receipt, pages/case/receipt) and `pay_options`, the ways this deployment takes while the
 *   notice is open: WeChat Pay here only when wechatpay offers `in_app`, a QR for each channel
 *   offering `qr`, nothing to pay with when the list is empty; a notice without the field (an
 *   older server) gets WeChat Pay here and an Alipay QR, as before.
 * - POST …/fee/pay {channel, mode}: `in_app` through utils/pay.js, `qr` for the code's text.
 */
const { client, describeError } = require('../../utils/api.js');
const { loadState } = require('../../utils/lifecycle.js');
const { pay } = require('../../utils/pay.js');
const { prepareOn, requestConsent } = require('../../utils/consent.js');
const { applyDisplay } = require('../../utils/display.js');
const { yuan, dateText } = require('../../utils/format.js');

const CANCELLED = '您已取消支付，订单仍然有效，可在缴费期限前再次缴费。';
const CONFLICT_NOTICE = '缴费状态已变化，已为您刷新。';
const CHANNEL = { wechatpay: '微信支付', alipay: '支付宝' };
const QR_LABEL = { wechatpay: '微信', alipay: '支付宝' };

/**
 * The ways to pay the notice offers: `{ inApp, qr: [{ channel, label }], none }`. Without
 * `pay_options` (a server before it): WeChat Pay in the mini-program and an Alipay QR.
 */
function payWays(fee) {
  if (!Array.isArray(fee.pay_options)) {
    return { inApp: true, qr: [{ channel: 'alipay', label: QR_LABEL.alipay }], none: false };
  }
  const options = fee.pay_options.filter((o) => o && Array.isArray(o.modes));
  const inApp = options.some((o) => o.channel === 'wechatpay' && o.modes.indexOf('in_app') >= 0);
  const qr = options
    .filter((o) => o.modes.indexOf('qr') >= 0)
    .map((o) => ({ channel: o.channel, label: QR_LABEL[o.channel] || o.label || o.channel }));
  return { inApp, qr, none: !inApp && qr.length === 0 };
}

function shape(fee) {
  return {
    noticeNumber: fee.notice_number,
    title: fee.title,
    amount: fee.amount || yuan(fee.amount_fen),
    amountInWords: fee.amount_in_words || '',
    status: fee.status,
    statusLabel: fee.status_label || '',
    dueText: dateText(fee.due_on),
    payee: (fee.payee_department && fee.payee_department.name) || '',
    payable: fee.status === 'open',
    lines: (fee.lines || []).map((l, i) => ({
      key: i,
      name: l.name,
      quantity: l.quantity,
      unit: l.unit || '',
      amount: yuan(l.amount_fen),
    })),
    payments: (fee.payments || []).map((p) => ({
      id: p.id,
      channel: CHANNEL[p.channel] || p.channel,
      amount: yuan(p.amount_fen),
      paidAt: dateText(p.paid_at),
      receiptNumber: p.receipt_number,
    })),
  };
}

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    fee: null,
    paying: false,
    qr: '',
    qrExpires: '',
    qrBusy: false,
    inAppOffered: true,
    qrOptions: [],
    noWayToPay: false,
    qrLabel: '',
  },

  onLoad(query) {
    applyDisplay(this);
    this.caseId = Number((query && query.id) || 0);
    prepareOn(this, 'pay');
    return this.load();
  },

  onShow() {
    applyDisplay(this);
  },

  load() {
    return loadState(this, async () => {
      const fee = await client.get(`/api/v1/cases/${this.caseId}/fee`);
      const ways = payWays(fee);
      // a channel the server refused as not enabled stays hidden until the page is opened again
      const refused = this.refusedChannels || [];
      this.setData({
        loading: false,
        fee: shape(fee),
        inAppOffered: ways.inApp,
        qrOptions: ways.qr.filter((o) => refused.indexOf(o.channel) < 0),
        noWayToPay: ways.none,
      });
    });
  },

  /** 微信支付: the consent sheet first, inside the tap, then the payment sheet. */
  onPay() {
    const consenting = requestConsent(this.prepared);
    return this.payNow(consenting);
  },

  async payNow(consenting) {
    if (this.data.paying) return;
    this.setData({ paying: true, error: '', notice: '' });
    try {
      await consenting;
      const result = await pay(this.caseId);
      if (result.status === 'cancelled') {
        this.setData({ paying: false, notice: CANCELLED });
        return;
      }
      this.setData({ paying: false, notice: '支付成功，正在确认到账，请稍后查看办件进度。' });
      await this.load();
    } catch (error) {
      this.setData({ paying: false });
      if (error && error.isConflict && error.code !== 'payments.payment_starting') {
        await this.load();
        this.setData({ notice: CONFLICT_NOTICE });
        return;
      }
      this.setData({ error: describeError(error).text });
    }
  },

  /** 扫码支付 (the channel in the tapped button's data): a QR code another phone scans. */
  onQr(event) {
    return this.startQr(event.currentTarget.dataset.channel);
  },

  /** 支付宝扫码 */
  onAlipayQr() {
    return this.startQr('alipay');
  },

  /** A QR code of `channel` another phone scans; its text shown and copied. */
  async startQr(channel) {
    if (this.data.qrBusy) return;
    const label = QR_LABEL[channel] || channel;
    this.setData({ qrBusy: true, error: '', notice: '' });
    try {
      const checkout = await client.post(`/api/v1/cases/${this.caseId}/fee/pay`, { channel, mode: 'qr' });
      const qr = (checkout.client && checkout.client.qr_code) || '';
      this.setData({ qrBusy: false, qr, qrLabel: label, qrExpires: dateText(checkout.expires_at) });
    } catch (error) {
      const notEnabled = error && error.fields && error.fields.some((f) => f.code === 'channel_not_enabled');
      if (notEnabled) {
        this.refusedChannels = (this.refusedChannels || []).concat([channel]);
        this.setData({
          qrBusy: false,
          qrOptions: this.data.qrOptions.filter((o) => o.channel !== channel),
          notice: `暂不支持${label}缴费，${this.data.inAppOffered ? '请使用微信支付。' : '请选择其他支付方式。'}`,
        });
        return;
      }
      this.setData({ qrBusy: false });
      if (error && error.isConflict && error.code !== 'payments.payment_starting') {
        await this.load();
        this.setData({ notice: CONFLICT_NOTICE });
        return;
      }
      this.setData({ error: describeError(error).text });
    }
  },

  onCopyQr() {
    // eslint-disable-next-line no-undef
    wx.setClipboardData({ data: this.data.qr });
  },

  /** A payment's electronic receipt (电子缴费凭证). */
  onReceipt(event) {
    const id = Number(event.currentTarget.dataset.id);
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/case/receipt?case=${this.caseId}&payment=${id}` });
  },

  onRefresh() {
    return this.load();
  },

  onBack() {
    // eslint-disable-next-line no-undef
    wx.navigateBack({ delta: 1 });
  },
});
