const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');
const { GUIDE } = require('./fixtures.js');

const THEMES = {
  themes: [
    { code: 'life-birth', name: '出生', category: 'life_event', description: '' },
    { code: 'biz-start', name: '开办企业', category: 'business_event', description: '' },
  ],
};
const ITEM = { code: 'GA-SFZ-HL', name: '居民身份证换领', kind: 'administrative_confirmation', audience: 'person', department: { code: 'NC-GAJ', name: '南昌市公安局' }, fee_fen: 2000, promised_limit_days: 15, handling_mode: 'online_then_pickup', express_delivery: true };
const FREE = Object.assign({}, ITEM, { code: 'GA-HJ-CSDJ', name: '新生儿出生登记（落户）', fee_fen: 0, promised_limit_days: 1 });

describe('catalogue, guide, 我的 and the large-text mode', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage({ loggedIn: false }));
  });

  afterEach(leavePage);

  const tap = (dataset, detail) => ({ currentTarget: { dataset }, detail: detail || {} });

  test('pages/catalog: themes by category, a theme filters, search, load more, an item opens its guide', async () => {
    fake.on('GET', '/api/v1/themes', ok(THEMES));
    fake.on('GET', '/api/v1/items', (req) => {
      if (req.query.cursor === 'i2') return ok({ items: [FREE], next_cursor: null });
      if (req.query.theme === 'life-birth') return ok({ items: [FREE], next_cursor: null });
      return ok({ items: [ITEM], next_cursor: 'i2' });
    });
    const page = await renderPage('pages/catalog/catalog');
    expect(page.querySelectorAll('.theme-group')).toHaveLength(2);
    expect(page.querySelectorAll('.section-title').map((n) => n.dom.textContent)).toEqual(['个人办事', '企业办事']);
    expect(text(page, '.item .muted')).toBe('南昌市公安局 · 承诺 15 个工作日 · 收费 20.00 元');

    await page.instance.onLoadMore();
    expect(fake.callsTo('GET', '/api/v1/items')[1].query).toEqual({ cursor: 'i2' });
    expect(page.querySelectorAll('.item')).toHaveLength(2);

    await page.instance.onTheme(tap({ code: 'life-birth', name: '出生' }));
    expect(fake.callsTo('GET', '/api/v1/items')[2].query).toEqual({ theme: 'life-birth' });
    expect(text(page, '.current-theme')).toMatch(/出生/);
    expect(page.querySelectorAll('.item')).toHaveLength(1);

    await page.instance.onSearch({ detail: { value: ' sfz ' } });
    expect(fake.callsTo('GET', '/api/v1/items')[3].query).toEqual({ q: 'sfz', theme: 'life-birth' });

    page.instance.onItem(tap({ code: 'GA-SFZ-HL' }));
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/guide/guide?code=GA-SFZ-HL' }));
  });

  test('pages/catalog: a refused search names the field in Chinese', async () => {
    fake.on('GET', '/api/v1/themes', ok(THEMES));
    fake.on('GET', '/api/v1/items', envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
      fields: [{ field: 'q', code: 'string_too_long', message: '最多 50 个字符。' }],
    }));
    const page = await renderPage('pages/catalog/catalog');
    expect(text(page, '.error')).toBe('提交的信息不完整或格式不正确，请按提示修改。\n搜索内容：最多 50 个字符。');
  });

  test('pages/guide: materials, fee, time limits, 办理流程, and the apply button', async () => {
    fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(GUIDE));
    const page = await renderPage('pages/guide/guide', { code: 'GA-SFZ-HL' });
    expect(text(page, '.guide-name')).toBe('居民身份证换领');
    expect(text(page, '.fee')).toBe('20.00 元');
    expect(text(page, '.promised')).toBe('15 个工作日');
    expect(page.querySelectorAll('.material')).toHaveLength(2);
    expect(page.querySelectorAll('.step-name').map((n) => n.dom.textContent)).toEqual(['1. 申请', '2. 受理']);
    page.instance.onApply();
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/apply/apply?code=GA-SFZ-HL' }));
  });

  test('pages/guide: an unknown item shows the Chinese message', async () => {
    fake.on('GET', '/api/v1/items/NOPE', envelope(404, 'catalog.item_not_found', '事项不存在或已停止办理。'));
    const page = await renderPage('pages/guide/guide', { code: 'NOPE' });
    expect(text(page, '.error')).toBe('事项不存在或已停止办理。');
    expect(page.querySelector('.apply-btn')).toBeFalsy();
  });

  test('pages/me: the large-text switch is remembered and put on the page root; other pages follow', async () => {
    fake.storage['zb.citizen.access_token'] = 'access-0';
    fake.on('GET', '/api/v1/me', ok({ id: 1, realname_level: 2, real_name: '张*' }));
    fake.on('GET', '/api/v1/me/messages/unread-count', ok({ unread: 4 }));
    const page = await renderPage('pages/me/me');
    expect(text(page, '.unread')).toBe('4 条未读');
    expect(text(page, '.level')).toBe('已刷脸认证');
    expect(page.querySelector('.large-text')).toBeFalsy();

    page.instance.onLargeText({ detail: { value: true } });
    expect(fake.storage['zb.pref.large_text']).toBeTruthy();
    expect(page.querySelector('.page.large-text')).toBeTruthy();

    fake.on('GET', '/api/v1/items/GA-SFZ-HL', ok(GUIDE));
    const guide = await renderPage('pages/guide/guide', { code: 'GA-SFZ-HL' });
    expect(guide.querySelector('.page.large-text')).toBeTruthy();

    page.instance.onLargeText({ detail: { value: false } });
    expect(fake.storage['zb.pref.large_text']).toBeUndefined();
    expect(page.querySelector('.page.large-text')).toBeFalsy();
    await guide.instance.onShow(); // coming back to a page re-reads the switch
    expect(guide.querySelector('.page.large-text')).toBeFalsy();
  });

  test('pages/me: not logged in, no request is made', async () => {
    const page = await renderPage('pages/me/me');
    expect(fake.wx.request).not.toHaveBeenCalled();
    expect(text(page, '.identity')).toMatch(/未登录/);
    page.instance.go(tap({ url: '/pages/login/login' }));
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/login/login' }));
  });

  test('pages/index: an item opens its guide; the large-text class is applied', async () => {
    fake.storage['zb.pref.large_text'] = 1;
    fake.on('GET', '/api/v1/items', ok({ items: [ITEM] }));
    const page = await renderPage('pages/index/index');
    expect(page.querySelector('.page.large-text')).toBeTruthy();
    page.instance.onItem(tap({ code: 'GA-SFZ-HL' }));
    expect(fake.wx.navigateTo).toHaveBeenCalledWith(expect.objectContaining({ url: '/pages/guide/guide?code=GA-SFZ-HL' }));
  });

  test('app.json lists every citizen page, pages/index/index first, and each has its four files', () => {
    const fs = require('fs');
    const path = require('path');
    const root = path.resolve(__dirname, '..');
    const app = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'));
    expect(app.pages[0]).toBe('pages/index/index');
    const citizen = ['pages/catalog/catalog', 'pages/guide/guide', 'pages/apply/apply', 'pages/cases/cases', 'pages/case/detail', 'pages/pay/pay', 'pages/inbox/inbox', 'pages/me/me', 'pages/login/login'];
    citizen.forEach((p) => expect(app.pages).toContain(p));
    app.pages.forEach((p) => {
      ['js', 'wxml', 'wxss', 'json'].forEach((ext) => expect(fs.existsSync(path.join(root, `${p}.${ext}`))).toBe(true));
    });
    // the server's message links open a page of this app
    expect(app.pages).toContain('pages/case/detail');
    expect(fs.readFileSync(path.join(root, 'app.wxss'), 'utf8')).toMatch(/\.large-text\s*\{/);
  });
});
