/**
 * One of my cases: status, dates (the promised and the predicted one), the decision with the
 * rights notice, the timeline, and during a correction the notice's list, where ONLY the listed
 * fields and materials can be changed before resubmitting. A conflict (409: the case moved on)
 * reloads it. The path is the one the server's messages link to: pages/case/detail?id=….
 *
 * - GET /api/v1/cases/{id} on load, on return and on pull-down; the item's guide once (the
 *   materials' names, the form for a correction). What was filed is named by the case's own
 *   `form_titles` (the version it was filed under), the guide's titles only where it has none.
 * - a case paid for (result_pending, completed with a fee): GET …/fee for its payments, each
 *   opening its electronic receipt (pages/case/receipt); the case itself lists no payments.
 * - 撤回申请 (submitted, correction_requested, accepted, in_review, suspended, fee_due): an
 *   optional reason, wx.showModal, then POST …/withdraw {reason}; cancelled: nothing is sent.
 * - a finished case (completed, refused, decided_denied): 去评价 / 查看评价 (pages/case/evaluate).
 * Writes tapped again after a failure carry the same Idempotency-Key (utils/writes.js).
 */
const { client, describeError, labelsFromGuide } = require('../../utils/api.js');
const { prepareOn, requestConsent } = require('../../utils/consent.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { buildFields, cleanForm, splitFieldErrors } = require('../../utils/form.js');
const { dateText, yuan, timelineLine } = require('../../utils/format.js');
const { UploadBoard } = require('../../utils/uploads.js');
const { writeKeys, confirmModal, splitByField } = require('../../utils/writes.js');

const DECISION = { granted: '准予许可', denied: '不予许可' };
const CONFLICT_NOTICE = '办件状态已变化，已为您刷新，请核对后再操作。';
/** cases/states.py: the withdraw transition's states, and RATEABLE */
const WITHDRAWABLE = ['submitted', 'correction_requested', 'accepted', 'in_review', 'suspended', 'fee_due'];
const RATEABLE = ['completed', 'refused', 'decided_denied'];
/** the states a paid fee leads to (fee_paid: fee_due → result_pending → completed) */
const PAID_STATES = ['result_pending', 'completed'];
const REASON_MAX = 500;
const CHANNEL = { wechatpay: '微信支付', alipay: '支付宝' };

function displayValue(value) {
  if (value === true) return '是';
  if (value === false) return '否';
  if (value === null || value === undefined || value === '') return '未填写';
  return String(value);
}

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    c: null,
    dates: [],
    formRows: [],
    materialRows: [],
    timeline: [],
    correcting: false,
    problems: [],
    fields: [],
    materials: [],
    submitting: false,
    receipts: [],
    withdrawOpen: false,
    withdrawReason: '',
    withdrawError: '',
    withdrawing: false,
    reasonMax: REASON_MAX,
  },

  onLoad(query) {
    applyDisplay(this);
    this.caseId = Number((query && query.id) || 0);
    this.form = {};
    this.fieldErrors = {};
    this.materialErrors = {};
    this.keys = writeKeys();
    prepareOn(this, 'submit');
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const detail = await client.get(`/api/v1/cases/${this.caseId}`);
      this.detail = detail;
      this.form = Object.assign({}, detail.form || {});
      this.fieldErrors = {};
      this.materialErrors = {};
      // the field titles and the materials' names are in the guide, not in the case
      if (!this.guide || this.guide.code !== detail.item_code) {
        this.guide = await client.get(`/api/v1/items/${encodeURIComponent(detail.item_code)}`);
      }
      // the filed version's titles name its fields first (the guide may have changed since)
      this.labels = labelsFromGuide(this.guide);
      Object.keys(detail.form_titles || {}).forEach((path) => {
        this.labels[`form.${path}`] = detail.form_titles[path];
      });
      this.payments = await this.paymentsOf(detail);
      this.board = new UploadBoard({
        itemCode: detail.item_code,
        ensureCase: () => Promise.resolve(this.caseId),
        labels: this.labels,
        onChange: (code) => {
          if (code) delete this.materialErrors[code];
          this.render();
        },
      });
      this.board.setFiles(detail.files);
      this.setData({ loading: false });
      this.render();
    }, { labels: () => this.labels });
  },

  /** A paid case's payments (for their receipts); none when there is no fee notice to read. */
  async paymentsOf(detail) {
    if (!(detail.fee_fen > 0) || PAID_STATES.indexOf(detail.status) < 0) return [];
    try {
      const fee = await client.get(`/api/v1/cases/${this.caseId}/fee`);
      return fee.payments || [];
    } catch (error) {
      return []; // the receipts are also on the fee notice; the case shows without them
    }
  },

  /** The correction notice still to answer, or null. */
  openCorrection() {
    const d = this.detail;
    return d && d.status === 'correction_requested' && d.correction && !d.correction.resolved ? d.correction : null;
  },

  render() {
    const d = this.detail;
    if (!d) return;
    const schema = (this.guide && this.guide.form_schema) || {};
    const props = schema.properties || {};
    const titles = d.form_titles || {};
    const titleOf = (name) => titles[name] || (props[name] && props[name].title) || name;
    const materialsByCode = {};
    ((this.guide && this.guide.materials) || []).forEach((m) => {
      materialsByCode[m.code] = m;
    });
    const correction = this.openCorrection();
    const items = (correction && correction.items) || [];
    const listedFields = items.filter((i) => i.kind === 'field').map((i) => i.code);
    const listedMaterials = items.filter((i) => i.kind === 'material').map((i) => i.code);

    const dates = [
      ['提交时间', dateText(d.submitted_at)],
      ['受理日期', dateText(d.accepted_on)],
      ['承诺办结日期', dateText(d.promised_due_on)],
      ['预计办结日期', dateText(d.predicted_on)],
      ['法定办结期限', dateText(d.statutory_due_on)],
      ['计时暂停自', dateText(d.clock_stopped_since)],
    ]
      .filter((row) => row[1])
      .map((row) => ({ label: row[0], value: row[1] }));

    // what was filed, read only, in the guide's order then the filed version's other fields: the
    // listed fields are edited below, nothing else is
    const filed = d.form || {};
    const names = Object.keys(props)
      .filter((name) => name in filed)
      .concat(Object.keys(filed).filter((name) => !(name in props)));
    const formRows = names.map((name) => ({ name, label: titleOf(name), value: displayValue(filed[name]), listed: listedFields.indexOf(name) >= 0 }));

    const materialRows = (d.checklist || [])
      .filter((row) => row.needed || row.files > 0)
      .map((row) => ({ code: row.code, name: row.name, files: row.files, satisfied: row.satisfied, listed: listedMaterials.indexOf(row.code) >= 0 }));

    const problems = items.map((i) => ({
      kind: i.kind,
      code: i.code,
      what: i.kind === 'field' ? titleOf(i.code) : (materialsByCode[i.code] && materialsByCode[i.code].name) || i.code,
      kindText: i.kind === 'field' ? '信息' : '材料',
      problem: i.problem,
    }));

    // the editable part of a correction: only the listed fields and materials
    const fields = buildFields(schema, this.form, this.fieldErrors).filter((f) => listedFields.indexOf(f.name) >= 0);
    const materials = listedMaterials.map((code) => {
      const m = materialsByCode[code] || { code, name: code, max_files: 1 };
      const view = this.board.view(code);
      const problem = items.find((i) => i.kind === 'material' && i.code === code);
      return {
        code,
        name: m.name,
        problem: problem ? problem.problem : '',
        maxFiles: m.max_files,
        files: view.files,
        pending: view.pending,
        canAdd: this.board.canAdd(code, m.max_files),
        error: this.materialErrors[code] || '',
      };
    });

    this.setData({
      c: {
        id: d.id,
        itemName: d.item_name,
        status: d.status,
        statusLabel: d.status_label,
        acceptanceNumber: d.acceptance_number || '',
        applicant: d.applicant || '',
        feeText: d.fee_fen > 0 ? `${yuan(d.fee_fen)} 元` : '',
        decisionText: DECISION[d.decision] || '',
        decisionReasons: d.decision_reasons || '',
        rightsNotice: d.rights_notice || '',
        card: d.card || '',
        isDraft: d.status === 'draft',
        feeDue: d.status === 'fee_due',
        canWithdraw: WITHDRAWABLE.indexOf(d.status) >= 0,
        rateable: RATEABLE.indexOf(d.status) >= 0,
        rated: Boolean(d.evaluation),
      },
      receipts: (this.payments || []).map((p) => ({
        id: p.id,
        text: `${CHANNEL[p.channel] || p.channel} ¥ ${yuan(p.amount_fen)}`,
        paidAt: dateText(p.paid_at),
      })),
      withdrawOpen: this.data.withdrawOpen && WITHDRAWABLE.indexOf(d.status) >= 0,
      dates,
      formRows,
      materialRows,
      timeline: (d.timeline || []).slice().reverse().map(timelineLine),
      correcting: Boolean(correction),
      correctionRound: correction ? correction.round : 0,
      correctionIssued: correction ? dateText(correction.issued_at) : '',
      problems,
      fields,
      materials,
    });
  },

  // -- the correction: only the listed fields ----------------------------------------------------

  onInput(event) {
    const name = event.currentTarget.dataset.name;
    const hadError = Boolean(this.fieldErrors[name]);
    this.form[name] = event.detail.value;
    delete this.fieldErrors[name];
    if (hadError) this.render();
  },

  onPick(event) {
    const name = event.currentTarget.dataset.name;
    const field = this.data.fields.find((f) => f.name === name);
    if (!field) return;
    this.form[name] = field.options[Number(event.detail.value)];
    delete this.fieldErrors[name];
    this.render();
  },

  onDate(event) {
    const name = event.currentTarget.dataset.name;
    this.form[name] = event.detail.value;
    delete this.fieldErrors[name];
    this.render();
  },

  onSwitch(event) {
    const name = event.currentTarget.dataset.name;
    this.form[name] = Boolean(event.detail.value);
    delete this.fieldErrors[name];
    this.render();
  },

  // -- the correction: only the listed materials ---------------------------------------------------

  onChoose(event) {
    const code = event.currentTarget.dataset.code;
    const listed = this.data.materials.find((m) => m.code === code);
    if (!listed) return Promise.resolve([]);
    return this.board.choose(code, listed.maxFiles).then((results) => this.afterUploads(results));
  },

  onRetry(event) {
    const { code, key } = event.currentTarget.dataset;
    return this.board.retry(code, key).then((done) => this.afterUploads([done]));
  },

  onDismiss(event) {
    const { code, key } = event.currentTarget.dataset;
    this.board.dismiss(code, key);
  },

  async onDeleteFile(event) {
    const { code, id } = event.currentTarget.dataset;
    try {
      await this.board.remove(code, id);
    } catch (error) {
      if (error && error.isConflict) return this.reloadAfterConflict();
      this.setData({ error: describeError(error, this.labels).text });
    }
    return undefined;
  },

  /** An upload refused because the case moved on (a conflict) reloads it too. */
  afterUploads(results) {
    const conflict = Object.keys(this.board.pending)
      .map((code) => this.board.pending[code])
      .reduce((all, list) => all.concat(list), [])
      .find((e) => e.status === 'failed' && e.apiError && e.apiError.isConflict && e.code !== 'case.not_listed_for_correction');
    if (conflict) return this.reloadAfterConflict().then(() => results);
    return results;
  },

  async reloadAfterConflict() {
    await this.load();
    this.setData({ notice: CONFLICT_NOTICE });
  },

  /** 重新提交: the consent sheet first (inside the tap), then the listed fields saved, then submit. */
  onResubmit() {
    const consenting = requestConsent(this.prepared);
    return this.resubmit(consenting);
  },

  async resubmit(consenting) {
    if (this.data.submitting) return;
    if (this.board.busy) {
      this.setData({ error: '照片正在上传，请等待上传完成后再提交。' });
      return;
    }
    this.fieldErrors = {};
    this.materialErrors = {};
    this.setData({ submitting: true, error: '', notice: '' });
    try {
      await consenting;
      const schema = this.guide.form_schema || {};
      if (this.data.fields.length) {
        // the whole form goes back: unlisted fields unchanged (masked identifiers kept as shown)
        const form = Object.assign({}, this.detail.form || {}, cleanForm(schema, this.pick(this.form, this.data.fields)));
        await client.put(`/api/v1/cases/${this.caseId}/form`, { form });
      }
      await client.post(`/api/v1/cases/${this.caseId}/submit`);
      this.setData({ submitting: false });
      await this.load();
      this.setData({ notice: '补正材料已重新提交，请留意办理进度。' });
    } catch (error) {
      this.setData({ submitting: false });
      if (error && error.isConflict && error.code !== 'case.not_listed_for_correction') {
        await this.reloadAfterConflict();
        return;
      }
      const shown = describeError(error, this.labels);
      const split = splitFieldErrors(shown.fields);
      this.fieldErrors = split.form;
      this.materialErrors = split.materials;
      const lines = [shown.title].concat(split.other.map((f) => `${f.label}：${f.message}`));
      // an unlisted field named by the server has no input here: say it on top
      Object.keys(split.form)
        .filter((name) => !this.data.fields.some((f) => f.name === name))
        .forEach((name) => lines.push(`${(this.labels || {})[`form.${name}`] || name}：${split.form[name]}`));
      this.setData({ error: lines.join('\n') });
      this.render();
    }
  },

  pick(form, fields) {
    const out = {};
    fields.forEach((f) => {
      if (f.name in form) out[f.name] = form[f.name];
    });
    return out;
  },

  // -- withdrawing ------------------------------------------------------------------------------------

  onWithdrawOpen() {
    this.setData({ withdrawOpen: true, withdrawError: '', notice: '' });
  },

  onWithdrawClose() {
    this.setData({ withdrawOpen: false, withdrawError: '' });
  },

  onWithdrawReason(event) {
    this.setData({ withdrawReason: String(event.detail.value || '').slice(0, REASON_MAX), withdrawError: '' });
  },

  /** 确认撤回: asked first (cancelled: nothing sent), then the withdrawal; the case reloads. */
  async onWithdraw() {
    if (this.data.withdrawing) return;
    const feeDue = this.detail && this.detail.status === 'fee_due';
    const ok = await confirmModal(
      '撤回申请',
      `撤回后本次申请将终止办理${feeDue ? '，缴费通知同时作废' : ''}，如需办理须重新申请。确定撤回吗？`,
      '撤回',
    );
    if (!ok) return;
    const path = `/api/v1/cases/${this.caseId}/withdraw`;
    const body = { reason: this.data.withdrawReason.trim() };
    this.setData({ withdrawing: true, withdrawError: '', error: '', notice: '' });
    try {
      await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({ withdrawing: false, withdrawOpen: false, withdrawReason: '' });
      await this.load();
      this.setData({ notice: '申请已撤回。' });
    } catch (error) {
      this.setData({ withdrawing: false });
      if (error && error.isConflict) {
        await this.reloadAfterConflict();
        return;
      }
      const split = splitByField(describeError(error, this.labels), ['reason']);
      this.setData({ withdrawError: split.fieldErrors.reason || '', error: split.text });
    }
  },

  // -- the ways on ----------------------------------------------------------------------------------

  onEvaluate() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/case/evaluate?id=${this.caseId}` });
  },

  onReceipt(event) {
    const id = Number(event.currentTarget.dataset.id);
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/case/receipt?case=${this.caseId}&payment=${id}` });
  },

  onPay() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/pay/pay?id=${this.caseId}` });
  },

  onContinue() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/apply/apply?id=${this.caseId}` });
  },
});
