/**
 * The home page: the catalogue's search (GET /api/v1/items?q=…, anonymous; an error is shown as
 * the envelope's Chinese message), an item opens its guide, and the ways to the other pages.
 */
const { client } = require('../../utils/api.js');
const { loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');

Page({
  data: { items: [], loading: false, error: '', displayClass: '' },

  onLoad() {
    applyDisplay(this);
    return this.search('');
  },

  onShow() {
    applyDisplay(this); // the large-text switch may have changed on the "我的" page
  },

  onSearch(event) {
    return this.search((event && event.detail && event.detail.value) || '');
  },

  search(q) {
    return loadState(this, async () => {
      const page = await client.get('/api/v1/items', q ? { q } : undefined);
      this.setData({ items: page.items || [], loading: false });
    }, { failed: { items: [] } });
  },

  onItem(event) {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/guide/guide?code=${encodeURIComponent(event.currentTarget.dataset.code)}` });
  },

  go(event) {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: event.currentTarget.dataset.url });
  },
});
