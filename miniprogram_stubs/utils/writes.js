/**
 * Idempotency keys for the writes a person may tap again after a failure (the citizen's pages,
 * and the staff's through pages/staff/shared.js): the SAME key for the same path and body, so a
 * write the server did while its answer was lost (after the client's own retries) is replayed,
 * not done twice; another body takes a new key, and `done` forgets the key once it succeeded.
 *
 *   this.keys = writeKeys();
 *   await client.post(path, body, { idempotencyKey: this.keys.keyFor(path, body) });
 *   this.keys.done(path, body);
 */
const { client, describeError, newIdempotencyKey } = require('./api.js');

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

/**
 * 删除 / 移除 / 结束 after wx.showModal: `confirm` is the modal's [title, content, confirmText]
 * (cancelled: nothing is sent). Then DELETE `path` with the page's `keys` (writeKeys()), its
 * `busy` data key set to `id` meanwhile; done, `deleted()` gives what the page shows (a notice),
 * and the page loads again (not with `reload: false`). A 404 or a 409 (it moved on, or is gone)
 * loads the page again and says why; any other failure is shown above the page (`labels` name
 * its fields).
 */
async function confirmedDelete(page, { confirm, path, busy, id, deleted, labels, reload }) {
  const ok = await confirmModal(confirm[0], confirm[1], confirm[2]);
  if (!ok) return;
  page.setData({ [busy]: id, error: '', notice: '' });
  try {
    await client.del(path, { idempotencyKey: page.keys.keyFor(path) });
    page.keys.done(path);
    page.setData(Object.assign({ [busy]: 0 }, deleted()));
    if (reload !== false) await page.load();
  } catch (error) {
    page.setData({ [busy]: 0 });
    if (error && (error.isConflict || error.status === 404)) {
      await page.load();
      page.setData({ notice: describeError(error, labels).title });
      return;
    }
    page.setData({ error: describeError(error, labels).text });
  }
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

module.exports = { writeKeys, confirmModal, confirmedDelete, splitByField };
