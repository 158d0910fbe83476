/**
 * Login and real-name verification: wx.login through the client, level 1 (name and ID number, each
 * field's error beside it), level 2 by face (POST /me/face, wx.requestFacialVerify, POST
 * /me/face/result). Query: `level` (the level the page that sent the person here needs), `back`
 * (1: go back once it is reached).
 */
const { client, describeError } = require('../../utils/api.js');
const { loadState } = require('../../utils/lifecycle.js');
const { applyDisplay } = require('../../utils/display.js');

const LEVEL_TEXT = ['未实名', '一级实名（已核验身份证件）', '二级实名（已刷脸认证）'];

function facialVerify(verifyId) {
  return new Promise((resolve, reject) => {
    // eslint-disable-next-line no-undef
    wx.requestFacialVerify({ verifyId, success: resolve, fail: reject });
  });
}

Page({
  data: {
    displayClass: '',
    loading: true,
    loggedIn: false,
    busy: false,
    level: 0,
    levelText: LEVEL_TEXT[0],
    target: 0,
    realName: '',
    idMasked: '',
    name: '',
    idNumber: '',
    fieldErrors: {},
    error: '',
    notice: '',
  },

  onLoad(query) {
    applyDisplay(this);
    const q = query || {};
    this.back = q.back === '1' || q.back === 1 || q.back === true;
    this.setData({ target: Math.max(0, Math.min(2, Number(q.level) || 0)) });
    if (!client.isLoggedIn()) {
      this.setData({ loading: false });
      return undefined;
    }
    return this.loadMe();
  },

  onShow() {
    applyDisplay(this);
  },

  loadMe() {
    return loadState(this, async () => {
      const me = await client.get('/api/v1/me');
      this.showMe(me);
    });
  },

  showMe(me) {
    const level = Number(me.realname_level) || 0;
    this.setData({
      loading: false,
      loggedIn: true,
      level,
      levelText: LEVEL_TEXT[level] || LEVEL_TEXT[0],
      realName: me.real_name || '',
      idMasked: me.id_number || '', // masked by the server
    });
  },

  /** 微信登录: wx.login through the client, then the profile. */
  async onLogin() {
    if (this.data.busy) return;
    this.setData({ busy: true, error: '' });
    try {
      await client.login();
      const me = await client.get('/api/v1/me');
      this.setData({ busy: false });
      this.showMe(me);
    } catch (error) {
      this.setData({ busy: false, error: describeError(error).text });
    }
  },

  onInput(event) {
    const field = event.currentTarget.dataset.field; // 'name' | 'idNumber'
    const apiField = field === 'idNumber' ? 'id_number' : field;
    this.setData({ [field]: String(event.detail.value || ''), [`fieldErrors.${apiField}`]: '' });
  },

  /** Level 1: name and ID number; the server checks them and names each wrong field. */
  async onRealname() {
    if (this.data.busy) return;
    const name = this.data.name.trim();
    const idNumber = this.data.idNumber.trim().toUpperCase();
    const missing = {};
    if (!name) missing.name = '请填写姓名。';
    if (!idNumber) missing.id_number = '请填写身份证号码。';
    if (Object.keys(missing).length) {
      this.setData({ fieldErrors: missing, error: '' });
      return;
    }
    this.setData({ busy: true, error: '', fieldErrors: {}, notice: '' });
    try {
      const me = await client.post('/api/v1/me/realname', { name, id_number: idNumber });
      this.setData({ busy: false, idNumber: '', notice: '身份信息核验通过。' });
      this.showMe(me);
      this.maybeBack();
    } catch (error) {
      const shown = describeError(error);
      const fieldErrors = {};
      shown.fields.forEach((f) => {
        fieldErrors[f.field] = f.message;
      });
      const unplaced = shown.fields.filter((f) => f.field !== 'name' && f.field !== 'id_number');
      const text = [shown.title].concat(unplaced.map((f) => `${f.label}：${f.message}`)).join('\n');
      this.setData({ busy: false, fieldErrors, error: text });
    }
  },

  /** Level 2: the face verification WeChat runs, then our server asks WeChat for its result. */
  async onFace() {
    if (this.data.busy) return;
    this.setData({ busy: true, error: '', notice: '' });
    let verifyId;
    try {
      verifyId = (await client.post('/api/v1/me/face')).verify_id;
    } catch (error) {
      this.setData({ busy: false, error: describeError(error).text });
      return;
    }
    try {
      await facialVerify(verifyId);
    } catch (e) {
      this.setData({ busy: false, error: '刷脸认证未完成，请在光线充足处正对屏幕后重试。' });
      return;
    }
    try {
      const me = await client.post('/api/v1/me/face/result', { verify_id: verifyId });
      this.setData({ busy: false, notice: Number(me.realname_level) >= 2 ? '刷脸认证通过。' : '' });
      this.showMe(me);
      this.maybeBack();
    } catch (error) {
      this.setData({ busy: false, error: describeError(error).text });
    }
  },

  maybeBack() {
    if (this.back && this.data.level >= (this.data.target || 1)) {
      // eslint-disable-next-line no-undef
      wx.navigateBack({ delta: 1 });
    }
  },
});
