/**
 * The supervisors' card board (督查看板): GET /api/v1/supervisor/board (red, yellow, running,
 * paused counts of a department; default the supervisor's own) and the red or yellow cases,
 * most urgent first (GET /api/v1/supervisor/cases?card=…, cursor pages). A carded case may be
 * supervised from here (POST /api/v1/supervisor/cases/{id}/notices {message}: 督办 to whoever
 * holds it). The inbox shows the way here only to supervisors; anyone else who arrives gets the
 * API's 403 message. Pull down to refresh.
 */
const shared = require('./shared.js');

const { api } = shared;

function decorate(item) {
  return Object.assign({}, item, {
    cardText: shared.CARD_LABELS[item.card] || '',
    overdueText: item.overdue_working_days > 0 ? `已超期 ${item.overdue_working_days} 个工作日` : '',
    dueText: item.promised_due_on ? `承诺办结 ${shared.day(item.promised_due_on)}` : '',
    holdersText: (item.holders || [])
      .map((h) => `${h.step_name}·${h.status === 'claimed' ? '办理中' : shared.TASK_STATUS_LABELS[h.status] || h.status}`)
      .join('，'),
  });
}

Page({
  data: {
    department: '',
    board: null,
    card: 'red',
    items: [],
    nextCursor: null,
    loading: false,
    loadingMore: false,
    forbidden: '',
    error: '',
    noticeFor: 0, // the case a 督办 is being written for
    message: '',
    messageError: '',
    busy: false,
  },

  onLoad(options) {
    this.keys = shared.writeKeys();
    this.setData({ department: (options && options.department) || '' });
    return this.refresh();
  },

  query(extra) {
    const q = Object.assign({}, extra || {});
    if (this.data.department) q.department = this.data.department;
    return q;
  },

  async refresh() {
    this.setData({ loading: true, error: '', forbidden: '' });
    try {
      const board = await api.get('/api/v1/supervisor/board', this.query());
      this.setData({ board, department: board.department });
    } catch (error) {
      if (error && error.status === 403) {
        this.setData({ loading: false, forbidden: error.message, board: null, items: [] });
        return;
      }
      this.setData({ loading: false, error: shared.errorText(error) });
      return;
    }
    await this.loadCards(true);
  },

  loadCards(reset) {
    const card = this.data.card;
    return shared.loadPage(this, reset, {
      read: (cursor) => api.get('/api/v1/supervisor/cases', this.query(cursor === undefined ? { card } : { card, cursor })),
      rows: (page) => (page.items || []).map(decorate),
      key: () => this.data.card,
      failed: (error) => (error && error.status === 403 ? { forbidden: error.message } : { error: shared.errorText(error) }),
      keepError: true,
    });
  },

  onCard(event) {
    const card = event.currentTarget.dataset.card;
    if (!card || card === this.data.card || this.data.forbidden) return undefined;
    this.setData({ card, items: [], nextCursor: null });
    return this.loadCards(true);
  },

  onPullDownRefresh() {
    return shared.pullDown(() => this.refresh());
  },

  onReachBottom() {
    return shared.loadMore(this, () => this.loadCards(false));
  },

  onOpen(event) {
    wx.navigateTo({ url: `${shared.PAGES.case}?id=${event.currentTarget.dataset.id}` });
  },

  // -- 督办 -------------------------------------------------------------------------------------

  onWriteNotice(event) {
    this.setData({ noticeFor: Number(event.currentTarget.dataset.id), message: '', messageError: '', error: '' });
  },

  onCancelNotice() {
    this.setData({ noticeFor: 0, messageError: '' });
  },

  onMessageInput(event) {
    this.setData({ message: event.detail.value, messageError: '' });
  },

  async onSendNotice() {
    const caseId = this.data.noticeFor;
    const message = this.data.message.trim();
    if (!caseId || this.data.busy) return;
    if (message.length < 2) {
      this.setData({ messageError: '请写明督办要求（至少 2 个字）。' });
      return;
    }
    const path = `/api/v1/supervisor/cases/${caseId}/notices`;
    const body = { message };
    this.setData({ busy: true, error: '' });
    try {
      await api.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({ busy: false, noticeFor: 0, message: '' });
      shared.toast('已发出督办', 'success');
    } catch (error) {
      this.setData({ busy: false });
      const field = shared.describeError(error).fields.find((f) => f.field === 'message');
      if (field) {
        this.setData({ messageError: field.message });
        return;
      }
      if (error && error.isConflict) {
        this.keys.done(path, body);
        this.setData({ noticeFor: 0 });
        await this.refresh();
      }
      this.setData({ error: shared.errorText(error) });
    }
  },
});
