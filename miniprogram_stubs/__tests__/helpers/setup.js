/**
 * What a page test sets up before each test and takes down after, written once.
 *
 *   let fake;
 *   let renderPage;
 *   let text;
 *   beforeEach(() => {
 *     ({ fake, renderPage, text } = citizenPage());
 *   });
 *   afterEach(leavePage);
 *
 * Each call starts from fresh modules (`jest.resetModules()`: the pages' client and its stored
 * state, miniprogram-simulate's pages), puts a new scripted `wx` in `global.wx`, and requires the
 * page helpers again; its answer is the fake with those helpers (`renderPage`, `text`, `flush`,
 * `simulate`, and for the staff `all`).
 */
const { fakeWx } = require('./fakeWx.js');
const { staffFakeWx, signedIn } = require('./staffWx.js');

function enter(fake, helpers) {
  global.wx = fake.wx;
  return Object.assign({ fake }, require(helpers));
}

/**
 * A citizen's page: logged in (the stored tokens) and the pages' client without the real backoff
 * waits; `{ loggedIn: false }` neither (the client as it is, nobody logged in).
 */
function citizenPage(options) {
  const loggedIn = !(options && options.loggedIn === false);
  jest.resetModules();
  const fake = fakeWx();
  if (loggedIn) {
    fake.storage['zb.citizen.access_token'] = 'access-0';
    fake.storage['zb.citizen.refresh_token'] = 'refresh-0';
  }
  const page = enter(fake, './page.js');
  // the pages' client, without the real backoff waits
  if (loggedIn) require('../../utils/api.js').client.configure({ backoffBaseMs: 0, backoffMaxMs: 0 });
  return page;
}

/**
 * A staff page (helpers/staffWx.js, helpers/staffPage.js): a staff member bound on this phone
 * (`{ signedIn: false }`: nobody yet); `{ shortBackoff: true }` shortens the staff client's
 * backoff (a test must not wait seconds for a retry).
 */
function staffPage(options) {
  const opts = options || {};
  jest.resetModules();
  const fake = staffFakeWx();
  if (opts.signedIn !== false) signedIn(fake);
  const page = enter(fake, './staffPage.js');
  if (opts.shortBackoff) require('../../utils/api.js').staffClient.configure({ backoffBaseMs: 1, backoffMaxMs: 2 });
  return page;
}

/** After each test: no `wx` left behind. */
function leavePage() {
  delete global.wx;
}

module.exports = { citizenPage, staffPage, leavePage };
