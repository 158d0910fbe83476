/**
 * 委托代办 (family mandates; pages/mandates/index, the path the server's mandate messages link to):
 * those I gave (a relative applies for me) and those I hold (I apply for a relative), giving one,
 * and ending one (either side may).
 *
 * - GET /api/v1/mandates on load, on return and on pull-down: `given` and `held`, names masked
 *   by the server;
 * - 新增授权: optionally GET /api/v1/items?q=… to pick the items it covers (none: every item),
 *   then POST /api/v1/mandates {agent_name, agent_id_number, item_codes, ends_on}: real name level
 *   1 on both sides, the end within a year; field errors beside their fields; reload after;
 * - 结束授权: wx.showModal, then DELETE /api/v1/mandates/{id}; reload after.
 * A 409 (one running mandate per person) or a 404 reloads and says why. Writes tapped again after
 * a failure carry the same Idempotency-Key (utils/writes.js).
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { dateText } = require('../../utils/format.js');
const { writeKeys, confirmedDelete, splitByField } = require('../../utils/writes.js');

const LABELS = { agent_name: '被授权人姓名', agent_id_number: '被授权人身份证号码', ends_on: '授权截止日期', item_codes: '授权事项', q: '事项名称' };
/** api/identity.py MandateIn; api/schemas.py ItemSearchQuery.q */
const LIMITS = { agent_name: 30, agent_id_number: 18, items: 50, q: 50 };
const FORM_FIELDS = ['agent_name', 'agent_id_number', 'ends_on', 'item_codes'];

