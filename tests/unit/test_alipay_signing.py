"""Alipay RSA2 signing and verification, against the official SDK (``alipay-sdk-python``, a dev
dependency used here only) and the documented examples.

* ``sign_with_rsa2`` / ``verify_with_rsa`` / ``get_sign_content`` of
  ``alipay.aop.api.util.SignatureUtils`` are the oracle: PKCS#1 v1.5 signatures are deterministic,
  so ours must be byte-identical to the SDK's for the same key and text, whatever the text
  (Chinese, JSON, GBK), and each side must accept the other's;
* the SDK's own response parser (``DefaultAlipayClient``'s, which verifies the answer over the
  text it cuts out of the body) must cut out exactly what ours cuts out;
* the signing page's example request (app_id 2014072300007148, alipay.mobile.public.menu.add,
  timestamp 2014-07-24 03:07:50) must give the documented 待签名字符串, and the peer's copy of the
  formula must agree with the adapter's.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import pytest
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.constant.CommonConstants import THREAD_LOCAL
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2, verify_with_rsa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.providers.alipay import (
    AlipayChannel,
    fen_to_yuan,
    parse_trade_bill,
    response_spans,
    rsa2_sign,
    rsa2_verify,
    sign_content,
    yuan_to_fen,
)
from payments.providers.base import (
    BillEntryKind,
    CallbackRejected,
    NotificationKind,
    RefundState,
    TradeState,
)
from payments.providers.credentials import AlipayCredentials
from sandbox import alipay as peer

APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"

#: The signing page's example (自行实现签名): its parameters and its 待签名字符串.
DOC_BIZ = (
    '{"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"},'
    '{"name":"查询","subButton":[{"actionParam":"ZFB_YECX","actionType":"out","name":"余额查询"},'
    '{"actionParam":"ZFB_LLCX","actionType":"out","name":"流量查询"},'
    '{"actionParam":"ZFB_HFCX","actionType":"out","name":"话费查询"}]},'
    '{"actionParam":"http://m.alipay.com","actionType":"link","name":"最新优惠"}]}'
)
DOC_PARAMS = {
    "app_id": "2014072300007148",
    "method": "alipay.mobile.public.menu.add",
    "charset": "GBK",
    "sign_type": "RSA2",
    "timestamp": "2014-07-24 03:07:50",
    "biz_content": DOC_BIZ,
    "version": "1.0",
}
DOC_SIGN_CONTENT = (
    f"app_id=2014072300007148&biz_content={DOC_BIZ}&charset=GBK"
    "&method=alipay.mobile.public.menu.add&sign_type=RSA2&timestamp=2014-07-24 03:07:50&version=1.0"
)

TEXTS = [
    DOC_SIGN_CONTENT,
    "a=1",
    "app_id=2021000000000001&biz_content={}&charset=utf-8",
    'biz_content={"subject":"居民身份证换领 工本费","total_amount":"20.00"}&method=x',
    "中文，全角：ＡＢＣ，emoji 🧾 and 'quotes' \"double\" \\ back/slash",
    "",
]


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def alipay_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pkcs1(key: rsa.RSAPrivateKey) -> str:
    """The SDK's key format: PKCS#1 ("BEGIN RSA PRIVATE KEY")."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def spki(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def channel(app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey) -> AlipayChannel:
    credentials = AlipayCredentials(
        gateway="http://127.0.0.1:9/gateway.do",
        app_id=APP_ID,
        seller_id=SELLER_ID,
        app_private_key=app_key,
        alipay_public_key=alipay_key.public_key(),
    )
    return AlipayChannel(credentials, httpx.AsyncClient())


# --- the sign content -------------------------------------------------------------------------


def test_the_documented_example_gives_the_documented_string() -> None:
    assert sign_content(DOC_PARAMS) == DOC_SIGN_CONTENT
    assert peer.sign_content(DOC_PARAMS) == DOC_SIGN_CONTENT
    assert get_sign_content(DOC_PARAMS) == DOC_SIGN_CONTENT


def test_sign_and_empty_values_are_left_out_and_values_are_not_encoded() -> None:
    params = {
        **DOC_PARAMS,
        "sign": "whatever",
        "notify_url": "",
        "return_url": "https://gov.example/a?b=c&d=e f",
    }
    content = sign_content(params)
    assert "sign=whatever" not in content and "notify_url" not in content
    assert "return_url=https://gov.example/a?b=c&d=e f" in content
    expected = {k: v for k, v in params.items() if k != "sign" and v}
    assert content == get_sign_content(expected) == peer.sign_content(params)


