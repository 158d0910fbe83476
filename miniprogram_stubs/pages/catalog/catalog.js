/**
 * The catalogue by theme (life events, business events, special groups) and by search, with
 * cursor paging; an item opens its guide. Query: `theme` (a theme code to start with), `q`.
 */
const { client, describeError } = require('../../utils/api.js');
const { loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { yuan } = require('../../utils/format.js');

const CATEGORIES = [
  { code: 'life_event', label: '个人办事' },
  { code: 'business_event', label: '企业办事' },
  { code: 'special_group', label: '特殊人群' },
];

function itemRow(item) {
  return {
    code: item.code,
    name: item.name,
    department: (item.department && item.department.name) || '',
    feeText: item.fee_fen > 0 ? `收费 ${yuan(item.fee_fen)} 元` : '不收费',
    limitText: item.promised_limit_days > 0 ? `承诺 ${item.promised_limit_days} 个工作日` : '即办',
  };
}

Page({
  data: {
    displayClass: '',
    groups: [],
    theme: '',
    themeName: '',
    q: '',
    items: [],
    nextCursor: null,
    loading: false,
    loadingMore: false,
    error: '',
  },

  onLoad(query) {
    applyDisplay(this);
    const q = query || {};
    this.setData({ theme: q.theme || '', q: q.q || '' });
    return Promise.all([this.loadThemes(), this.search()]);
  },

  onShow() {
    applyDisplay(this);
  },

  async loadThemes() {
    try {
      const answer = await client.get('/api/v1/themes');
      const themes = answer.themes || [];
      const groups = CATEGORIES.map((c) => ({
        code: c.code,
        label: c.label,
        themes: themes.filter((t) => t.category === c.code).map((t) => ({ code: t.code, name: t.name })),
      })).filter((g) => g.themes.length);
      const current = themes.find((t) => t.code === this.data.theme);
      this.setData({ groups, themeName: current ? current.name : '' });
    } catch (error) {
      this.setData({ error: describeError(error).text });
    }
  },

  query(cursor) {
    const query = {};
    if (this.data.q) query.q = this.data.q;
    if (this.data.theme) query.theme = this.data.theme;
    if (cursor) query.cursor = cursor;
    return query;
  },

  search() {
    return loadState(this, async () => {
      const page = await client.get('/api/v1/items', this.query());
      this.setData({ items: (page.items || []).map(itemRow), nextCursor: page.next_cursor || null, loading: false });
    }, { failed: { items: [], nextCursor: null } });
  },

  onSearch(event) {
    this.setData({ q: String((event && event.detail && event.detail.value) || '').trim() });
    return this.search();
  },

  onTheme(event) {
    const { code, name } = event.currentTarget.dataset;
    const same = code === this.data.theme;
    this.setData({ theme: same ? '' : code, themeName: same ? '' : name });
    return this.search();
  },

  onClearTheme() {
    this.setData({ theme: '', themeName: '' });
    return this.search();
  },

  async onLoadMore() {
    if (!this.data.nextCursor || this.data.loadingMore) return;
    this.setData({ loadingMore: true, error: '' });
    try {
      const page = await client.get('/api/v1/items', this.query(this.data.nextCursor));
      this.setData({
        items: this.data.items.concat((page.items || []).map(itemRow)),
        nextCursor: page.next_cursor || null,
        loadingMore: false,
      });
    } catch (error) {
      this.setData({ loadingMore: false, error: describeError(error).text });
    }
  },

  onReachBottom() {
    return this.onLoadMore();
  },

  onItem(event) {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/guide/guide?code=${encodeURIComponent(event.currentTarget.dataset.code)}` });
  },
});
