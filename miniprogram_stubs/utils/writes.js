/**
 * Idempotency keys for the writes a person may tap again after a failure (the citizen's
 * counterpart of pages/staff/shared.js `writeKeys`): the SAME key for the same path and body, so
 * a write the server did while its answer was lost (after the client's own retries) is replayed,
 * not done twice; another body takes a new key, and `done` forgets the key once it succeeded.
 *
 *   this.keys = writeKeys();
 *   await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
 *   this.keys.done(path, body);
 */
const { newIdempotencyKey } = require('./api.js');

function writeKeys() {
  const keys = {};
  const id = (path, body) => `${path} ${JSON.stringify(body || {})}`;
  return {
    keyFor(path, body) {
      const k = id(path, body);
      if (!keys[k]) keys[k] = newIdempotencyKey();
      return keys[k];
    },
    done(path, body) {
      delete keys[id(path, body)];
    },
  };
}

/** wx.showModal as a promise of true (confirmed) or false (cancelled, or the sheet failed). */
function confirmModal(title, content, confirmText) {
  return new Promise((resolve) => {
    // eslint-disable-next-line no-undef
    wx.showModal({
      title,
      content,
      confirmText: confirmText || '确定',
      cancelText: '取消',
      confirmColor: '#c0392b',
      success: (res) => resolve(Boolean(res && res.confirm)),
      fail: () => resolve(false),
    });
  });
}

/** Field errors by field name, and the lines of those that have no input on the page. */
function splitByField(shown, placed) {
  const fieldErrors = {};
  const other = [];
  shown.fields.forEach((f) => {
    // `item_codes[3]` belongs beside `item_codes`
    const name = f.field.replace(/\[\d+\]$/, '');
    if (placed.indexOf(name) >= 0) fieldErrors[name] = fieldErrors[name] ? `${fieldErrors[name]} ${f.message}` : f.message;
    else other.push(f.label ? `${f.label}：${f.message}` : f.message);
  });
  return { fieldErrors, text: [shown.title].concat(other).join('\n') };
}

module.exports = { writeKeys, confirmModal, splitByField };
