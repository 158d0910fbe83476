/**
 * The department inbox (待办): one tab per handling role the staff member holds — clerk 待受理
 * (submitted cases), reviewer 待审查 and approver 待审批 (the open queue and my own tasks),
 * dispatcher 待送达 — each GET /api/v1/staff/inbox?role=… with its counts (capped at
 * `counts_cap`), oldest first, in cursor pages; pull down to refresh. The bar at the bottom
 * leads to supervision notices (督办, with the inbox's count), messages (with the unread count),
 * the department's ratings (好差评, pages/staff/evaluations) and, for supervisors, the card board.
 * When WeChat may still send the staff subscribe messages (new work, supervision), a
 * "接收消息提醒" button asks for them in its tap (GET /api/v1/staff/subscriptions/to-ask before,
 * wx.requestSubscribeMessage then POST /api/v1/staff/subscriptions in the tap: utils/consent.js).
 */
const shared = require('./shared.js');
const { prepareOn, requestConsent } = require('../../utils/consent.js');
const { applyDisplay } = require('../../utils/display.js');

const { api } = shared;

function decorate(item, me) {
  const task = item.task || null;
  let taskText = '';
  if (task) {
    const mine = task.status === 'claimed' && me && task.assignee_staff_id === me.id;
    taskText = `${task.step_name} · ${mine ? '我办理中' : shared.TASK_STATUS_LABELS[task.status] || task.status}`;
  }
  return Object.assign({}, item, {
    taskText,
    cardText: shared.CARD_LABELS[item.card] || '',
    dueText: item.answer_due_on
      ? `答复期限 ${shared.day(item.answer_due_on)}`
      : item.promised_due_on
        ? `承诺办结 ${shared.day(item.promised_due_on)}`
        : '',
    updatedText: shared.moment(item.updated_at),
  });
}

Page({
  data: {
    me: null,
    tabs: [], // [{ role, label, countText }]
    role: '',
    items: [],
    nextCursor: null,
    counts: null,
    queueText: '',
    mineText: '',
    supervisionText: '',
    unreadText: '',
    isSupervisor: false,
    canRate: false, // reads the department's ratings (a handling role or a supervisor)
    askConsent: false, // subscribe messages left to ask for
    displayClass: '',
    loading: false,
    loadingMore: false,
    error: '',
    noRole: false,
  },

  onLoad(options) {
    applyDisplay(this);
    this.wanted = (options && options.role) || '';
    return this.start();
  },

  onShow() {
    applyDisplay(this);
    // back from a case: what was done there moved the counts
    if (this.shown && this.data.role) this.refresh();
    this.shown = true;
  },

  async start() {
    this.setData({ loading: true, error: '' });
    let me;
    try {
      me = await shared.loadMe();
    } catch (error) {
      this.setData({ loading: false, error: shared.errorText(error) });
      return;
    }
    const tabs = shared.INBOX_TABS.filter((t) => shared.hasRole(me, t.role)).map((t) => ({ role: t.role, label: t.label, countText: '' }));
    const role = tabs.find((t) => t.role === this.wanted) ? this.wanted : tabs.length ? tabs[0].role : '';
    const isSupervisor = shared.hasRole(me, 'supervisor');
    this.setData({ me, tabs, role, noRole: tabs.length === 0, isSupervisor, canRate: tabs.length > 0 || isSupervisor });
    await Promise.all([this.refresh(), this.prepareConsent()]);
  },

  /** What the "接收消息提醒" tap will ask for (nothing left to ask: no button). */
  async prepareConsent() {
    await prepareOn(this, 'staff', { client: api });
    this.setData({ askConsent: Boolean(this.prepared && (this.prepared.template_ids || []).length) });
  },

  /** 接收消息提醒: WeChat's sheet in this tap, the answers reported, then asked again. */
  async onConsent() {
    const answers = await requestConsent(this.prepared, { client: api });
    const ids = Object.keys(answers);
    if (ids.some((id) => answers[id] === 'accept')) shared.toast('已开启消息提醒', 'success');
    else if (ids.length) shared.toast('未开启提醒，新待办仍会在消息中显示');
    await this.prepareConsent();
  },

  /** The current tab from its first page, the other tabs' counts and the unread messages. */
  async refresh() {
    const others = this.data.tabs.filter((t) => t.role !== this.data.role);
    await Promise.all([
      this.data.role ? this.loadTab(true) : Promise.resolve(),
      ...others.map((t) => this.countTab(t.role)),
      this.loadUnread(),
    ]);
    if (!this.data.role) this.setData({ loading: false });
  },

  loadTab(reset) {
    const role = this.data.role;
    return shared.loadPage(this, reset, {
      read: (cursor) => api.get('/api/v1/staff/inbox', { role, cursor }),
      rows: (page) => (page.items || []).map((item) => decorate(item, this.data.me)),
      key: () => this.data.role,
      shown: (page) => this.showCounts(role, page.counts, page.counts_cap),
    });
  },

  /** Another tab's counts: its first row is the cheapest way the API gives them. */
  async countTab(role) {
    try {
      const page = await api.get('/api/v1/staff/inbox', { role, limit: 1 });
      this.showCounts(role, page.counts, page.counts_cap);
    } catch (error) {
      // a count is a hint: the tab says what is wrong when opened
    }
  },

  showCounts(role, counts, cap) {
    if (!counts) return;
    const total = (counts.queue || 0) + (counts.mine || 0);
    const tabs = this.data.tabs.map((t) => (t.role === role ? Object.assign({}, t, { countText: total ? shared.countText(total, cap) : '' }) : t));
    const changes = { tabs, supervisionText: counts.supervision ? shared.countText(counts.supervision, cap) : '' };
    if (role === this.data.role) {
      Object.assign(changes, {
        counts,
        queueText: shared.countText(counts.queue, cap),
        mineText: counts.mine === undefined || counts.mine === null ? '' : shared.countText(counts.mine, cap),
      });
    }
    this.setData(changes);
  },

  async loadUnread() {
    try {
      const answer = await api.get('/api/v1/staff/messages/unread-count');
      this.setData({ unreadText: answer.unread ? shared.countText(answer.unread, 100) : '' });
    } catch (error) {
      // the badge only
    }
  },

  onTab(event) {
    const role = event.currentTarget.dataset.role;
    if (!role || role === this.data.role) return undefined;
    this.setData({ role, items: [], nextCursor: null, counts: null });
    return this.loadTab(true);
  },

  onPullDownRefresh() {
    return shared.pullDown(() => this.refresh());
  },

  onReachBottom() {
    return this.onMore();
  },

  onMore() {
    return shared.loadMore(this, () => this.loadTab(false));
  },

  onOpen(event) {
    const id = event.currentTarget.dataset.id;
    wx.navigateTo({ url: `${shared.PAGES.case}?id=${id}&role=${this.data.role}` });
  },

  onNotices() {
    wx.navigateTo({ url: shared.PAGES.notices });
  },

  onMessages() {
    wx.navigateTo({ url: shared.PAGES.messages });
  },

  onBoard() {
    wx.navigateTo({ url: shared.PAGES.board });
  },

  onEvaluations() {
    wx.navigateTo({ url: shared.PAGES.evaluations });
  },
});
