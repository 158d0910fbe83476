/**
 * My messages (消息): GET /api/v1/staff/messages (newest first, cursor pages, the unread count;
 * the 未读 tab asks `unread=true`). Opening a message marks it read (POST …/{id}/read, which
 * answers the new unread count) and opens the page it links to; 全部已读 is POST …/read-all.
 */
const shared = require('./shared.js');

const { api } = shared;

function decorate(m) {
  return Object.assign({}, m, { createdText: shared.moment(m.created_at) });
}

Page({
  data: {
    filter: 'all', // all | unread
    items: [],
    unread: 0,
    nextCursor: null,
    loading: false,
    loadingMore: false,
    busy: false,
    error: '',
  },

  onLoad() {
    return this.load(true);
  },

  load(reset) {
    const filter = this.data.filter;
    return shared.loadPage(this, reset, {
      read: (cursor) => {
        const query = {};
        if (filter === 'unread') query.unread = 'true';
        if (cursor !== undefined) query.cursor = cursor;
        return api.get('/api/v1/staff/messages', query);
      },
      rows: (page) => (page.messages || []).map(decorate),
      key: () => this.data.filter,
      also: (page) => ({ unread: page.unread || 0 }),
    });
  },

  onFilter(event) {
    const filter = event.currentTarget.dataset.filter;
    if (filter === this.data.filter) return undefined;
    this.setData({ filter, items: [], nextCursor: null });
    return this.load(true);
  },

  onPullDownRefresh() {
    return shared.pullDown(() => this.load(true));
  },

  onReachBottom() {
    return shared.loadMore(this, () => this.load(false));
  },

  async onOpen(event) {
    const id = Number(event.currentTarget.dataset.id);
    const index = this.data.items.findIndex((m) => m.id === id);
    if (index < 0) return;
    const message = this.data.items[index];
    if (!message.read) {
      try {
        const answer = await api.post(`/api/v1/staff/messages/${id}/read`);
        this.setData({ [`items[${index}]`]: decorate(answer), unread: answer.unread });
      } catch (error) {
        this.setData({ error: shared.errorText(error) });
        return;
      }
    }
    if (message.link) wx.navigateTo({ url: `/${String(message.link).replace(/^\//, '')}` });
  },

  async onReadAll() {
    if (this.data.busy || !this.data.unread) return;
    this.setData({ busy: true, error: '' });
    try {
      const answer = await api.post('/api/v1/staff/messages/read-all');
      const now = new Date().toISOString();
      const items = this.data.filter === 'unread' ? [] : this.data.items.map((m) => (m.read ? m : Object.assign({}, m, { read: true, read_at: now })));
      this.setData({ busy: false, items, unread: answer.unread || 0 });
      shared.toast('已全部标为已读', 'success');
    } catch (error) {
      this.setData({ busy: false, error: shared.errorText(error) });
    }
  },
});
