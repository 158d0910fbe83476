"""WeChat Pay APIv3 signing, verification and decryption against vectors built from the
documented formulas with tools other than the adapter.

* The request 签名串 and the ``openssl dgst -sha256 -sign … | openssl base64 -A`` pipeline are the
  ones the page "签名生成" demonstrates; ``REQUEST_GET`` is its own example request
  (``GET /v3/certificates``, timestamp 1554208460, nonce 593BEC0C…). The page signs with a key it
  does not publish, so the expected values here were made with the OpenSSL command line and the
  test key below (generated for these tests, never used anywhere else): PKCS#1 v1.5 signatures
  are deterministic, so any implementation of the documented formula must give these bytes.
* ``PAY_SIGN_MESSAGE`` is the example 签名串 of "小程序调起支付" (appId wx8888888888888888,
  timeStamp 1414561699, nonceStr 5K8264ILTKCH16CQ2502SI8ZNMTM67VS, package
  prepay_id=wx201410272009395522657a690389285100), signed the same way.
* ``NOTIFY_BODY`` is a payment notification in the documented shape whose resource was encrypted
  with Node.js's ``crypto.createCipheriv("aes-256-gcm", …)`` (key, 12-byte nonce, AAD
  "transaction", ciphertext = base64(encrypted || tag), as "证书和回调报文解密" describes), and
  whose headers were signed with OpenSSL over ``timestamp\nnonce\nbody\n``.

The adapter was also checked, outside this suite, against the test vectors of the official Go
SDK (wechatpay-apiv3/wechatpay-go: its SHA256withRSA signer, AES-GCM and notification tests);
they are not copied here.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.providers.base import (
    BillEntryKind,
    CallbackRejected,
    NotificationKind,
    RefundState,
    TradeState,
)
from payments.providers.credentials import WeChatPayCredentials
from payments.providers.wechatpay import (
    WeChatPayChannel,
    answer_message,
    authorization,
    decrypt_resource,
    parse_trade_bill,
    pay_sign_message,
    request_message,
    rsa_sign,
    rsa_verify,
)

TEST_KEY = """-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDFwndqBttdJspS
E6lCtn1AyKH4XPhY5Z3zpvDxYVTYHB5hBw0wgfgF6oomrjj/qsNHFi7H2WIVs+zF
xiueAXxDOa7D4tND8Wr4DtgtNmpaESjjK/5Ctz6CWIvjCHt3ivTpQXF8WwCh9SiJ
Dcn84WYDEy+mlnURbS96raPRYxOc2gKlcbDLfghMPyz1QEpUof3Y8BTcLfsdRlDO
mXuh/DFApLZ5qk5C+vNd60yVkBdqjTl21q8Q6xf124OQHmlLLAsFEXET50DpkeU2
bnqk2ISyR7UhM8wku8wRQvJln07qqCGr259l85rbuHM7u882xpQBo7S1PgsJy0aC
M6bzTprvAgMBAAECggEAV6FnCeAU92+XaoxUzf+QfBMLlsMXt0i0V8HrdYKUNpkr
KwKVaR/GeFSoOCCumDgihQ8C1sLwkD5k1nSMYl01I5LdaubJiAtjw5zMVSiOMu/0
psmZRxXtCJRVFFrvXxb/lJbPw3ON0baRaj3mefylGAq57D8yi/DOf7WO6FtXVwKK
EqwINDHCqZrrbWAPmyY10NvilN2nMhhdVTa+kXGY0r86yf9ywm8UbpIvxT1k6fuc
cJamWknSPv/LWLX4MjgiWcBp5cd5MFyflIpEY3aRyLDG3mruIdVzx0egaFcL78ku
fc9WuhKcQuNA+7RzgwkpiAJ3zvCnL6DR6GLRZHPdJQKBgQDxNQ/sw9jdEwOZW+4n
x4P0uNfrZQdMsW//m6Vsq+VYQyf0OqiSQeGJloYxclTL6loCAAntdJiQPcPUgL4F
jUlml+PR6IX+EATdp85Wj0Ygwot/FHjC40B65ibLCNlkj7B9McWLR7huqK/OQH5o
r0L2eDN4kBE4nNc/xpnzd9tZpQKBgQDR40d+LzefZ9oBIEhmDogWjypCoF1m0ASR
MV2tGewAxl+viKAdvYOTpU0CxvpyyqLSuKmQ9IxsllfG0lP03I4e7dASnxTghpMJ
otcfWTLW5OjVYlVGzl3fgI/Kd6I3LpO1yAcqzzQhdl1dY3WCAJTiSAHNnZ5YDuuu
rNrX8bj2AwKBgH+t6d8XkHz9qqMMUZWG/CeXjNwS33lOV43DUx6iI0XETqruPfsl
moBdSG12KsLCK6Dxak/irztzJm0fNPb1YgxHjJW5cuwYiKrYP9X8A1AmCvda2821
w5UKrTA+X+zmTrMGnJ3seglBi8Yux3scguK6n+xKvoLsKtichTOml1rtAoGAJLBW
DviyAGtm8Et0XGKt50OfX4YozZAPPFIkzd16I6iJkWWQl6JJHcYHcDTYErjZPXyK
J4yX/2NIdLjPdD4Zmc54UMj+HUFo8oZElHZDLM1W5fYKchYg0rDmcb333S2HJH+S
wSj3M+I879Yy9Ealv+hWaFrlEv+Is0AEATt/2YECgYABa4W67G1JzXMFePySOv49
8oh0WESsh3Zfn/w+/QjNXGnMLRvXJmMHQC1erIApI3VAA6l/44h3LDImyJJOg7CG
eYKg/Xe1TkjA2zDLxr6xqlg7znsqXvyoEYE2+u4grYCHAXQbLRIqFqrgtalevHy/
kq0/iMlpfSpxpA7u7/ORNw==
-----END PRIVATE KEY-----
"""
TEST_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxcJ3agbbXSbKUhOpQrZ9
QMih+Fz4WOWd86bw8WFU2BweYQcNMIH4BeqKJq44/6rDRxYux9liFbPsxcYrngF8
Qzmuw+LTQ/Fq+A7YLTZqWhEo4yv+Qrc+gliL4wh7d4r06UFxfFsAofUoiQ3J/OFm
AxMvppZ1EW0veq2j0WMTnNoCpXGwy34ITD8s9UBKVKH92PAU3C37HUZQzpl7ofwx
QKS2eapOQvrzXetMlZAXao05dtavEOsX9duDkB5pSywLBRFxE+dA6ZHlNm56pNiE
ske1ITPMJLvMEULyZZ9O6qghq9ufZfOa27hzO7vPNsaUAaO0tT4LCctGgjOm806a
7wIDAQAB
-----END PUBLIC KEY-----
"""

