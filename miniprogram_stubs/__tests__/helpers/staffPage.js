/**
 * helpers/page.js for the staff pages, with what they need beside it: the page's query options
 * passed to onLoad (pages/staff/case?id=…), and the page's own lifecycle (onShow,
 * onPullDownRefresh, onReachBottom) left callable on the instance.
 */
const path = require('path');
const simulate = require('miniprogram-simulate');

global.Page = (definition) => {
  const methods = {};
  Object.keys(definition).forEach((key) => {
    if (typeof definition[key] === 'function') methods[key] = definition[key];
  });
  // eslint-disable-next-line no-undef
  Component({
    data: definition.data || {},
    methods,
    lifetimes: {
      attached() {
        if (this.onLoad) this.loaded = this.onLoad(global.__staffPageOptions || {});
      },
    },
  });
};

/** Render the page at `pagePath` with `options` as its query, and wait for its onLoad. */
async function renderPage(pagePath, options) {
  const root = path.resolve(__dirname, '..', '..');
  global.__staffPageOptions = options || {};
  const id = simulate.load(path.join(root, pagePath), { rootPath: root });
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  await page.instance.loaded;
  delete global.__staffPageOptions;
  return page;
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
