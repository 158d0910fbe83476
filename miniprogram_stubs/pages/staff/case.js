/**
 * Case review (办件审查) on a staff phone: GET /api/v1/staff/cases/{id} — the applicant's form
 * (personal identifiers masked as the API gives them), the materials with a photo viewer
 * (wx.previewImage over the files' presigned links, which last about five minutes: older ones
 * are fetched again first), the correction notice, the review tasks and the timeline. The actions
 * the staff member may take here sit in the bar at the bottom:
 * - the clerk of a submitted case: accept (受理, optional comment), or the one-time correction
 *   list (一次性告知: tick materials and form fields, a reason each, sent once);
 * - a reviewer or approver: claim the open task of the role, then pass or deny it with an
 *   opinion, send a correction list while holding it, or put it back in the queue.
 * A 409 (someone else acted first, or the case moved on) reloads the case with a notice.
 */
const shared = require('./shared.js');

const { api } = shared;

const LINK_TTL_MS = 4 * 60 * 1000; // the files' links last about 5 minutes

const ACTION_LABELS = {
  submit: '提交申请',
  resubmit: '补正后重新提交',
  resubmit_in_review: '补正后重新提交',
  accept: '受理',
  auto_accept: '逾期未答复，依法视为受理',
  refuse: '不予受理',
  request_correction: '一次性告知补正',
  request_correction_in_review: '审查中要求补正',
  start_review: '开始审查',
  suspend: '进入特别程序',
  resume: '恢复审查',
  grant: '准予许可',
  deny: '不予许可',
  require_fee: '待缴费',
  await_result: '待送达',
  fee_paid: '已缴费',
  complete: '已送达，办结',
  lapse: '缴费期限已过',
  withdraw: '申请人撤回',
  claim: '领取任务',
  release: '放回队列',
  pass: '审查通过',
  comment: '内部意见',
  attachment: '上传附件',
  reassign: '改派任务',
  card: '亮牌提醒',
  supervision_notice: '督办',
  supervision_acknowledged: '签收督办',
  evaluate: '申请人评价',
  evaluation_answer: '回复评价',
  fee_order_opened: '开具缴费通知',
  create: '创建',
};

const ROLE_LABELS = Object.assign({ applicant: '申请人', system: '系统' }, shared.ROLE_LABELS);

function isImage(file) {
  return /^image\//.test(file.content_type || '') || /\.(jpe?g|png|webp|heic)$/i.test(file.filename || '');
}

function valueText(value) {
  if (value === null || value === undefined || value === '') return '（未填写）';
  if (typeof value === 'boolean') return value ? '是' : '否';
  return String(value);
}

/** The form as rows of label and value; nested objects and lists become one row per leaf. */
function formRows(form, titles) {
  const rows = [];
  const walk = (value, key, label) => {
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (!keys.length) rows.push({ key, label, value: '（未填写）' });
      keys.forEach((k) => {
        const part = Array.isArray(value) ? `第${Number(k) + 1}项` : k;
        walk(value[k], `${key}.${k}`, `${label} ${part}`);
      });
      return;
    }
    rows.push({ key, label, value: valueText(value) });
  };
  Object.keys(form || {}).forEach((name) => walk(form[name], name, titles[name] || name));
  return rows;
}

