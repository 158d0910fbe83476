"""The Alibaba Cloud SMS peer (``sandbox.sms``) over real HTTP, rule by rule as the platform's
pages state them, then our adapter (``notify.providers.aliyun_sms``) against it.

The peer's blueprint is served on its own Sanic app on a free port of 127.0.0.1 for this module
(it is not mounted in the sandbox process yet); delivery receipts go to a receiver of this module
on a real socket (uvicorn), which answers as told. Requests are signed with the peer's own
``rpc_signature``, itself checked against the documentation's worked examples in
``tests/unit/test_aliyun_sms_signing.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sanic import Sanic

from core.clock import utcnow
from notify.providers.aliyun_sms import REPORT_ACK, AliyunSms, parse_report
from notify.providers.base import Envelope, Known, Outcome
from sandbox.sms import AliyunSmsSandbox, rpc_signature, sms_blueprint
from tests.processes import free_port, serving_asgi

KEY_ID = "LTAI-contract-key"
SECRET = "contract-secret-0123456789"
SIGN = "掌办"
TEMPLATE = "SMS_100"
FIELDS = {"number": "ZB2024001", "item": "营业执照"}
PHONE = "13812345678"
OTHER_PHONE = "13987654321"
BIZ_ID = re.compile(r"\d{18}\^0")


def iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


@dataclass
class Receiver:
    """Our receipt endpoint for the suite: records every push and answers as scripted."""

    url: str
    pushes: list[list[dict[str, Any]]] = field(default_factory=list)
    #: answers to give, first one first: (HTTP status, body); then ``REPORT_ACK``
    script: deque[tuple[int, bytes]] = field(default_factory=deque)
    hits: int = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.hits += 1
        self.pushes.append(json.loads(body))
        status, answer = (
            self.script.popleft()
            if self.script
            else (200, json.dumps(REPORT_ACK, ensure_ascii=False).encode())
        )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    def clear(self) -> None:
        self.pushes.clear()
        self.script.clear()
        self.hits = 0

    async def wait(self, hits: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.hits < hits:
            assert time.monotonic() < deadline, f"{self.hits} pushes, expected {hits}"
            await asyncio.sleep(0.02)


@dataclass
class Peer:
    url: str
    state: AliyunSmsSandbox
    http: httpx.AsyncClient

    # control
    async def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"{self.url}/_control/{path}", json=body or {})
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return dict(response.json())

    async def read(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(f"{self.url}/_control/{path}", params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def messages(self, **params: Any) -> list[dict[str, Any]]:
        return list((await self.read("messages", **params))["messages"])

    # the platform
    async def call(
        self,
        action: str,
        params: dict[str, str] | None = None,
        *,
        method: str = "POST",
        secret: str = SECRET,
        signed_for: str | None = None,
        drop: tuple[str, ...] = (),
        before: dict[str, str] | None = None,
        after: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One RPC call: the common parameters, ``params``, ``before`` (changes that are
        signed), the signature (unless dropped), ``after`` (changes made once signed)."""
        full = {
            "AccessKeyId": KEY_ID,
            "Action": action,
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "Timestamp": iso(self.state.now()),
            "Version": "2017-05-25",
            **(params or {}),
            **(before or {}),
        }
        for name in drop:
            full.pop(name, None)
        if "Signature" not in drop:
            full["Signature"] = rpc_signature(secret, signed_for or method, full)
        full.update(after or {})
        return await self.raw(method, full)

    async def raw(self, method: str, params: dict[str, str]) -> httpx.Response:
        if method == "GET":
            return await self.http.get(f"{self.url}/", params=params)
        return await self.http.post(f"{self.url}/", data=params)

    async def send(
        self,
        phone: str = PHONE,
        *,
        template: str = TEMPLATE,
        fields: dict[str, Any] | None = None,
        template_param: str | None = None,
        out_id: str | None = None,
        sign: str = SIGN,
    ) -> dict[str, Any]:
        params = {"PhoneNumbers": phone, "SignName": sign, "TemplateCode": template}
        if template_param is not None:
            params["TemplateParam"] = template_param
        else:
            chosen = FIELDS if fields is None else fields
            if chosen:
                params["TemplateParam"] = json.dumps(chosen, ensure_ascii=False)
        if out_id is not None:
            params["OutId"] = out_id
        response = await self.call("SendSms", params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def today(self, days_ago: int = 0) -> str:
        return time.strftime("%Y%m%d", time.gmtime(self.state.now() + 8 * 3600 - days_ago * 86400))

    async def query(self, phone: str = PHONE, **params: str) -> httpx.Response:
        asked = {"PhoneNumber": phone, "SendDate": self.today(), "PageSize": "10"}
        asked["CurrentPage"] = "1"
        asked.update(params)
        return await self.call("QuerySendDetails", {k: v for k, v in asked.items() if v})

    async def details(self, phone: str = PHONE, **params: str) -> list[dict[str, Any]]:
        response = await self.query(phone, **params)
        assert response.status_code == 200 and response.json()["Code"] == "OK", response.text
        return list(response.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"])


@pytest.fixture(scope="module")
async def served() -> AsyncIterator[tuple[str, AliyunSmsSandbox]]:
    state = AliyunSmsSandbox(
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        signs=[SIGN],
        templates={TEMPLATE: ("number", "item"), "SMS_200": ()},
    )
    app = Sanic(f"zb_sms_{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.blueprint(sms_blueprint(state))
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, debug=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}/sandbox/sms", state
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@pytest.fixture(scope="module")
async def receiver_server() -> AsyncIterator[Receiver]:
    port = free_port()
    found = Receiver(url=f"http://127.0.0.1:{port}/sms/reports")
    async with serving_asgi(found, port):
        yield found


@pytest.fixture
async def peer(served: tuple[str, AliyunSmsSandbox]) -> AsyncIterator[Peer]:
    url, state = served
    async with httpx.AsyncClient(timeout=10) as http:
        found = Peer(url=url, state=state, http=http)
        await found.control("reset")
        # Receipts only when a test asks for them, so every status is deterministic.
        await found.control("receipts", {"auto": False})
        yield found


@pytest.fixture
async def receiver(receiver_server: Receiver, peer: Peer) -> Receiver:
    receiver_server.clear()
    await peer.control("report-url", {"url": receiver_server.url})
    return receiver_server


def assert_gateway(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["Code"] == code, body
    assert body["HostId"] == "dysmsapi.aliyuncs.com" and body["RequestId"] and body["Message"]
    return body


def assert_refused(answer: dict[str, Any], code: str) -> None:
    assert answer["Code"] == code, answer
    assert answer["RequestId"] and answer["Message"] and "BizId" not in answer


# --- the signature and the common parameters ----------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_signed_call_is_accepted_by_get_or_post(peer: Peer, method: str) -> None:
    params = {
        "PhoneNumbers": PHONE,
        "SignName": SIGN,
        "TemplateCode": TEMPLATE,
        "TemplateParam": json.dumps(FIELDS, ensure_ascii=False),
        "OutId": "out 1+2",
    }
    response = await peer.call("SendSms", params, method=method)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["Code"] == "OK" and answer["Message"] == "OK"
    assert BIZ_ID.fullmatch(answer["BizId"]) and answer["RequestId"]
    assert (await peer.messages())[0]["out_id"] == "out 1+2"


async def test_the_signature_is_checked(peer: Peer) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    wrong_secret = await peer.call("SendSms", params, secret="not-the-secret")
    body = assert_gateway(wrong_secret, 400, "SignatureDoesNotMatch")
    assert "server string to sign is:POST&%2F&AccessKeyId" in body["Message"]
    tampered = await peer.call("SendSms", params, after={"PhoneNumbers": OTHER_PHONE})
    assert_gateway(tampered, 400, "SignatureDoesNotMatch")
    other_method = await peer.call("SendSms", params, method="GET", signed_for="POST")
    assert_gateway(other_method, 400, "SignatureDoesNotMatch")
    added = await peer.call("SendSms", params, after={"OutId": "added"})
    assert_gateway(added, 400, "SignatureDoesNotMatch")
    assert await peer.messages() == []


async def test_a_nonce_is_used_once(peer: Peer) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    nonce = str(uuid.uuid4())
    # A forged request does not burn the nonce...
    forged = await peer.call("SendSms", params, before={"SignatureNonce": nonce}, secret="x")
    assert_gateway(forged, 400, "SignatureDoesNotMatch")
    first = await peer.call("SendSms", params, before={"SignatureNonce": nonce})
    assert first.json()["Code"] == "OK"
    # ...but an accepted one does, even replayed byte for byte.
    replay = await peer.call("SendSms", params, before={"SignatureNonce": nonce})
    assert_gateway(replay, 400, "SignatureNonceUsed")
    query = await peer.call(
        "QuerySendDetails",
        {"PhoneNumber": PHONE, "SendDate": peer.today(), "PageSize": "1", "CurrentPage": "1"},
        before={"SignatureNonce": nonce},
    )
    assert_gateway(query, 400, "SignatureNonceUsed")
    assert len(await peer.messages()) == 1


async def test_the_timestamp_is_within_fifteen_minutes(peer: Peer) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    now = peer.state.now()
    for offset in (-14 * 60, 14 * 60):
        ok = await peer.call("SendSms", params, before={"Timestamp": iso(now + offset)})
        assert ok.json()["Code"] == "OK", ok.text
    for offset in (-16 * 60, 16 * 60):
        late = await peer.call("SendSms", params, before={"Timestamp": iso(now + offset)})
        assert_gateway(late, 400, "InvalidTimeStamp.Expired")
    for bad in ("2024-01-01 00:00:00", "2024-01-01T00:00:00+08:00", "1704067200"):
        malformed = await peer.call("SendSms", params, before={"Timestamp": bad})
        assert_gateway(malformed, 400, "InvalidTimeStamp.Format")


async def test_a_request_expires_on_the_platforms_clock(peer: Peer) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    stamp = iso(peer.state.now())
    await peer.control("advance-clock", {"seconds": 15 * 60 + 5})
    expired = await peer.call("SendSms", params, before={"Timestamp": stamp})
    assert_gateway(expired, 400, "InvalidTimeStamp.Expired")


@pytest.mark.parametrize(
    "name",
    [
        "AccessKeyId",
        "Format",
        "RegionId",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Signature",
        "Action",
        "Version",
    ],
)
async def test_every_common_parameter_is_required(peer: Peer, name: str) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    response = await peer.call("SendSms", params, drop=(name,))
    body = assert_gateway(response, 400, f"Missing{name}")
    assert body["Message"] == f"{name} is mandatory for this action."


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Format": "XML"}, 400, "InvalidParameter.Format"),
        ({"SignatureMethod": "HMAC-SHA256"}, 400, "InvalidSignatureMethod"),
        ({"SignatureVersion": "2.0"}, 400, "InvalidSignatureVersion"),
        ({"Version": "2018-05-01"}, 400, "InvalidVersion"),
        ({"Action": "SendBatchSms"}, 404, "InvalidApi.NotFound"),
        ({"RegionId": "ap-southeast-1"}, 400, "InvalidRegionId"),
        ({"AccessKeyId": "LTAI-someone-else"}, 404, "InvalidAccessKeyId.NotFound"),
    ],
)
async def test_common_parameters_have_their_values(
    peer: Peer, change: dict[str, str], status: int, code: str
) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    assert_gateway(await peer.call("SendSms", params, before=change), status, code)


async def test_a_parameter_given_twice_or_a_json_body_is_refused(peer: Peer) -> None:
    params = {
        "AccessKeyId": KEY_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": str(uuid.uuid4()),
        "SignatureVersion": "1.0",
        "Timestamp": iso(peer.state.now()),
        "Version": "2017-05-25",
        "PhoneNumbers": PHONE,
        "SignName": SIGN,
        "TemplateCode": "SMS_200",
    }
    params["Signature"] = rpc_signature(SECRET, "POST", params)
    twice = await peer.http.post(f"{peer.url}/", params={"PhoneNumbers": OTHER_PHONE}, data=params)
    assert_gateway(twice, 400, "InvalidParameter")
    as_json = await peer.http.post(f"{peer.url}/", json=params)
    assert_gateway(as_json, 400, "InvalidParameter")
    assert await peer.messages() == []


# --- SendSms ------------------------------------------------------------------------------


async def test_a_message_is_recorded_waiting_with_its_content(peer: Peer) -> None:
    answer = await peer.send(out_id="case-1.accepted")
    assert answer["Code"] == "OK"
    [message] = await peer.messages()
    assert message == {
        "phone": PHONE,
        "sign": SIGN,
        "template": TEMPLATE,
        "params": FIELDS,
        "out_id": "case-1.accepted",
        "biz_id": answer["BizId"],
        "status": "waiting",
        "send_status": 1,
        "err_code": "",
        "content": "【掌办】通知：ZB2024001，营业执照",
        "sent_at": message["sent_at"],
    }


@pytest.mark.parametrize("prefix", ["", "+", "+86", "0086", "86"])
async def test_mainland_numbers_may_carry_a_country_prefix(peer: Peer, prefix: str) -> None:
    assert (await peer.send(prefix + PHONE))["Code"] == "OK"
    assert (await peer.messages())[0]["phone"] == PHONE


@pytest.mark.parametrize(
    "numbers",
    [
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12812345678",  # no such prefix
        "02812345678",  # a landline
        "85212345678",  # Hong Kong, not a mainland number
        "+85212345678",
        f"{PHONE},",  # an empty element
        f"{PHONE}, {OTHER_PHONE}",  # a space
        f"{PHONE};{OTHER_PHONE}",
        "138-1234-5678",
    ],
)
async def test_only_mainland_mobile_numbers_are_accepted(peer: Peer, numbers: str) -> None:
    assert_refused(await peer.send(numbers), "isv.MOBILE_NUMBER_ILLEGAL")
    assert await peer.messages() == []


async def test_at_most_a_thousand_numbers_share_one_biz_id(peer: Peer) -> None:
    numbers = [f"1380000{i:04d}" for i in range(1001)]
    assert_refused(await peer.send(",".join(numbers)), "isv.MOBILE_COUNT_OVER_LIMIT")
    answer = await peer.send(",".join(numbers[:1000]))
    assert answer["Code"] == "OK"
    assert (await peer.read("stats"))["messages"] == 1000
    sample = await peer.messages(limit=3)
    assert {m["biz_id"] for m in sample} == {answer["BizId"]}


async def test_signature_and_template_must_be_registered(peer: Peer) -> None:
    assert_refused(await peer.send(sign="别的签名"), "isv.SMS_SIGNATURE_ILLEGAL")
    assert_refused(await peer.send(template="SMS_999"), "isv.SMS_TEMPLATE_ILLEGAL")
    await peer.control("signs", {"sign": "别的签名"})
    await peer.control("templates", {"code": "SMS_999", "text": "您的办件${number}已受理"})
    assert (await peer.send(sign="别的签名", template="SMS_999", fields={"number": "A1"}))[
        "Code"
    ] == "OK"
    assert (await peer.messages())[0]["content"] == "【别的签名】您的办件A1已受理"


@pytest.mark.parametrize("name", ["PhoneNumbers", "SignName", "TemplateCode"])
async def test_send_parameters_are_required(peer: Peer, name: str) -> None:
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    del params[name]
    assert_gateway(await peer.call("SendSms", params), 400, f"Missing{name}")


@pytest.mark.parametrize(
    ("template_param", "code"),
    [
        ("not json", "isv.INVALID_JSON_PARAM"),
        ('["ZB2024001", "营业执照"]', "isv.INVALID_JSON_PARAM"),
        ('{"number": 2024001, "item": "营业执照"}', "isv.INVALID_JSON_PARAM"),
        ('{"number": null, "item": "营业执照"}', "isv.INVALID_JSON_PARAM"),
        ('{"number": "ZB2024001"}', "isv.TEMPLATE_MISSING_PARAMETERS"),
        ('{"number": "", "item": "营业执照"}', "isv.TEMPLATE_MISSING_PARAMETERS"),
        ("", "isv.TEMPLATE_MISSING_PARAMETERS"),
        ('{"number": "1", "item": "2", "extra": "3"}', "isv.INVALID_PARAMETERS"),
        ('{"number": "ZB", "item": "' + "办" * 36 + '"}', "isv.PARAM_LENGTH_LIMIT"),
        ('{"number": "ZB", "item": "详见 https://zb.example/x"}', "isv.PARAM_NOT_SUPPORT_URL"),
        ('{"number": "ZB", "item": "www.zb.example"}', "isv.PARAM_NOT_SUPPORT_URL"),
    ],
)
async def test_template_param_names_every_variable_within_its_limits(
    peer: Peer, template_param: str, code: str
) -> None:
    assert_refused(await peer.send(template_param=template_param), code)
    assert await peer.messages() == []


async def test_a_variable_may_be_thirty_five_characters(peer: Peer) -> None:
    answer = await peer.send(fields={"number": "Z" * 35, "item": "办" * 35})
    assert answer["Code"] == "OK"


async def test_template_param_is_optional_only_without_variables(peer: Peer) -> None:
    assert (await peer.send(template="SMS_200", fields={}))["Code"] == "OK"
    assert_refused(await peer.send(fields={}), "isv.TEMPLATE_MISSING_PARAMETERS")


async def test_variable_types_have_their_shapes(peer: Peer) -> None:
    await peer.control(
        "templates",
        {
            "code": "SMS_300",
            "text": "验证码${code}，咨询${phone}",
            "variables": {"code": "numberCaptcha", "phone": "phone_number2"},
            "kind": "verification",
        },
    )
    await peer.control("limits", {"verification_per_minute": None, "verification_per_hour": None})
    good = [("1234", "0571-82123456"), ("123456", PHONE), ("0000", "95588")]
    for code, phone in good:
        sent = await peer.send(template="SMS_300", fields={"code": code, "phone": phone})
        assert sent["Code"] == "OK", (code, phone, sent)
    refused = [
        ({"code": "1234567", "phone": "95588"}, "isv.PARAM_LENGTH_LIMIT"),
        ({"code": "123", "phone": "95588"}, "isv.INVALID_PARAMETERS"),
        ({"code": "12a4", "phone": "95588"}, "isv.INVALID_PARAMETERS"),
        ({"code": "1234", "phone": "0571-8212-3456-7890"}, "isv.PARAM_LENGTH_LIMIT"),
        ({"code": "1234", "phone": "1234"}, "isv.INVALID_PARAMETERS"),
        ({"code": "1234", "phone": "客服电话"}, "isv.INVALID_PARAMETERS"),
    ]
    for fields, code in refused:
        assert_refused(await peer.send(template="SMS_300", fields=fields), code)


async def test_out_id_is_shorter_than_256_characters(peer: Peer) -> None:
    assert_refused(await peer.send(out_id="x" * 256), "isv.PARAM_LENGTH_LIMIT")
    assert (await peer.send(out_id="x" * 255))["Code"] == "OK"


# --- flow control -------------------------------------------------------------------------


async def test_a_notification_reaches_a_number_fifty_times_a_day(peer: Peer) -> None:
    for _ in range(50):
        assert (await peer.send(template="SMS_200", fields={}))["Code"] == "OK"
    refused = await peer.send(template="SMS_200", fields={})
    assert_refused(refused, "isv.BUSINESS_LIMIT_CONTROL")
    assert refused["Message"] == "触发天级流控Permits:50"
    # Another template, or another number, has its own count.
    assert (await peer.send())["Code"] == "OK"
    assert (await peer.send(OTHER_PHONE, template="SMS_200", fields={}))["Code"] == "OK"
    # "A day" is the 24 hours before the send.
    await peer.control("advance-clock", {"seconds": 86400 - 60})
    assert_refused(await peer.send(template="SMS_200", fields={}), "isv.BUSINESS_LIMIT_CONTROL")
    await peer.control("advance-clock", {"seconds": 61})
    assert (await peer.send(template="SMS_200", fields={}))["Code"] == "OK"


async def test_a_batch_over_the_limit_is_refused_whole(peer: Peer) -> None:
    await peer.control("limits", {"notification_per_day": 2})
    assert (await peer.send(template="SMS_200", fields={}))["Code"] == "OK"
    both = f"{OTHER_PHONE},{PHONE},{PHONE}"
    assert_refused(
        await peer.send(both, template="SMS_200", fields={}), "isv.BUSINESS_LIMIT_CONTROL"
    )
    assert len(await peer.messages()) == 1


async def test_verification_codes_are_limited_by_minute_hour_and_day(peer: Peer) -> None:
    await peer.control(
        "templates",
        {
            "code": "SMS_301",
            "text": "您的验证码为${code}",
            "variables": {"code": "numberCaptcha"},
            "kind": "verification",
        },
    )

    async def code() -> dict[str, Any]:
        return await peer.send(template="SMS_301", fields={"code": "1234"})

    assert (await code())["Code"] == "OK"
    minute = await code()
    assert_refused(minute, "isv.BUSINESS_LIMIT_CONTROL")
    assert minute["Message"] == "触发分钟级流控Permits:1"
    for _ in range(4):
        await peer.control("advance-clock", {"seconds": 61})
        assert (await code())["Code"] == "OK"
    await peer.control("advance-clock", {"seconds": 61})
    hour = await code()
    assert hour["Message"] == "触发小时级流控Permits:5"
    for _ in range(5):
        await peer.control("advance-clock", {"seconds": 3600})
        assert (await code())["Code"] == "OK"
    await peer.control("advance-clock", {"seconds": 3600})
    assert (await code())["Message"] == "触发天级流控Permits:10"


async def test_limits_can_be_lowered_raised_or_lifted(peer: Peer) -> None:
    await peer.control("limits", {"notification_per_day": 1})
    assert (await peer.send())["Code"] == "OK"
    assert (await peer.send())["Message"] == "触发天级流控Permits:1"
    lifted = await peer.control("limits", {"notification_per_day": None})
    assert lifted["notification_per_day"] is None and lifted["verification_per_minute"] == 1
    for _ in range(60):
        assert (await peer.send())["Code"] == "OK"
    bad = await peer.http.post(f"{peer.url}/_control/limits", json={"notification_per_day": 0})
    assert bad.status_code == 400
    assert (await peer.read("limits"))["notification_per_day"] is None


# --- QuerySendDetails ---------------------------------------------------------------------


async def test_query_send_details_answers_from_the_records(peer: Peer) -> None:
    sent = await peer.send(out_id="case-7.accepted")
    [waiting] = await peer.details()
    assert waiting == {
        "PhoneNum": PHONE,
        "SendStatus": 1,
        "ErrCode": "",
        "TemplateCode": TEMPLATE,
        "Content": "【掌办】通知：ZB2024001，营业执照",
        "SendDate": waiting["SendDate"],
        "ReceiveDate": "",
        "OutId": "case-7.accepted",
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", waiting["SendDate"])
    await peer.control("push")
    [delivered] = await peer.details(BizId=sent["BizId"])
    assert delivered["SendStatus"] == 3 and delivered["ErrCode"] == "DELIVERED"
    assert delivered["ReceiveDate"] >= delivered["SendDate"]
    response = await peer.query()
    assert response.json()["TotalCount"] == "1" and response.json()["RequestId"]
    assert await peer.details(BizId="1^0") == []
    assert await peer.details(OTHER_PHONE) == []


async def test_a_failing_number_reports_failure(peer: Peer) -> None:
    await peer.control("fail-number", {"phone": PHONE})
    await peer.send(f"{PHONE},{OTHER_PHONE}")
    await peer.control("push")
    [failed] = await peer.details()
    assert failed["SendStatus"] == 2 and failed["ErrCode"] == "UNDELIV"
    assert (await peer.details(OTHER_PHONE))[0]["SendStatus"] == 3
    assert {m["status"] for m in await peer.messages()} == {"failed", "delivered"}


async def test_query_pages_newest_first(peer: Peer) -> None:
    for index in range(5):
        await peer.send(out_id=f"out-{index}")
    first = await peer.details(PageSize="2", CurrentPage="1")
    third = await peer.details(PageSize="2", CurrentPage="3")
    assert [d["OutId"] for d in first] == ["out-4", "out-3"]
    assert [d["OutId"] for d in third] == ["out-0"]
    assert await peer.details(PageSize="2", CurrentPage="4") == []
    assert len(await peer.details(PageSize="50")) == 5


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"PageSize": "0"}, 400, "InvalidPageSize"),
        ({"PageSize": "51"}, 400, "InvalidPageSize"),
        ({"PageSize": "ten"}, 400, "InvalidPageSize"),
        ({"CurrentPage": "0"}, 400, "InvalidCurrentPage"),
        ({"CurrentPage": ""}, 400, "MissingCurrentPage"),
        ({"PageSize": ""}, 400, "MissingPageSize"),
        ({"SendDate": ""}, 400, "MissingSendDate"),
        ({"SendDate": "2024-05-01"}, 200, "isv.INVALID_PARAMETERS"),
        ({"SendDate": "20240231"}, 200, "isv.INVALID_PARAMETERS"),
    ],
)
async def test_query_parameters_are_checked(
    peer: Peer, params: dict[str, str], status: int, code: str
) -> None:
    response = await peer.query(**params)
    assert response.status_code == status and response.json()["Code"] == code, response.text


