/**
 * Staff sign-in (工作人员登录): this WeChat logs in as the staff account bound to it
 * (wx.login → POST /api/v1/staff/auth/login, through staffClient.login); a WeChat bound to none
 * (403 auth.not_staff) binds with the one-time code its administrator handed over
 * (staffClient.bindStaff → POST /api/v1/staff/auth/bind {bind_code, code}) and is signed in.
 */
const shared = require('./shared.js');

const { api } = shared;

/** The code as the administrator's sheet prints it (6B5D-1476-E48D), however it was typed. */
function normaliseCode(value) {
  const code = String(value || '').replace(/[\s\u3000]/g, '').toUpperCase().replace(/[—–－]/g, '-');
  if (/^[0-9A-F]{12}$/.test(code)) return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
  return code;
}

Page({
  data: {
    mode: 'checking', // checking | bind | signedIn
    code: '',
    codeError: '',
    error: '',
    hint: '',
    busy: false,
    staff: null,
    roles: '',
  },

  onLoad(options) {
    if (options && options.code) this.setData({ code: normaliseCode(decodeURIComponent(options.code)) });
    return this.signIn();
  },

  /** Log in as the staff account bound to this WeChat, if there is one. */
  async signIn() {
    this.setData({ mode: 'checking', error: '', hint: '', busy: true });
    try {
      const answer = await api.login();
      this.signedIn(answer.staff);
    } catch (error) {
      const notBound = error && error.code === 'auth.not_staff';
      this.setData({
        mode: 'bind',
        busy: false,
        hint: notBound ? '该微信尚未绑定工作人员账号，请输入管理员提供的绑定码。' : '',
        error: notBound ? '' : shared.describeError(error).text,
      });
    }
  },

  signedIn(staff) {
    shared.forgetMe();
    const roles = ((staff && staff.roles) || []).map((r) => shared.ROLE_LABELS[r] || r).join('、');
    this.setData({ mode: 'signedIn', busy: false, staff: staff || null, roles, error: '', codeError: '' });
  },

  onCodeInput(event) {
    this.setData({ code: event.detail.value, codeError: '' });
  },

  async onBind() {
    if (this.data.busy) return;
    const code = normaliseCode(this.data.code);
    if (code.length < 4) {
      this.setData({ codeError: '请输入管理员提供的绑定码，如 6B5D-1476-E48D。' });
      return;
    }
    this.setData({ busy: true, error: '', codeError: '', code });
    try {
      const answer = await api.bindStaff(code);
      this.signedIn(answer.staff);
      shared.toast('绑定成功', 'success');
      wx.redirectTo({ url: shared.PAGES.inbox });
    } catch (error) {
      const shown = shared.describeError(error);
      const onCode = shown.fields.find((f) => f.field === 'bind_code');
      if (error && error.code === 'auth.bind_code_invalid') {
        this.setData({ busy: false, codeError: error.message });
      } else if (onCode) {
        this.setData({ busy: false, codeError: onCode.message });
      } else {
        this.setData({ busy: false, error: shown.text });
      }
    }
  },

  onEnter() {
    wx.redirectTo({ url: shared.PAGES.inbox });
  },

  /** Another account on this WeChat: end this session, then bind with the new code. */
  async onLogout() {
    this.setData({ busy: true });
    try {
      await api.logout();
    } catch (error) {
      // the tokens are gone from this phone whatever the server answered
    }
    shared.forgetMe();
    this.setData({ mode: 'bind', busy: false, staff: null, hint: '已退出登录。使用新的绑定码可绑定其他账号。' });
  },
});
