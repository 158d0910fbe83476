/**
 * 设置: binding my phone number, and the SMS progress messages (退订 / 恢复).
 *
 * - GET /api/v1/me and GET /api/v1/me/notification-settings on load, on return and on pull-down:
 *   the bound number as the server masks it (138****5678), and whether SMS is on.
 * - 绑定手机号: `<button open-type="getPhoneNumber">` gives a one-time code in the tap, then
 *   POST /api/v1/me/phone {code}; its answer is me again, with the new number masked. A person who
 *   declines (or a phone that may not ask) sends nothing, and the page says so; a code WeChat no
 *   longer takes is said beside the number, to tap again.
 * - 短信通知: PUT /api/v1/me/notification-settings {sms} (a strict boolean); the switch shows the
 *   server's answer, and turns back when the write fails.
 * Writes tapped again after a failure carry the same Idempotency-Key (utils/writes.js).
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn, pullToRefresh, loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');
const { writeKeys, splitByField } = require('../../utils/writes.js');

const LABELS = { code: '手机号授权', sms: '短信通知' };
const DECLINED = '您没有授权手机号，未作任何更改。';

/** The number as shown: the server masks it; anything that still looks whole is masked here. */
function maskPhone(phone) {
  const p = String(phone || '');
  return /^\+?\d{7,}$/.test(p) ? `${p.slice(0, 3)}****${p.slice(-4)}` : p;
}

Page({
  data: {
    displayClass: '',
    loading: true,
    error: '',
    notice: '',
    loggedIn: true,
    phone: '',
    phoneError: '',
    binding: false,
    sms: true,
    smsKnown: false,
    smsError: '',
    saving: false,
  },

  onLoad() {
    applyDisplay(this);
    this.keys = writeKeys();
    return this.load();
  },

  onShow: reloadOnReturn,

  onPullDownRefresh: pullToRefresh,

  async load() {
    if (!client.isLoggedIn()) {
      this.setData({ loading: false, loggedIn: false });
      return undefined;
    }
    return loadState(this, async () => {
      const [me, prefs] = await Promise.all([client.get('/api/v1/me'), client.get('/api/v1/me/notification-settings')]);
      this.setData({ loading: false, loggedIn: true, phone: maskPhone(me.phone), sms: Boolean(prefs.sms), smsKnown: true });
    }, { labels: LABELS });
  },

  /** bindgetphonenumber: a code when the person allowed it; nothing is sent otherwise. */
  async onPhone(event) {
    const detail = (event && event.detail) || {};
    if (!detail.code) {
      const denied = /deny|cancel/i.test(String(detail.errMsg || ''));
      this.setData({ phoneError: '', notice: denied ? DECLINED : '当前微信无法授权手机号，未作任何更改。' });
      return;
    }
    if (this.data.binding) return;
    const path = '/api/v1/me/phone';
    const body = { code: detail.code };
    this.setData({ binding: true, phoneError: '', error: '', notice: '' });
    try {
      const me = await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      this.setData({ binding: false, phone: maskPhone(me.phone), notice: '手机号已绑定。' });
    } catch (error) {
      this.setData({ binding: false });
      if (error && error.code === 'auth.phone_code_invalid') {
        // about the authorisation itself: said beside the number, to tap again
        this.setData({ phoneError: describeError(error).title });
        return;
      }
      const split = splitByField(describeError(error, LABELS), ['code']);
      this.setData({ phoneError: split.fieldErrors.code || '', error: split.text });
    }
  },

  /** 短信通知 on or off: the server's answer is what the switch shows. */
  async onSms(event) {
    const wanted = event.detail.value === true;
    const before = this.data.sms;
    if (this.data.saving) {
      this.setData({ sms: before });
      return;
    }
    const path = '/api/v1/me/notification-settings';
    const body = { sms: wanted };
    this.setData({ saving: true, sms: wanted, smsError: '', error: '', notice: '' });
    try {
      const prefs = await client.put(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
      this.keys.done(path, body);
      const sms = Boolean(prefs && prefs.sms);
      this.setData({ saving: false, sms, notice: sms ? '已开启短信通知。' : '已关闭短信通知，办理进度仍会通过微信和“消息”通知您。' });
    } catch (error) {
      const split = splitByField(describeError(error, LABELS), ['sms']);
      this.setData({ saving: false, sms: before, smsError: split.fieldErrors.sms || '', error: split.text });
    }
  },

  onLogin() {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: '/pages/login/login' });
  },
});
