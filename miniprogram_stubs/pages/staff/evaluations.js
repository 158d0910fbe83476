/**
 * 好差评 of my department, on a staff phone: the statistics (GET /api/v1/staff/evaluations/stats:
 * count, average, the share of 4 and 5, the distribution, follow-ups open and answered) and the
 * ratings newest first (GET /api/v1/staff/evaluations, cursor pages; the 待回复 tab asks
 * `follow_up=open`, 已回复 `answered`). A rating of 1 or 2 opens a follow-up the department
 * answers once (POST /api/v1/staff/evaluations/{id}/answer {answer}, shown to the applicant): the
 * answer is written under the rating, a field error stays beside it, a 409 (answered by someone
 * else meanwhile) loads the list again with a notice. A rating opens its case. The server
 * decides whose ratings a staff member reads (supervisors: every department's); anyone else gets
 * its 403 message. Pull down to refresh.
 */
const shared = require('./shared.js');
const { applyDisplay } = require('../../utils/display.js');

const { api } = shared;

const FILTERS = [
  { value: '', label: '全部' },
  { value: 'open', label: '待回复' },
  { value: 'answered', label: '已回复' },
];

function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`;
}

function decorate(e) {
  const score = Number(e.score) || 0;
  return Object.assign({}, e, {
    stars: '★★★★★'.slice(0, score) + '☆☆☆☆☆'.slice(0, 5 - score),
    bad: score <= 2,
    tagsText: (e.tags || []).join('、'),
    createdText: shared.moment(e.created_at),
    answeredText: shared.moment(e.answered_at),
    followText: e.follow_up === 'open' ? '待回复' : e.follow_up === 'answered' ? '已回复' : '',
  });
}

function statsView(stats) {
  const distribution = stats.distribution || {};
  const count = Number(stats.count) || 0;
  return {
    department: stats.department || '全部部门',
    count,
    averageText: stats.average === null || stats.average === undefined ? '—' : Number(stats.average).toFixed(1),
    satisfiedText: percent(stats.satisfied_rate),
    open: (stats.follow_ups && stats.follow_ups.open) || 0,
    answered: (stats.follow_ups && stats.follow_ups.answered) || 0,
    bars: ['5', '4', '3', '2', '1'].map((s) => ({
      score: s,
      n: Number(distribution[s]) || 0,
      width: count ? Math.round(((Number(distribution[s]) || 0) * 100) / count) : 0,
    })),
  };
}

Page({
  data: {
    displayClass: '',
    filters: FILTERS,
    filter: '',
    stats: null,
    items: [],
    nextCursor: null,
    loading: false,
    loadingMore: false,
    forbidden: '',
    error: '',
    notice: '',
    answerFor: 0, // the rating an answer is being written for
    answer: '',
    answerError: '',
    busy: false,
  },

  onLoad(options) {
    applyDisplay(this);
    this.keys = shared.writeKeys();
    const filter = options && options.follow_up;
    if (filter === 'open' || filter === 'answered') this.setData({ filter });
    return this.refresh();
  },

  onShow() {
    applyDisplay(this);
  },

  /** The statistics and the first page of the current tab. */
  async refresh() {
    await Promise.all([this.loadStats(), this.loadList(true)]);
  },

  async loadStats() {
    try {
      const stats = await api.get('/api/v1/staff/evaluations/stats');
      this.setData({ stats: statsView(stats) });
    } catch (error) {
      this.setData(this.failure(error));
    }
  },

  loadList(reset) {
    const filter = this.data.filter;
    return shared.loadPage(this, reset, {
      read: (cursor) => {
        const query = {};
        if (filter) query.follow_up = filter;
        if (cursor !== undefined) query.cursor = cursor;
        return api.get('/api/v1/staff/evaluations', query);
      },
      rows: (page) => (page.items || []).map(decorate),
      key: () => this.data.filter,
      failed: (error) => this.failure(error),
    });
  },

  /** A 403 is the server's word on whose ratings this is: shown instead of the page. */
  failure(error) {
    if (error && error.status === 403) return { forbidden: error.message, stats: null, items: [], nextCursor: null };
    return { error: shared.errorText(error) };
  },

  onFilter(event) {
    const filter = event.currentTarget.dataset.value || '';
    if (filter === this.data.filter || this.data.forbidden) return undefined;
    this.setData({ filter, items: [], nextCursor: null, answerFor: 0 });
    return this.loadList(true);
  },

  onPullDownRefresh() {
    return shared.pullDown(() => {
      this.setData({ notice: '' });
      return this.refresh();
    });
  },

  onReachBottom() {
    return shared.loadMore(this, () => this.loadList(false));
  },

  onOpen(event) {
    wx.navigateTo({ url: `${shared.PAGES.case}?id=${event.currentTarget.dataset.case}` });
  },

  // -- answering a bad rating -------------------------------------------------------------------

  onWriteAnswer(event) {
    this.setData({ answerFor: Number(event.currentTarget.dataset.id), answer: '', answerError: '', error: '', notice: '' });
  },

  onCancelAnswer() {
    this.setData({ answerFor: 0, answerError: '' });
  },

  onAnswerInput(event) {
    this.setData({ answer: event.detail.value, answerError: '' });
  },

  async onSendAnswer() {
    const id = this.data.answerFor;
    const answer = this.data.answer.trim();
    if (!id || this.data.busy) return null;
    if (answer.length < 2) {
      this.setData({ answerError: '请填写回复内容（至少 2 个字）。' });
      return null;
    }
    const path = `/api/v1/staff/evaluations/${id}/answer`;
    const body = { answer };
    this.setData({ busy: true, error: '', notice: '' });
    try {
      const answered = await api.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      const index = this.data.items.findIndex((e) => e.id === id);
      const changes = { busy: false, answerFor: 0, answer: '' };
      if (index >= 0) changes[`items[${index}]`] = decorate(answered);
      this.setData(changes);
      shared.toast('已回复', 'success');
      await this.loadStats();
      return answered;
    } catch (error) {
      this.setData({ busy: false });
      if (error && error.isConflict) {
        this.keys.done(path, body);
        this.setData({ answerFor: 0 });
        await this.refresh();
        this.setData({ notice: `${error.message}\n已为您刷新为最新状态。` });
        return null;
      }
      const field = shared.describeError(error).fields.find((f) => f.field === 'answer');
      if (field) {
        this.setData({ answerError: field.message });
        return null;
      }
      this.setData({ error: shared.errorText(error) });
      return null;
    }
  },
});
