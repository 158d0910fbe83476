/**
 * The large-text, high-contrast mode (适老化): one switch on the "我的" page, remembered in storage,
 * applied by every page as a class on its root view (app.wxss defines `.large-text`).
 *
 *   onLoad() { applyDisplay(this); }   onShow() { applyDisplay(this); }
 *   <view class="page {{displayClass}}"> … </view>
 */

const STORAGE_KEY = 'zb.pref.large_text';
const CLASS_NAME = 'large-text';

function wxApi() {
  // eslint-disable-next-line no-undef
  return typeof wx !== 'undefined' ? wx : undefined;
}

/** Is the large-text mode on? (false when storage cannot be read) */
function isLargeText() {
  try {
    return Boolean(wxApi().getStorageSync(STORAGE_KEY));
  } catch (e) {
    return false;
  }
}

/** Switch the mode on or off; remembered across launches. */
function setLargeText(on) {
  try {
    if (on) wxApi().setStorageSync(STORAGE_KEY, 1);
    else wxApi().removeStorageSync(STORAGE_KEY);
  } catch (e) {
    // storage unavailable: the switch holds until the page is left
  }
  return Boolean(on);
}

/** The class the page root carries: 'large-text' or ''. */
function displayClass() {
  return isLargeText() ? CLASS_NAME : '';
}

/** Put the current class into the page's data (`displayClass`), if it changed. */
function applyDisplay(page) {
  const cls = displayClass();
  if (!page.data || page.data.displayClass !== cls) page.setData({ displayClass: cls });
  return cls;
}

module.exports = { STORAGE_KEY, CLASS_NAME, isLargeText, setLargeText, displayClass, applyDisplay };
