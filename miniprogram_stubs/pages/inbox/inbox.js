/**
 * My messages, newest first, with the unread count: mark one read (opening it) or all, "load
 * more" by cursor; a message opens the page its link names (a case, its rating, a company, the
 * mandates), or else the case it is about.
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { dateText, messageUrl } = require('../../utils/format.js');

/** The citizen's pages a message link may name (app.json's; the server links to each of them). */
const PAGES = [
  'pages/case/detail',
  'pages/case/evaluate',
  'pages/case/receipt',
  'pages/pay/pay',
  'pages/cases/cases',
  'pages/inbox/inbox',
  'pages/guide/guide',
  'pages/companies/detail',
  'pages/mandates/index',
];

function row(m) {
  return {
    id: m.id,
    title: m.title,
    body: m.body,
    read: Boolean(m.read),
    at: dateText(m.created_at),
    url: messageUrl(m, PAGES),
  };
}

Page({
  data: {
    displayClass: '',
    messages: [],
    unread: 0,
    nextCursor: null,
    loading: false,
    loadingMore: false,
    error: '',
  },

  onLoad() {
    applyDisplay(this);
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const page = await client.get('/api/v1/me/messages');
      this.setData({
        loading: false,
        messages: (page.messages || []).map(row),
        unread: Number(page.unread) || 0,
        nextCursor: page.next_cursor || null,
      });
    });
  },

  async onLoadMore() {
    if (!this.data.nextCursor || this.data.loadingMore) return;
    this.setData({ loadingMore: true, error: '' });
    try {
      const page = await client.get('/api/v1/me/messages', { cursor: this.data.nextCursor });
      const seen = new Set(this.data.messages.map((m) => m.id));
      this.setData({
        loadingMore: false,
        messages: this.data.messages.concat((page.messages || []).filter((m) => !seen.has(m.id)).map(row)),
        unread: Number(page.unread) || 0,
        nextCursor: page.next_cursor || null,
      });
    } catch (error) {
      this.setData({ loadingMore: false, error: describeError(error).text });
    }
  },

  onReachBottom() {
    return this.onLoadMore();
  },

  /** Open a message: marked read, then its case (or the page its link names). */
  async onOpen(event) {
    const id = Number(event.currentTarget.dataset.id);
    const index = this.data.messages.findIndex((m) => m.id === id);
    if (index < 0) return;
    const message = this.data.messages[index];
    if (!message.read) {
      try {
        const answer = await client.post(`/api/v1/me/messages/${id}/read`);
        this.setData({ [`messages[${index}].read`]: true, unread: Number(answer.unread) || 0 });
      } catch (error) {
        // not marked: the message still opens; the mark is tried again next time
        this.setData({ error: describeError(error).text });
      }
    }
    if (message.url) {
      // eslint-disable-next-line no-undef
      wx.navigateTo({ url: message.url });
    }
  },

  async onReadAll() {
    if (!this.data.unread) return;
    this.setData({ error: '' });
    try {
      const answer = await client.post('/api/v1/me/messages/read-all');
      this.setData({
        messages: this.data.messages.map((m) => Object.assign({}, m, { read: true })),
        unread: Number(answer.unread) || 0,
      });
    } catch (error) {
      this.setData({ error: describeError(error).text });
    }
  },
});
