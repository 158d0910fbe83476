/**
 * The catalogue's search (the skeleton's first page): GET /api/v1/items?q=…, anonymous; an
 * error is shown as the envelope's Chinese message.
 */
const { client, describeError } = require('../../utils/api.js');

Page({
  data: { items: [], loading: false, error: '' },

  onLoad() {
    return this.search('');
  },

  onSearch(event) {
    return this.search((event && event.detail && event.detail.value) || '');
  },

  async search(q) {
    this.setData({ loading: true, error: '' });
    try {
      const page = await client.get('/api/v1/items', q ? { q } : undefined);
      this.setData({ items: page.items || [], loading: false });
    } catch (error) {
      this.setData({ items: [], loading: false, error: describeError(error).text });
    }
  },
});
