/**
 * 我的企业: the companies I represent (法定代表人) or act for (经办人), registering my company,
 * and joining one with an agent's invitation code.
 *
 * - GET /api/v1/companies on load, on return and on pull-down: the list, each with my role and
 *   scopes; a company opens pages/companies/detail?id=….
 * - POST /api/v1/companies {uscc, name}: real name level 1 needed (a 403
 *   `auth.realname_level_too_low` offers the way to pages/login/login), and the registry must
 *   name me as the legal representative; the list is loaded again after.
 * - POST /api/v1/company-invitations/accept {code}: the code the legal representative passed on;
 *   a refused code is said beside the field; the list is loaded again after.
 * A 409 (already registered, already a member) reloads the list and says why. Writes tapped again
 * after a failure carry the same Idempotency-Key (utils/writes.js).
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { writeKeys, splitByField } = require('../../utils/writes.js');

const ROLE_TEXT = { legal_rep: '法定代表人', agent: '经办人' };
const SCOPE_TEXT = { apply: '申请', pay: '缴费', view: '查看' };
const LABELS = { uscc: '统一社会信用代码', name: '企业名称', code: '邀请码' };
/** api/identity.py CompanyIn and AcceptIn */
const LIMITS = { uscc: 32, name: 100, code: 64 };

function row(c) {
  return {
    id: c.id,
    name: c.name,
    uscc: c.uscc,
    role: c.role,
    roleText: ROLE_TEXT[c.role] || c.role,
    scopesText: c.role === 'agent' ? (c.scopes || []).map((s) => SCOPE_TEXT[s] || s).join('、') : '',
  };
}

/** Refused for want of real name: the page offers the way to pages/login/login. */
function needsRealname(error) {
  return Boolean(error && error.code === 'auth.realname_level_too_low');
}

Page({
  data: {
    displayClass: '',
    loading: false,
    error: '',
    notice: '',
    companies: [],
    limits: LIMITS,
    // register
    uscc: '',
    name: '',
    registerErrors: {},
    registerError: '',
    registering: false,
    // accept an invitation
    code: '',
    acceptErrors: {},
    acceptError: '',
    accepting: false,
    needRealname: '', // the form whose write needs real name first: 'register' | 'accept'
  },

  onLoad() {
    applyDisplay(this);
    this.keys = writeKeys();
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const answer = await client.get('/api/v1/companies');
      this.setData({ loading: false, companies: (answer.companies || []).map(row) });
    }, { labels: LABELS });
  },

  onOpen(event) {
    const id = Number(event.currentTarget.dataset.id);
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: `/pages/companies/detail?id=${id}` });
  },

  onInput(event) {
    const field = event.currentTarget.dataset.field; // uscc | name | code
    const group = field === 'code' ? 'acceptErrors' : 'registerErrors';
    this.setData({ [field]: String(event.detail.value || '').slice(0, LIMITS[field]), [`${group}.${field}`]: '' });
  },

  /** 注册企业: I am its legal representative; the server asks the registry. */
  async onRegister() {
    if (this.data.registering) return;
    // the code as the server reads it: no spaces, upper case (auth/identifiers.py check_uscc)
    const uscc = this.data.uscc.replace(/\s+/g, '').toUpperCase();
    const name = this.data.name.trim();
    const missing = {};
    if (!uscc) missing.uscc = '请填写统一社会信用代码。';
    if (name.length < 2) missing.name = name ? '企业名称至少 2 个字。' : '请填写企业名称。';
    if (Object.keys(missing).length) {
      this.setData({ registerErrors: missing, registerError: '' });
      return;
    }
    const path = '/api/v1/companies';
    const body = { uscc, name };
    this.setData({ registering: true, registerErrors: {}, registerError: '', notice: '', needRealname: '' });
    try {
      const company = await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({ registering: false, uscc: '', name: '', notice: `已注册${company.name}，您是该企业的法定代表人。` });
      await this.load();
    } catch (error) {
      this.setData({ registering: false });
      await this.showWriteError(error, ['uscc', 'name'], 'register');
    }
  },

  /** 接受邀请: the code the legal representative passed on; I become an agent (经办人). */
  async onAccept() {
    if (this.data.accepting) return;
    const code = this.data.code.trim();
    if (code.length < 4) {
      this.setData({ acceptErrors: { code: code ? '邀请码至少 4 位，请核对。' : '请填写邀请码。' }, acceptError: '' });
      return;
    }
    const path = '/api/v1/company-invitations/accept';
    const body = { code };
    this.setData({ accepting: true, acceptErrors: {}, acceptError: '', notice: '', needRealname: '' });
    try {
      const company = await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({ accepting: false, code: '', notice: `已成为${company.name}的经办人。` });
      await this.load();
    } catch (error) {
      this.setData({ accepting: false });
      if (error && error.code === 'auth.invitation_invalid') {
        // about the code itself: said beside it
        this.setData({ acceptErrors: { code: describeError(error).title } });
        return;
      }
      await this.showWriteError(error, ['code'], 'accept');
    }
  },

  /** A write's error: 409 reloads; field errors beside their fields; the rest above the form. */
  async showWriteError(error, placed, form) {
    if (error && error.isConflict) {
      await this.load();
      this.setData({ notice: describeError(error).title });
      return;
    }
    const split = splitByField(describeError(error, LABELS), placed);
    this.setData({ [`${form}Errors`]: split.fieldErrors, [`${form}Error`]: split.text, needRealname: needsRealname(error) ? form : '' });
  },

  onRealname() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: '/pages/login/login?level=1&back=1' });
  },
});
