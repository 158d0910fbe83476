/**
 * What every page showing server state does on coming back and on pull-down, and how it loads,
 * written once. Assign them in a Page definition: `onShow: reloadOnReturn, onPullDownRefresh:
 * pullToRefresh`; the page has a `load()` that fetches its state, most through `loadState`.
 */
const { describeError } = require('./api.js');
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

/**
 * A page's load: `loading` on and the error cleared, then `read()`, which reads the server and
 * sets the page's state with `loading: false`; a failure ends the loading with the error's text
 * above the page. Options: `labels` name the fields in that text (a function when the page learns
 * them while reading), `failed` is what a failure sets besides (the list it emptied).
 *
 *   load() {
 *     return loadState(this, async () => {
 *       const answer = await client.get('/api/v1/…');
 *       this.setData({ loading: false, … });
 *     }, { labels: LABELS });
 *   },
 */
async function loadState(page, read, options) {
  const { labels, failed } = options || {};
  page.setData({ loading: true, error: '' });
  try {
    await read();
  } catch (error) {
    const names = typeof labels === 'function' ? labels() : labels;
    page.setData(Object.assign({}, failed, { loading: false, error: describeError(error, names).text }));
  }
}

module.exports = { reloadOnReturn, pullToRefresh, loadState };