Page({
  data: {
    id: 0,
    loading: true,
    error: '',
    notice: '',
    c: null, // the case as the API gives it, with display fields
    formRows: [],
    materials: [],
    tasks: [],
    timeline: [],
    correction: null,
    // what this staff member may do now
    can: { accept: false, correct: false, claim: false, decide: false },
    claimTask: null,
    myTask: null,
    panel: '', // '' | accept | correct | decide
    busy: false,
    comment: '',
    outcome: '',
    opinion: '',
    opinionError: '',
    candidates: [], // correction: [{ key, kind, code, label, selected, problem, error }]
    correctionComment: '',
    correctionError: '',
  },

  onLoad(options) {
    const id = Number(options && options.id);
    this.keys = shared.writeKeys();
    this.titles = {};
    if (!Number.isInteger(id) || id <= 0) {
      this.setData({ loading: false, error: '没有找到该办件。' });
      return undefined;
    }
    this.setData({ id });
    return this.load();
  },

  async onPullDownRefresh() {
    try {
      await this.load();
    } finally {
      shared.stopPullDown();
    }
  },

  /** The case and who I am, then (once) the guide's labels of its form and materials. */
  async load() {
    this.setData({ loading: true, error: '' });
    let me;
    let detail;
    try {
      [me, detail] = await Promise.all([shared.loadMe(), api.get(`/api/v1/staff/cases/${this.data.id}`)]);
    } catch (error) {
      this.setData({ loading: false, error: shared.errorText(error) });
      return;
    }
    this.me = me;
    this.loadedAt = Date.now();
    if (!this.guideAsked) {
      this.guideAsked = true;
      await this.loadTitles(detail.item_code);
    }
    this.show(detail);
  },

  /**
   * The field titles come from the item's published guide (the staff detail carries none): a
   * public read, without the staff token. A guide that cannot be read leaves the field names.
   */
  async loadTitles(itemCode) {
    try {
      const guide = await api.get(`/api/v1/items/${encodeURIComponent(itemCode)}`, undefined, { auth: false });
      const properties = (guide && guide.form_schema && guide.form_schema.properties) || {};
      Object.keys(properties).forEach((name) => {
        if (properties[name] && properties[name].title) this.titles[name] = properties[name].title;
      });
    } catch (error) {
      // labels only
    }
  },

  show(detail) {
    const me = this.me;
    const names = {};
    (detail.checklist || []).forEach((row) => {
      names[row.code] = row.name;
    });
    const byMaterial = {};
    (detail.files || []).forEach((f) => {
      const code = f.material_code || '';
      (byMaterial[code] = byMaterial[code] || []).push({
        id: f.id,
        url: f.url,
        thumb: f.thumbnail_url || f.url,
        image: isImage(f),
        filename: f.filename,
        pagesText: f.pages ? `共 ${f.pages} 页` : '',
      });
    });
    const materials = (detail.checklist || [])
      .filter((row) => row.needed || row.files > 0)
      .map((row) => ({
        code: row.code,
        name: row.name,
        requirementText: row.requirement === 'required' ? '必交' : row.needed ? '需提交' : '选交',
        missing: row.needed && !row.satisfied,
        files: byMaterial[row.code] || [],
      }));
    Object.keys(byMaterial)
      .filter((code) => !names[code])
      .forEach((code) => materials.push({ code: code || 'other', name: code ? code : '其他附件', requirementText: '', missing: false, files: byMaterial[code] }));

    const tasks = (detail.tasks || []).map((t) => ({
      id: t.id,
      step: t.step_name,
      role: ROLE_LABELS[t.role] || t.role,
      status: t.status === 'claimed' && me && t.assignee_staff_id === me.id ? '我办理中' : shared.TASK_STATUS_LABELS[t.status] || t.status,
      opinion: t.opinion || '',
    }));
    const mine = (t) => me && t.department_code === me.department_code && shared.hasRole(me, t.role);
    const claimTask = (detail.tasks || []).find((t) => t.status === 'open' && mine(t)) || null;
    const myTask = (detail.tasks || []).find((t) => t.status === 'claimed' && me && t.assignee_staff_id === me.id) || null;
    const clerkHere = shared.hasRole(me, 'clerk') && me.department_code === detail.lead_department_code;
    const submitted = detail.status === 'submitted';
    const inReview = detail.status === 'in_review' || detail.status === 'accepted';
    const can = {
      accept: submitted && clerkHere,
      correct: (submitted && clerkHere) || (Boolean(myTask) && inReview),
      claim: Boolean(claimTask) && !myTask && inReview,
      decide: Boolean(myTask) && inReview,
    };
    const correction = detail.correction
      ? {
          round: detail.correction.round,
          issued: shared.moment(detail.correction.issued_at),
          resolved: detail.correction.resolved,
          items: (detail.correction.items || []).map((i) => ({
            label: i.kind === 'material' ? names[i.code] || i.code : this.titles[i.code] || i.code,
            kindText: i.kind === 'material' ? '材料' : '填写信息',
            problem: i.problem,
          })),
        }
      : null;
    this.setData({
      loading: false,
      c: Object.assign({}, detail, {
        cardText: shared.CARD_LABELS[detail.card] || '',
        feeText: detail.fee_fen ? `${(detail.fee_fen / 100).toFixed(2)} 元` : '',
        submittedText: shared.moment(detail.submitted_at),
      }),
      formRows: formRows(detail.form, this.titles),
      materials,
      tasks,
      correction,
      timeline: (detail.timeline || [])
        .slice()
        .reverse()
        .map((e) => ({
          at: shared.moment(e.at),
          what: ACTION_LABELS[e.action] || '办理',
          who: ROLE_LABELS[e.role] || '',
          comment: e.comment || '',
        })),
      can,
      claimTask,
      myTask,
      panel: this.data.panel && this.panelStillOpen(this.data.panel, can) ? this.data.panel : '',
    });
  },

  panelStillOpen(panel, can) {
    return (panel === 'accept' && can.accept) || (panel === 'correct' && can.correct) || (panel === 'decide' && can.decide);
  },

  // -- the photo viewer ----------------------------------------------------------------------

  /** Fresh links: those older than LINK_TTL_MS are asked for again with the case. */
  async freshFiles() {
    if (!this.loadedAt || Date.now() - this.loadedAt > LINK_TTL_MS) await this.load();
    const files = [];
    this.data.materials.forEach((m) => m.files.forEach((f) => files.push(f)));
    return files;
  },

  async onPreview(event) {
    const id = event.currentTarget.dataset.id;
    const files = await this.freshFiles();
    const images = files.filter((f) => f.image && f.url);
    const current = images.find((f) => f.id === id);
    if (!current) return;
    wx.previewImage({ current: current.url, urls: images.map((f) => f.url), showmenu: false });
  },

  async onOpenFile(event) {
    const id = event.currentTarget.dataset.id;
    const files = await this.freshFiles();
    const file = files.find((f) => f.id === id);
    if (!file || !file.url) return;
    wx.showLoading({ title: '正在打开' });
    wx.downloadFile({
      url: file.url,
      success: (res) => {
        wx.hideLoading();
        if (res.statusCode !== 200) {
          shared.toast('文件打开失败，请稍后重试。');
          return;
        }
        wx.openDocument({ filePath: res.tempFilePath, fileType: 'pdf', showMenu: false });
      },
      fail: () => {
        wx.hideLoading();
        shared.toast('文件打开失败，请检查网络后重试。');
      },
    });
  },

  // -- panels --------------------------------------------------------------------------------

  onClosePanel() {
    this.setData({ panel: '', error: '' });
  },

  onOpenAccept() {
    this.setData({ panel: 'accept', comment: '', error: '', notice: '' });
  },

  onOpenDecide(event) {
    const outcome = event.currentTarget.dataset.outcome;
    this.setData({ panel: 'decide', outcome, opinionError: '', error: '', notice: '' });
  },

  onOpenCorrect() {
    const previous = {};
    this.data.candidates.forEach((c) => {
      previous[c.key] = c;
    });
    const c = this.data.c;
    const candidates = [];
    (c.checklist || [])
      .filter((row) => row.needed || row.files > 0)
      .forEach((row) => candidates.push({ key: `material:${row.code}`, kind: 'material', code: row.code, label: row.name, kindText: '材料' }));
    const fields = Object.keys(c.form || {});
    Object.keys(this.titles).forEach((name) => {
      if (fields.indexOf(name) < 0) fields.push(name);
    });
    fields.forEach((name) => candidates.push({ key: `field:${name}`, kind: 'field', code: name, label: this.titles[name] || name, kindText: '填写信息' }));
    this.setData({
      panel: 'correct',
      error: '',
      notice: '',
      correctionError: '',
      candidates: candidates.map((x) => Object.assign(x, { selected: false, problem: '', error: '' }, previous[x.key] ? { selected: previous[x.key].selected, problem: previous[x.key].problem } : {})),
    });
  },

  onCommentInput(event) {
    this.setData({ comment: event.detail.value });
  },

  onOpinionInput(event) {
    this.setData({ opinion: event.detail.value, opinionError: '' });
  },

  onOutcome(event) {
    this.setData({ outcome: event.currentTarget.dataset.outcome });
  },

  onToggleCandidate(event) {
    const index = Number(event.currentTarget.dataset.index);
    const candidate = this.data.candidates[index];
    if (!candidate) return;
    this.setData({ [`candidates[${index}].selected`]: !candidate.selected, [`candidates[${index}].error`]: '', correctionError: '' });
  },

  onProblemInput(event) {
    const index = Number(event.currentTarget.dataset.index);
    this.setData({ [`candidates[${index}].problem`]: event.detail.value, [`candidates[${index}].error`]: '' });
  },

  onCorrectionCommentInput(event) {
    this.setData({ correctionComment: event.detail.value });
  },

  // -- the actions ---------------------------------------------------------------------------

  /**
   * One write: the same Idempotency-Key while the body is the same (a tap again after a lost
   * answer is the same act), the case reloaded after it; a 409 reloads it with the notice.
   * Resolves the answer, or null when it failed (the page shows why).
   */
  async act(path, body, done, onError) {
    if (this.data.busy) return null;
    this.setData({ busy: true, error: '', notice: '' });
    try {
      const answer = await api.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({ busy: false, panel: '' });
      if (done) shared.toast(done, 'success');
      await this.load();
      return answer || {};
    } catch (error) {
      this.setData({ busy: false });
      if (error && error.isConflict) {
        this.keys.done(path, body);
        this.setData({ panel: '' });
        await this.load();
        this.setData({ notice: `${error.message}\n已为您刷新为最新状态。` });
        return null;
      }
      if (!onError || !onError(error)) this.setData({ error: shared.errorText(error) });
      return null;
    }
  },

  async onAccept() {
    const ok = await shared.confirm('确认受理', '受理后将生成受理号，并开始计算办理时限。', '受理');
    if (!ok) return null;
    const comment = this.data.comment.trim();
    return this.act(`/api/v1/staff/cases/${this.data.id}/accept`, comment ? { comment } : {}, '已受理');
  },

  async onClaim() {
    const task = this.data.claimTask;
    if (!task) return null;
    return this.act(`/api/v1/staff/tasks/${task.id}/claim`, undefined, '已领取');
  },

  async onRelease() {
    const task = this.data.myTask;
    if (!task) return null;
    const ok = await shared.confirm('放回队列', '放回后，本部门其他人员可领取此任务。', '放回');
    if (!ok) return null;
    return this.act(`/api/v1/staff/tasks/${task.id}/release`, undefined, '已放回队列');
  },

  async onDecide() {
    const task = this.data.myTask;
    const { outcome } = this.data;
    const opinion = this.data.opinion.trim();
    if (!task) return null;
    if (outcome !== 'pass' && outcome !== 'deny') {
      this.setData({ error: '请选择通过或不通过。' });
      return null;
    }
    if (!opinion) {
      this.setData({ opinionError: '请填写审查意见。' });
      return null;
    }
    const ok = await shared.confirm(
      outcome === 'pass' ? '确认通过' : '确认不通过',
      outcome === 'pass' ? '提交后本环节审查通过，不可撤回。' : '不予通过将作出不予许可决定，并告知申请人复议和诉讼权利，不可撤回。',
      '提交',
    );
    if (!ok) return null;
    const answer = await this.act(`/api/v1/staff/tasks/${task.id}/decide`, { outcome, opinion }, '已提交', (error) => {
      const field = shared.describeError(error).fields.find((f) => f.field === 'opinion');
      if (!field) return false;
      this.setData({ opinionError: field.message, error: error.message });
      return true;
    });
    if (answer) this.setData({ opinion: '', outcome: '' });
    return answer;
  },

  /** The one-time correction list: every ticked material and field with its reason, once. */
  async onSendCorrection() {
    const picked = [];
    const changes = { correctionError: '' };
    this.data.candidates.forEach((c, index) => {
      if (!c.selected) return;
      const problem = (c.problem || '').trim();
      if (!problem) changes[`candidates[${index}].error`] = '请写明需要补正的原因。';
      picked.push({ index, item: { kind: c.kind, code: c.code, problem } });
    });
    if (!picked.length) changes.correctionError = '请至少选择一项需要补正的材料或填写信息。';
    this.setData(changes);
    if (!picked.length || Object.keys(changes).length > 1) return null;
    const ok = await shared.confirm('发送补正通知', `将一次性告知申请人补正以下 ${picked.length} 项，发送后不能再追加。`, '发送');
    if (!ok) return null;
    const body = { items: picked.map((p) => p.item) };
    const comment = this.data.correctionComment.trim();
    if (comment) body.comment = comment;
    const answer = await this.act(`/api/v1/staff/cases/${this.data.id}/corrections`, body, '已发送补正通知', (error) => {
      const shown = shared.describeError(error);
      if (!shown.fields.length) return false;
      const rest = [];
      const update = {};
      shown.fields.forEach((f) => {
        const match = /^items\[(\d+)\]/.exec(f.field);
        const sent = match ? picked[Number(match[1])] : null;
        if (sent) update[`candidates[${sent.index}].error`] = f.message;
        else rest.push(f.field === 'items' ? f.message : `${f.field === 'comment' ? '补充说明' : f.label}：${f.message}`);
      });
      update.correctionError = [error.message].concat(rest).join('\n');
      this.setData(update);
      return true;
    });
    if (answer) this.setData({ candidates: [], correctionComment: '' });
    return answer;
  },
});
