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

  async load(reset) {
    const filter = this.data.filter;
    this.setData(reset ? { loading: true, error: '' } : { loadingMore: true, error: '' });
    const query = {};
    if (filter === 'unread') query.unread = 'true';
    if (!reset) query.cursor = this.data.nextCursor;
    try {
      const page = await api.get('/api/v1/staff/messages', query);
      if (filter !== this.data.filter) return;
      const items = (page.messages || []).map(decorate);
      this.setData({
        items: reset ? items : this.data.items.concat(items),
        unread: page.unread || 0,
        nextCursor: page.next_cursor || null,
        loading: false,
        loadingMore: false,
      });
    } catch (error) {
      this.setData({ loading: false, loadingMore: false, error: shared.errorText(error) });
    }
  },

  onFilter(event) {
    const filter = event.currentTarget.dataset.filter;
    if (filter === this.data.filter) return undefined;
    this.setData({ filter, items: [], nextCursor: null });
    return this.load(true);
  },

  async onPullDownRefresh() {
    try {
      await this.load(true);
    } finally {
      shared.stopPullDown();
    }
  },

  onReachBottom() {
    if (!this.data.nextCursor || this.data.loading || this.data.loadingMore) return undefined;
    return this.load(false);
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
