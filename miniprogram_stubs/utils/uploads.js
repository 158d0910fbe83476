/**
 * The photos of a case's materials, for the pages that add them (pages/apply, and pages/case/detail
 * during a correction): wx.chooseMedia, then the client's `upload` with a progress bar per photo;
 * a failed photo stays on the page with its Chinese error and a retry that sends the same file.
 *
 *   this.board = new UploadBoard({ itemCode, ensureCase: () => this.ensureDraft(), onChange: () => this.render() });
 *   this.board.setFiles(detail.files);
 *   await this.board.choose('id-card', 2);
 */
const { client: defaultClient, describeError } = require('./api.js');

const TYPES = { png: 'image/png', webp: 'image/webp', heic: 'image/heic', pdf: 'application/pdf', jpg: 'image/jpeg', jpeg: 'image/jpeg' };

/** The content type a chosen file is sent with, from its name (JPEG unless it says otherwise). */
function contentTypeOf(filePath) {
  const ext = String(filePath || '').split('.').pop().toLowerCase();
  return TYPES[ext] || 'image/jpeg';
}

/** wx.chooseMedia for up to `count` images: the chosen files, or [] when the person cancels. */
function chooseImages(count) {
  return new Promise((resolve) => {
    // eslint-disable-next-line no-undef
    wx.chooseMedia({
      count,
      mediaType: ['image'],
      sourceType: ['camera', 'album'],
      sizeType: ['compressed'],
      success: (res) => resolve((res && res.tempFiles) || []),
      fail: () => resolve([]),
    });
  });
}

/** A case's files (CaseFile rows) by material code, as the pages show them. */
function groupFiles(files) {
  const byCode = {};
  (files || []).forEach((f) => {
    if (!f.material_code || f.purpose === 'attachment') return;
    (byCode[f.material_code] = byCode[f.material_code] || []).push({
      id: f.id,
      filename: f.filename,
      thumbnail: f.thumbnail_url || f.url || '',
      status: f.status,
    });
  });
  return byCode;
}

let sequence = 0;

class UploadBoard {
  /**
   * `itemCode`; `ensureCase()` → the case id the files belong to (a draft made on the first photo);
   * `labels` (labelsFromGuide) for the errors; `onChange()` redraws the page; `client` for tests.
   */
  constructor({ itemCode, ensureCase, labels, onChange, client }) {
    this.itemCode = itemCode;
    this.ensureCase = ensureCase;
    this.labels = labels || {};
    this.onChange = onChange || (() => {});
    this.client = client || defaultClient;
    this.files = {};
    this.pending = {};
  }

  setFiles(files) {
    this.files = groupFiles(files);
  }

  /** The files kept and the photos on their way (or failed) of one material. */
  view(code) {
    const pending = (this.pending[code] || []).map((e) => ({
      key: e.key,
      filePath: e.filePath,
      progress: e.progress,
      status: e.status,
      error: e.error,
    }));
    return { files: this.files[code] || [], pending };
  }

  /** Files kept plus photos still uploading (a failed one does not take a place). */
  count(code) {
    const active = (this.pending[code] || []).filter((e) => e.status === 'uploading').length;
    return (this.files[code] || []).length + active;
  }

  /** Is any photo still on its way? */
  get busy() {
    return Object.keys(this.pending).some((code) => this.pending[code].some((e) => e.status === 'uploading'));
  }

  /**
   * Let the person take or pick photos for `code` (no more than `maxFiles` in all), then send
   * them. A material taking one file that has it gets a new photo *in its place*: the server
   * keeps the old file until the new one is verified (`replaces`), so nothing is deleted first.
   */
  async choose(code, maxFiles) {
    const kept = this.files[code] || [];
    const active = this.count(code) - kept.length;
    if ((maxFiles || 1) === 1 && kept.length === 1 && !active) {
      const [photo] = await chooseImages(1);
      if (!photo) return [];
      return [await this.start(code, { filePath: photo.tempFilePath, size: photo.size, replaces: kept[0].id })];
    }
    const room = Math.max(0, (maxFiles || 1) - this.count(code));
    if (!room) return [];
    const chosen = (await chooseImages(room)).slice(0, room);
    return Promise.all(chosen.map((f) => this.start(code, { filePath: f.tempFilePath, size: f.size })));
  }

  /** Can the person add a photo to `code` now (or, for a one-file material, replace its file)? */
  canAdd(code, maxFiles) {
    const kept = (this.files[code] || []).length;
    if ((maxFiles || 1) === 1 && kept === 1 && this.count(code) === 1) return true;
    return this.count(code) < (maxFiles || 1);
  }

  start(code, file) {
    sequence += 1;
    const entry = {
      key: `u${sequence}`,
      filePath: file.filePath,
      size: file.size,
      replaces: file.replaces || null,
      progress: 0,
      status: 'uploading',
      error: '',
    };
    (this.pending[code] = this.pending[code] || []).push(entry);
    return this.run(code, entry);
  }

  /** Send again the photo that failed (the same file). */
  retry(code, key) {
    const entry = (this.pending[code] || []).find((e) => e.key === key);
    return entry ? this.run(code, entry) : Promise.resolve(null);
  }

  /** Drop a failed photo from the page. */
  dismiss(code, key) {
    this.pending[code] = (this.pending[code] || []).filter((e) => e.key !== key);
    this.onChange();
  }

  /** Delete a kept file (a draft's, or a listed material's during a correction). */
  async remove(code, id) {
    await this.client.del(`/api/v1/uploads/${id}`);
    this.files[code] = (this.files[code] || []).filter((f) => f.id !== id);
    this.onChange();
  }

  async run(code, entry) {
    Object.assign(entry, { status: 'uploading', progress: 0, error: '', code: '' });
    this.onChange();
    try {
      const caseId = await this.ensureCase();
      const done = await this.client.upload({
        itemCode: this.itemCode,
        materialCode: code,
        caseId,
        filePath: entry.filePath,
        size: entry.size,
        replaces: entry.replaces || undefined,
        contentType: contentTypeOf(entry.filePath),
        onProgress: (p) => {
          entry.progress = Math.max(0, Math.min(100, Math.round(p.progress || 0)));
          this.onChange();
        },
      });
      this.pending[code] = (this.pending[code] || []).filter((e) => e !== entry);
      if (entry.replaces) this.files[code] = (this.files[code] || []).filter((f) => f.id !== entry.replaces);
      (this.files[code] = this.files[code] || []).push({
        id: done.id,
        filename: done.filename,
        thumbnail: done.thumbnail_url || done.url || '',
        status: done.status,
      });
      this.onChange(code);
      return done;
    } catch (error) {
      entry.status = 'failed';
      entry.error = describeError(error, this.labels).text;
      entry.code = error && error.code ? error.code : '';
      entry.apiError = error;
      this.onChange();
      return null;
    }
  }
}

module.exports = { UploadBoard, contentTypeOf, chooseImages, groupFiles };