/** A calendar day in China (UTC+8), `days` after today, as YYYY-MM-DD. */
function chinaDay(days, years) {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  const y = d.getUTCFullYear() + (years || 0);
  let m = d.getUTCMonth();
  let day = d.getUTCDate();
  if (years && m === 1 && day === 29) day = 28; // a year after 29 February (auth/companies.py)
  const t = new Date(Date.UTC(y, m, day) + (days || 0) * 86400 * 1000);
  m = t.getUTCMonth() + 1;
  return `${t.getUTCFullYear()}-${String(m).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}

Page({
  data: {
    displayClass: '',
    loading: false,
    error: '',
    notice: '',
    given: [],
    held: [],
    limits: LIMITS,
    // the form
    showForm: false,
    agentName: '',
    agentIdNumber: '',
    endsOn: '',
    minDay: '',
    maxDay: '',
    allItems: true,
    items: [],
    itemQuery: '',
    itemResults: [],
    searching: false,
    fieldErrors: {},
    formError: '',
    granting: false,
    busyId: 0,
  },

  onLoad() {
    applyDisplay(this);
    this.keys = writeKeys();
    this.itemNames = {};
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  load() {
    return loadState(this, async () => {
      const answer = await client.get('/api/v1/mandates');
      this.setData({
        loading: false,
        given: (answer.given || []).map((m) => this.row(m, m.agent)),
        held: (answer.held || []).map((m) => this.row(m, m.principal)),
      });
    }, { labels: LABELS });
  },

  /** One mandate as shown: the other person (masked by the server), the items, the end. */
  row(m, other) {
    const codes = m.item_codes || [];
    const named = m.item_names || [];
    const status = m.status || (m.active ? 'active' : 'expired');
    return {
      id: m.id,
      person: (other && other.name) || '用户',
      // the server names the items; a name seen in this session's search stands in otherwise
      itemsText: codes.length ? codes.map((c, i) => named[i] || this.itemNames[c] || c).join('、') : '全部事项',
      endsText: dateText(m.ends_on),
      active: status === 'active',
      statusText: { active: '有效', expired: '已到期', ended: '已终止' }[status] || '',
    };
  },

  // -- giving one --------------------------------------------------------------------------------

  onNew() {
    this.setData({ showForm: true, minDay: chinaDay(1), maxDay: chinaDay(0, 1), notice: '' });
  },

  onCancelForm() {
    this.setData({ showForm: false, fieldErrors: {}, formError: '' });
  },

  onInput(event) {
    const field = event.currentTarget.dataset.field; // agentName | agentIdNumber
    const apiField = field === 'agentName' ? 'agent_name' : 'agent_id_number';
    this.setData({ [field]: String(event.detail.value || '').slice(0, LIMITS[apiField]), [`fieldErrors.${apiField}`]: '' });
  },

  onEndsOn(event) {
    this.setData({ endsOn: event.detail.value, 'fieldErrors.ends_on': '' });
  },

  onAllItems(event) {
    this.setData({ allItems: event.detail.value === 'all', 'fieldErrors.item_codes': '' });
  },

  onItemQuery(event) {
    this.setData({ itemQuery: String(event.detail.value || '').slice(0, LIMITS.q) });
  },

  /** Find the items the mandate is to cover (the catalogue's search). */
  async onItemSearch() {
    const q = this.data.itemQuery.trim();
    if (!q || this.data.searching) return;
    this.setData({ searching: true, 'fieldErrors.item_codes': '' });
    try {
      const page = await client.get('/api/v1/items', { q });
      const results = (page.items || []).slice(0, 10).map((i) => ({ code: i.code, name: i.name }));
      results.forEach((i) => {
        this.itemNames[i.code] = i.name;
      });
      this.setData({ searching: false, itemResults: results });
      if (!results.length) this.setData({ 'fieldErrors.item_codes': '没有找到相关事项，请换个关键词。' });
    } catch (error) {
      this.setData({ searching: false, 'fieldErrors.item_codes': describeError(error, LABELS).text });
    }
  },

  onAddItem(event) {
    const code = event.currentTarget.dataset.code;
    if (this.data.items.some((i) => i.code === code)) return;
    if (this.data.items.length >= LIMITS.items) {
      this.setData({ 'fieldErrors.item_codes': `最多选择 ${LIMITS.items} 个事项。` });
      return;
    }
    this.setData({ items: this.data.items.concat([{ code, name: this.itemNames[code] || code }]), 'fieldErrors.item_codes': '' });
  },

  onRemoveItem(event) {
    const code = event.currentTarget.dataset.code;
    this.setData({ items: this.data.items.filter((i) => i.code !== code) });
  },

  /** 确认授权: the server finds the relative by name and ID number (real-named), once a day ×10. */
  async onGrant() {
    if (this.data.granting) return;
    const agentName = this.data.agentName.trim();
    const agentIdNumber = this.data.agentIdNumber.trim().toUpperCase();
    const missing = {};
    if (agentName.length < 2) missing.agent_name = agentName ? '姓名至少 2 个字。' : '请填写被授权人姓名。';
    if (!agentIdNumber) missing.agent_id_number = '请填写被授权人身份证号码。';
    if (!this.data.endsOn) missing.ends_on = '请选择授权截止日期。';
    if (!this.data.allItems && !this.data.items.length) missing.item_codes = '请选择授权事项，或选择“全部事项”。';
    if (Object.keys(missing).length) {
      this.setData({ fieldErrors: missing, formError: '' });
      return;
    }
    const path = '/api/v1/mandates';
    const body = {
      agent_name: agentName,
      agent_id_number: agentIdNumber,
      item_codes: this.data.allItems ? [] : this.data.items.map((i) => i.code),
      ends_on: this.data.endsOn,
    };
    this.setData({ granting: true, fieldErrors: {}, formError: '', notice: '' });
    try {
      await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({
        granting: false,
        showForm: false,
        agentName: '',
        agentIdNumber: '',
        endsOn: '',
        allItems: true,
        items: [],
        itemResults: [],
        itemQuery: '',
        notice: '授权成功。对方将收到通知，可在授权期限内为您办理。',
      });
      await this.load();
    } catch (error) {
      this.setData({ granting: false });
      if (error && error.isConflict) {
        await this.reloadWith(error);
        return;
      }
      const split = splitByField(describeError(error, LABELS), FORM_FIELDS);
      this.setData({ fieldErrors: split.fieldErrors, formError: split.text });
    }
  },

  // -- ending one --------------------------------------------------------------------------------

  async onEnd(event) {
    const id = Number(event.currentTarget.dataset.id);
    const side = event.currentTarget.dataset.side; // given | held
    const m = (this.data[side] || []).find((x) => x.id === id);
    if (!m || !m.active || this.data.busyId) return;
    await confirmedDelete(this, {
      confirm: [
        '结束授权',
        side === 'given' ? `结束后，${m.person}将立即不能再为您办理事项。` : `结束后，您将立即不能再为${m.person}办理事项。`,
        '结束授权',
      ],
      path: `/api/v1/mandates/${id}`,
      busy: 'busyId',
      id,
      deleted: () => ({ notice: '授权已结束。' }),
      labels: LABELS,
    });
  },

  /** The mandate moved on (404, 409): load again and say why. */
  async reloadWith(error) {
    await this.load();
    this.setData({ notice: describeError(error, LABELS).title });
  },
});