REQUEST_GET = b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
REQUEST_GET_SIGNATURE = (
    "qGPN+2Jw7FkiKxf3u4X8eH10wQH3DgIIm+FW06vVMCTquZphRr+4CFXvEu7b6MHN8+m/hxAfLCp5bjuRiF4v"
    "twuu9ig8cpx44Y2jtGc/PKIe8zSowi3GiOKIlo4rKfZGj8LenGFtt9A/2QpWwkrGNP8T/kn88ixsdk44xXgD"
    "wpk3Hx4vjaRlk48CpvCP54vZehQGg20cGdBccYhCcvgxKDKmiylD2uJTgkYQxnio8FJi6TAVu3lypXgdaTqm"
    "+MxCHQ51Af1SFmBcvsRsiIWnEezvM7LoBPlAGZsNkftXeXLStYmg55JGpTWhZlmyzBBc09VRP88wgsIUS38k"
    "zxeDHg=="
)
JSAPI_BODY = (
    '{"appid":"wx8888888888888888","mchid":"1900000109","description":"营业执照补办工本费",'
    '"out_trade_no":"ZB202401010001","notify_url":"https://example.gov.cn/callbacks/wechatpay",'
    '"amount":{"total":1000,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}'
).encode()
JSAPI_SIGNATURE = (
    "FFsvnfqQjTJz96xA4bhF3OpAmjJob9Dwft9PHEK9bVGdtOu9UBIiqrpybMeh4hQOGk4Yf2/vkw7XqvM1gMjk"
    "cpYqutr7fxQUGo++uFOkATIcinMA0OusxC/ZtXMbPw05pMz0lqG41+PBa49fBKp8yqA9exRcvtTkEa5wYhVg"
    "+bwnNP6xBs8QE5WqatRh7HQkiHKuL5EVhjxIZAnFt908TXIKmS5Bagt/Ceg+/IaXwFPVwUT+ACVFoxQv0qr+"
    "FC3HFYtRPe421BxEdcVvVrt8HWgZgRw1oEOr077DTbxLMvE7E2GY+xI9iMxTJZdDnKVNQX1crxlZ32Ey2l+F"
    "Z5fe3Q=="
)
PAY_SIGN_MESSAGE = (
    b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
    b"prepay_id=wx201410272009395522657a690389285100\n"
)
PAY_SIGN = (
    "msmTxOP1Z8Im7kuLP3k/t6zhgYcOEsasnMTU/h5gWqoPKX+H4JqyItL6j6jsDu99CH9WXlCMJx3VFPpky939"
    "PPsAqtn2kFeqbxzn980DQuF4YlZg521iQnz25G+zL+BQ3un2+h2iahpunB6WmM+WNbXJhmLND28W27LC64cb"
    "93rNbSMz/PPRfL1N3D4IyxU3+tmLF7EEEB7NISNHDGirGHV0sF9Afe39bhLRTXbzHzRS1BROCev9nxCn59VY"
    "zrrr/wi9BF2LV2ZQru9jaVYtjnhDYWCh712TC1WlamutTQ2eFxouTaSwnLxYG9WunpAL/B2/nFFJu1qQNjAQ"
    "zo3xlQ=="
)

