/**
 * My cases by group (待办, 办理中, 已办结, 草稿), newest first, with cursor paging; a draft opens
 * the form again, any other case its detail. Query: `group`.
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { dateText } = require('../../utils/format.js');

const GROUPS = [
  { code: 'action_needed', label: '待我处理' },
  { code: 'in_progress', label: '办理中' },
  { code: 'done', label: '已办结' },
  { code: 'draft', label: '草稿' },
];

function row(c) {
  return {
    id: c.id,
    itemName: c.item_name,
    status: c.status,
    statusLabel: c.status_label,
    acceptanceNumber: c.acceptance_number || '',
    applicant: c.applicant || '',
    dueText: c.promised_due_on ? `承诺 ${dateText(c.promised_due_on)} 前办结` : '',
    updated: dateText(c.updated_at),
    isDraft: c.status === 'draft',
  };
}

Page({
  data: {
    displayClass: '',
    groups: GROUPS,
    group: 'action_needed',
    items: [],
    nextCursor: null,
    loading: false,
    loadingMore: false,
    error: '',
  },

  onLoad(query) {
    applyDisplay(this);
    const wanted = query && query.group;
    if (GROUPS.some((g) => g.code === wanted)) this.setData({ group: wanted });
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  async load() {
    this.setData({ loading: true, error: '' });
    try {
      const page = await client.get('/api/v1/cases', { group: this.data.group });
      this.setData({ loading: false, items: (page.items || []).map(row), nextCursor: page.next_cursor || null });
    } catch (error) {
      this.setData({ loading: false, items: [], nextCursor: null, error: describeError(error).text });
    }
  },

  onGroup(event) {
    const group = event.currentTarget.dataset.group;
    if (group === this.data.group) return undefined;
    this.setData({ group, items: [], nextCursor: null });
    return this.load();
  },

  async onLoadMore() {
    if (!this.data.nextCursor || this.data.loadingMore) return;
    this.setData({ loadingMore: true, error: '' });
    try {
      const page = await client.get('/api/v1/cases', { group: this.data.group, cursor: this.data.nextCursor });
      this.setData({
        loadingMore: false,
        items: this.data.items.concat((page.items || []).map(row)),
        nextCursor: page.next_cursor || null,
      });
    } catch (error) {
      this.setData({ loadingMore: false, error: describeError(error).text });
    }
  },

  onReachBottom() {
    return this.onLoadMore();
  },

  onOpen(event) {
    const { id, draft } = event.currentTarget.dataset;
    const url = draft ? `/pages/apply/apply?id=${id}` : `/pages/case/detail?id=${id}`;
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url });
  },
});