async def test_query_covers_the_last_thirty_days(peer: Peer) -> None:
    assert (await peer.query(SendDate=peer.today(29))).json()["Code"] == "OK"
    assert (await peer.query(SendDate=peer.today(30))).json()["Code"] == "isv.INVALID_PARAMETERS"
    assert (await peer.query(SendDate=peer.today(-1))).json()["Code"] == "isv.INVALID_PARAMETERS"


@pytest.mark.parametrize("phone", ["+8613812345678", "1381234567", f"{PHONE},{OTHER_PHONE}"])
async def test_query_takes_one_bare_number(peer: Peer, phone: str) -> None:
    assert (await peer.query(phone)).json()["Code"] == "isv.MOBILE_NUMBER_ILLEGAL"


async def test_query_needs_its_number(peer: Peer) -> None:
    response = await peer.call(
        "QuerySendDetails", {"SendDate": peer.today(), "PageSize": "1", "CurrentPage": "1"}
    )
    assert_gateway(response, 400, "MissingPhoneNumber")


# --- receipts -----------------------------------------------------------------------------


async def test_receipts_are_pushed_by_themselves(peer: Peer, receiver: Receiver) -> None:
    await peer.control("receipts", {"auto": True, "delay_s": 0.05})
    sent = await peer.send(out_id="case-9.accepted")
    await receiver.wait(1)
    [[report]] = receiver.pushes
    assert report == {
        "phone_number": PHONE,
        "send_time": report["send_time"],
        "report_time": report["report_time"],
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": sent["BizId"],
        "out_id": "case-9.accepted",
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", report["report_time"])
    assert (await peer.details())[0]["SendStatus"] == 3


async def test_receipts_are_pushed_in_batches(peer: Peer, receiver: Receiver) -> None:
    await peer.control("receipts", {"batch_size": 2})
    await peer.control("fail-number", {"phone": OTHER_PHONE, "err_code": "MK:0001"})
    numbers = [PHONE, OTHER_PHONE, "13700000001", "13700000002", "13700000003"]
    await peer.send(",".join(numbers))
    pushed = await peer.control("push")
    assert pushed == {"settled": 5, "attempts": 3, "acknowledged": 5}
    assert [len(batch) for batch in receiver.pushes] == [2, 2, 1]
    reports = {r["phone_number"]: r for batch in receiver.pushes for r in batch}
    assert set(reports) == set(numbers)
    assert reports[OTHER_PHONE]["success"] is False
    assert reports[OTHER_PHONE]["err_code"] == "MK:0001"


async def test_a_long_message_counts_as_several(peer: Peer, receiver: Receiver) -> None:
    await peer.control(
        "templates", {"code": "SMS_400", "text": "您的办件进度：" + "很长的说明" * 15 + "${n}"}
    )
    await peer.send(template="SMS_400", fields={"n": "1"})
    await peer.control("push")
    assert receiver.pushes[0][0]["sms_size"] == "2"


async def test_a_push_is_repeated_until_answered_with_a_numeric_code(
    peer: Peer, receiver: Receiver
) -> None:
    await peer.control("receipts", {"auto": True, "delay_s": 0, "retry_s": [0.05, 0.05, 0.05]})
    receiver.script.extend(
        [
            (500, b'{"code": 0}'),
            (200, b"<html>ok</html>"),
            (200, b'{"code": "0", "msg": "ok"}'),
        ]
    )
    await peer.send(out_id="retried")
    await receiver.wait(4)
    await asyncio.sleep(0.2)
    assert receiver.hits == 4
    assert all(batch[0]["out_id"] == "retried" for batch in receiver.pushes)
    reports = (await peer.read("stats"))["reports"]
    assert reports["acknowledged"] == 1 and reports["abandoned"] == 0
    statuses = [(p["status"], p["ok"]) for p in (await peer.read("reports"))["pushes"]]
    assert statuses == [(500, False), (200, False), (200, False), (200, True)]


async def test_any_numeric_code_counts_as_received(peer: Peer, receiver: Receiver) -> None:
    """The page: the platform checks only that ``code`` is a number, not which."""
    receiver.script.append((200, b'{"code": 1, "msg": "failed"}'))
    await peer.send()
    await peer.control("push")
    assert receiver.hits == 1
    assert (await peer.read("stats"))["reports"]["acknowledged"] == 1


async def test_a_push_is_given_up_after_three_retries(peer: Peer, receiver: Receiver) -> None:
    await peer.control("receipts", {"auto": True, "delay_s": 0, "retry_s": [0.02, 0.02, 0.02]})
    receiver.script.extend([(503, b"")] * 10)
    await peer.send()
    await receiver.wait(4)
    await asyncio.sleep(0.3)
    assert receiver.hits == 4
    assert (await peer.read("stats"))["reports"]["abandoned"] == 1


async def test_receipts_wait_for_their_retry_schedule(peer: Peer, receiver: Receiver) -> None:
    """The documented schedule (1, 5, 10 minutes) on the platform's clock."""
    receiver.script.append((500, b""))
    await peer.send()
    await peer.control("push")
    assert receiver.hits == 1
    await peer.control("receipts", {"auto": True})  # let the pump run
    await asyncio.sleep(0.2)
    assert receiver.hits == 1
    await peer.control("advance-clock", {"seconds": 61})
    await receiver.wait(2)


async def test_no_push_without_a_report_url(peer: Peer, receiver_server: Receiver) -> None:
    receiver_server.clear()
    await peer.send()
    assert (await peer.control("push"))["settled"] == 1
    assert receiver_server.hits == 0
    assert (await peer.details())[0]["SendStatus"] == 3


async def test_an_unreachable_receiver_is_retried(peer: Peer) -> None:
    await peer.control("report-url", {"url": f"http://127.0.0.1:{free_port()}/gone"})
    await peer.send()
    await peer.control("push")
    pushes = (await peer.read("reports"))["pushes"]
    assert pushes[-1]["ok"] is False and pushes[-1]["error"]
    assert (await peer.read("stats"))["reports"]["retrying"] == 1


# --- faults -------------------------------------------------------------------------------


async def test_busy_refuses_without_accepting(peer: Peer) -> None:
    faults = await peer.control("faults", {"mode": "busy", "count": 1})
    assert faults["mode"] == "busy" and faults["code"] == "isp.SYSTEM_ERROR"
    assert_refused(await peer.send(), "isp.SYSTEM_ERROR")
    assert (await peer.send())["Code"] == "OK"  # the count is spent
    assert len(await peer.messages()) == 1


@pytest.mark.parametrize(
    ("code", "status"), [("Throttling.User", 400), ("isv.BUSINESS_LIMIT_CONTROL", 200)]
)
async def test_busy_may_answer_another_code(peer: Peer, code: str, status: int) -> None:
    await peer.control("faults", {"mode": "busy", "code": code})
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    response = await peer.call("SendSms", params)
    assert response.status_code == status and response.json()["Code"] == code
    assert await peer.messages() == []


async def test_failing_answers_503_without_accepting(peer: Peer) -> None:
    await peer.control("faults", {"mode": "failing", "count": 2})
    params = {"PhoneNumbers": PHONE, "SignName": SIGN, "TemplateCode": "SMS_200"}
    for _ in range(2):
        assert_gateway(await peer.call("SendSms", params), 503, "ServiceUnavailable")
    assert (await peer.call("SendSms", params)).json()["Code"] == "OK"
    assert len(await peer.messages()) == 1


async def test_slow_accepts_then_answers_late(peer: Peer) -> None:
    await peer.control("faults", {"mode": "slow", "delay_s": 0.4, "count": 1})
    started = time.monotonic()
    answer = await peer.send(out_id="slow")
    assert time.monotonic() - started >= 0.4
    assert answer["Code"] == "OK"
    assert (await peer.messages())[0]["out_id"] == "slow"


async def test_faults_may_concern_one_action(peer: Peer) -> None:
    await peer.control("faults", {"mode": "failing", "action": "QuerySendDetails"})
    assert (await peer.send())["Code"] == "OK"
    assert_gateway(await peer.query(), 503, "ServiceUnavailable")
    await peer.control("faults", {})
    assert (await peer.query()).json()["Code"] == "OK"


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "sleepy"},
        {"mode": "busy", "count": 0},
        {"mode": "slow", "delay_s": -1},
        {"mode": "busy", "code": "isv.MOBILE_NUMBER_ILLEGAL"},
        {"mode": "busy", "action": "SendBatchSms"},
        {"mode": "busy", "other": 1},
    ],
)
async def test_fault_requests_are_checked(peer: Peer, body: dict[str, Any]) -> None:
    response = await peer.http.post(f"{peer.url}/_control/faults", json=body)
    assert response.status_code == 400, response.text
    assert (await peer.read("faults"))["mode"] == "normal"


