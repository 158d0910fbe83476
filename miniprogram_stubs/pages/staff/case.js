/**
 * Case review (办件审查) on a staff phone: GET /api/v1/staff/cases/{id} — the applicant's form
 * (personal identifiers masked as the API gives them; each row titled by the detail's
 * `form_titles`, the filed version's), the materials with a photo viewer
 * (wx.previewImage over the files' presigned links, which last about five minutes: older ones
 * are fetched again first), the correction notice, the review tasks and the timeline. The actions
 * the staff member may take here sit in the bar at the bottom:
 * - the clerk of a submitted case: accept (…/accept, optional comment), refuse (不予受理:
 *   …/refuse {reasons}, confirmed first), or the one-time correction list (…/corrections:
 *   tick materials and form fields, a reason each, sent once);
 * - a reviewer or approver: claim the open task of the role (…/tasks/{id}/claim), then pass or
 *   deny it with an opinion (…/decide), send a correction list while holding it, put it back in
 *   the queue (…/release), start a special procedure (…/suspend {procedure, reason}: hearing,
 *   site inspection, expert review; the clock stops) and end it (…/resume {comment});
 * - a dispatcher of a result_pending case: the result served (送达办结: …/complete {comment},
 *   confirmed first);
 * - anyone handling it: an internal comment (…/comments {text}) and photo attachments
 *   (…/attachments, wx.uploadFile, /staff/uploads/{id}/complete — utils/uploads.js's
 *   UploadBoard with shared.attachmentClient, the staff client's `upload` on the staff routes);
 * - one identifier of the form in full (…/personal-data {field, reason}), offered on the rows
 *   the detail's `personal_fields` name (`persons.*.id_number` matches `persons.0.id_number`,
 *   the concrete path being the `field` sent): the reason asked first (4–200 characters,
 *   recorded with the read); the value shows in its row only, is never stored, and is masked
 *   again on reload or when the page is hidden;
 * - a supervisor of the task's department: give an open or claimed task to another staff
 *   member picked from those who may take it (GET /api/v1/supervisor/tasks/{id}/assignees, the
 *   holder marked 已领取; POST …/reassign {staff_id}, a refusal beside the list).
 * The timeline's lines say what happened in the server's words (`label`; the page's own
 * ACTION_LABELS only for a line without one).
 * Which buttons show: the detail's `actions` (what the server says this viewer may do now) when
 * it is there, else the page's own reading of the roles, tasks and status. Accepting and claiming
 * ask, in the tap, for the staff subscribe messages (GET /api/v1/staff/subscriptions/to-ask,
 * utils/consent.js). A 409 (someone else acted first, or the case moved on) reloads the case
 * with a notice.
 */
const shared = require('./shared.js');
const { prepareOn, requestConsent } = require('../../utils/consent.js');
const { UploadBoard } = require('../../utils/uploads.js');
const { applyDisplay } = require('../../utils/display.js');

const { api } = shared;

const LINK_TTL_MS = 4 * 60 * 1000; // the files' links last about 5 minutes

/** A timeline line's words when the server sent no `label` (an older server): its own come first. */
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

/** The special procedures of SuspendIn.procedure, as a staff member picks one. */
const PROCEDURES = [
  { value: 'hearing', label: '听证' },
  { value: 'inspection', label: '现场核查' },
  { value: 'expert_review', label: '专家评审' },
  { value: 'other', label: '其他' },
];

/** The names of the detail's `actions` and the page's own flags they set. */
const ACTION_FLAGS = {
  accept: 'accept',
  refuse: 'refuse',
  request_correction: 'correct',
  claim: 'claim',
  decide: 'decide',
  release: 'release',
  suspend: 'suspend',
  resume: 'resume',
  complete: 'complete',
  comment: 'comment',
  attach: 'attach',
  reveal: 'reveal',
  reassign: 'reassign',
};

const HANDLING = ['clerk', 'reviewer', 'approver', 'dispatcher'];
const REVEALING = ['clerk', 'reviewer', 'approver'];
const ATTACHMENT = 'attachment'; // the UploadBoard's key of this page's photos
const MAX_ATTACHMENTS = 9; // photos chosen in one go

/**
 * Does a concrete form path (`persons.0.id_number`) fall under a pattern of the detail's
 * `form_titles` or `personal_fields` (`persons.*.id_number`: `*` is any array index)?
 */
function pathMatches(pattern, path) {
  const want = String(pattern).split('.');
  const got = String(path).split('.');
  return want.length === got.length && want.every((part, i) => part === got[i] || (part === '*' && /^\d+$/.test(got[i])));
}

