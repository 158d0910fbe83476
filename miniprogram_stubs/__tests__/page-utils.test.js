const { fakeWx } = require('./helpers/fakeWx.js');
const { kindOf, requiredNames, buildFields, coerce, cleanForm, splitFieldErrors } = require('../utils/form.js');
const { yuan, dateText, timelineLine, caseIdOf, messageUrl } = require('../utils/format.js');
const { contentTypeOf, groupFiles } = require('../utils/uploads.js');

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', title: '姓名', maxLength: 20 },
    kind: { type: 'string', title: '类型', enum: ['甲', '乙'] },
    count: { type: 'integer', title: '数量' },
    area: { type: 'number', title: '面积' },
    agreed: { type: 'boolean', title: '同意' },
    born: { type: 'string', format: 'date', title: '出生日期' },
    detail: { type: 'string', title: '说明' },
  },
  required: ['name', 'kind'],
  allOf: [{ if: { properties: { kind: { const: '乙' } } }, then: { required: ['detail'] }, else: { required: ['count'] } }],
};

describe('utils/form.js', () => {
  test('kinds from the schema', () => {
    expect(Object.keys(SCHEMA.properties).map((k) => kindOf(SCHEMA.properties[k]))).toEqual(['text', 'enum', 'number', 'number', 'boolean', 'date', 'text']);
    expect(kindOf({ type: ['string', 'null'], format: 'date' })).toBe('date');
  });

  test('required names follow if/then/else, and an unchosen condition adds nothing from then', () => {
    expect([...requiredNames(SCHEMA, {})].sort()).toEqual(['count', 'kind', 'name']);
    expect([...requiredNames(SCHEMA, { kind: '乙' })].sort()).toEqual(['detail', 'kind', 'name']);
    expect([...requiredNames({ required: ['a'], if: { properties: { m: { enum: ['x'] } } }, then: { required: ['b'] } }, { m: 'x' })]).toEqual(['a', 'b']);
  });

  test('fields carry title, value, option index, errors and input type', () => {
    const fields = buildFields(SCHEMA, { kind: '乙', agreed: true }, { name: '此项为必填项。' });
    const by = Object.fromEntries(fields.map((f) => [f.name, f]));
    expect(by.name).toMatchObject({ title: '姓名', required: true, error: '此项为必填项。', maxlength: 20, value: '' });
    expect(by.kind).toMatchObject({ index: 1, options: ['甲', '乙'] });
    expect(by.agreed.value).toBe(true);
    expect(by.area.inputType).toBe('digit');
    expect(by.detail.required).toBe(true);
  });

  test('values sent as the schema wants them; empty ones left out; unknown names dropped', () => {
    expect(cleanForm(SCHEMA, { name: ' 张三 ', count: '3', area: '12.5', agreed: false, born: '', other: 'x', detail: '  ' })).toEqual({
      name: '张三',
      count: 3,
      area: 12.5,
      agreed: false,
    });
    expect(coerce({ type: 'integer' }, '2.5')).toBe('2.5'); // the server names it
    expect(coerce({ type: 'number' }, 'abc')).toBe('abc');
  });

  test('errors split into the form, the materials and the rest', () => {
    expect(
      splitFieldErrors([
        { field: 'form.name', message: 'a' },
        { field: 'form.address.city', message: 'b' },
        { field: 'materials.id-card', message: 'c' },
        { field: 'item_code', message: 'd' },
      ]),
    ).toEqual({ form: { name: 'a', address: 'b' }, materials: { 'id-card': 'c' }, other: [{ field: 'item_code', message: 'd' }] });
  });
});

describe('utils/format.js', () => {
  test('money and dates in Chinese', () => {
    expect(yuan(2000)).toBe('20.00');
    expect(yuan(5)).toBe('0.05');
    expect(dateText('2026-12-28')).toBe('2026年12月28日');
    expect(dateText('2026-12-07T16:30:00+00:00')).toBe('2026年12月08日 00:30'); // China's time
    expect(dateText(null)).toBe('');
  });

  test('timeline lines: the action, else the new status, else a neutral line', () => {
    expect(timelineLine({ action: 'request_correction', from: 'submitted', to: 'correction_requested', comment: 'x', at: '2026-12-07' }).title).toBe('一次性告知补正材料');
    expect(timelineLine({ action: 'something_new', from: 'accepted', to: 'in_review' }).title).toBe('审查中');
    expect(timelineLine({ action: 'comment', from: 'in_review', to: 'in_review' }).title).toBe('办理进展');
  });

  test("a message's case and page", () => {
    expect(caseIdOf({ subject: 'case:12' })).toBe(12);
    expect(caseIdOf({ link: 'pages/case/detail?id=13' })).toBe(13);
    expect(caseIdOf({ subject: 'company:3' })).toBeNull();
    expect(messageUrl({ link: 'pages/case/detail?id=13' }, ['pages/case/detail'])).toBe('/pages/case/detail?id=13');
    expect(messageUrl({ link: 'pages/mandates/index', subject: null }, ['pages/case/detail'])).toBe('');
  });
});

describe('utils/uploads.js and utils/display.js', () => {
  test('content types and files by material', () => {
    expect(contentTypeOf('wxfile://tmp/a.PNG')).toBe('image/png');
    expect(contentTypeOf('wxfile://tmp/a')).toBe('image/jpeg');
    expect(groupFiles([{ id: '1', material_code: 'a', purpose: 'material', filename: 'x.jpg', url: 'u' }, { id: '2', material_code: null, purpose: 'attachment' }])).toEqual({
      a: [{ id: '1', filename: 'x.jpg', thumbnail: 'u', status: undefined }],
    });
  });

  test('the large-text switch is stored and read back', () => {
    jest.resetModules();
    const fake = fakeWx();
    global.wx = fake.wx;
    const display = require('../utils/display.js');
    expect(display.displayClass()).toBe('');
    display.setLargeText(true);
    expect(display.displayClass()).toBe('large-text');
    const page = { data: {}, setData: jest.fn() };
    display.applyDisplay(page);
    expect(page.setData).toHaveBeenCalledWith({ displayClass: 'large-text' });
    display.setLargeText(false);
    expect(display.isLargeText()).toBe(false);
    delete global.wx;
  });
});