async def test_reset_forgets_everything(peer: Peer) -> None:
    await peer.control("signs", {"sign": "别的签名"})
    await peer.control("faults", {"mode": "busy"})
    await peer.control("reset")
    assert (await peer.send())["Code"] == "OK"
    await peer.control("reset")
    stats = await peer.read("stats")
    assert stats["messages"] == 0 and stats["accepted"] == 0 and stats["nonces"] == 0
    assert_refused(await peer.send(sign="别的签名"), "isv.SMS_SIGNATURE_ILLEGAL")


# --- our adapter against the peer ---------------------------------------------------------


def channel(
    peer: Peer,
    http: httpx.AsyncClient,
    *,
    secret: str = SECRET,
    sign_name: str = SIGN,
    clock: Callable[[], datetime] = utcnow,
) -> AliyunSms:
    return AliyunSms(
        http,
        endpoint=f"{peer.url}/",
        access_key_id=KEY_ID,
        access_key_secret=secret,
        sign_name=sign_name,
        clock=clock,
    )


def envelope(key: str = "case-1.accepted.sms.u1", **changes: Any) -> Envelope:
    values: dict[str, Any] = {
        "key": key,
        "address": PHONE,
        "template": TEMPLATE,
        "fields": FIELDS,
    }
    values.update(changes)
    return Envelope(**values)