/** The title of a concrete path in the detail's `form_titles`, or ''. */
function titleOf(titles, path) {
  if (!titles) return '';
  if (titles[path]) return titles[path];
  const pattern = Object.keys(titles).find((p) => p.indexOf('*') >= 0 && pathMatches(p, path));
  return pattern ? titles[pattern] : '';
}

/** The identifier kind of a form row (`persons.0.id_number`) by the detail's `personal_fields`, or ''. */
function personalKind(key, fields) {
  const found = (fields || []).find((f) => f && f.path && pathMatches(f.path, key));
  return found ? found.kind || 'id_number' : '';
}

function hasAny(staff, roles) {
  return roles.some((r) => shared.hasRole(staff, r));
}

function isImage(file) {
  return /^image\//.test(file.content_type || '') || /\.(jpe?g|png|webp|heic)$/i.test(file.filename || '');
}

function valueText(value) {
  if (value === null || value === undefined || value === '') return '（未填写）';
  if (typeof value === 'boolean') return value ? '是' : '否';
  return String(value);
}

/**
 * The form as rows of label and value; nested objects and lists become one row per leaf, its
 * label the titles down its path (`家庭成员 第1项 身份证号码`), a field without one by its name.
 */
function formRows(form, titles) {
  const rows = [];
  const walk = (value, key, label) => {
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (!keys.length) rows.push({ key, label, value: '（未填写）' });
      keys.forEach((k) => {
        const at = `${key}.${k}`;
        const part = Array.isArray(value) ? `第${Number(k) + 1}项` : titleOf(titles, at) || k;
        walk(value[k], at, `${label} ${part}`);
      });
      return;
    }
    rows.push({ key, label, value: valueText(value) });
  };
  Object.keys(form || {}).forEach((name) => walk(form[name], name, titleOf(titles, name) || name));
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
    displayClass: '',
    // what this staff member may do now
    can: {},
    flow: false, // any step of the case's handling (not only comments and attachments)
    claimTask: null,
    myTask: null,
    reassignTasks: [], // [{ id, text, chosen }]
    panel: '', // '' | accept | refuse | correct | decide | suspend | resume | complete | comment | reveal | reassign
    busy: false,
    comment: '',
    outcome: '',
    opinion: '',
    opinionError: '',
    candidates: [], // correction: [{ key, kind, code, label, selected, problem, error }]
    correctionComment: '',
    correctionError: '',
    reasons: '', // refuse
    reasonsError: '',
    procedures: PROCEDURES,
    procedure: '',
    procedureError: '',
    suspendReason: '',
    suspendReasonError: '',
    resumeComment: '',
    completeComment: '',
    commentText: '',
    commentError: '',
    revealKey: '',
    revealLabel: '',
    revealReason: '',
    revealError: '',
    reassignTaskId: 0,
    assignees: [], // the chosen task's: [{ staffId, name, holds, chosen }]
    assigneesLoading: false,
    noAssignee: false, // nobody but the holder may take it
    staffId: 0, // the chosen assignee
    staffIdError: '',
    attachPending: [], // photos on their way: [{ key, progress, status, error }]
    attachBusy: false,
  },

  onLoad(options) {
    applyDisplay(this);
    const id = Number(options && options.id);
    this.keys = shared.writeKeys();
    this.titles = {};
    this.personal = [];
    this.board = new UploadBoard({
      itemCode: '',
      ensureCase: () => Promise.resolve(this.data.id),
      client: shared.attachmentClient(this.keys),
      onChange: () => this.setData({ attachPending: this.board.view(ATTACHMENT).pending, attachBusy: this.board.busy }),
    });
    if (!Number.isInteger(id) || id <= 0) {
      this.setData({ loading: false, error: '没有找到该办件。' });
      return undefined;
    }
    this.setData({ id });
    return this.load();
  },

  onShow() {
    applyDisplay(this);
  },

  /** A revealed identifier does not outlive the staff member's look at it. */
  onHide() {
    this.maskAgain();
  },

  onUnload() {
    this.maskAgain();
  },

  onPullDownRefresh() {
    return shared.pullDown(() => this.load());
  },

  /** The case (its form's titles and identifiers with it) and who I am. */
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
    this.show(detail);
  },

  /**
   * What this viewer may do now: the detail's `actions` when the server gives them, else the
   * page's own reading of roles, department, tasks and status (the server decides either way).
   */
  allowed(detail, me, claimTask, myTask) {
    const can = {};
    if (Array.isArray(detail.actions)) {
      Object.keys(ACTION_FLAGS).forEach((name) => {
        can[ACTION_FLAGS[name]] = detail.actions.indexOf(name) >= 0;
      });
      can.claim = can.claim && Boolean(claimTask);
      can.decide = can.decide && Boolean(myTask);
      can.release = can.release && Boolean(myTask);
      return can;
    }
    const dept = me && me.department_code;
    const clerkHere = shared.hasRole(me, 'clerk') && dept === detail.lead_department_code;
    const submitted = detail.status === 'submitted';
    const inReview = detail.status === 'in_review' || detail.status === 'accepted';
    const departments = [detail.lead_department_code].concat((detail.tasks || []).map((t) => t.department_code));
    const here = Boolean(dept) && departments.indexOf(dept) >= 0 && detail.status !== 'draft';
    can.accept = submitted && clerkHere;
    can.refuse = can.accept;
    can.correct = (submitted && clerkHere) || (Boolean(myTask) && inReview);
    can.claim = Boolean(claimTask) && !myTask && inReview;
    can.decide = Boolean(myTask) && inReview;
    can.release = can.decide;
    can.suspend = Boolean(myTask) && detail.status === 'in_review';
    can.resume = Boolean(myTask) && detail.status === 'suspended';
    can.complete = detail.status === 'result_pending' && shared.hasRole(me, 'dispatcher') && dept === detail.lead_department_code;
    can.comment = here && hasAny(me, HANDLING);
    can.attach = can.comment;
    can.reveal = here && hasAny(me, REVEALING);
    can.reassign = shared.hasRole(me, 'supervisor') && (detail.tasks || []).some((t) => (t.status === 'open' || t.status === 'claimed') && t.department_code === dept);
    return can;
  },

  show(detail) {
    const me = this.me;
    // the filed version's titles and identifiers, by path (`*` for an array's index)
    this.titles = detail.form_titles || {};
    this.personal = Array.isArray(detail.personal_fields) ? detail.personal_fields : [];
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
    const serverSays = Array.isArray(detail.actions);
    const open = (detail.tasks || []).filter((t) => t.status === 'open');
    const claimTask = open.find(mine) || (serverSays ? open[0] : null) || null;
    const myTask = (detail.tasks || []).find((t) => t.status === 'claimed' && me && t.assignee_staff_id === me.id) || null;
    const can = this.allowed(detail, me, claimTask, myTask);
    const chosenTask = this.data.reassignTaskId;
    const reassignTasks = (detail.tasks || [])
      // a supervisor reassigns the tasks of their own department only
      .filter((t) => (t.status === 'open' || t.status === 'claimed') && me && t.department_code === me.department_code)
      .map((t) => ({
        id: t.id,
        text: `${t.step_name}（${t.status === 'claimed' ? '办理中' : '待领取'}）`,
      }));
    can.reassign = Boolean(can.reassign) && reassignTasks.length > 0;
    const taskId = reassignTasks.some((t) => t.id === chosenTask) ? chosenTask : reassignTasks.length ? reassignTasks[0].id : 0;
    const sameTask = taskId === chosenTask;
    if ((can.accept || can.claim) && !this.preparing) prepareOn(this, 'staff', { client: api });
    const correction = detail.correction
      ? {
          round: detail.correction.round,
          issued: shared.moment(detail.correction.issued_at),
          resolved: detail.correction.resolved,
          items: (detail.correction.items || []).map((i) => ({
            label: i.kind === 'material' ? names[i.code] || i.code : titleOf(this.titles, i.code) || i.code,
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
      formRows: formRows(detail.form, this.titles).map((row) => {
        const kind = row.value !== '（未填写）' ? personalKind(row.key, this.personal) : '';
        return Object.assign(row, { personal: Boolean(kind), revealed: false, masked: row.value });
      }),
      materials,
      tasks,
      correction,
      timeline: (detail.timeline || [])
        .slice()
        .reverse()
        .map((e) => ({
          at: shared.moment(e.at),
          what: e.label || ACTION_LABELS[e.action] || '办理', // the server's words first
          who: ROLE_LABELS[e.role] || '',
          comment: e.comment || '',
        })),
      can,
      flow: ['accept', 'refuse', 'correct', 'claim', 'decide', 'release', 'suspend', 'resume', 'complete'].some((k) => can[k]),
      claimTask,
      myTask,
      reassignTasks: reassignTasks.map((t) => Object.assign(t, { chosen: t.id === taskId })),
      reassignTaskId: taskId,
      // the list of whom to give it to holds for the task it was asked for
      assignees: sameTask ? this.data.assignees : [],
      noAssignee: sameTask ? this.data.noAssignee : false,
      staffId: sameTask ? this.data.staffId : 0,
      panel: this.data.panel && this.panelStillOpen(this.data.panel, can) ? this.data.panel : '',
    });
    if (!sameTask && this.data.panel === 'reassign') this.loadAssignees(taskId);
  },

  panelStillOpen(panel, can) {
    const needs = { accept: 'accept', refuse: 'refuse', correct: 'correct', decide: 'decide', suspend: 'suspend', resume: 'resume', complete: 'complete', comment: 'comment', reveal: 'reveal', reassign: 'reassign' };
    return Boolean(needs[panel] && can[needs[panel]]);
  },

  /** Every revealed identifier back to its mask (the page keeps no full value). */
  maskAgain() {
    const changes = {};
    (this.data.formRows || []).forEach((row, index) => {
      if (row.revealed) {
        changes[`formRows[${index}].value`] = row.masked;
        changes[`formRows[${index}].revealed`] = false;
      }
    });
    if (Object.keys(changes).length) this.setData(changes);
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

  /** 受理: the staff subscribe messages asked for in this tap (never blocks the panel). */
  onOpenAccept() {
    requestConsent(this.prepared, { client: api });
    this.setData({ panel: 'accept', comment: '', error: '', notice: '' });
  },

  onOpenPanel(event) {
    const panel = event.currentTarget.dataset.panel;
    const reset = {
      refuse: { reasonsError: '' },
      suspend: { procedureError: '', suspendReasonError: '' },
      resume: {},
      complete: {},
      comment: { commentError: '' },
      reassign: { staffIdError: '', staffId: 0 },
    };
    if (!reset[panel]) return;
    this.setData(Object.assign({ panel, error: '', notice: '' }, reset[panel]));
    if (panel === 'reassign') this.loadAssignees(this.data.reassignTaskId);
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
    // the form's own fields, and those of the filed version not filled in (its top level)
    const fields = Object.keys(c.form || {});
    Object.keys(this.titles).forEach((name) => {
      if (name.indexOf('.') < 0 && fields.indexOf(name) < 0) fields.push(name);
    });
    fields.forEach((name) => candidates.push({ key: `field:${name}`, kind: 'field', code: name, label: titleOf(this.titles, name) || name, kindText: '填写信息' }));
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

  onReasonsInput(event) {
    this.setData({ reasons: event.detail.value, reasonsError: '' });
  },

  onProcedure(event) {
    this.setData({ procedure: event.currentTarget.dataset.value, procedureError: '' });
  },

  onSuspendReasonInput(event) {
    this.setData({ suspendReason: event.detail.value, suspendReasonError: '' });
  },

  onResumeCommentInput(event) {
    this.setData({ resumeComment: event.detail.value });
  },

  onCompleteCommentInput(event) {
    this.setData({ completeComment: event.detail.value });
  },

  onCommentTextInput(event) {
    this.setData({ commentText: event.detail.value, commentError: '' });
  },

  onRevealReasonInput(event) {
    this.setData({ revealReason: event.detail.value, revealError: '' });
  },

  onReassignTask(event) {
    const id = Number(event.currentTarget.dataset.id);
    if (id === this.data.reassignTaskId && this.data.assignees.length) return;
    this.setData({
      reassignTaskId: id,
      reassignTasks: this.data.reassignTasks.map((t) => Object.assign({}, t, { chosen: t.id === id })),
      staffId: 0,
      staffIdError: '',
    });
    this.loadAssignees(id);
  },

  /**
   * Whom the task may go to (GET /api/v1/supervisor/tasks/{id}/assignees: the active staff of its
   * department and role, neither recused nor deciders of an earlier step), the holder marked.
   * An answer for a task no longer chosen is dropped.
   */
  async loadAssignees(taskId) {
    if (!taskId) return;
    this.setData({ assignees: [], noAssignee: false, assigneesLoading: true, staffId: 0 });
    let answer;
    try {
      answer = await api.get(`/api/v1/supervisor/tasks/${taskId}/assignees`);
    } catch (error) {
      if (this.data.reassignTaskId !== taskId) return;
      this.setData({ assigneesLoading: false, error: shared.errorText(error) });
      return;
    }
    if (this.data.reassignTaskId !== taskId) return;
    const assignees = ((answer && answer.assignees) || []).map((a) => ({
      staffId: a.staff_id,
      name: a.name,
      holds: Boolean(a.holds_task),
      chosen: false,
    }));
    this.setData({ assignees, assigneesLoading: false, noAssignee: !assignees.some((a) => !a.holds) });
  },

  /** 改派 to whom: one of the list (the holder already has it). */
  onPickAssignee(event) {
    const id = Number(event.currentTarget.dataset.id);
    const picked = this.data.assignees.find((a) => a.staffId === id);
    if (!picked || picked.holds) return;
    this.setData({
      staffId: id,
      staffIdError: '',
      assignees: this.data.assignees.map((a) => Object.assign({}, a, { chosen: a.staffId === id })),
    });
  },

  /**
   * An act's onError that puts the server's field errors beside their fields (`names` maps the
   * body's field to the page's error key). The panel's own text says what the server said, unless
   * that is just what the fields beside say already.
   */
  besideFields(names) {
    return (error) => {
      const changes = {};
      const shown = shared.describeError(error).fields.filter((f) => names[f.field]);
      shown.forEach((f) => {
        changes[names[f.field]] = f.message;
      });
      if (!shown.length) return false;
      changes.error = shown.every((f) => f.message === error.message) ? '' : error.message;
      this.setData(changes);
      return true;
    };
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

  /** 领取任务: the staff subscribe messages asked for first, in this tap, then the claim. */
  async onClaim() {
    const consenting = requestConsent(this.prepared, { client: api });
    const task = this.data.claimTask;
    await consenting;
    if (!task) return null;
    return this.act(`/api/v1/staff/tasks/${task.id}/claim`, undefined, '已领取');
  },

  /** 不予受理: the reasons (shown to the applicant), then a confirmation; cancelled sends nothing. */
  async onRefuse() {
    const reasons = this.data.reasons.trim();
    if (reasons.length < 2) {
      this.setData({ reasonsError: '请写明不予受理的理由（至少 2 个字）。' });
      return null;
    }
    const ok = await shared.confirm('确认不予受理', '不予受理决定及理由将告知申请人，提交后不可撤回。', '不予受理');
    if (!ok) return null;
    const answer = await this.act(`/api/v1/staff/cases/${this.data.id}/refuse`, { reasons }, '已不予受理', this.besideFields({ reasons: 'reasonsError' }));
    if (answer) this.setData({ reasons: '' });
    return answer;
  },

  /** 进入特别程序: which procedure and why; the case's clock stops until it is resumed. */
  async onSuspend() {
    const { procedure } = this.data;
    const reason = this.data.suspendReason.trim();
    const changes = {};
    if (!procedure) changes.procedureError = '请选择特别程序。';
    if (reason.length < 2) changes.suspendReasonError = '请写明进入特别程序的原因（至少 2 个字）。';
    if (Object.keys(changes).length) {
      this.setData(changes);
      return null;
    }
    const answer = await this.act(
      `/api/v1/staff/cases/${this.data.id}/suspend`,
      { procedure, reason },
      '已进入特别程序',
      this.besideFields({ procedure: 'procedureError', reason: 'suspendReasonError' }),
    );
    if (answer) this.setData({ procedure: '', suspendReason: '' });
    return answer;
  },

  /** 恢复审查: the special procedure ended (an optional comment); the due dates move. */
  async onResume() {
    const comment = this.data.resumeComment.trim();
    const answer = await this.act(`/api/v1/staff/cases/${this.data.id}/resume`, comment ? { comment } : {}, '已恢复审查');
    if (answer) this.setData({ resumeComment: '' });
    return answer;
  },

  /** 送达办结: confirmed first (the case closes); cancelled sends nothing. */
  async onComplete() {
    const ok = await shared.confirm('确认送达办结', '确认办理结果已送达申请人，办件将办结，不可撤回。', '办结');
    if (!ok) return null;
    const comment = this.data.completeComment.trim();
    const answer = await this.act(`/api/v1/staff/cases/${this.data.id}/complete`, comment ? { comment } : {}, '已办结');
    if (answer) this.setData({ completeComment: '' });
    return answer;
  },

  /** 内部意见: a line on the timeline that the applicant does not see. */
  async onSendComment() {
    const text = this.data.commentText.trim();
    if (!text) {
      this.setData({ commentError: '请填写内部意见。' });
      return null;
    }
    const answer = await this.act(`/api/v1/staff/cases/${this.data.id}/comments`, { text }, '已发表内部意见', this.besideFields({ text: 'commentError' }));
    if (answer) this.setData({ commentText: '' });
    return answer;
  },

  /** 改派: the chosen task to the staff member picked from its list (a supervisor of its department). */
  async onReassign() {
    const taskId = this.data.reassignTaskId;
    const staffId = this.data.staffId;
    if (!taskId) return null;
    if (!staffId) {
      this.setData({ staffIdError: this.data.noAssignee ? '本部门暂无可改派的工作人员。' : '请选择接手的工作人员。' });
      return null;
    }
    const answer = await this.act(
      `/api/v1/supervisor/tasks/${taskId}/reassign`,
      { staff_id: staffId },
      '已改派',
      this.besideFields({ staff_id: 'staffIdError' }),
    );
    if (answer) this.setData({ staffId: 0, assignees: [] });
    return answer;
  },

  // -- attachments ---------------------------------------------------------------------------

  /** 上传附件: photos taken or picked, each sent with its progress; the case reloads after. */
  async onAttach() {
    if (this.board.busy) return null;
    this.setData({ error: '', notice: '' });
    const sent = await this.board.choose(ATTACHMENT, this.board.count(ATTACHMENT) + MAX_ATTACHMENTS);
    return this.afterAttach(sent);
  },

  /** Send again the photo that failed: the same file, to the same policy while it holds. */
  async onRetryAttachment(event) {
    const sent = await this.board.retry(ATTACHMENT, event.currentTarget.dataset.key);
    return this.afterAttach([sent]);
  },

  onDismissAttachment(event) {
    this.board.dismiss(ATTACHMENT, event.currentTarget.dataset.key);
  },

  async afterAttach(sent) {
    const failed = (this.board.pending[ATTACHMENT] || []).filter((e) => e.status === 'failed');
    const conflict = failed.find((e) => e.apiError && e.apiError.isConflict);
    if (conflict) {
      this.board.dismiss(ATTACHMENT, conflict.key);
      await this.load();
      this.setData({ notice: `${conflict.apiError.message}\n已为您刷新为最新状态。` });
      return null;
    }
    failed.forEach((e) => {
      if (e.apiError) shared.errorText(e.apiError); // an unbound WeChat goes to the binding page
    });
    const done = (sent || []).filter(Boolean);
    if (done.length) {
      shared.toast('附件已上传', 'success');
      await this.load();
    }
    return done;
  },

  // -- personal data ---------------------------------------------------------------------------

  /** 查看完整: the reason is asked first, in a panel above the bar. */
  onOpenReveal(event) {
    const key = event.currentTarget.dataset.key;
    const row = this.data.formRows.find((r) => r.key === key);
    if (!row || !row.personal || !this.data.can.reveal) return; // only what personal_fields names
    this.setData({ panel: 'reveal', revealKey: key, revealLabel: row.label, revealReason: '', revealError: '', error: '', notice: '' });
  },

  /**
   * POST …/personal-data {field, reason}: the full value shown in its row only — kept in no
   * storage, no other data of the page, masked again on reload. Each look is its own recorded
   * read (no replayed answer).
   */
  async onReveal() {
    const field = this.data.revealKey;
    const reason = this.data.revealReason.trim();
    if (!field || this.data.busy) return null;
    if (reason.length < 4 || reason.length > 200) {
      this.setData({ revealError: reason.length < 4 ? '请写明查看原因（至少 4 个字）。' : '查看原因最多 200 个字。' });
      return null;
    }
    this.setData({ busy: true, error: '' });
    let answer;
    try {
      answer = await api.post(`/api/v1/staff/cases/${this.data.id}/personal-data`, { field, reason });
    } catch (error) {
      this.setData({ busy: false });
      if (error && error.isConflict) {
        this.setData({ panel: '' });
        await this.load();
        this.setData({ notice: `${error.message}\n已为您刷新为最新状态。` });
        return null;
      }
      const shown = this.besideFields({ reason: 'revealError' });
      if (!shown(error)) this.setData({ error: shared.errorText(error) });
      return null;
    }
    const index = this.data.formRows.findIndex((r) => r.key === field);
    const changes = { busy: false, panel: '', revealReason: '', revealKey: '' };
    if (index >= 0 && answer && answer.value) {
      changes[`formRows[${index}].value`] = answer.value;
      changes[`formRows[${index}].revealed`] = true;
    }
    this.setData(changes);
    return answer;
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
