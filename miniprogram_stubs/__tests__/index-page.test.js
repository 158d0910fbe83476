const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');

describe('pages/index (miniprogram-simulate)', () => {
  let fake;

  beforeEach(() => {
    // the page uses the global wx through utils/api.js, as in WeChat
    ({ fake } = citizenPage({ loggedIn: false }));
  });

  afterEach(leavePage);

  test('lists the catalogue on load and searches on confirm', async () => {
    fake.on('GET', '/api/v1/items', (req) =>
      ok({ items: req.query.q === 'sfz' ? [{ code: 'GA-SFZ-HL', name: '居民身份证换领' }] : [{ code: 'A', name: '事项甲' }, { code: 'B', name: '事项乙' }] }),
    );
    const { renderPage } = require('./helpers/page.js');
    const page = await renderPage('pages/index/index');
    expect(page.querySelectorAll('.item')).toHaveLength(2);

    await page.instance.onSearch({ detail: { value: 'sfz' } });
    expect(page.querySelectorAll('.item')).toHaveLength(1);
    expect(page.querySelector('.item-name').dom.textContent).toBe('居民身份证换领');
    expect(fake.callsTo('GET', '/api/v1/items')[1].query).toEqual({ q: 'sfz' });
    expect(fake.callsTo('GET', '/api/v1/items')[1].header.Authorization).toBeUndefined();
  });

  test("shows the envelope's Chinese message when the search fails", async () => {
    fake.on('GET', '/api/v1/items', envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
      fields: [{ field: 'q', code: 'string_too_long', message: '最多 100 个字符。' }],
    }));
    const { renderPage } = require('./helpers/page.js');
    const page = await renderPage('pages/index/index');
    expect(page.querySelector('.error').dom.textContent).toBe('提交的信息不完整或格式不正确，请按提示修改。\n搜索内容：最多 100 个字符。');
  });
});