APIV3_KEY = b"0123456789abcdef0123456789ABCDEF"
NOTIFY_CIPHERTEXT = (
    "XPrK2XStT7i1K8lGXZ/Yg2oB5SMFYJizBYAUY54Bi+m1DRwzV2dE53OlEdd8MqgmT3XRJxTxHTbo47+WzPdA"
    "dxiEOngto0MwshF9xYq4L8443RHlSufvxyhUCQOhGVDH7pKNIscqUambp6CkdCuP2oqv2zlB5vUkKp4TtINw"
    "gKF7HBzSlFqK4MNeXCngpmmg5mf4dl0v0n8mQYn78SkXMSFgUoeIrijLLF0Rxe/tlBego1YaQr4k2ldPjlhp"
    "lif2OjBLjh4NutrE7DhL5rlbo4tzpdoWhtw0Go9WtxrIfPSh1VB2ylg6ZkkwPrvT+EHe0nXNO2TLBWIPTlpB"
    "tD7Ha+LLXw/Dww/vKG3GEAyLKjQqGAfx9EwncBgxmmmySX/OeegPdnKzsRtHXErS29IIH8cgbKBvxccwh1wY"
    "upBOnZjF182fjT+meSPsesuqJsdiGOvMMB4nQR8122x2DZpzkmXPlnF5590xMmSa9LRfvsqkqKyWCfby5XqM"
    "2XpTxBeqifFm2TapFIWj6xk22iO394BCPXXTrpd7MJG3CwyKiQsuEnGqm9DS"
)
NOTIFY_PLAINTEXT = {
    "appid": "wx8888888888888888",
    "mchid": "1900000109",
    "out_trade_no": "ZB202401010001",
    "transaction_id": "4200000001202401011234567890",
    "trade_type": "JSAPI",
    "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功",
    "bank_type": "OTHERS",
    "success_time": "2024-01-01T10:00:05+08:00",
    "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    "amount": {"total": 1000, "payer_total": 1000, "currency": "CNY", "payer_currency": "CNY"},
}
NOTIFY_BODY = (
    '{"id":"EV-2024010110000512345","create_time":"2024-01-01T10:00:06+08:00",'
    '"resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功",'
    '"resource":{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM",'
    f'"ciphertext":"{NOTIFY_CIPHERTEXT}","associated_data":"transaction","nonce":"a1b2c3d4e5f6"}}}}'
).encode()
NOTIFY_HEADERS = {
    "wechatpay-timestamp": "1704074406",
    "wechatpay-nonce": "fdasfjihihihlkja484w",
    "wechatpay-serial": "PUB_KEY_ID_0114232134912410000000000000",
    "wechatpay-signature": (
        "UNJStRFavt8cpSV+M/rAK8ycT4eYT1twonpTNYmv3NnHRUgVmkkYdQxGirtgpUNiHG7XHLo9l2wHvQKFsihN"
        "rJMRN9vz6gKlnkumjCNspASPFSas5tDsxIaEOQi9drUiG9CzNqqvKEEjH2OQMZPfLkgCcRivi8H2tH45BY1q"
        "1W2+3cE4JqB9LnmH4jgoRZpGQdlUoGa1Za1hOr1Oqsbnz2SFuXCD9lI/nW8k6m5GYjyYKSJFHFlazrRZZlpf"
        "c4TQ9a748b8ujrBxS+feKO/5R3KuEPFAEXQgIp0g1TRLR+JWuxiWi7lyezGHBRNoRf46ct5CtROZJE+ECZ/p"
        "vWF5ag=="
    ),
}
NOTIFY_AT = datetime(2024, 1, 1, 2, 0, 6, tzinfo=UTC)


