"""The SMS channel: Alibaba Cloud SMS (阿里云短信服务, dysmsapi, API version 2017-05-25, RPC style).

Chinese SMS providers send only a registered signature (签名) with a registered template (模板)
whose variables we fill: the envelope's ``template`` is the TemplateCode, its ``fields`` the
TemplateParam, its ``address`` the mainland number, its ``key`` the OutId, which the platform keeps
and shows in QuerySendDetails and in the delivery receipts, so a send whose outcome we did not
hear (a timeout) can be looked up instead of repeated: the platform is not idempotent ("均不支持
幂等的能力，请您做好幂等控制").

Calls are signed as the RPC signature page says (https://help.aliyun.com/document_detail/69009.html
and https://help.aliyun.com/document_detail/101343.html, whose worked examples are this module's
unit-test vectors): every parameter but ``Signature`` sorted and percent-encoded (only
``A-Za-z0-9-_.~`` literal), ``StringToSign = method&%2F&percentEncode(canonical)``, key
``secret + "&"``, Base64 HMAC-SHA1. They are sent as POST forms, so a phone number never sits in a
URL a proxy may log, with a fresh UUID nonce and the current UTC Timestamp each time.

How answers become ``SendResult``s (the codes of https://help.aliyun.com/document_detail/101346.html
and the gateway's common errors):

* ``OK``: sent, the ``BizId`` as reference;
* transient (the same message may go later): a timeout, a network error, an HTTP 5xx, an answer
  that is not the platform's JSON, ``isp.*`` (system error), ``isv.BUSINESS_LIMIT_CONTROL``
  (flow control per number: 50 notifications a day per template), our own day or month quota
  (``isv.DAY_LIMIT_CONTROL``, ``isv.MONTH_LIMIT_CONTROL``), ``Throttling*``, and two refusals of
  the request rather than of the message: ``SignatureNonceUsed`` and ``InvalidTimeStamp.Expired``
  (a request delayed in transit; a new attempt gets a new nonce and Timestamp);
* permanent (someone must fix the cause): every other code, among them an illegal number, an
  unknown signature or template, a missing or over-long variable, a URL in a variable, a bad
  AccessKey or signature (configuration errors that no retry cures).

``lookup`` asks QuerySendDetails for the number on the Beijing date of the attempt (and the next
one when the attempt was within ten minutes of midnight), page by page, for the envelope's OutId.

Delivery receipts (SmsReport, HTTP batch push, https://help.aliyun.com/document_detail/101867.html)
arrive at our endpoint as a JSON array; ``parse_report`` reads them, and the endpoint answers
``REPORT_ACK`` with HTTP 200: any other answer makes the platform push them again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from core.clock import CHINA, local_today, utcnow
from core.logging import redact
from notify.providers.base import Envelope, Known, Outcome, SendResult

log = logging.getLogger("zhangban.notify.sms")

API_VERSION = "2017-05-25"
#: QuerySendDetails: "取值范围为 1~50".
PAGE_SIZE = 50
#: Pages read before giving up: far beyond the 50 notifications a template may send a number a day.
MAX_PAGES = 20
#: An attempt this close to Beijing midnight is also looked for on the next date.
MIDNIGHT_MARGIN = timedelta(minutes=10)
#: What our receipt endpoint answers; the platform checks HTTP 200 and a numeric ``code``.
REPORT_ACK: dict[str, Any] = {"code": 0, "msg": "成功"}
DETAIL_MAX = 200

TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "SignatureNonceUsed",
        "InvalidTimeStamp.Expired",
        "ServiceUnavailable",
        "InternalError",
    }
)
TRANSIENT_PREFIXES = ("isp.", "Throttling")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the RPC signature page requires: ``A-Za-z0-9-_.~`` stay literal,
    everything else (space included, as ``%20``) is ``%XY`` of its UTF-8 bytes."""
    return quote(value, safe="")