async def test_adapter_sends_and_the_peer_records_it(peer: Peer) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        result = await channel(peer, http).send(envelope())
    assert result.outcome is Outcome.sent and BIZ_ID.fullmatch(result.reference)
    [message] = await peer.messages()
    assert message["out_id"] == "case-1.accepted.sms.u1" and message["params"] == FIELDS
    assert message["biz_id"] == result.reference and message["sign"] == SIGN


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"address": "1381234567"}, "isv.MOBILE_NUMBER_ILLEGAL"),
        ({"template": "SMS_999"}, "isv.SMS_TEMPLATE_ILLEGAL"),
        ({"fields": {"number": "ZB1"}}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ({"fields": {"number": "ZB1", "item": "办" * 36}}, "isv.PARAM_LENGTH_LIMIT"),
        ({"fields": {"number": "ZB1", "item": "http://x.cn"}}, "isv.PARAM_NOT_SUPPORT_URL"),
        ({"key": "k" * 256}, "isv.PARAM_LENGTH_LIMIT"),
    ],
)
async def test_adapter_maps_refusals_of_the_message_to_permanent(
    peer: Peer, changes: dict[str, Any], code: str
) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        result = await channel(peer, http).send(envelope(**changes))
    assert result.outcome is Outcome.permanent and result.code == code and result.detail


