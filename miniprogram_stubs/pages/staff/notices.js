/**
 * Supervision notices (督办通知) for me or my department, unacknowledged first:
 * GET /api/v1/staff/supervision-notices (cursor pages, the unacknowledged count), each signed for
 * with POST …/{id}/acknowledge. A notice opens its case. Pull down to refresh.
 */
const shared = require('./shared.js');

const { api } = shared;

function decorate(n) {
  return Object.assign({}, n, {
    cardText: shared.CARD_LABELS[n.card] || '',
    issuer: (n.issued_by && n.issued_by.name) || '督查人员',
    createdText: shared.moment(n.created_at),
    acknowledgedText: shared.moment(n.acknowledged_at),
    dueText: n.promised_due_on ? `承诺办结 ${shared.day(n.promised_due_on)}` : '',
  });
}

Page({
  data: {
    items: [],
    unacknowledged: 0,
    nextCursor: null,
    loading: false,
    loadingMore: false,
    busyId: 0,
    error: '',
  },

  onLoad() {
    return this.load(true);
  },

  load(reset) {
    return shared.loadPage(this, reset, {
      read: (cursor) => api.get('/api/v1/staff/supervision-notices', cursor === undefined ? undefined : { cursor }),
      rows: (page) => (page.items || []).map(decorate),
      also: (page) => ({ unacknowledged: (page.counts && page.counts.unacknowledged) || 0 }),
    });
  },

  onPullDownRefresh() {
    return shared.pullDown(() => this.load(true));
  },

  onReachBottom() {
    return shared.loadMore(this, () => this.load(false));
  },

  async onAcknowledge(event) {
    const id = Number(event.currentTarget.dataset.id);
    if (!id || this.data.busyId) return;
    this.setData({ busyId: id, error: '' });
    try {
      const notice = await api.post(`/api/v1/staff/supervision-notices/${id}/acknowledge`);
      const index = this.data.items.findIndex((n) => n.id === id);
      const was = index >= 0 ? this.data.items[index] : null;
      const changes = { busyId: 0 };
      if (index >= 0) changes[`items[${index}]`] = decorate(notice);
      if (was && !was.acknowledged) changes.unacknowledged = Math.max(0, this.data.unacknowledged - 1);
      this.setData(changes);
      shared.toast('已签收', 'success');
    } catch (error) {
      this.setData({ busyId: 0 });
      if (error && error.isConflict) {
        await this.load(true);
        this.setData({ error: `${error.message}\n已为您刷新为最新状态。` });
        return;
      }
      this.setData({ error: shared.errorText(error) });
    }
  },

  onOpen(event) {
    wx.navigateTo({ url: `${shared.PAGES.case}?id=${event.currentTarget.dataset.case}` });
  },

  onInbox() {
    wx.navigateBack({ fail: () => wx.redirectTo({ url: shared.PAGES.inbox }) });
  },
});
