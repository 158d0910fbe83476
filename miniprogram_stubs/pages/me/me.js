/**
 * 我的: the real-name status with the way to verify, my cases and messages (with the unread
 * count), my companies and family mandates (我的企业, 委托代办), 设置 (phone binding, SMS), and
 * the large-text, high-contrast switch (适老化), remembered on this phone.
 */
const { client, describeError } = require('../../utils/api.js');
const { reloadOnReturn } = require('../../utils/lifecycle.js');
const { applyDisplay, isLargeText, setLargeText } = require('../../utils/display.js');

const LEVEL_TEXT = ['未实名', '已实名', '已刷脸认证'];

Page({
  data: {
    displayClass: '',
    largeText: false,
    loggedIn: false,
    levelText: '',
    realName: '',
    unread: 0,
    error: '',
  },

  onLoad() {
    applyDisplay(this);
    this.setData({ largeText: isLargeText() });
    return this.load();
  },

  onShow: reloadOnReturn,

  async load() {
    if (!client.isLoggedIn()) {
      this.setData({ loggedIn: false });
      return;
    }
    this.setData({ error: '' });
    try {
      const [me, count] = await Promise.all([client.get('/api/v1/me'), client.get('/api/v1/me/messages/unread-count')]);
      this.setData({
        loggedIn: true,
        levelText: LEVEL_TEXT[me.realname_level] || LEVEL_TEXT[0],
        realName: me.real_name || '',
        unread: Number(count.unread) || 0,
      });
    } catch (error) {
      this.setData({ error: describeError(error).text });
    }
  },

  /** 大字模式: remembered, and applied to this page at once (the others on their next show). */
  onLargeText(event) {
    const on = setLargeText(Boolean(event.detail.value));
    this.setData({ largeText: on });
    applyDisplay(this);
  },

  go(event) {
    // eslint-disable-next-line no-undef
    wx.navigateTo({ url: event.currentTarget.dataset.url });
  },
});
