/**
 * What the staff pages share: the staff client (utils/api.js's `staffClient`, the only HTTP any
 * staff page makes), the signed-in staff member (GET /api/v1/staff/me, kept for the session),
 * Chinese labels, and the one reaction to an error that no page can act on itself: a WeChat
 * that is not (or no longer) bound to a staff account goes to the binding page.
 *
 * Also the staff attachment's way up (`attachmentClient`), for utils/uploads.js's UploadBoard.
 *
 * Not a page: app.json lists pages/staff/bind, inbox, case, notices, board, messages and
 * evaluations.
 */
const { staffClient, describeError } = require('../../utils/api.js');
// keys for writes tapped again after a failure: the same key for the same body (utils/writes.js)
const { writeKeys } = require('../../utils/writes.js');

const PAGES = {
  bind: '/pages/staff/bind',
  inbox: '/pages/staff/inbox',
  case: '/pages/staff/case',
  notices: '/pages/staff/notices',
  board: '/pages/staff/board',
  messages: '/pages/staff/messages',
  evaluations: '/pages/staff/evaluations',
};

/** The handling roles in the order of the workflow, with the inbox tab each one is. */
const INBOX_TABS = [
  { role: 'clerk', label: '待受理' },
  { role: 'reviewer', label: '待审查' },
  { role: 'approver', label: '待审批' },
  { role: 'dispatcher', label: '待送达' },
];

const ROLE_LABELS = {
  clerk: '窗口受理',
  reviewer: '审查',
  approver: '审批',
  dispatcher: '送达',
  supervisor: '督查',
  admin: '管理员',
  catalog_admin: '事项管理',
  finance: '财务',
};

const TASK_STATUS_LABELS = {
  open: '待领取',
  claimed: '办理中',
  passed: '已通过',
  denied: '未通过',
  cancelled: '已取消',
};

const CARD_LABELS = { red: '红牌', yellow: '黄牌' };

/** Errors that mean "this WeChat has no staff session to be had": binding is the only way on. */
const UNBOUND_CODES = ['auth.not_staff', 'auth.staff_inactive'];

let me = null;

/** The signed-in staff member, asked once a session (`force`: ask again). */
async function loadMe(force) {
  if (!me || force) me = await staffClient.get('/api/v1/staff/me');
  return me;
}

function forgetMe() {
  me = null;
}

function hasRole(staff, role) {
  return Boolean(staff && Array.isArray(staff.roles) && staff.roles.indexOf(role) >= 0);
}

/**
 * What a page shows for an error, as describeError's Chinese text. A WeChat with no staff
 * account (the client's own login was refused) is sent to the binding page, once.
 */
function errorText(error, labels) {
  if (error && UNBOUND_CODES.indexOf(error.code) >= 0) {
    forgetMe();
    goBind();
  }
  return describeError(error, labels).text;
}

let redirecting = false;
function goBind() {
  if (redirecting || typeof wx === 'undefined' || !wx.redirectTo) return;
  redirecting = true;
  wx.redirectTo({ url: PAGES.bind, complete: () => { redirecting = false; } });
}

/** A count of the inbox, which the server caps at `cap` ("99+" when it is reached). */
function countText(count, cap) {
  if (count === null || count === undefined) return '';
  const n = Number(count) || 0;
  return cap && n >= cap ? `${cap - 1}+` : String(n);
}

/** The date of an ISO moment or date, as staff read it: 2026-12-07. */
function day(value) {
  return value ? String(value).slice(0, 10) : '';
}