async def test_adapter_maps_configuration_errors_to_permanent(peer: Peer) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        bad_sign = await channel(peer, http, sign_name="别的签名").send(envelope())
        bad_secret = await channel(peer, http, secret="wrong").send(envelope())
    assert (bad_sign.outcome, bad_sign.code) == (Outcome.permanent, "isv.SMS_SIGNATURE_ILLEGAL")
    assert (bad_secret.outcome, bad_secret.code) == (Outcome.permanent, "SignatureDoesNotMatch")


async def test_adapter_maps_passing_trouble_to_transient(peer: Peer) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        sms = channel(peer, http)
        await peer.control("faults", {"mode": "busy", "count": 1})
        busy = await sms.send(envelope())
        await peer.control("faults", {"mode": "busy", "code": "Throttling.User", "count": 1})
        throttled = await sms.send(envelope())
        await peer.control("faults", {"mode": "failing", "count": 1})
        failing = await sms.send(envelope())
        await peer.control("limits", {"notification_per_day": 1})
        assert (await sms.send(envelope())).outcome is Outcome.sent
        limited = await sms.send(envelope(key="another"))
        skewed = await channel(peer, http, clock=lambda: utcnow() - timedelta(minutes=20)).send(
            envelope(key="late")
        )
    assert (busy.outcome, busy.code) == (Outcome.transient, "isp.SYSTEM_ERROR")
    assert (throttled.outcome, throttled.code) == (Outcome.transient, "Throttling.User")
    assert (failing.outcome, failing.code) == (Outcome.transient, "ServiceUnavailable")
    assert (limited.outcome, limited.code) == (Outcome.transient, "isv.BUSINESS_LIMIT_CONTROL")
    assert (skewed.outcome, skewed.code) == (Outcome.transient, "InvalidTimeStamp.Expired")
    assert len(await peer.messages()) == 1