def test_a_notification_leaves_out_sign_type_too() -> None:
    form = {"sign": "s", "sign_type": "RSA2", "b": "2", "a": "1", "c": ""}
    assert sign_content(form, exclude=("sign", "sign_type")) == "a=1&b=2"
    assert peer.sign_content(form, exclude=("sign", "sign_type")) == "a=1&b=2"


# --- byte-identical signatures ----------------------------------------------------------------


@pytest.mark.parametrize("text", TEXTS)
def test_our_signature_is_the_sdks_byte_for_byte(app_key: rsa.RSAPrivateKey, text: str) -> None:
    ours = rsa2_sign(app_key, text)
    assert ours == sign_with_rsa2(pkcs1(app_key), text, "utf-8")
    assert ours == peer.rsa2_sign(app_key, text)


def test_a_gbk_charset_signs_the_gbk_bytes_like_the_sdk(app_key: rsa.RSAPrivateKey) -> None:
    assert rsa2_sign(app_key, DOC_SIGN_CONTENT, "gbk") == sign_with_rsa2(
        pkcs1(app_key), DOC_SIGN_CONTENT, "GBK"
    )
    assert rsa2_sign(app_key, DOC_SIGN_CONTENT, "gbk") != rsa2_sign(app_key, DOC_SIGN_CONTENT)


def test_a_whole_request_is_signed_like_the_sdk_signs_it(
    channel: AlipayChannel, app_key: rsa.RSAPrivateKey
) -> None:
    biz = {"out_trade_no": "FEE_2026_0001", "total_amount": "20.00", "subject": "工本费 / 换领"}
    moment = datetime(2026, 3, 1, 4, 5, 6, tzinfo=UTC)
    params = channel.signed_params(
        "alipay.trade.create", biz, notify_url="https://gov.example/callbacks/alipay", now=moment
    )
    assert params["timestamp"] == "2026-03-01 12:05:06"  # GMT+8, as the page requires
    assert json.loads(params["biz_content"]) == biz
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    assert params["sign"] == sign_with_rsa2(pkcs1(app_key), get_sign_content(unsigned), "utf-8")


@pytest.mark.parametrize("text", TEXTS)
def test_each_side_verifies_the_others_signature(app_key: rsa.RSAPrivateKey, text: str) -> None:
    public = app_key.public_key()
    sdk_signature = sign_with_rsa2(pkcs1(app_key), text, "utf-8")
    assert rsa2_verify(public, text.encode(), sdk_signature)
    assert verify_with_rsa(spki(app_key), text.encode(), rsa2_sign(app_key, text))


def test_a_changed_text_or_another_key_does_not_verify(
    app_key: rsa.RSAPrivateKey, alipay_key: rsa.RSAPrivateKey
) -> None:
    signature = sign_with_rsa2(pkcs1(app_key), DOC_SIGN_CONTENT, "utf-8")
    assert not rsa2_verify(app_key.public_key(), (DOC_SIGN_CONTENT + " ").encode(), signature)
    assert not rsa2_verify(alipay_key.public_key(), DOC_SIGN_CONTENT.encode(), signature)
    assert not rsa2_verify(app_key.public_key(), DOC_SIGN_CONTENT.encode(), "not base64!")
    with pytest.raises(Exception):  # noqa: B017 - the SDK raises rsa.VerificationError
        verify_with_rsa(spki(app_key), (DOC_SIGN_CONTENT + " ").encode(), signature)


# --- answers: the exact text of <method>_response ---------------------------------------------


def answer_text(alipay_key: rsa.RSAPrivateKey, inner: str, key: str) -> str:
    """An answer laid out unlike json.dumps would (spaces, escaped slash, \\u escapes), signed
    by the SDK over the raw text of the response object, as Alipay signs it."""
    signature = sign_with_rsa2(pkcs1(alipay_key), inner, "utf-8")
    return f'{{"{key}" : {inner} ,\n "sign":"{signature}"}}'


INNER = (
    '{"code":"10000", "msg":"Success","trade_no":"2026030122001400000000000001",'
    '"out_trade_no":"FEE_2026_0001","subject":"a\\/b \\u4e2d {x}","trade_status":"TRADE_SUCCESS",'
    '"total_amount":"20.00","send_pay_date":"2026-03-01 12:05:06"}'
)


