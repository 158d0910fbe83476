/**
 * 好差评: rating one of my finished cases, once (pages/case/evaluate?id=…, the path the server's
 * "please rate" message links to).
 *
 * - GET /api/v1/cases/{id} on load, on return and on pull-down: a case already rated carries its
 *   `evaluation` (score, tags, comment and the department's answer), shown read only; a case not
 *   finished (only completed, refused and decided_denied may be rated, cases/states.py RATEABLE)
 *   says so and offers its detail; otherwise the form.
 * - POST /api/v1/cases/{id}/evaluation {score 1–5, tags (≤10, each ≤20 characters), comment
 *   (≤500)}: its answer is the rating, shown read only at once (no second read). A rating of 1 or
 *   2 opens a follow-up the department answers; the answer shows here on a later visit.
 * A 409 (already rated, or not finished) reloads the case and says why; field errors go beside
 * the score, the tags and the comment; a rating tapped again after a failure carries the same
 * Idempotency-Key (utils/writes.js).
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { writeKeys, splitByField } = require('../../utils/writes.js');

/** cases/states.py RATEABLE */
const RATEABLE = ['completed', 'refused', 'decided_denied'];
/** api/evaluations.py RatingIn */
const LIMITS = { tags: 10, tag: 20, comment: 500 };
const LABELS = { score: '评分', tags: '评价标签', comment: '评价内容' };
const SCORE_TEXT = ['', '非常不满意', '不满意', '一般', '满意', '非常满意'];
const GOOD_TAGS = ['办事快', '态度好', '材料一次讲清', '流程清楚', '不用跑腿'];
const BAD_TAGS = ['跑了多次', '等待时间长', '材料要求不清', '态度不好', '超时未办结'];
/** Scores at or below this open a follow-up (cases/evaluation.py FOLLOW_UP_MAX_SCORE). */
const FOLLOW_UP_MAX_SCORE = 2;

function stars(score) {
  const n = Math.max(0, Math.min(5, Number(score) || 0));
  return '★★★★★'.slice(0, n) + '☆☆☆☆☆'.slice(0, 5 - n);
}

/** A rating as the page shows it (RatingOut of the case, or the POST's EvaluationOut). */
function shown(e) {
  return {
    score: e.score,
    stars: stars(e.score),
    scoreText: SCORE_TEXT[e.score] || '',
    tags: e.tags || [],
    comment: e.comment || '',
    answer: e.answer || '',
    awaitingAnswer: !e.answer && Number(e.score) <= FOLLOW_UP_MAX_SCORE,
  };
}

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    c: null,
    rateable: false,
    rating: null,
    scores: [1, 2, 3, 4, 5].map((n) => ({ value: n, text: SCORE_TEXT[n] })),
    score: 0,
    scoreText: '',
    tagOptions: [],
    comment: '',
    limits: LIMITS,
    fieldErrors: {},
    formError: '',
    sending: false,
  },

  onLoad(query) {
    applyDisplay(this);
    this.caseId = Number((query && query.id) || 0);
    this.keys = writeKeys();
    this.chosen = [];
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const d = await client.get(`/api/v1/cases/${this.caseId}`);
      this.setData({
        loading: false,
        c: { id: d.id, itemName: d.item_name, statusLabel: d.status_label, acceptanceNumber: d.acceptance_number || '' },
        rateable: RATEABLE.indexOf(d.status) >= 0,
        rating: d.evaluation ? shown(d.evaluation) : null,
      });
      this.renderTags();
    }, { labels: LABELS });
  },

  /** The tags offered for the chosen score: the good ones, the bad ones, or both for a 3. */
  renderTags() {
    const score = this.data.score;
    let offered = GOOD_TAGS.concat(BAD_TAGS);
    if (score >= 4) offered = GOOD_TAGS;
    else if (score && score <= FOLLOW_UP_MAX_SCORE) offered = BAD_TAGS;
    // a tag no longer offered is no longer chosen
    this.chosen = this.chosen.filter((t) => offered.indexOf(t) >= 0);
    this.setData({ tagOptions: offered.map((t) => ({ text: t, on: this.chosen.indexOf(t) >= 0 })) });
  },

  onScore(event) {
    const score = Number(event.currentTarget.dataset.score);
    this.setData({ score, scoreText: SCORE_TEXT[score] || '', 'fieldErrors.score': '' });
    this.renderTags();
  },

  onTag(event) {
    const tag = event.currentTarget.dataset.tag;
    const at = this.chosen.indexOf(tag);
    if (at >= 0) this.chosen.splice(at, 1);
    else if (this.chosen.length >= LIMITS.tags) {
      this.setData({ 'fieldErrors.tags': `最多选择 ${LIMITS.tags} 个标签。` });
      return;
    } else this.chosen.push(tag);
    this.setData({ 'fieldErrors.tags': '' });
    this.renderTags();
  },

  onComment(event) {
    this.setData({ comment: String(event.detail.value || '').slice(0, LIMITS.comment), 'fieldErrors.comment': '' });
  },

  /** 提交评价: once; its answer is the rating shown from now on. */
  async onSubmit() {
    if (this.data.sending) return;
    if (!this.data.score) {
      this.setData({ fieldErrors: { score: '请选择评分。' }, formError: '' });
      return;
    }
    const path = `/api/v1/cases/${this.caseId}/evaluation`;
    const body = { score: this.data.score, tags: this.chosen.slice(0, LIMITS.tags), comment: this.data.comment.trim() };
    this.setData({ sending: true, fieldErrors: {}, formError: '', error: '', notice: '' });
    try {
      const answer = await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      const rating = shown(answer);
      this.setData({
        sending: false,
        rating,
        notice: rating.awaitingAnswer ? '感谢您的评价，办理部门将核实整改并答复您。' : '感谢您的评价！',
      });
    } catch (error) {
      this.setData({ sending: false });
      if (error && error.isConflict) {
        // rated already (another tap, another device), or not finished: the case says which
        await this.load();
        this.setData({ notice: describeError(error).title });
        return;
      }
      const split = splitByField(describeError(error, LABELS), ['score', 'tags', 'comment']);
      this.setData({ fieldErrors: split.fieldErrors, formError: split.text });
    }
  },

  onOpenCase() {
    // eslint-disable-next-line no-undef
    wx.redirectTo({ url: `/pages/case/detail?id=${this.caseId}` });
  },
});