def private_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(TEST_KEY.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_key() -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(TEST_PUBLIC.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def channel(**overrides: object) -> WeChatPayChannel:
    """The adapter with the test key on both sides (merchant and platform), no network."""
    values: dict[str, object] = {
        "api_base": "https://api.mch.weixin.qq.com",
        "appid": "wx8888888888888888",
        "mch_id": "1900000109",
        "merchant_serial": "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
        "merchant_key": private_key(),
        "apiv3_key": APIV3_KEY,
        "platform_key_id": NOTIFY_HEADERS["wechatpay-serial"],
        "platform_key": public_key(),
    }
    values.update(overrides)
    return WeChatPayChannel(WeChatPayCredentials(**values), httpx.AsyncClient())  # type: ignore[arg-type]


# --- request signatures ------------------------------------------------------------------------


def test_the_request_message_is_the_documented_five_lines() -> None:
    message = request_message(
        "GET", "/v3/certificates", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", b""
    )
    assert message == REQUEST_GET


def test_the_documented_example_request_signs_to_the_openssl_value() -> None:
    assert rsa_sign(private_key(), REQUEST_GET) == REQUEST_GET_SIGNATURE


def test_a_jsapi_order_signs_over_path_and_the_exact_body_bytes() -> None:
    message = request_message(
        "POST",
        "/v3/pay/transactions/jsapi",
        "1554208460",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        JSAPI_BODY,
    )
    assert rsa_sign(private_key(), message) == JSAPI_SIGNATURE
    # one byte of the body changed is another signature
    other = message.replace(b'"total":1000', b'"total":1001')
    assert not rsa_verify(public_key(), other, JSAPI_SIGNATURE)


def test_the_authorization_header_carries_the_five_documented_fields() -> None:
    header = authorization(
        mch_id="1900000109",
        serial="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
        key=private_key(),
        method="GET",
        url="/v3/certificates",
        body=b"",
        timestamp="1554208460",
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )
    scheme, _, params = header.partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert fields == {
        "mchid": '"1900000109"',
        "nonce_str": '"593BEC0C930BF1AFEB40B4A08C8FB242"',
        "signature": f'"{REQUEST_GET_SIGNATURE}"',
        "timestamp": '"1554208460"',
        "serial_no": '"1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"',
    }


def test_signatures_verify_only_for_their_message() -> None:
    assert rsa_verify(public_key(), REQUEST_GET, REQUEST_GET_SIGNATURE)
    assert not rsa_verify(public_key(), REQUEST_GET + b"x", REQUEST_GET_SIGNATURE)
    assert not rsa_verify(public_key(), REQUEST_GET, "not base64!")


# --- wx.requestPayment --------------------------------------------------------------------------


def test_the_pay_sign_message_is_the_documented_four_lines() -> None:
    message = pay_sign_message(
        "wx8888888888888888",
        "1414561699",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        "prepay_id=wx201410272009395522657a690389285100",
    )
    assert message == PAY_SIGN_MESSAGE
    assert rsa_sign(private_key(), message) == PAY_SIGN


def test_request_payment_gives_the_client_what_wx_request_payment_takes() -> None:
    params = channel().request_payment(
        "wx201410272009395522657a690389285100", timestamp="1414561699"
    )
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["signType"] == "RSA"
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100"
    assert params["timeStamp"] == "1414561699"
    assert 0 < len(params["nonceStr"]) <= 32
    message = pay_sign_message(
        "wx8888888888888888", params["timeStamp"], params["nonceStr"], params["package"]
    )
    assert rsa_verify(public_key(), message, params["paySign"])


# --- notifications ------------------------------------------------------------------------------


def test_the_resource_decrypts_to_the_transaction() -> None:
    plaintext = decrypt_resource(APIV3_KEY, "a1b2c3d4e5f6", "transaction", NOTIFY_CIPHERTEXT)
    assert json.loads(plaintext) == NOTIFY_PLAINTEXT


@pytest.mark.parametrize(
    ("key", "nonce", "aad"),
    [
        (b"0123456789abcdef0123456789ABCDEX", "a1b2c3d4e5f6", "transaction"),
        (APIV3_KEY, "a1b2c3d4e5f7", "transaction"),
        (APIV3_KEY, "a1b2c3d4e5f6", "refund"),
    ],
)
def test_the_resource_does_not_open_with_another_key_nonce_or_associated_data(
    key: bytes, nonce: str, aad: str
) -> None:
    with pytest.raises(ValueError):
        decrypt_resource(key, nonce, aad, NOTIFY_CIPHERTEXT)


def test_the_notification_signature_is_over_timestamp_nonce_body() -> None:
    message = answer_message("1704074406", "fdasfjihihihlkja484w", NOTIFY_BODY)
    assert message == b"1704074406\nfdasfjihihihlkja484w\n" + NOTIFY_BODY + b"\n"
    assert rsa_verify(public_key(), message, NOTIFY_HEADERS["wechatpay-signature"])


def test_a_verified_payment_notification_translates_to_our_terms() -> None:
    notification = channel().parse_callback(NOTIFY_HEADERS, NOTIFY_BODY, now=NOTIFY_AT)
    assert notification.kind is NotificationKind.payment
    assert notification.notify_id == "EV-2024010110000512345"
    trade = notification.trade
    assert trade.out_trade_no == "ZB202401010001"
    assert trade.state is TradeState.paid
    assert trade.transaction_id == "4200000001202401011234567890"
    assert trade.amount_fen == 1000
    assert trade.paid_at == datetime(2024, 1, 1, 2, 0, 5, tzinfo=UTC)
    assert trade.channel_state == "SUCCESS"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"wechatpay-serial": "PUB_KEY_ID_0000000000000000000000000000000"}, "serial"),
        ({"wechatpay-timestamp": "1704074000"}, "timestamp"),
        ({"wechatpay-nonce": "another-nonce"}, "signature"),
        ({"wechatpay-signature": ""}, "unsigned"),
    ],
)
def test_a_notification_with_wrong_headers_is_rejected(change: dict[str, str], reason: str) -> None:
    with pytest.raises(CallbackRejected) as caught:
        channel().parse_callback({**NOTIFY_HEADERS, **change}, NOTIFY_BODY, now=NOTIFY_AT)
    assert caught.value.reason == reason


