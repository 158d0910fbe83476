/**
 * What every page showing server state does on coming back and on pull-down, written once.
 * Assign them in a Page definition: `onShow: reloadOnReturn, onPullDownRefresh: pullToRefresh`;
 * the page has a `load()` that fetches its state.
 */
const { applyDisplay } = require('./display.js');

/** The first show follows onLoad (which loaded); a later one (back from another page) reloads. */
function reloadOnReturn() {
  applyDisplay(this);
  if (this.shown) return this.load();
  this.shown = true;
  return undefined;
}

/** Pull down: load again, then let the spinner go. */
function pullToRefresh() {
  // eslint-disable-next-line no-undef
  return this.load().then(() => wx.stopPullDownRefresh());
}

module.exports = { reloadOnReturn, pullToRefresh };
