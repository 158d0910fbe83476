/**
 * Consent to progress messages (subscribe messages) before a submission or a payment.
 *
 * WeChat lets wx.requestSubscribeMessage run only inside a tap handler, so the page asks the
 * server which templates to ask for BEFORE the tap (`prepareConsent`, e.g. in onShow) and calls
 * `requestConsent` first thing in the tap, then submits. A refusal never blocks the submission:
 * the server falls back to SMS and the in-app inbox.
 */

const { client: defaultClient } = require('./api.js');

/** GET …/subscriptions/to-ask: `{ moment, template_ids, templates }` (≤ 3 templates). */
function prepareConsent(moment, options) {
  const api = (options && options.client) || defaultClient;
  const query = api.audience === 'staff' ? undefined : { moment };
  return api.get(api.routes.toAsk, query);
}

/**
 * On a page's load: fetch what its tap will ask for, kept on the page (`page.prepared`, null on
 * failure: consent never blocks the tap) and awaited by the tap (`page.preparing`).
 */
function prepareOn(page, moment, options) {
  page.prepared = null;
  page.preparing = prepareConsent(moment, options).then(
    (prepared) => {
      page.prepared = prepared;
    },
    () => {
      page.prepared = null;
    },
  );
  return page.preparing;
}

/**
 * Show WeChat's consent sheet for the prepared templates and report what it answered.
 * Answers `{ template_id: 'accept' | 'reject' | 'ban' | 'filter' }` ({} when nothing was asked or
 * the sheet could not be shown).
 */
async function requestConsent(prepared, options) {
  const opts = options || {};
  const api = opts.client || defaultClient;
  // eslint-disable-next-line no-undef
  const wxApi = opts.wx || (typeof wx !== 'undefined' ? wx : undefined);
  const ids = (prepared && prepared.template_ids) || [];
  if (!ids.length) return {};
  let answer;
  try {
    answer = await new Promise((resolve, reject) => {
      wxApi.requestSubscribeMessage({ tmplIds: ids, success: resolve, fail: reject });
    });
  } catch (e) {
    return {}; // messages switched off in WeChat's settings, or no tap: nothing to report
  }
  const results = {};
  ids.forEach((id) => {
    if (['accept', 'reject', 'ban', 'filter'].indexOf(answer[id]) >= 0) results[id] = answer[id];
  });
  if (Object.keys(results).length) {
    try {
      await api.post(api.routes.consent, { results });
    } catch (e) {
      // not recorded: the server reaches the person by SMS and the inbox instead; never block
    }
  }
  return results;
}

module.exports = { prepareConsent, requestConsent, prepareOn };