async def test_adapter_timeout_is_transient_and_lookup_finds_the_send(peer: Peer) -> None:
    await peer.control("faults", {"mode": "slow", "delay_s": 1.0, "count": 1})
    sent_at = utcnow()
    async with httpx.AsyncClient(timeout=0.3) as http:
        result = await channel(peer, http).send(envelope(key="uncertain"))
        assert (result.outcome, result.code) == (Outcome.transient, "timeout")
        known = await channel(peer, http).lookup(envelope(key="uncertain"), sent_at=sent_at)
    assert known is Known.sent


async def test_adapter_lookup_tells_sent_from_not_sent(peer: Peer) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        sms = channel(peer, http)
        await sms.send(envelope(key="was-sent"))
        assert await sms.lookup(envelope(key="was-sent"), sent_at=utcnow()) is Known.sent
        assert await sms.lookup(envelope(key="never-sent"), sent_at=utcnow()) is Known.not_sent
        other = envelope(key="was-sent", address=OTHER_PHONE)
        assert await sms.lookup(other, sent_at=utcnow()) is Known.not_sent


async def test_adapter_lookup_pages_through_many_records(peer: Peer) -> None:
    await peer.control("limits", {"notification_per_day": None})
    async with httpx.AsyncClient(timeout=5) as http:
        sms = channel(peer, http)
        assert (await sms.send(envelope(key="the-first"))).outcome is Outcome.sent
        for index in range(55):
            assert (await sms.send(envelope(key=f"later-{index}"))).outcome is Outcome.sent
        assert await sms.lookup(envelope(key="the-first"), sent_at=utcnow()) is Known.sent
    calls = (await peer.read("stats"))["calls"]
    assert calls["QuerySendDetails"] == 2