def test_a_notification_older_than_five_minutes_is_rejected() -> None:
    later = datetime(2024, 1, 1, 2, 5, 7, tzinfo=UTC)
    with pytest.raises(CallbackRejected) as caught:
        channel().parse_callback(NOTIFY_HEADERS, NOTIFY_BODY, now=later)
    assert caught.value.reason == "timestamp"


def test_a_changed_body_is_rejected() -> None:
    body = NOTIFY_BODY.replace(b"EV-2024010110000512345", b"EV-2024010110000512346")
    with pytest.raises(CallbackRejected) as caught:
        channel().parse_callback(NOTIFY_HEADERS, body, now=NOTIFY_AT)
    assert caught.value.reason == "signature"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"mch_id": "1900000110"}, "mchid"),
        ({"appid": "wx9999999999999999"}, "appid"),
        ({"apiv3_key": b"0123456789abcdef0123456789ABCDEX"}, "decrypt"),
        ({"platform_key": rsa.generate_private_key(65537, 2048).public_key()}, "signature"),
    ],
)
def test_a_notification_for_another_merchant_app_or_key_is_rejected(
    overrides: dict[str, object], reason: str
) -> None:
    with pytest.raises(CallbackRejected) as caught:
        channel(**overrides).parse_callback(NOTIFY_HEADERS, NOTIFY_BODY, now=NOTIFY_AT)
    assert caught.value.reason == reason


