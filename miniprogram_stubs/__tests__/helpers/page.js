/**
 * miniprogram-simulate renders components; a page is loaded as one by this stand-in for Page():
 * its data, its functions as methods, and onLoad run when it is attached.
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
        // onLoad with the page's query, then onShow, as WeChat opens a page (onShow left to the
        // test when it asks: the staff pages' tests call their lifecycle themselves)
        const query = global.__pageQuery || {};
        const show = global.__pageShow !== false;
        this.loaded = Promise.resolve(this.onLoad ? this.onLoad(query) : undefined).then(() =>
          show && this.onShow ? this.onShow() : undefined,
        );
      },
    },
  });
};

/**
 * Render the page at `pagePath` (from the mini-program's root) and run its onLoad (with `query`,
 * the page's URL parameters) and its onShow (not with `{ show: false }`).
 */
async function renderPage(pagePath, query, options) {
  const root = path.resolve(__dirname, '..', '..');
  const id = simulate.load(path.join(root, pagePath), { rootPath: root });
  const page = simulate.render(id);
  global.__pageQuery = query || {};
  global.__pageShow = !(options && options.show === false);
  try {
    page.attach(document.createElement('parent-wrapper'));
  } finally {
    delete global.__pageQuery;
    delete global.__pageShow;
  }
  await page.instance.loaded;
  return page;
}

/** Let every pending callback and promise run (the fake wx answers on microtasks). */
async function flush(times) {
  for (let i = 0; i < (times || 20); i += 1) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** The text of the first node matching `selector`, or null. */
function text(page, selector) {
  const node = page.querySelector(selector);
  return node ? node.dom.textContent.trim() : null;
}

module.exports = { renderPage, simulate, flush, text };