/** The moment of an ISO timestamp, to the minute, in China's time (UTC+8). */
function moment(value) {
  if (!value) return '';
  const t = Date.parse(value);
  if (!Number.isFinite(t)) return String(value);
  const d = new Date(t + 8 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function toast(title, icon) {
  if (typeof wx !== 'undefined' && wx.showToast) wx.showToast({ title, icon: icon || 'none' });
}

/** wx.showModal as a promise of true (confirmed) or false. */
function confirm(title, content, confirmText) {
  return new Promise((resolve) => {
    if (typeof wx === 'undefined' || !wx.showModal) {
      resolve(true);
      return;
    }
    wx.showModal({
      title,
      content,
      confirmText: confirmText || '确定',
      cancelText: '取消',
      success: (res) => resolve(Boolean(res && res.confirm)),
      fail: () => resolve(false),
    });
  });
}

function stopPullDown() {
  if (typeof wx !== 'undefined' && wx.stopPullDownRefresh) wx.stopPullDownRefresh();
}

/** Pull down: `reload()`, then the spinner let go whatever came of it. */
async function pullDown(reload) {
  try {
    await reload();
  } finally {
    stopPullDown();
  }
}

/** At the bottom: `next()` (the next page) when there is one and no page is loading. */
function loadMore(page, next) {
  if (!page.data.nextCursor || page.data.loading || page.data.loadingMore) return undefined;
  return next();
}

/**
 * One page of a cursor-paged list into the page's `items`: the first (`reset`: the list
 * replaced) or the one after `data.nextCursor` (appended), `loading` / `loadingMore` meanwhile.
 * - `read(cursor)`: the API's answer (cursor undefined for the first page);
 * - `rows(answer)`: its rows as the page shows them;
 * - `key()`: the tab or filter asked for; an answer that comes after it changed is dropped;
 * - `also(answer)`: what else the answer sets with the rows (counts, unread);
 * - `shown(answer)`: what follows once the rows are shown;
 * - `failed(error)`: what a failure sets (by default the error's text above the list);
 * - `keepError`: the error line left as it is while loading.
 */
async function loadPage(page, reset, opts) {
  const key = opts.key ? opts.key() : undefined;
  const start = reset ? { loading: true } : { loadingMore: true };
  if (!opts.keepError) start.error = '';
  page.setData(start);
  try {
    const answer = await opts.read(reset ? undefined : page.data.nextCursor);
    if (opts.key && opts.key() !== key) return; // the tab changed while this page was coming
    const items = opts.rows(answer);
    page.setData(
      Object.assign(
        { items: reset ? items : page.data.items.concat(items), nextCursor: answer.next_cursor || null, loading: false, loadingMore: false },
        opts.also ? opts.also(answer) : {},
      ),
    );
    if (opts.shown) opts.shown(answer);
  } catch (error) {
    page.setData(Object.assign({ loading: false, loadingMore: false }, opts.failed ? opts.failed(error) : { error: errorText(error) }));
  }
}

/**
 * The `client` that utils/uploads.js's UploadBoard sends a case's staff attachments with (its
 * photo choosing, progress and retry reused as they are): the staff client's `upload` (its one
 * wx.uploadFile loop) given the staff routes — POST /api/v1/staff/cases/{id}/attachments
 * {filename, content_type, size} (the presigned POST policy), wx.uploadFile to it, then
 * POST /api/v1/staff/uploads/{upload_id}/complete. Both writes keep their Idempotency-Key
 * (`keys`, from writeKeys) until they succeed: a retried photo gets the same policy back, never
 * a second attachment.
 */
function attachmentClient(keys) {
  return {
    upload(file) {
      return staffClient.upload(file, {
        intentPath: `/api/v1/staff/cases/${file.caseId}/attachments`,
        intentBody: {
          filename: file.filename || String(file.filePath).split('/').pop() || 'photo.jpg',
          content_type: file.contentType || 'image/jpeg',
          size: file.size,
        },
        completePath: (uploadId) => `/api/v1/staff/uploads/${uploadId}/complete`,
        keys,
      });
    },
  };
}

module.exports = {
  api: staffClient,
  PAGES,
  INBOX_TABS,
  ROLE_LABELS,
  TASK_STATUS_LABELS,
  CARD_LABELS,
  loadMe,
  forgetMe,
  hasRole,
  errorText,
  describeError,
  countText,
  day,
  moment,
  toast,
  confirm,
  stopPullDown,
  pullDown,
  loadMore,
  loadPage,
  writeKeys,
  attachmentClient,
};
