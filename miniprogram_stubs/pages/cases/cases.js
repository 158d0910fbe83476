/**
 * My cases by group (待办, 办理中, 已办结, 草稿), newest first, with cursor paging; a draft opens
 * the form again, any other case its detail. Query: `group`.
 *
 * - GET /api/v1/cases {group, cursor} on load, on return, on pull-down and for "加载更多".
 * - 删除草稿 (a draft's row): wx.showModal (cancelled: nothing sent), then DELETE
 *   /api/v1/cases/{id}; the row goes. A deletion whose answer was lost and that then finds nothing
 *   has succeeded (the client says so); a 409 (submitted meanwhile) or a 404 (gone) reloads the
 *   list and says why. Tapped again after a failure, it carries the same Idempotency-Key.
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { dateText } = require('../../utils/format.js');
const { writeKeys, confirmedDelete } = require('../../utils/writes.js');

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
    notice: '',
    deleting: 0,
  },

  onLoad(query) {
    applyDisplay(this);
    this.keys = writeKeys();
    const wanted = query && query.group;
    if (GROUPS.some((g) => g.code === wanted)) this.setData({ group: wanted });
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const page = await client.get('/api/v1/cases', { group: this.data.group });
      this.setData({ loading: false, items: (page.items || []).map(row), nextCursor: page.next_cursor || null });
    }, { failed: { items: [], nextCursor: null } });
  },

  onGroup(event) {
    const group = event.currentTarget.dataset.group;
    if (group === this.data.group) return undefined;
    this.setData({ group, items: [], nextCursor: null, notice: '' });
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

  /** 删除草稿: asked first; the draft, its form and its photos are gone for good. */
  async onDeleteDraft(event) {
    const id = Number(event.currentTarget.dataset.id);
    const row = this.data.items.find((c) => c.id === id);
    if (!row || !row.isDraft || this.data.deleting) return;
    await confirmedDelete(this, {
      confirm: ['删除草稿', `删除“${row.itemName}”的草稿后，已填写的信息和已上传的材料将一并清除，不能恢复。`, '删除'],
      path: `/api/v1/cases/${id}`,
      busy: 'deleting',
      id,
      // gone from the list at once, without reading it again
      deleted: () => ({ items: this.data.items.filter((c) => c.id !== id), notice: '草稿已删除。' }),
      reload: false,
    });
  },

  onOpen(event) {
    const { id, draft } = event.currentTarget.dataset;
    const url = draft ? `/pages/apply/apply?id=${id}` : `/pages/case/detail?id=${id}`;
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url });
  },
});
