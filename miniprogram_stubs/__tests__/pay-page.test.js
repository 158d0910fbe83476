const { envelope, ok } = require('./helpers/fakeWx.js');
const { citizenPage, leavePage } = require('./helpers/setup.js');
const { feeNotice } = require('./fixtures.js');

/** The fee notice of a server before `pay_options` (the field absent: WeChat Pay and an Alipay QR). */
const FEE = feeNotice();
delete FEE.pay_options;
const CHECKOUT = {
  channel: 'wechatpay',
  mode: 'in_app',
  out_trade_no: 'ZB2026120700001',
  expires_at: '2026-12-07T05:00:00+00:00',
  client: { timeStamp: '1765080000', nonceStr: 'n1', package: 'prepay_id=wx1', signType: 'RSA', paySign: 'sig' },
};
const TO_ASK = { moment: 'pay', template_ids: ['ZbFee'], templates: [{ template_id: 'ZbFee', title: '缴费通知' }] };

describe('pages/pay', () => {
  let fake;
  let renderPage;
  let text;

  beforeEach(() => {
    ({ fake, renderPage, text } = citizenPage());
    fake.on('GET', '/api/v1/me/subscriptions/to-ask', ok(TO_ASK));
    fake.on('POST', '/api/v1/me/subscriptions', ok({ granted: [] }));
    fake.on('POST', '/api/v1/cases/42/fee/returned', { status: 204, data: '' });
    fake.wx.requestSubscribeMessage.mockImplementation((opts) =>
      Promise.resolve().then(() => opts.success({ errMsg: 'requestSubscribeMessage:ok', ZbFee: 'accept' })),
    );
  });

  afterEach(leavePage);

  test('the fee notice: amount, 大写, deadline, lines', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    expect(text(page, '.amount')).toBe('¥ 20.00');
    expect(text(page, '.amount-words')).toBe('人民币贰拾元整');
    expect(text(page, '.due')).toBe('2026年12月28日前');
    expect(page.querySelectorAll('.fee-line')).toHaveLength(1);
    expect(fake.callsTo('GET', '/api/v1/me/subscriptions/to-ask')[0].query).toEqual({ moment: 'pay' });
  });

  test('consent in the tap, then WeChat Pay with the server parameters; paid: reloaded', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE), ok(Object.assign({}, FEE, { status: 'paid', status_label: '已缴费', payments: [{ id: 1, channel: 'wechatpay', amount_fen: 2000, paid_at: '2026-12-07T04:00:00+00:00', receipt_number: 'PJ0001', disposition: 'applied', refunded_fen: 0 }] })));
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok(CHECKOUT));
    fake.wx.requestPayment.mockImplementation((opts) => Promise.resolve().then(() => opts.success({ errMsg: 'requestPayment:ok' })));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.preparing;
    const paying = page.instance.onPay();
    expect(fake.wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);
    await paying;
    expect(fake.callsTo('POST', '/api/v1/cases/42/fee/pay')[0].data).toEqual({ channel: 'wechatpay', mode: 'in_app' });
    expect(fake.wx.requestPayment.mock.calls[0][0]).toMatchObject({ package: 'prepay_id=wx1', paySign: 'sig' });
    expect(fake.callsTo('POST', '/api/v1/cases/42/fee/returned')[0].data).toEqual({ out_trade_no: 'ZB2026120700001' });
    expect(text(page, '.fee-status')).toBe('已缴费');
    expect(page.querySelector('.pay-btn')).toBeFalsy();
    expect(page.querySelectorAll('.payment')).toHaveLength(1);
  });

  test('a cancelled payment leaves the order payable, with a gentle message', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE));
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok(CHECKOUT));
    fake.wx.requestPayment.mockImplementation((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'requestPayment:fail cancel' })));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.onPay();
    expect(text(page, '.top-notice')).toBe('您已取消支付，订单仍然有效，可在缴费期限前再次缴费。');
    expect(page.querySelector('.top-error')).toBeFalsy();
    expect(page.querySelector('.pay-btn')).toBeTruthy();
    expect(page.instance.data.paying).toBe(false);
  });

  test('a failed payment sheet shows the Chinese message', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE));
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok(CHECKOUT));
    fake.wx.requestPayment.mockImplementation((opts) => Promise.resolve().then(() => opts.fail({ errMsg: 'requestPayment:fail system error' })));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.onPay();
    expect(text(page, '.top-error')).toBe('支付未完成，您可以稍后在办件详情中继续缴费。');
  });

  test('an order no longer open (409) reloads the fee', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE), ok(Object.assign({}, FEE, { status: 'lapsed', status_label: '已逾期' })));
    fake.on('POST', '/api/v1/cases/42/fee/pay', envelope(409, 'payments.order_not_open', '该缴费订单当前不能缴费（已缴费、已逾期或已撤销）。'));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.onPay();
    expect(fake.callsTo('GET', '/api/v1/cases/42/fee')).toHaveLength(2);
    expect(text(page, '.fee-status')).toBe('已逾期');
    expect(text(page, '.top-notice')).toBe('缴费状态已变化，已为您刷新。');
    expect(fake.wx.requestPayment).not.toHaveBeenCalled();
  });

  test('Alipay for another device: the QR code text is shown and can be copied', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE));
    fake.on('POST', '/api/v1/cases/42/fee/pay', ok({ channel: 'alipay', mode: 'qr', out_trade_no: 'ZB2', expires_at: '2026-12-07T05:00:00+00:00', client: { qr_code: 'https://qr.alipay.com/bax01234' } }));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.onAlipayQr();
    expect(fake.callsTo('POST', '/api/v1/cases/42/fee/pay')[0].data).toEqual({ channel: 'alipay', mode: 'qr' });
    expect(text(page, '.qr-code')).toBe('https://qr.alipay.com/bax01234');
    page.instance.onCopyQr();
    expect(fake.wx.setClipboardData).toHaveBeenCalledWith(expect.objectContaining({ data: 'https://qr.alipay.com/bax01234' }));
  });

  test('Alipay not enabled on this deployment: the option goes away with a message', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE));
    fake.on('POST', '/api/v1/cases/42/fee/pay', envelope(400, 'request.validation_failed', '提交的信息不完整或格式不正确，请按提示修改。', {
      fields: [{ field: 'channel', code: 'channel_not_enabled', message: '不支持该支付方式，请选择其他支付方式。' }],
    }));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.onAlipayQr();
    expect(page.querySelector('.alipay-btn')).toBeFalsy();
    expect(text(page, '.top-notice')).toBe('暂不支持支付宝缴费，请使用微信支付。');
  });

  test('a rate-limited payment start shows the message at once', async () => {
    fake.on('GET', '/api/v1/cases/42/fee', ok(FEE));
    fake.on('POST', '/api/v1/cases/42/fee/pay', envelope(429, 'rate_limited', '操作过于频繁，请稍后再试。', {}, { 'Retry-After': '120' }));
    const page = await renderPage('pages/pay/pay', { id: '42' });
    await page.instance.onPay();
    expect(text(page, '.top-error')).toBe('操作过于频繁，请稍后再试。');
    expect(fake.callsTo('POST', '/api/v1/cases/42/fee/pay')).toHaveLength(1);
  });
});