def test_the_answer_is_verified_over_its_exact_text(
    channel: AlipayChannel, alipay_key: rsa.RSAPrivateKey
) -> None:
    text = answer_text(alipay_key, INNER, "alipay_trade_query_response")
    start, end = response_spans(text)["alipay_trade_query_response"]
    assert text[start:end] == INNER
    assert json.dumps(json.loads(INNER), ensure_ascii=False, separators=(",", ":")) != INNER
    inner = channel._verified("alipay.trade.query", text.encode())
    assert inner["trade_status"] == "TRADE_SUCCESS" and inner["subject"] == "a/b 中 {x}"


def test_our_cut_is_the_sdks_cut(alipay_key: rsa.RSAPrivateKey) -> None:
    text = answer_text(alipay_key, INNER, "alipay_trade_query_response")
    config = AlipayClientConfig()
    config.app_id = APP_ID
    config.alipay_public_key = spki(alipay_key)
    client = DefaultAlipayClient(config)
    THREAD_LOCAL.logger = None  # what execute() sets before it parses
    THREAD_LOCAL.uuid = "test"
    parsed = client._DefaultAlipayClient__parse_response(text.encode())
    start, end = response_spans(text)["alipay_trade_query_response"]
    assert parsed == text[start:end]


def test_an_answer_that_does_not_verify_is_unavailable(
    channel: AlipayChannel, alipay_key: rsa.RSAPrivateKey, app_key: rsa.RSAPrivateKey
) -> None:
    from payments.providers.base import ChannelUnavailable

    good = answer_text(alipay_key, INNER, "alipay_trade_query_response")
    tampered = good.replace('"20.00"', '"0.01"')
    forged = answer_text(app_key, INNER, "alipay_trade_query_response")
    unsigned = f'{{"alipay_trade_query_response":{INNER}}}'
    for body in (tampered, forged, unsigned, "<html>busy</html>"):
        with pytest.raises(ChannelUnavailable):
            channel._verified("alipay.trade.query", body.encode())


# --- notifications ----------------------------------------------------------------------------


def notification(alipay_key: rsa.RSAPrivateKey, **changes: str) -> dict[str, str]:
    form = {
        "notify_time": "2026-03-01 12:05:08",
        "notify_type": "trade_status_sync",
        "notify_id": "2026030100222120508000000000000001",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026030122001400000000000001",
        "out_trade_no": "FEE_2026_0001",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "20.00",
        "receipt_amount": "20.00",
        "buyer_pay_amount": "20.00",
        "seller_id": SELLER_ID,
        "buyer_id": "2088102122524333",
        "subject": "居民身份证换领 工本费",
        "gmt_create": "2026-03-01 12:05:00",
        "gmt_payment": "2026-03-01 12:05:06",
    }
    form.update(changes)
    content = get_sign_content({k: v for k, v in form.items() if k not in ("sign", "sign_type")})
    form["sign"] = sign_with_rsa2(pkcs1(alipay_key), content, "utf-8")
    form["sign_type"] = "RSA2"
    return form


def body_of(form: dict[str, str]) -> bytes:
    return urlencode(form).encode()


NOW = datetime(2026, 3, 1, 4, 5, 9, tzinfo=UTC)


def test_an_sdk_signed_notification_is_accepted_and_translated(
    channel: AlipayChannel, alipay_key: rsa.RSAPrivateKey
) -> None:
    parsed = channel.parse_callback({}, body_of(notification(alipay_key)), now=NOW)
    assert parsed.kind is NotificationKind.payment
    assert parsed.trade.state is TradeState.paid and parsed.trade.amount_fen == 2000
    assert parsed.trade.transaction_id == "2026030122001400000000000001"
    assert parsed.trade.paid_at == datetime(2026, 3, 1, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"app_id": "2021000000000999"}, "app_id"),
        ({"seller_id": "2088000000000999"}, "seller_id"),
        ({"total_amount": "20.001"}, "amount"),
        ({"total_amount": "2e1"}, "amount"),
        ({"notify_type": "other"}, "notify_type"),
        ({"trade_status": "SOMETHING"}, "trade_status"),
    ],
)
def test_a_signed_notification_for_another_app_seller_or_amount_is_rejected(
    channel: AlipayChannel, alipay_key: rsa.RSAPrivateKey, changes: dict[str, str], reason: str
) -> None:
    with pytest.raises(CallbackRejected) as caught:
        channel.parse_callback({}, body_of(notification(alipay_key, **changes)), now=NOW)
    assert caught.value.reason == reason


