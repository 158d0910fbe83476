/**
 * One of my companies (pages/companies/detail?id=…, the path the server's agent messages link to):
 * its agents (经办人) for the legal representative, my own scopes for an agent.
 *
 * - GET /api/v1/companies, then the one with this id: the API has no GET /companies/{id}, and
 *   the list says my role (a company not in it: not mine, or my agency was removed).
 * - legal representative only: GET /api/v1/companies/{id}/agents (an agent would get a 403);
 * - 邀请经办人: POST /api/v1/companies/{id}/invitations {scopes}: the one-time invite code is shown
 *   (and copied with wx.setClipboardData) for the representative to pass on; the agents reload;
 * - 移除 / 撤销邀请: wx.showModal, then DELETE /api/v1/companies/{id}/agents/{agent_id}; reload.
 * A 403 shows the server's message; a 404 or a 409 reloads and says why. Writes tapped again after
 * a failure carry the same Idempotency-Key (utils/writes.js).
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { dateText } = require('../../utils/format.js');
const { writeKeys, confirmedDelete, splitByField } = require('../../utils/writes.js');

const ROLE_TEXT = { legal_rep: '法定代表人', agent: '经办人' };
const SCOPES = [
  { value: 'apply', label: '申请' },
  { value: 'pay', label: '缴费' },
  { value: 'view', label: '查看' },
];
const SCOPE_TEXT = { apply: '申请', pay: '缴费', view: '查看' };
const STATUS_TEXT = { invited: '已邀请，待接受', active: '在办', revoked: '已移除' };
const LABELS = { scopes: '权限' };

function scopesText(scopes) {
  return (scopes || []).map((s) => SCOPE_TEXT[s] || s).join('、');
}

function agentRow(a) {
  return {
    id: a.id,
    name: a.name || '（尚未接受邀请）',
    scopesText: scopesText(a.scopes),
    status: a.status,
    statusText: STATUS_TEXT[a.status] || a.status,
    removable: a.status !== 'revoked',
  };
}

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    missing: false,
    company: null,
    isRep: false,
    agents: [],
    scopeOptions: SCOPES.map((s) => Object.assign({ checked: s.value !== 'pay' }, s)),
    scopeError: '',
    inviting: false,
    invitation: null,
    busyAgent: 0,
  },

  onLoad(query) {
    applyDisplay(this);
    this.companyId = Number((query && query.id) || 0);
    this.keys = writeKeys();
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const list = await client.get('/api/v1/companies');
      const c = (list.companies || []).find((x) => Number(x.id) === this.companyId);
      if (!c) {
        this.setData({ loading: false, missing: true, company: null, isRep: false, agents: [] });
        return;
      }
      const isRep = c.role === 'legal_rep';
      const company = { id: c.id, name: c.name, uscc: c.uscc, roleText: ROLE_TEXT[c.role] || c.role, scopesText: scopesText(c.scopes) };
      let agents = [];
      if (isRep) {
        const answer = await client.get(`/api/v1/companies/${this.companyId}/agents`);
        agents = (answer.agents || []).map(agentRow);
      }
      this.setData({ loading: false, missing: false, company, isRep, agents });
    }, { labels: LABELS });
  },

  onScopes(event) {
    const chosen = event.detail.value || [];
    this.setData({
      scopeOptions: this.data.scopeOptions.map((s) => Object.assign({}, s, { checked: chosen.indexOf(s.value) >= 0 })),
      scopeError: '',
    });
  },

  /** 生成邀请码: one code per invitation, shown once; the representative passes it on. */
  async onInvite() {
    if (this.data.inviting) return;
    const scopes = this.data.scopeOptions.filter((s) => s.checked).map((s) => s.value);
    if (!scopes.length) {
      this.setData({ scopeError: '请至少选择一项权限。' });
      return;
    }
    const path = `/api/v1/companies/${this.companyId}/invitations`;
    const body = { scopes };
    this.setData({ inviting: true, error: '', notice: '', scopeError: '', invitation: null });
    try {
      const answer = await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({
        inviting: false,
        invitation: { code: answer.invite_code, scopesText: scopesText(answer.scopes), expires: dateText(answer.expires_at) },
      });
      await this.load();
    } catch (error) {
      this.setData({ inviting: false });
      if (error && (error.isConflict || error.status === 404)) {
        await this.reloadWith(error);
        return;
      }
      const split = splitByField(describeError(error, LABELS), ['scopes']);
      this.setData({ scopeError: split.fieldErrors.scopes || '', error: split.text });
    }
  },

  onCopy() {
    if (!this.data.invitation) return;
    // eslint-disable-next-line no-undef
    wx.setClipboardData({ data: this.data.invitation.code });
  },

  /** 移除经办人 (or withdraw an invitation not yet accepted): asked first, at once after. */
  async onRemove(event) {
    const id = Number(event.currentTarget.dataset.id);
    const agent = this.data.agents.find((a) => a.id === id);
    if (!agent || this.data.busyAgent) return;
    const invited = agent.status === 'invited';
    await confirmedDelete(this, {
      confirm: invited
        ? ['撤销邀请', '撤销后该邀请码立即失效。', '撤销']
        : ['移除经办人', `移除后，${agent.name}将立即不能再为本企业办理事项。`, '移除'],
      path: `/api/v1/companies/${this.companyId}/agents/${id}`,
      busy: 'busyAgent',
      id,
      deleted: () => ({ notice: invited ? '邀请已撤销。' : '经办人已移除。' }),
      labels: LABELS,
    });
  },

  /** The company or the agent moved on (404, 409): load it again and say why. */
  async reloadWith(error) {
    await this.load();
    this.setData({ notice: describeError(error, LABELS).title });
  },

  /** Not (or no longer) mine: to the list, in place of this page. */
  onBack() {
    // eslint-disable-next-line no-undef
    wx.redirectTo({ url: '/pages/companies/index' });
  },
});