async def test_adapter_lookup_is_unknown_when_the_query_fails(peer: Peer) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        sms = channel(peer, http)
        await sms.send(envelope())
        await peer.control("faults", {"mode": "failing", "action": "QuerySendDetails"})
        assert await sms.lookup(envelope(), sent_at=utcnow()) is Known.unknown
        await peer.control("faults", {"mode": "busy", "action": "QuerySendDetails"})
        assert await sms.lookup(envelope(), sent_at=utcnow()) is Known.unknown


async def test_adapter_reads_the_receipts_the_peer_pushes(peer: Peer, receiver: Receiver) -> None:
    await peer.control("fail-number", {"phone": OTHER_PHONE})
    async with httpx.AsyncClient(timeout=5) as http:
        sms = channel(peer, http)
        delivered = await sms.send(envelope(key="to-deliver"))
        failed = await sms.send(envelope(key="to-fail", address=OTHER_PHONE))
    await peer.control("push")
    body = json.dumps(receiver.pushes[0], ensure_ascii=False).encode()
    receipts = {r.out_id: r for r in parse_report(body)}
    assert receipts["to-deliver"].delivered and receipts["to-deliver"].err_code == "DELIVERED"
    assert receipts["to-deliver"].biz_id == delivered.reference
    assert not receipts["to-fail"].delivered and receipts["to-fail"].err_code == "UNDELIV"
    assert receipts["to-fail"].biz_id == failed.reference
    reported = receipts["to-deliver"].reported_at
    assert reported is not None and abs(reported - datetime.now(UTC)) < timedelta(minutes=1)
