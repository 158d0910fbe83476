/**
 * What the citizen's pages show, in Chinese: money, dates, statuses, timeline lines, and where a
 * message's link leads.
 */

/** Fen to yuan with two decimals: 2000 → "20.00". */
function yuan(fen) {
  const n = Number(fen) || 0;
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(Math.round(n));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** An ISO date or moment to "2026年12月07日"; '' for nothing. Dates (YYYY-MM-DD) are read as given. */
function dateText(value) {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value));
  if (!m) return String(value);
  if (String(value).length > 10) {
    // a moment: shown as China's date and time
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) {
      const local = new Date(d.getTime() + 8 * 3600 * 1000);
      const pad = (x) => String(x).padStart(2, '0');
      return `${local.getUTCFullYear()}年${pad(local.getUTCMonth() + 1)}月${pad(local.getUTCDate())}日 ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`;
    }
  }
  return `${m[1]}年${m[2]}月${m[3]}日`;
}

/** The citizen-facing labels of the case statuses (cases/states.py STATUS_LABELS). */
const STATUS_LABELS = {
  draft: '草稿',
  submitted: '待预审',
  correction_requested: '待补正',
  refused: '不予受理',
  accepted: '已受理',
  in_review: '审查中',
  suspended: '特别程序中',
  decided_granted: '准予许可',
  decided_denied: '不予许可',
  fee_due: '待缴费',
  result_pending: '待送达',
  completed: '已办结',
  withdrawn: '已撤回',
  lapsed: '逾期未缴费',
};

/** The timeline's actions (the transitions of cases/states.py); the API sends only their names. */
const ACTION_LABELS = {
  submit: '提交申请',
  resubmit: '补正后重新提交',
  resubmit_in_review: '补正后重新提交（审查中）',
  accept: '受理',
  auto_accept: '逾期未答复，依法视为受理',
  refuse: '不予受理',
  request_correction: '一次性告知补正材料',
  request_correction_in_review: '审查中要求补正',
  start_review: '开始审查',
  suspend: '进入特别程序',
  resume: '特别程序结束，恢复审查',
  grant: '准予许可',
  deny: '不予许可',
  require_fee: '待缴费',
  await_result: '待送达',
  fee_paid: '已缴费',
  complete: '已送达，办结',
  lapse: '缴费期限已过，办件终止',
  withdraw: '申请人撤回申请',
  // lines that are not transitions (the server's notes)
  create: '创建申请',
  claim: '工作人员开始办理',
  release: '工作人员暂停办理',
  pass: '审核通过',
  fee_order_opened: '开具缴费通知',
  evaluate: '评价办理服务',
  evaluation_answer: '部门回复评价',
  payment_surplus: '收到多缴款项',
  fee_refunded: '已退款',
  fee_refund_failed: '退款未成功',
  duration_recorded: '办结用时已记录',
};

/**
 * One timeline event as a line: `{ title, comment, at }`, newest first is the caller's choice.
 * The server's own Chinese `label` first; the labels here for an answer without one.
 */
function timelineLine(event) {
  const e = event || {};
  const title =
    (typeof e.label === 'string' && e.label.trim()) ||
    ACTION_LABELS[e.action] ||
    (e.to && e.to !== e.from ? STATUS_LABELS[e.to] : '') ||
    '办理进展';
  return { title, comment: e.comment || '', at: dateText(e.at) };
}

/** The case id a message is about: from `subject` ("case:12") or its link ("pages/case/detail?id=12"). */
function caseIdOf(message) {
  const m = message || {};
  const subject = /^case:(\d+)$/.exec(String(m.subject || ''));
  if (subject) return Number(subject[1]);
  const link = /^\/?pages\/case\/[a-z]+\?(?:.*&)?id=(\d+)/.exec(String(m.link || ''));
  return link ? Number(link[1]) : null;
}

/** The page a message opens: its link when it is one of our pages, else the case's detail. */
function messageUrl(message, knownPages) {
  const link = String((message && message.link) || '');
  const path = link.replace(/^\//, '').split('?')[0];
  if (path && (!knownPages || knownPages.indexOf(path) >= 0)) return `/${link.replace(/^\//, '')}`;
  const id = caseIdOf(message);
  return id ? `/pages/case/detail?id=${id}` : '';
}

module.exports = { yuan, dateText, STATUS_LABELS, ACTION_LABELS, timelineLine, caseIdOf, messageUrl };
