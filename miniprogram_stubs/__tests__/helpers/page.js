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
        if (this.onLoad) this.loaded = this.onLoad({});
      },
    },
  });
};

/** Render the page at `pagePath` (from the mini-program's root) and run its onLoad. */
async function renderPage(pagePath) {
  const root = path.resolve(__dirname, '..', '..');
  const id = simulate.load(path.join(root, pagePath), { rootPath: root });
  const page = simulate.render(id);
  page.attach(document.createElement('parent-wrapper'));
  await page.instance.loaded;
  return page;
}

module.exports = { renderPage, simulate };
