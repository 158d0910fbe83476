/**
 * Applying for an item: the form drawn from the item's JSON Schema (text, number, picker, switch,
 * date; required fields marked, the server's errors beside each field), photos for each material
 * (wx.chooseMedia, then the client's upload with a progress bar, a failed photo kept with a retry),
 * and the submission: consent asked first thing in the tap (prepared on load), the form saved,
 * then submitted. The draft is made on the first photo or at the submission.
 * Query: `code` (a new application for this item) or `id` (a draft to continue).
 * 删除草稿 (once there is a draft): wx.showModal (cancelled: nothing sent), then DELETE
 * /api/v1/cases/{id} (a lost answer that then finds nothing has succeeded), and the drafts list in
 * this page's place; a 409 (no longer a draft) reloads.
 */
const { client, describeError, labelsFromGuide } = require('../../utils/api.js');
const { prepareOn, requestConsent } = require('../../utils/consent.js');
const { applyDisplay } = require('../../utils/display.js');
const { buildFields, cleanForm, splitFieldErrors } = require('../../utils/form.js');
const { UploadBoard } = require('../../utils/uploads.js');
const { writeKeys, confirmModal } = require('../../utils/writes.js');

const REQUIREMENT = { required: '必交', conditional: '视情况提交' };

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    itemName: '',
    caseId: null,
    fields: [],
    materials: [],
    submitting: false,
    needLevel: 0,
    closed: false,
    deleting: false,
  },

  onLoad(query) {
    applyDisplay(this);
    const q = query || {};
    this.code = q.code || '';
    this.caseId = q.id ? Number(q.id) : null;
    this.form = {};
    this.fieldErrors = {};
    this.materialErrors = {};
    this.checklist = {};
    this.keys = writeKeys();
    // the templates to ask for are fetched now: the consent sheet must open first thing in the tap
    prepareOn(this, 'submit');
    return this.load();
  },

  onShow() {
    applyDisplay(this);
    // back from the real-name page: the level may be enough now
    if (this.shown && this.data.needLevel) return this.checkLevel();
    this.shown = true;
    return undefined;
  },

  /** Say before anything is filled in when the item needs a higher real-name level. */
  async checkLevel() {
    const needed = Number(this.guide && this.guide.min_realname_level) || 0;
    if (!needed) return;
    try {
      const me = await client.get('/api/v1/me');
      this.setData({ needLevel: Number(me.realname_level) < needed ? needed : 0 });
    } catch (e) {
      // the draft's creation will say it, if it is so
    }
  },

  async load() {
    this.setData({ loading: true, error: '' });
    try {
      let detail = null;
      if (this.caseId) {
        detail = await client.get(`/api/v1/cases/${this.caseId}`);
        this.code = detail.item_code;
        this.form = Object.assign({}, detail.form || {});
        this.checklist = {};
        (detail.checklist || []).forEach((row) => {
          this.checklist[row.code] = row;
        });
      }
      this.guide = await client.get(`/api/v1/items/${encodeURIComponent(this.code)}`);
      this.labels = labelsFromGuide(this.guide);
      if (!this.board) {
        this.board = new UploadBoard({
          itemCode: this.code,
          ensureCase: () => this.ensureDraft(),
          labels: this.labels,
          onChange: (code) => {
            if (code) delete this.materialErrors[code];
            this.render();
          },
        });
      }
      if (detail) this.board.setFiles(detail.files);
      const closed = Boolean(detail && detail.status !== 'draft');
      this.setData({ loading: false, itemName: this.guide.name, caseId: this.caseId, closed });
      this.render();
      if (!this.caseId) await this.checkLevel();
    } catch (error) {
      this.setData({ loading: false });
      this.showError(error);
    }
  },

  /** Redraw the form and the materials from the page's state. */
  render() {
    if (!this.guide) return;
    const fields = buildFields(this.guide.form_schema, this.form, this.fieldErrors);
    const materials = (this.guide.materials || []).map((m) => {
      const row = this.checklist[m.code];
      const view = this.board.view(m.code);
      return {
        code: m.code,
        name: m.name,
        requirementText: REQUIREMENT[m.requirement] || '',
        required: row ? row.needed && m.requirement === 'required' : m.requirement === 'required',
        condition: m.condition || '',
        notes: m.notes || '',
        maxFiles: m.max_files,
        files: view.files,
        pending: view.pending,
        canAdd: this.board.canAdd(m.code, m.max_files),
        error: this.materialErrors[m.code] || '',
      };
    });
    this.setData({ fields, materials });
  },

  /** The draft this application is saved in; made on the first need (a photo, the submission). */
  ensureDraft() {
    if (this.caseId) return Promise.resolve(this.caseId);
    if (!this.creating) {
      this.creating = client.post('/api/v1/cases', { item_code: this.code, form: {} }).then(
        (state) => {
          this.caseId = state.id;
          this.creating = null;
          this.setData({ caseId: state.id });
          return state.id;
        },
        (error) => {
          this.creating = null;
          throw error;
        },
      );
    }
    return this.creating;
  },

  // -- the form ---------------------------------------------------------------------------------

  setValue(name, value) {
    this.form[name] = value;
    delete this.fieldErrors[name];
  },

  onInput(event) {
    const name = event.currentTarget.dataset.name;
    const hadError = Boolean(this.fieldErrors[name]);
    this.setValue(name, event.detail.value);
    if (hadError) this.render();
  },

  onPick(event) {
    const name = event.currentTarget.dataset.name;
    const field = this.data.fields.find((f) => f.name === name);
    if (!field) return;
    this.setValue(name, field.options[Number(event.detail.value)]);
    this.render(); // a choice may make other fields required (the schema's if/then)
  },

  onDate(event) {
    this.setValue(event.currentTarget.dataset.name, event.detail.value);
    this.render();
  },

  onSwitch(event) {
    this.setValue(event.currentTarget.dataset.name, Boolean(event.detail.value));
    this.render();
  },

  // -- photos -----------------------------------------------------------------------------------

  onChoose(event) {
    const code = event.currentTarget.dataset.code;
    const material = (this.guide.materials || []).find((m) => m.code === code);
    if (!material) return Promise.resolve([]);
    return this.board.choose(code, material.max_files).then((done) => {
      this.afterUploads(done);
      return done;
    });
  },

  onRetry(event) {
    const { code, key } = event.currentTarget.dataset;
    return this.board.retry(code, key).then((done) => {
      this.afterUploads([done]);
      return done;
    });
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
      this.showError(error);
    }
  },

  /** A draft refused for the real-name level shows the way to it. */
  afterUploads(results) {
    const failed = Object.keys(this.board.pending)
      .map((code) => this.board.pending[code])
      .reduce((all, list) => all.concat(list), [])
      .find((e) => e.status === 'failed' && e.code === 'auth.realname_level_too_low');
    if (failed && failed.apiError) this.setData({ needLevel: Number(failed.apiError.details.required) || 1 });
    return results;
  },

  // -- submission -------------------------------------------------------------------------------

  /** The tap: WeChat's consent sheet first (it opens only inside a tap), then the submission. */
  onSubmit() {
    const consenting = requestConsent(this.prepared);
    return this.submit(consenting);
  },

  async submit(consenting) {
    if (this.data.submitting) return;
    if (this.board && this.board.busy) {
      this.setData({ error: '照片正在上传，请等待上传完成后再提交。' });
      return;
    }
    this.fieldErrors = {};
    this.materialErrors = {};
    this.setData({ submitting: true, error: '', notice: '', needLevel: 0 });
    this.render();
    try {
      await consenting;
      const id = await this.ensureDraft();
      await client.put(`/api/v1/cases/${id}/form`, { form: cleanForm(this.guide.form_schema, this.form) });
      await client.post(`/api/v1/cases/${id}/submit`);
      this.setData({ submitting: false, notice: '申请已提交，请留意办理进度。' });
      // eslint-disable-next-line no-undef
      wx.redirectTo({ url: `/pages/case/detail?id=${id}` });
    } catch (error) {
      this.setData({ submitting: false });
      if (error && error.isConflict && this.caseId) {
        await this.load();
        this.setData({ notice: '办件状态已变化，已为您刷新，请核对后再操作。' });
        return;
      }
      this.showError(error);
    }
  },

  /** An error: fields beside their inputs, materials beside their photos, the rest on top. */
  showError(error) {
    const shown = describeError(error, this.labels);
    const split = splitFieldErrors(shown.fields);
    this.fieldErrors = split.form;
    this.materialErrors = split.materials;
    const lines = [shown.title].concat(split.other.map((f) => `${f.label}：${f.message}`));
    const needLevel =
      error && error.code === 'auth.realname_level_too_low' ? Number(error.details.required) || 1 : 0;
    this.setData({ error: lines.join('\n'), needLevel });
    this.render();
  },

  onRealname() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/login/login?level=${this.data.needLevel || 1}&back=1` });
  },

  /** 删除草稿: asked first; the draft, its form and its photos are gone, then the drafts list. */
  async onDeleteDraft() {
    if (!this.caseId || this.data.deleting || this.data.submitting) return;
    if (this.board && this.board.busy) {
      this.setData({ error: '照片正在上传，请等待上传完成后再删除。' });
      return;
    }
    const ok = await confirmModal('删除草稿', '删除后，已填写的信息和已上传的材料将一并清除，不能恢复。', '删除');
    if (!ok) return;
    const path = `/api/v1/cases/${this.caseId}`;
    this.setData({ deleting: true, error: '', notice: '' });
    try {
      await client.del(path, { idempotencyKey: this.keys.keyFor(path) });
      this.keys.done(path);
      this.setData({ deleting: false, notice: '草稿已删除。' });
      // eslint-disable-next-line no-undef
      wx.redirectTo({ url: '/pages/cases/cases?group=draft' });
    } catch (error) {
      this.setData({ deleting: false });
      if (error && error.isConflict) {
        await this.load();
        this.setData({ notice: describeError(error).title });
        return;
      }
      this.setData({ error: describeError(error).text });
    }
  },

  onOpenCase() {
    // eslint-disable-next-line no-undef
    wx.redirectTo({ url: `/pages/case/detail?id=${this.caseId}` });
  },
});
