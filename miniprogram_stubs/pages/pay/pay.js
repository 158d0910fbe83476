/**
 * Paying a case's fee: the fee notice (amount in figures and 大写, deadline, lines), WeChat Pay
 * in the mini-program (utils/pay.js: the server's sheet, wx.requestPayment, the "returned" hint),
 * with consent to the payment's messages asked first thing in the tap. A payer who closes the
 * sheet is told gently that the order is still payable. For another device (a company's finance
 * officer), an Alipay QR code: its text, to copy or show. Query: `id` (the case).
 */
const { client, describeError } = require('../../utils/api.js');
const { pay } = require('../../utils/pay.js');
const { prepareOn, requestConsent } = require('../../utils/consent.js');
const { applyDisplay } = require('../../utils/display.js');
const { yuan, dateText } = require('../../utils/format.js');

const CANCELLED = '您已取消支付，订单仍然有效，可在缴费期限前再次缴费。';
const CONFLICT_NOTICE = '缴费状态已变化，已为您刷新。';
const CHANNEL = { wechatpay: '微信支付', alipay: '支付宝' };

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
    alipayOffered: true,
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

  async load() {
    this.setData({ loading: true, error: '' });
    try {
      const fee = await client.get(`/api/v1/cases/${this.caseId}/fee`);
      this.setData({ loading: false, fee: shape(fee) });
    } catch (error) {
      this.setData({ loading: false, error: describeError(error).text });
    }
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

  /** 支付宝扫码: a QR code another phone scans; its text shown and copied. */
  async onAlipayQr() {
    if (this.data.qrBusy) return;
    this.setData({ qrBusy: true, error: '', notice: '' });
    try {
      const checkout = await client.post(`/api/v1/cases/${this.caseId}/fee/pay`, { channel: 'alipay', mode: 'qr' });
      const qr = (checkout.client && checkout.client.qr_code) || '';
      this.setData({ qrBusy: false, qr, qrExpires: dateText(checkout.expires_at) });
    } catch (error) {
      const notEnabled = error && error.fields && error.fields.some((f) => f.code === 'channel_not_enabled');
      if (notEnabled) {
        this.setData({ qrBusy: false, alipayOffered: false, notice: '暂不支持支付宝缴费，请使用微信支付。' });
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

  onRefresh() {
    return this.load();
  },

  onBack() {
    // eslint-disable-next-line no-undef
    wx.navigateBack({ delta: 1 });
  },
});
