/**
 * helpers/page.js for the staff pages: the page's query options passed to onLoad
 * (pages/staff/case?id=…), and the page's own lifecycle (onShow, onPullDownRefresh,
 * onReachBottom) left to the test to call.
 */
const { renderPage: render, simulate } = require('./page.js');

/** Render the page at `pagePath` with `options` as its query, and wait for its onLoad. */
function renderPage(pagePath, options) {
  return render(pagePath, options, { show: false });
}

/** The text of the first node matching `selector`, trimmed ('' when there is none). */
function text(page, selector) {
  const node = page.querySelector(selector);
  return node ? node.dom.textContent.trim() : '';
}

function all(page, selector) {
  return page.querySelectorAll(selector).map((n) => n.dom.textContent.trim());
}

module.exports = { renderPage, text, all, simulate };
