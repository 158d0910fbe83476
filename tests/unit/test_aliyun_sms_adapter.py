"""The SMS adapter without a socket (``httpx.MockTransport``): what it sends, how it reads each
answer, how it looks a send up, how it reads a receipt push. Its behaviour against the real
peer over HTTP is in ``tests/contract/test_sandbox_sms.py``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from notify.providers.aliyun_sms import REPORT_ACK, AliyunSms, Receipt, parse_report
from notify.providers.base import Envelope, Known, Outcome
from sandbox.sms import rpc_signature

PHONE = "13812345678"
SECRET = "unit-secret"
NOW = datetime(2024, 5, 1, 3, 4, 5, tzinfo=UTC)
ENVELOPE = Envelope(
    key="case-1.accepted.sms.u1",
    address=PHONE,
    template="SMS_100",
    fields={"number": "ZB2024001", "item": "营业执照"},
)

Responder = Callable[[httpx.Request], httpx.Response]


def adapter(respond: Responder, *, clock: Callable[[], datetime] = lambda: NOW) -> AliyunSms:
    http = httpx.AsyncClient(transport=httpx.MockTransport(respond))
    return AliyunSms(
        http,
        endpoint="https://dysmsapi.example/",
        access_key_id="unit-key",
        access_key_secret=SECRET,
        sign_name="掌办",
        clock=clock,
    )


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode("ascii"), keep_blank_values=True))


def answer(payload: dict[str, Any], status: int = 200) -> Responder:
    return lambda request: httpx.Response(status, json=payload)


# --- what is sent -------------------------------------------------------------------------


async def test_send_posts_a_signed_form_with_the_envelope() -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"Code": "OK", "Message": "OK", "BizId": "123^0", "RequestId": "R"}
        )

    channel = adapter(respond)
    result = await channel.send(ENVELOPE)
    await channel.send(ENVELOPE)

    assert result.outcome is Outcome.sent and result.reference == "123^0" and result.code == "OK"
    first, second = (form(request) for request in seen)
    assert seen[0].method == "POST" and seen[0].url.query == b""  # nothing in the URL
    assert seen[0].headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert first["Action"] == "SendSms" and first["Version"] == "2017-05-25"
    assert first["Format"] == "JSON" and first["RegionId"] == "cn-hangzhou"
    assert first["SignatureMethod"] == "HMAC-SHA1" and first["SignatureVersion"] == "1.0"
    assert first["Timestamp"] == "2024-05-01T03:04:05Z"
    assert first["AccessKeyId"] == "unit-key"
    assert first["PhoneNumbers"] == PHONE and first["SignName"] == "掌办"
    assert first["TemplateCode"] == "SMS_100" and first["OutId"] == ENVELOPE.key
    assert json.loads(first["TemplateParam"]) == dict(ENVELOPE.fields)
    assert "\\u" not in first["TemplateParam"]  # Chinese as itself, not escaped
    assert first["SignatureNonce"] != second["SignatureNonce"]
    # The peer's verifier, written from the documentation, accepts the signature.
    assert first["Signature"] == rpc_signature(SECRET, "POST", first)


async def test_a_template_without_variables_sends_no_template_param() -> None:
    seen: list[dict[str, str]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(form(request))
        return httpx.Response(200, json={"Code": "OK", "BizId": "1^0"})

    await adapter(respond).send(Envelope(key="k", address=PHONE, template="SMS_1"))
    assert "TemplateParam" not in seen[0]


# --- how answers are read -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (200, "isv.MOBILE_NUMBER_ILLEGAL", Outcome.permanent),
        (200, "isv.SMS_TEMPLATE_ILLEGAL", Outcome.permanent),
        (200, "isv.SMS_SIGNATURE_ILLEGAL", Outcome.permanent),
        (200, "isv.TEMPLATE_MISSING_PARAMETERS", Outcome.permanent),
        (200, "isv.INVALID_PARAMETERS", Outcome.permanent),
        (200, "isv.INVALID_JSON_PARAM", Outcome.permanent),
        (200, "isv.PARAM_LENGTH_LIMIT", Outcome.permanent),
        (200, "isv.PARAM_NOT_SUPPORT_URL", Outcome.permanent),
        (200, "isv.MOBILE_COUNT_OVER_LIMIT", Outcome.permanent),
        (200, "isv.BUSINESS_LIMIT_CONTROL", Outcome.transient),
        (200, "isv.DAY_LIMIT_CONTROL", Outcome.transient),
        (200, "isp.SYSTEM_ERROR", Outcome.transient),
        (400, "Throttling.User", Outcome.transient),
        (400, "SignatureNonceUsed", Outcome.transient),
        (400, "InvalidTimeStamp.Expired", Outcome.transient),
        (400, "SignatureDoesNotMatch", Outcome.permanent),
        (404, "InvalidAccessKeyId.NotFound", Outcome.permanent),
        (400, "MissingPhoneNumbers", Outcome.permanent),
        (503, "ServiceUnavailable", Outcome.transient),
        (500, "InternalError", Outcome.transient),
    ],
)
async def test_each_code_has_its_outcome(status: int, code: str, outcome: Outcome) -> None:
    result = await adapter(
        answer({"Code": code, "Message": f"refused, {PHONE}", "RequestId": "R"}, status)
    ).send(ENVELOPE)
    assert result.outcome is outcome
    assert result.code == code
    assert PHONE not in result.detail  # the platform's words are masked before they are kept


@pytest.mark.parametrize(
    ("respond", "code"),
    [
        (lambda request: httpx.Response(502, text="<html>bad gateway</html>"), "http_502"),
        (lambda request: httpx.Response(200, text="<Response/>"), "bad_response"),
        (lambda request: httpx.Response(200, json=["not", "an", "object"]), "bad_response"),
    ],
)
async def test_an_answer_that_is_not_the_platforms_is_transient(
    respond: Responder, code: str
) -> None:
    result = await adapter(respond).send(ENVELOPE)
    assert result.outcome is Outcome.transient and result.code == code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "network"),
        (httpx.RemoteProtocolError("cut"), "network"),
    ],
)
async def test_no_answer_is_transient(error: Exception, code: str) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        raise error

    result = await adapter(respond).send(ENVELOPE)
    assert result.outcome is Outcome.transient and result.code == code


async def test_logs_carry_no_phone_number_nor_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await adapter(answer({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "x"})).send(ENVELOPE)
    await adapter(answer({"Code": "OK", "BizId": "1^0"})).send(ENVELOPE)
    text = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records and PHONE not in text and SECRET not in text
    assert "138****5678" in text


# --- lookup -------------------------------------------------------------------------------


def details(records: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {
        "Code": "OK",
        "Message": "OK",
        "RequestId": "R",
        "TotalCount": str(total),
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": records},
    }


async def test_lookup_pages_until_it_finds_the_out_id() -> None:
    asked: list[dict[str, str]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        params = form(request)
        asked.append(params)
        if params["CurrentPage"] == "1":
            others = [{"OutId": f"other-{i}", "SendStatus": 3} for i in range(50)]
            return httpx.Response(200, json=details(others, 51))
        return httpx.Response(200, json=details([{"OutId": ENVELOPE.key, "SendStatus": 1}], 51))

    assert await adapter(respond).lookup(ENVELOPE, sent_at=NOW) is Known.sent
    assert [p["CurrentPage"] for p in asked] == ["1", "2"]
    first = asked[0]
    assert first["Action"] == "QuerySendDetails" and first["PhoneNumber"] == PHONE
    assert first["SendDate"] == "20240501" and first["PageSize"] == "50"
    assert first["Signature"] == rpc_signature(SECRET, "POST", first)


async def test_lookup_without_the_out_id_is_not_sent() -> None:
    records = [{"OutId": "someone-else", "SendStatus": 3}]
    channel = adapter(answer(details(records, 1)))
    assert await channel.lookup(ENVELOPE, sent_at=NOW) is Known.not_sent
    assert await adapter(answer(details([], 0))).lookup(ENVELOPE, sent_at=NOW) is Known.not_sent


async def test_lookup_near_midnight_asks_both_beijing_dates() -> None:
    dates: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        dates.append(form(request)["SendDate"])
        return httpx.Response(200, json=details([], 0))

    late = datetime(2024, 5, 1, 15, 55, tzinfo=UTC)  # 23:55 in Beijing
    assert await adapter(respond).lookup(ENVELOPE, sent_at=late) is Known.not_sent
    assert dates == ["20240501", "20240502"]


@pytest.mark.parametrize(
    "respond",
    [
        answer({"Code": "isp.SYSTEM_ERROR", "Message": "系统错误"}),
        answer({"Code": "ServiceUnavailable", "Message": "down"}, 503),
        lambda request: httpx.Response(200, text="not json"),
        answer({"Code": "OK", "TotalCount": "many"}),
    ],
)
async def test_lookup_is_unknown_when_the_query_fails(respond: Responder) -> None:
    assert await adapter(respond).lookup(ENVELOPE, sent_at=NOW) is Known.unknown


async def test_lookup_is_unknown_without_an_answer() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    assert await adapter(respond).lookup(ENVELOPE, sent_at=NOW) is Known.unknown


# --- receipts -----------------------------------------------------------------------------


def test_parse_report_reads_the_documented_example() -> None:
    body = json.dumps(
        [
            {
                "phone_number": "1381111****",
                "send_time": "2017-01-01 00:00:00",
                "report_time": "2017-01-01 00:00:00",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "sms_size": "1",
                "biz_id": "12345********",
                "out_id": "67890**",
            },
            {
                "phone_number": "13800000000",
                "send_time": "2017-01-01 00:00:00",
                "report_time": "2017-01-01 08:30:00",
                "success": False,
                "err_code": "UNDELIV",
                "err_msg": "用户无法接收",
                "sms_size": "1",
                "biz_id": "2^0",
                "out_id": "",
            },
        ],
        ensure_ascii=False,
    ).encode()
    assert parse_report(body) == [
        Receipt(
            out_id="67890**",
            biz_id="12345********",
            delivered=True,
            err_code="DELIVERED",
            reported_at=datetime(2016, 12, 31, 16, 0, tzinfo=UTC),
        ),
        Receipt(
            out_id="",
            biz_id="2^0",
            delivered=False,
            err_code="UNDELIV",
            reported_at=datetime(2017, 1, 1, 0, 30, tzinfo=UTC),
        ),
    ]
    assert AliyunSms.parse_report(body) == parse_report(body)
    assert REPORT_ACK["code"] == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"biz_id": "1^0", "success": true}',
        b"[1]",
        b'[{"success": true}]',
        b'[{"biz_id": "1^0", "success": "true"}]',
    ],
)
def test_parse_report_refuses_what_it_cannot_read(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_report(body)


def test_an_unreadable_report_time_is_none() -> None:
    body = b'[{"biz_id": "1^0", "success": true, "report_time": "yesterday"}]'
    assert parse_report(body)[0].reported_at is None