def test_a_forged_tampered_or_malformed_notification_is_rejected(
    channel: AlipayChannel, alipay_key: rsa.RSAPrivateKey, app_key: rsa.RSAPrivateKey
) -> None:
    good = notification(alipay_key)
    tampered = {**good, "total_amount": "0.01"}
    forged = notification(app_key)
    unsigned = {k: v for k, v in good.items() if k != "sign"}
    cases = {
        "signature": [body_of(tampered), body_of(forged)],
        "unsigned": [body_of(unsigned)],
        "malformed": [body_of(good) + b"&app_id=x", b"\xff\xfe", b"a=%ZZ&=&&"],
        "oversized": [b"a=" + b"x" * 70_000],
        "sign_type": [body_of({**good, "sign_type": "RSA"})],
    }
    for reason, bodies in cases.items():
        for body in bodies:
            with pytest.raises(CallbackRejected) as caught:
                channel.parse_callback({}, body, now=NOW)
            assert caught.value.reason == reason, body[:80]


def test_a_refund_notification_names_the_refund(
    channel: AlipayChannel, alipay_key: rsa.RSAPrivateKey
) -> None:
    form = notification(
        alipay_key,
        trade_status="TRADE_CLOSED",
        out_biz_no="RF_2026_0001",
        refund_fee="20.00",
        gmt_refund="2026-03-02 09:00:00.123",
        gmt_close="2026-03-02 09:00:00",
    )
    parsed = channel.parse_callback({}, body_of(form), now=NOW)
    assert parsed.kind is NotificationKind.refund and parsed.refund is not None
    assert parsed.refund.out_refund_no == "RF_2026_0001"
    assert parsed.refund.state is RefundState.succeeded and parsed.refund.amount_fen == 2000
    # closed after a full refund: the money was taken, so the trade counts as paid
    assert parsed.trade.state is TradeState.paid and parsed.trade.channel_state == "TRADE_CLOSED"


def test_the_answers_are_exactly_success_and_fail(channel: AlipayChannel) -> None:
    assert channel.answer(processed=True).body == b"success"
    assert channel.answer(processed=True).status == 200
    assert channel.answer(processed=False).body != b"success"


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0.01", 1), ("12.30", 1230), ("12.3", 1230), ("12", 1200), ("100000000.00", 10**10)],
)
def test_yuan_strings_are_exact_fen(text: str, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["12.345", "0.001", "1e2", "12.", ".5", "", " 1", "1,000", "NaN"])
def test_other_shapes_are_refused_never_rounded(text: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_fen_become_two_decimal_yuan() -> None:
    assert [fen_to_yuan(f) for f in (1, 10, 1230, 10**10)] == [
        "0.01",
        "0.10",
        "12.30",
        "100000000.00",
    ]


# --- the bill ---------------------------------------------------------------------------------


def test_the_documented_bill_layout_is_read(channel: AlipayChannel) -> None:
    detail = "\r\n".join(
        [
            "#支付宝业务明细查询",
            f"#账号：[{SELLER_ID}0156]",
            "#起始日期：[2026年03月01日 00:00:00]   终止日期：[2026年03月02日 00:00:00]",
            "#-----------------------------------------业务明细列表----------------------------",
            peer.DETAIL_HEADER,
            "2026030122001400000000000001\t,FEE_2026_0001\t,交易\t,工本费,2026-03-01 12:05:00,"
            "2026-03-01 12:05:06,\t,\t,\t,\t,**买(138****0000)\t,20.00,20.00,0.00,0.00,0.00,0.00,"
            "0.00,,0.00\t,0.00,\t,0.00,0.00,",
            "2026030122001400000000000001\t,FEE_2026_0001\t,退款\t,工本费,2026-03-01 12:05:00,"
            "2026-03-01 18:00:00,\t,\t,\t,\t,**买(138****0000)\t,-5.00,-5.00,0.00,0.00,0.00,0.00,"
            "0.00,,0.00\t,0.00,RF_2026_0001\t,0.00,0.00,",
            "#-----------------------------------------业务明细列表结束------------------------",
            "#交易合计：1笔，退款合计：1笔",
        ]
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as files:
        files.writestr("summary.csv", "#支付宝业务汇总查询\r\n".encode("gbk"))
        files.writestr("detail.csv", detail.encode("gbk"))
    entries = parse_trade_bill(archive.getvalue())
    assert [(e.kind, e.out_trade_no, e.amount_fen, e.out_refund_no) for e in entries] == [
        (BillEntryKind.payment, "FEE_2026_0001", 2000, None),
        (BillEntryKind.refund, "FEE_2026_0001", 500, "RF_2026_0001"),
    ]
    assert entries[1].at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert entries[0].transaction_id == "2026030122001400000000000001"
    with pytest.raises(ValueError):
        parse_trade_bill(b"not a zip")
