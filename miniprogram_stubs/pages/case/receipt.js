/**
 * An electronic payment receipt (缴费凭证): pages/case/receipt?case=…&payment=…, opened from each
 * payment of the fee notice (pages/pay) and from the case's detail.
 *
 * - GET /api/v1/cases/{case}/payments/{payment}/receipt on load and on pull-down (ReceiptOut):
 *   laid out like the paper receipt: its number, the payer, the item and lines, the amount in
 *   figures and in capitals (大写), the payee, the time, the channel and its transaction, the
 *   verification code anyone may check it with; a refund or a surplus is said on it.
 * - 下载 PDF: `client.download` (wx.downloadFile of …/receipt.pdf with the client's token, its
 *   refresh or new login on a 401, its retries on a network loss, and the server's error message
 *   read from the saved answer), then wx.openDocument.
 * A 403 or a 404 (not my case, no such payment) shows the server's message.
 */
const { ApiError, client, describeError } = require('../../utils/api.js');
const { pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { yuan } = require('../../utils/format.js');

const DOWNLOAD_FAILED = '电子票据下载失败，请稍后重试。';
const OPEN_FAILED = '无法打开电子票据文件，请稍后重试。';

function shape(r) {
  return {
    receiptNumber: r.receipt_number,
    noticeNumber: r.notice_number,
    payer: r.payer,
    title: r.title || '',
    taxNumber: r.tax_number || '',
    item: r.item,
    lines: (r.lines || []).map((l, i) => ({ key: i, name: l.name, quantity: l.quantity, unit: l.unit || '', amount: yuan(l.amount_fen) })),
    amount: r.amount || yuan(r.amount_fen),
    amountInWords: r.amount_in_words || '',
    payee: r.payee_department,
    paidAt: r.paid_at_china || r.paid_at,
    channel: r.channel_name || r.channel,
    transactionId: r.transaction_id || '',
    outTradeNo: r.out_trade_no || '',
    fiscalReceipt: r.fiscal_receipt || '',
    verificationCode: r.verification_code || '',
    refunded: Number(r.refunded_fen) > 0 ? yuan(r.refunded_fen) : '',
    surplus: r.disposition === 'surplus',
    note: r.note || '',
  };
}

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    receipt: null,
    downloading: false,
  },

  onLoad(query) {
    applyDisplay(this);
    const q = query || {};
    this.caseId = Number(q.case || 0);
    this.paymentId = Number(q.payment || 0);
    return this.load();
  },

  onShow() {
    // a receipt does not change while it is open (a refund is read on pull-down)
    applyDisplay(this);
  },

  onPullDownRefresh: pullToRefresh,

  receiptPath() {
    return `/api/v1/cases/${this.caseId}/payments/${this.paymentId}/receipt`;
  },

  load() {
    return loadState(this, async () => {
      const r = await client.get(this.receiptPath());
      this.setData({ loading: false, receipt: shape(r) });
    });
  },

  /** 下载 PDF: the file, then the phone's document viewer (to keep or forward it). */
  async onDownload() {
    if (this.data.downloading) return;
    this.setData({ downloading: true, error: '', notice: '' });
    let filePath;
    try {
      filePath = await client.download(`${this.receiptPath()}.pdf`);
    } catch (error) {
      this.setData({ downloading: false, error: error instanceof ApiError ? describeError(error).text : DOWNLOAD_FAILED });
      return;
    }
    await new Promise((resolve) => {
      // eslint-disable-next-line no-undef
      wx.openDocument({
        filePath,
        fileType: 'pdf',
        showMenu: true,
        success: () => resolve(),
        fail: () => {
          this.setData({ error: OPEN_FAILED });
          resolve();
        },
      });
    });
    this.setData({ downloading: false });
  },

  onCopyCode() {
    if (!this.data.receipt) return;
    // eslint-disable-next-line no-undef
    wx.setClipboardData({ data: `${this.data.receipt.receiptNumber} ${this.data.receipt.verificationCode}` });
  },
});