def test_the_answers_are_the_documented_ones() -> None:
    done = channel().answer(processed=True)
    assert (done.status, done.body) == (204, b"")
    failed = channel().answer(processed=False)
    assert failed.status == 400
    assert json.loads(failed.body) == {"code": "FAIL", "message": "失败"}


# --- the trade bill -----------------------------------------------------------------------------

BILL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2024-01-01 10:00:05,`wx8888888888888888,`1900000109,`0,`,`4200000001202401011234567890,"
    "`ZB202401010001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`10.00,`0.00,`0,"
    "`0,`0.00,`0.00,`,`,`营业执照补办工本费,`,`0.06000,`0.60%,`10.00,`0.00,`\r\n"
    "`2024-01-01 15:30:00,`wx8888888888888888,`1900000109,`0,`,`4200000001202401011234567890,"
    "`ZB202401010001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
    "`50300000012024010112345678901,`RF202401010001,`2.50,`0.00,`ORIGINAL,`SUCCESS,"
    "`营业执照补办工本费,`,`0.00000,`0.60%,`0.00,`2.50,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`2,`10.00,`2.50,`0.00,`0.06,`10.00,`2.50\r\n"
).encode()


def test_the_trade_bill_parses_to_payments_and_refunds_in_fen() -> None:
    payment, refund = parse_trade_bill(BILL)
    assert payment.kind is BillEntryKind.payment
    assert (payment.out_trade_no, payment.amount_fen) == ("ZB202401010001", 1000)
    assert payment.transaction_id == "4200000001202401011234567890"
    assert payment.at == datetime(2024, 1, 1, 2, 0, 5, tzinfo=UTC)
    assert refund.kind is BillEntryKind.refund
    assert (refund.out_refund_no, refund.amount_fen) == ("RF202401010001", 250)
    assert refund.channel_state == "SUCCESS"
    assert refund.at.date() == date(2024, 1, 1)


def test_a_bill_line_with_a_missing_field_is_refused() -> None:
    broken = BILL.replace(b",`0.60%,`10.00,`0.00,`\r\n", b",`0.60%,`10.00\r\n", 1)
    with pytest.raises(ValueError):
        parse_trade_bill(broken)


def test_refund_and_trade_states_map_as_the_port_says() -> None:
    wechatpay = channel()
    assert wechatpay.name == "wechatpay"
    for state, expected in [
        ("SUCCESS", TradeState.paid),
        ("REFUND", TradeState.paid),
        ("NOTPAY", TradeState.pending),
        ("USERPAYING", TradeState.pending),
        ("CLOSED", TradeState.closed),
        ("REVOKED", TradeState.closed),
        ("PAYERROR", TradeState.closed),
    ]:
        assert wechatpay._trade({"out_trade_no": "X12345", "trade_state": state}).state is expected
    for status, refund_state in [
        ("PROCESSING", RefundState.processing),
        ("SUCCESS", RefundState.succeeded),
        ("CLOSED", RefundState.failed),
        ("ABNORMAL", RefundState.failed),
    ]:
        assert wechatpay._refund({"status": status}).state is refund_state