def canonicalized_query(params: Mapping[str, str]) -> str:
    return "&".join(
        f"{percent_encode(k)}={percent_encode(v)}"
        for k, v in sorted(params.items())
        if k != "Signature"
    )


def string_to_sign(params: Mapping[str, str], method: str) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonicalized_query(params))}"


def sign_rpc(params: Mapping[str, str], secret: str, method: str) -> str:
    """The ``Signature`` of an RPC call: Base64(HMAC-SHA1(secret + "&", StringToSign))."""
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def masked_phone(phone: str) -> str:
    """``138****5678``: enough for an administrator to tell numbers apart, never the number."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


@dataclass(frozen=True)
class Receipt:
    """One delivery receipt of SmsReport."""

    out_id: str
    biz_id: str
    delivered: bool
    #: ``DELIVERED`` or the carrier's failure code
    err_code: str
    #: ``report_time`` (Beijing) as an aware moment; None when the platform gave none
    reported_at: datetime | None


def parse_report(body: bytes) -> list[Receipt]:
    """The receipts of one SmsReport push: a JSON array of ``{phone_number, send_time,
    report_time, success, err_code, err_msg, sms_size, biz_id, out_id}``.

    Raises ``ValueError`` naming the first bad item, so the endpoint can refuse the push (the
    platform then pushes it again) instead of acknowledging receipts it could not read.
    """
    try:
        items = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("SmsReport body is not JSON") from exc
    if not isinstance(items, list):
        raise ValueError("SmsReport body is not a JSON array")
    receipts: list[Receipt] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"SmsReport item {index} is not an object")
        biz_id = item.get("biz_id")
        success = item.get("success")
        if not isinstance(biz_id, str) or not biz_id:
            raise ValueError(f"SmsReport item {index} has no biz_id")
        if not isinstance(success, bool):
            raise ValueError(f"SmsReport item {index} has no boolean success")
        out_id = item.get("out_id")
        err_code = item.get("err_code")
        receipts.append(
            Receipt(
                out_id=out_id if isinstance(out_id, str) else "",
                biz_id=biz_id,
                delivered=success,
                err_code=err_code if isinstance(err_code, str) else "",
                reported_at=_beijing_moment(item.get("report_time")),
            )
        )
    return receipts


def _beijing_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return (local - CHINA).replace(tzinfo=UTC)


def _outcome_of(code: str) -> Outcome:
    if code in TRANSIENT_CODES or code.startswith(TRANSIENT_PREFIXES):
        return Outcome.transient
    return Outcome.permanent


class AliyunSms:
    """The ``Channel`` of Alibaba Cloud SMS. ``http`` is shared and carries the timeouts (the
    platform advises at least 1 s); ``endpoint`` is ``https://dysmsapi.aliyuncs.com/`` or a
    sandbox peer's ``<base>/sandbox/sms/``."""

    name = "sms"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        region_id: str = "cn-hangzhou",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._http = http
        self._endpoint = endpoint
        self._access_key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._region_id = region_id
        self._clock = clock

    def __repr__(self) -> str:
        return f"AliyunSms(endpoint={self._endpoint!r}, sign_name={self._sign_name!r})"

    parse_report = staticmethod(parse_report)

    # --- the port ---------------------------------------------------------------------------

    async def send(self, envelope: Envelope) -> SendResult:
        params = {
            "PhoneNumbers": envelope.address,
            "SignName": self._sign_name,
            "TemplateCode": envelope.template,
            "OutId": envelope.key,
        }
        if envelope.fields:
            params["TemplateParam"] = json.dumps(
                dict(envelope.fields), ensure_ascii=False, separators=(",", ":")
            )
        result = await self._send_call(params)
        level = logging.INFO if result.outcome is Outcome.sent else logging.WARNING
        log.log(
            level,
            "sms send %s",
            result.outcome.value,
            extra={
                "channel": self.name,
                "envelope_key": envelope.key,
                "phone": masked_phone(envelope.address),
                "template": envelope.template,
                "code": result.code,
            },
        )
        return result

    async def lookup(self, envelope: Envelope, *, sent_at: datetime) -> Known:
        days = {local_today(sent_at), local_today(sent_at + MIDNIGHT_MARGIN)}
        for day in sorted(days):
            found = await self._find_out_id(envelope, day.strftime("%Y%m%d"))
            if found is not Known.not_sent:
                return found
        return Known.not_sent

    # --- calls ------------------------------------------------------------------------------

    async def _send_call(self, params: dict[str, str]) -> SendResult:
        try:
            status, answer = await self._call("SendSms", params)
        except httpx.TimeoutException:
            return SendResult(Outcome.transient, code="timeout", detail="no answer in time")
        except httpx.HTTPError as exc:
            return SendResult(Outcome.transient, code="network", detail=type(exc).__name__)
        if answer is None:
            code = f"http_{status}" if status != 200 else "bad_response"
            return SendResult(Outcome.transient, code=code, detail="not the platform's JSON")
        code = str(answer.get("Code", ""))
        detail = redact(str(answer.get("Message", "")))[:DETAIL_MAX]
        if status == 200 and code == "OK":
            return SendResult(Outcome.sent, code="OK", reference=str(answer.get("BizId", "")))
        if status >= 500:
            return SendResult(Outcome.transient, code=code or f"http_{status}", detail=detail)
        if not code:
            return SendResult(Outcome.transient, code=f"http_{status}", detail=detail)
        return SendResult(_outcome_of(code), code=code, detail=detail)

    async def _find_out_id(self, envelope: Envelope, send_date: str) -> Known:
        """``sent`` when a record of that number on that date carries the envelope's OutId,
        ``not_sent`` when none does, ``unknown`` when the platform could not be asked."""
        for page in range(1, MAX_PAGES + 1):
            params = {
                "PhoneNumber": envelope.address,
                "SendDate": send_date,
                "PageSize": str(PAGE_SIZE),
                "CurrentPage": str(page),
            }
            try:
                status, answer = await self._call("QuerySendDetails", params)
            except httpx.HTTPError as exc:
                log.warning(
                    "sms lookup failed",
                    extra={"channel": self.name, "error": type(exc).__name__},
                )
                return Known.unknown
            if status != 200 or answer is None or answer.get("Code") != "OK":
                code = "" if answer is None else str(answer.get("Code", ""))
                log.warning(
                    "sms lookup refused",
                    extra={"channel": self.name, "status": status, "code": code},
                )
                return Known.unknown
            holder = answer.get("SmsSendDetailDTOs")
            records = holder.get("SmsSendDetailDTO") if isinstance(holder, dict) else None
            if not isinstance(records, list):
                records = []
            if any(isinstance(r, dict) and r.get("OutId") == envelope.key for r in records):
                return Known.sent
            try:
                total = int(answer.get("TotalCount", 0))
            except (TypeError, ValueError):
                return Known.unknown
            if page * PAGE_SIZE >= total or not records:
                return Known.not_sent
        return Known.unknown

    async def _call(self, action: str, params: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        """POST one signed RPC call; the HTTP status and the JSON object answered (None when
        the body is not one). Raises ``httpx.HTTPError`` for a timeout or a network error."""
        signed = {
            **params,
            "AccessKeyId": self._access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": self._region_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "Timestamp": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        signed["Signature"] = sign_rpc(signed, self._secret, "POST")
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in signed.items())
        response = await self._http.post(
            self._endpoint,
            content=body.encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        try:
            answer = response.json()
        except (UnicodeDecodeError, json.JSONDecodeError):
            return response.status_code, None
        return response.status_code, answer if isinstance(answer, dict) else None


__all__ = [
    "REPORT_ACK",
    "AliyunSms",
    "Receipt",
    "canonicalized_query",
    "masked_phone",
    "parse_report",
    "percent_encode",
    "sign_rpc",
    "string_to_sign",
]
