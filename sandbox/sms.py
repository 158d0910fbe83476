"""Alibaba Cloud SMS (阿里云短信服务, dysmsapi, API version 2017-05-25, RPC style), as a local HTTP
peer (base ``/sandbox/sms``; the endpoint is ``<base>/sandbox/sms/``, like
``https://dysmsapi.aliyuncs.com/``: GET with a query string, or POST with a form body).

Written from the platform's own pages, not from our adapter, so that each side is checked
against the documentation rather than against the other:

* RPC signature (https://help.aliyun.com/document_detail/69009.html, the SMS page
  https://help.aliyun.com/document_detail/101343.html, and the common error list
  https://developer.aliyun.com/ask/278265): every common parameter (``AccessKeyId``, ``Action``,
  ``Format``, ``RegionId``, ``SignatureMethod`` = HMAC-SHA1, ``SignatureNonce``,
  ``SignatureVersion`` = 1.0, ``Timestamp`` ISO 8601 UTC ``yyyy-MM-ddTHH:mm:ssZ``, ``Version``);
  ``Signature = Base64(HMAC-SHA1(secret + "&", method + "&%2F&" + percentEncode(canonical)))``
  where ``canonical`` joins the sorted, percent-encoded parameters (only ``A-Za-z0-9-_.~`` stay
  literal, a space is ``%20``). A missing parameter answers ``Missing<Name>``, a Timestamp more
  than 15 minutes from the platform's clock ``InvalidTimeStamp.Expired``, a reused nonce
  ``SignatureNonceUsed``, an unknown key ``InvalidAccessKeyId.NotFound`` (404), a wrong signature
  ``SignatureDoesNotMatch`` (its message carries the server's string to sign), all with HTTP 4xx
  and ``{"RequestId", "HostId", "Code", "Message", "Recommend"}``.
* SendSms (https://help.aliyun.com/document_detail/55284.html): ``PhoneNumbers`` (mainland
  numbers, bare or with +/+86/0086/86, comma-separated, at most 1000), ``SignName`` (a
  registered signature), ``TemplateCode`` (a registered template), ``TemplateParam`` (a JSON
  object of string values naming every variable of the template), ``OutId`` (shorter than 256
  characters, as SendBatchSms states). The answer is HTTP 200 ``{"Code", "Message", "BizId",
  "RequestId"}``; a refused message is HTTP 200 with its ``Code`` (error codes page
  https://help.aliyun.com/document_detail/101346.html).
* Flow control (https://help.aliyun.com/document_detail/2881383.html): a verification code, per
  signature and number, at most 1 a minute, 5 an hour, 10 a day, and 40 a day per number over
  the whole platform; a notification, per signature, template and number, at most 50 a day;
  "a day" is the 24 hours before the send, and every accepted send counts whatever its receipt.
  Over a limit: ``isv.BUSINESS_LIMIT_CONTROL`` "触发天级流控Permits:50" and its siblings.
* QuerySendDetails (https://help.aliyun.com/document_detail/419277.html): ``PhoneNumber`` (one
  11-digit number), ``SendDate`` ``yyyyMMdd`` within the last 30 days, ``PageSize`` 1–50,
  ``CurrentPage``, optional ``BizId``; ``SmsSendDetailDTOs.SmsSendDetailDTO[]`` with
  ``SendStatus`` 1 waiting for the receipt, 2 failed, 3 delivered, ``ErrCode``, ``OutId``,
  ``Content``, ``TemplateCode``, ``PhoneNum``, ``SendDate`` and ``ReceiveDate``
  (``yyyy-MM-dd HH:mm:ss``, Beijing time).
* SmsReport, HTTP batch push (https://help.aliyun.com/document_detail/101867.html): a JSON array
  of ``{phone_number, send_time, report_time, success, err_code, err_msg, sms_size, biz_id,
  out_id}``; the push counts as received when the answer is HTTP 200 and its JSON ``code`` is a
  number ("系统仅校验返回值的code是否为数字，不校验内容"), otherwise it is pushed again after
  1, 5 and 10 minutes, then given up.

Choices where the pages are silent (each one strict, so that a mistake shows here first):

* the peer speaks JSON only: ``Format`` must be ``JSON`` (the platform's default is XML, which our
  adapter could not read anyway) else 400 ``InvalidParameter.Format``; ``RegionId`` must be
  ``cn-hangzhou`` else 400 ``InvalidRegionId``; a ``SignatureVersion`` other than 1.0 is 400
  ``InvalidSignatureVersion``; a parameter given twice (query and form included) is 400
  ``InvalidParameter``; a POST body that is not ``application/x-www-form-urlencoded`` is 400
  ``InvalidParameter``;
* checks run in this order: Action and Version, common parameters, Timestamp, AccessKeyId,
  signature, nonce; a nonce is remembered only once the signature is right (a forged request
  cannot burn one) and until its Timestamp leaves the 15-minute window;
* one illegal number refuses the whole request (``isv.MOBILE_NUMBER_ILLEGAL``), and so does one
  number over its flow control; a batch shares one BizId (``<18 digits>^0``);
* template variables: ``TemplateParam`` that is not JSON, not an object or has a non-string value
  is ``isv.INVALID_JSON_PARAM``; a variable missing or empty is
  ``isv.TEMPLATE_MISSING_PARAMETERS``; a key the template does not have is
  ``isv.INVALID_PARAMETERS``; a value with a URL (``http://``, ``https://``, ``www.``) is
  ``isv.PARAM_NOT_SUPPORT_URL``; a value over its length is ``isv.PARAM_LENGTH_LIMIT``. Variable
  types and lengths: ``others`` (the default; 1–35 characters, the notification limit since
  2018), ``numberCaptcha`` (4–6 digits), ``characterWithNumber2`` (4–6 letters or digits),
  ``phone_number2`` (an 11-digit mobile number, or 5–13 digits with dashes, at most 15
  characters); a value of the wrong shape is ``isv.INVALID_PARAMETERS``;
* an ``OutId`` of 256 characters or more is ``isv.PARAM_LENGTH_LIMIT``;
* QuerySendDetails: ``CurrentPage`` is required (``MissingCurrentPage``); a ``PageSize`` outside
  1–50 or a non-integer page is 400 ``Invalid<Name>``; a ``SendDate`` that is malformed, in the
  future or older than 30 days (today and the 29 days before it, Beijing) is
  ``isv.INVALID_PARAMETERS``; ``TotalCount`` is a string, as the SDK models it; records are
  listed newest first; a message still waiting has an empty ``ErrCode`` and ``ReceiveDate``;
* a message's ``Content`` is ``【<sign>】`` followed by the template text with its ``${name}``
  variables filled; a template registered without text reads ``通知：${a}，${b}``;
* receipts: by default every message is delivered 1 s after it was accepted (``DELIVERED``,
  "用户接收成功"); a number marked failing reports ``UNDELIV`` "用户无法接收" (or the given code);
  receipts are pushed in batches of at most 100, with a 3 s timeout; receipts are pushed only
  while a report URL is set, and a receipt made while none is set is never pushed;
* faults (``_control/faults``): ``busy`` answers ``isp.SYSTEM_ERROR`` (or ``Throttling.User``,
  HTTP 400, or ``isv.BUSINESS_LIMIT_CONTROL``) without accepting; ``failing`` answers HTTP 503
  ``ServiceUnavailable`` without accepting; ``slow`` accepts and answers ``delay_s`` late. They
  act after authentication, on ``count`` calls (every call when ``count`` is absent), of one
  action or of both.

Memory stays bounded under load (the peer is benchmarked at more than 1000 sends a second):
every send is O(1); at most 100,000 messages are kept (the oldest forgotten first), nonces while
their Timestamp can still be accepted (at most 1,000,000), flow-control counts for at most
200,000 keys (least recently used forgotten first), at most 100,000 receipts waiting to be
pushed. Changing the limits restarts the counting.

The ``_control/`` routes are not Alibaba's: they play the console (signatures, templates, flow
control limits, receipt URL), the carrier (receipts, failing numbers) and the test (faults,
clock, reset, counts).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from sandbox._http import json_object

log = logging.getLogger("zhangban.sandbox.sms")

API_VERSION = "2017-05-25"
ACTIONS = ("SendSms", "QuerySendDetails")
HOST_ID = "dysmsapi.aliyuncs.com"
SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"
REGIONS = frozenset({"cn-hangzhou"})
#: "用户时间和服务器时间超过15分钟" answers InvalidTimeStamp.Expired.
TIMESTAMP_WINDOW_S = 15 * 60
#: SendSms: "上限为 1000 个手机号码".
MAX_PHONE_NUMBERS = 1000
#: "外部流水扩展字段，长度小于 256 的字符串".
OUT_ID_MAX_LENGTH = 255
#: QuerySendDetails: "支持查询最近 30 天的记录", "取值范围为 1~50".
QUERY_DAYS = 30
PAGE_SIZE_MAX = 50
#: SmsReport: "第一次推送失败后，间隔1分钟、5分钟、10分钟后会进行重推 ... 3次后仍失败，不再重试".
REPORT_RETRY_S = (60.0, 300.0, 600.0)
REPORT_BATCH = 100
REPORT_TIMEOUT_S = 3.0
RECEIPT_DELAY_S = 1.0
PUMP_INTERVAL_S = 0.05
MAX_FAULT_DELAY_S = 120.0

SEND_STATUS_WAITING = 1
SEND_STATUS_FAILED = 2
SEND_STATUS_DELIVERED = 3
STATUS_NAMES = {
    SEND_STATUS_WAITING: "waiting",
    SEND_STATUS_FAILED: "failed",
    SEND_STATUS_DELIVERED: "delivered",
}
DELIVERED_CODE = "DELIVERED"
DELIVERED_MESSAGE = "用户接收成功"
FAILED_CODE = "UNDELIV"
FAILED_MESSAGE = "用户无法接收"

MAX_RECORDS = 100_000
MAX_NONCES = 1_000_000
MAX_WINDOWS = 200_000
MAX_QUEUED_REPORTS = 100_000

KIND_NOTIFICATION = "notification"
KIND_VERIFICATION = "verification"
KINDS = (KIND_NOTIFICATION, KIND_VERIFICATION)

#: Business error codes (HTTP 200) and the platform's words for them.
MESSAGES: dict[str, str] = {
    "isv.MOBILE_NUMBER_ILLEGAL": "非法手机号",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量中存在未赋值变量",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.PARAM_LENGTH_LIMIT": "参数超出长度限制",
    "isv.PARAM_NOT_SUPPORT_URL": "不支持URL",
    "isv.INVALID_PARAMETERS": "参数异常",
    "isv.BUSINESS_LIMIT_CONTROL": "业务限流",
    "isp.SYSTEM_ERROR": "系统错误",
}
BUSY_CODES = ("isp.SYSTEM_ERROR", "Throttling.User", "isv.BUSINESS_LIMIT_CONTROL")
FAULT_MODES = ("normal", "busy", "slow", "failing")

#: Variable types: (shortest, longest, what the value must look like or None).
VARIABLE_TYPES: dict[str, tuple[int, int, Callable[[str], bool] | None]] = {
    "others": (1, 35, None),
    "numberCaptcha": (4, 6, lambda v: v.isascii() and v.isdigit()),
    "characterWithNumber2": (4, 6, lambda v: v.isascii() and v.isalnum()),
    "phone_number2": (
        5,
        15,
        lambda v: (
            bool(re.fullmatch(r"1\d{10}", v))
            or (bool(re.fullmatch(r"\d+(?:-\d+)*", v)) and 5 <= sum(c.isdigit() for c in v) <= 13)
        ),
    ),
}
DEFAULT_VARIABLE_TYPE = "others"

_MOBILE = re.compile(r"(?:\+86|0086|86|\+)?(1[3-9]\d{9})")
_BARE_MOBILE = re.compile(r"1[3-9]\d{9}")
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")
_URL = re.compile(r"(?i)https?://|www\.")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
#: Each byte's encoding, looked up rather than formatted: the string to sign encodes every byte
#: of the canonical query twice, and the peer signs over a thousand requests a second.
_BYTE_ENCODING = tuple(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256))
_BEIJING_OFFSET_S = 8 * 3600
_MAX_FIELDS = 200


# --- the signature, from the documentation --------------------------------------------------


def percent_encode(text: str) -> str:
    """The documentation's encoding, byte by byte: only ``A-Za-z0-9-_.~`` stay literal, every
    other UTF-8 byte becomes ``%XY`` (upper-case hex), a space ``%20``."""
    table = _BYTE_ENCODING
    return "".join([table[b] for b in text.encode("utf-8")])


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``HTTPMethod + "&" + percentEncode("/") + "&" + percentEncode(canonicalized query)``, the
    canonicalized query being every parameter but ``Signature``, sorted by name, each name and
    value percent-encoded and joined with ``=`` and ``&``."""
    canonical = "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}"
        for name in sorted(params)
        if name != "Signature"
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """``Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))``: the key carries the ``&`` the
    worked examples need (``OLeaidS1JvxuMvnyHOwuJ+uX5qY=`` for ``testsecret``)."""
    digest = hmac.new(
        f"{secret}&".encode(), rpc_string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")


# --- errors ---------------------------------------------------------------------------------


class GatewayError(Exception):
    """A refusal of the API gateway: an HTTP 4xx/5xx with the RPC error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status} {code} {message}")

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={self.code}&product=Dysmsapi",
        }


def _missing(name: str) -> GatewayError:
    return GatewayError(400, f"Missing{name}", f"{name} is mandatory for this action.")


def _invalid(name: str) -> GatewayError:
    return GatewayError(400, f"Invalid{name}", f"Specified parameter {name} is not valid.")


class BusinessError(Exception):
    """A refusal of the SMS service itself: HTTP 200 with ``Code`` other than ``OK``."""

    def __init__(self, code: str, detail: str = "", *, message: str | None = None) -> None:
        self.code = code
        base = message if message is not None else MESSAGES.get(code, "参数异常")
        self.message = f"{base}: {detail}" if detail else base
        super().__init__(f"{code} {self.message}")


class ControlError(Exception):
    """A refused control request: a test's mistake, answered with a 4xx."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


# --- state ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Template:
    code: str
    #: variable name -> type (a key of ``VARIABLE_TYPES``)
    variables: dict[str, str]
    text: str
    kind: str = KIND_NOTIFICATION

    def render(self, params: Mapping[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), self.text)

    def view(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "variables": dict(self.variables),
            "text": self.text,
            "kind": self.kind,
        }


@dataclass(slots=True)
class _Message:
    biz_id: str
    phone: str
    sign: str
    template: str
    params: dict[str, str]
    out_id: str
    content: str
    sent_at: float
    #: Beijing date of ``sent_at``, ``yyyyMMdd``: QuerySendDetails' key
    day: str
    status: int = SEND_STATUS_WAITING
    err_code: str = ""
    err_msg: str = ""
    received_at: float | None = None

    def detail(self) -> dict[str, Any]:
        """One ``SmsSendDetailDTO``."""
        return {
            "PhoneNum": self.phone,
            "SendStatus": self.status,
            "ErrCode": self.err_code,
            "TemplateCode": self.template,
            "Content": self.content,
            "SendDate": _beijing(self.sent_at),
            "ReceiveDate": "" if self.received_at is None else _beijing(self.received_at),
            "OutId": self.out_id,
        }

    def report(self) -> dict[str, Any]:
        """One SmsReport item."""
        return {
            "phone_number": self.phone,
            "send_time": _beijing(self.sent_at),
            "report_time": _beijing(self.received_at or self.sent_at),
            "success": self.status == SEND_STATUS_DELIVERED,
            "err_code": self.err_code,
            "err_msg": self.err_msg,
            "sms_size": str(sms_size(self.content)),
            "biz_id": self.biz_id,
            "out_id": self.out_id,
        }

    def view(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "sign": self.sign,
            "template": self.template,
            "params": dict(self.params),
            "out_id": self.out_id,
            "biz_id": self.biz_id,
            "status": STATUS_NAMES[self.status],
            "send_status": self.status,
            "err_code": self.err_code,
            "content": self.content,
            "sent_at": _beijing(self.sent_at),
        }


class _Index:
    """One number's messages of one day, oldest first. Messages are forgotten oldest first
    over all numbers, so each index loses a prefix: dropped lazily, compacted in halves, O(1)
    per message and lighter than a deque (this peer keeps one per number and day)."""

    __slots__ = ("items", "start")

    def __init__(self) -> None:
        self.items: list[_Message] = []
        self.start = 0

    def drop_oldest(self) -> bool:
        """Forget the oldest message; True when none is left."""
        self.start += 1
        if self.start >= len(self.items):
            return True
        if self.start * 2 >= len(self.items):
            del self.items[: self.start]
            self.start = 0
        return False

    def live(self) -> list[_Message]:
        return self.items[self.start :]


@dataclass
class Limits:
    """Flow control per number, the documented defaults; None switches a rule off."""

    #: verification codes, per signature and number
    verification_per_minute: int | None = 1
    verification_per_hour: int | None = 5
    verification_per_day: int | None = 10
    #: verification codes per number, whoever sends them
    verification_per_number_day: int | None = 40
    #: notifications, per signature, template and number
    notification_per_day: int | None = 50


@dataclass
class Faults:
    mode: str = "normal"
    #: calls still affected; None: every call until changed
    count: int | None = None
    delay_s: float = 2.0
    code: str = "isp.SYSTEM_ERROR"
    #: the action affected; None: both
    action: str | None = None


@dataclass
class ReceiptSettings:
    #: the carrier answers on its own, ``delay_s`` after the send; otherwise only ``push``
    auto: bool = True
    delay_s: float = RECEIPT_DELAY_S
    batch_size: int = REPORT_BATCH
    retry_s: tuple[float, ...] = REPORT_RETRY_S


def sms_size(content: str) -> int:
    """How many messages a text is billed as: one up to 70 characters, else 67 a part."""
    return 1 if len(content) <= 70 else math.ceil(len(content) / 67)


def _beijing(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment + _BEIJING_OFFSET_S))


def _beijing_day(moment: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(moment + _BEIJING_OFFSET_S))


def _request_id() -> str:
    return str(uuid.uuid4()).upper()


def _default_text(names: Iterable[str]) -> str:
    return "通知：" + "，".join(f"${{{name}}}" for name in names)


class AliyunSmsSandbox:
    """The platform's state for one account (one AccessKey pair), with its own clock.

    The clock is ``clock()`` plus an offset ``advance_clock`` moves, so a test can expire
    timestamps and flow-control windows without waiting. Every method but the receipt pushes
    runs without awaiting, so each request sees and leaves a consistent state.
    """

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        signs: Iterable[str],
        templates: Mapping[str, tuple[str, ...]],
        report_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self._initial_signs = tuple(signs)
        self._initial_templates = {code: tuple(names) for code, names in templates.items()}
        self._initial_report_url = report_url
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._generation = 0
        self._biz_base = (secrets.randbelow(9 * 10**11) + 10**11) * 10**6
        self._biz_seq = itertools.count(1)
        self.reset()

    # --- state and clock ---------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the constructor's signatures, templates and report URL, with nothing sent,
        no nonce used, default limits, no fault, no failing number, and the clock offset zero."""
        self._generation += 1
        if self._pump_task is not None and not self._pump_task.done():
            self._pump_task.cancel()
        self._pump_task = None
        self._offset = 0.0
        self.signs: set[str] = set(self._initial_signs)
        self.templates: dict[str, _Template] = {
            code: _Template(
                code=code,
                variables=dict.fromkeys(names, DEFAULT_VARIABLE_TYPE),
                text=_default_text(names),
            )
            for code, names in self._initial_templates.items()
        }
        self.report_url = self._initial_report_url
        self._windows: OrderedDict[tuple[str, ...], list[float]] = OrderedDict()
        self._set_limits(Limits())
        self.faults = Faults()
        self.receipts = ReceiptSettings()
        self._fail_numbers: dict[str, tuple[str, str]] = {}
        #: hashes of the nonces in use, and when each may be forgotten, in order of arrival
        self._nonces: set[int] = set()
        self._nonce_keys: deque[int] = deque()
        self._nonce_expiries: deque[float] = deque()
        self._records: deque[_Message] = deque()
        self._by_phone_day: dict[tuple[str, str], _Index] = {}
        self._waiting: deque[_Message] = deque()
        self._unbatched: deque[dict[str, Any]] = deque()
        self._retry: list[deque[tuple[float, list[dict[str, Any]]]]] = [
            deque() for _ in self.receipts.retry_s
        ]
        self._pushes: deque[dict[str, Any]] = deque(maxlen=500)
        self._push_lock = asyncio.Lock()
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> float:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ControlError("seconds must be a finite, non-negative number")
        self._offset += seconds
        return self.now()

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self._calls),
            "errors": dict(self._errors),
            "accepted": self._counts["accepted"],
            "messages": len(self._records),
            "waiting": len(self._waiting),
            "delivered": self._counts["delivered"],
            "failed": self._counts["failed"],
            "nonces": len(self._nonces),
            "nonces_evicted": self._counts["nonces_evicted"],
            "flow_control_keys": len(self._windows),
            "reports": {
                "queued": len(self._unbatched),
                "retrying": sum(len(batch) for queue in self._retry for _, batch in queue),
                "attempts": self._counts["report_attempts"],
                "acknowledged": self._counts["reports_acknowledged"],
                "abandoned": self._counts["reports_abandoned"],
                "dropped": self._counts["reports_dropped"],
            },
        }

    def count_call(self, action: str, code: str | None) -> None:
        self._calls[action] += 1
        if code is not None:
            self._errors[code] += 1

    # --- authentication ---------------------------------------------------------------------

    def authenticate(self, method: str, params: Mapping[str, str]) -> str:
        """The gateway's checks of a call; returns its action, or raises ``GatewayError``."""
        action = params.get("Action")
        if not action:
            raise _missing("Action")
        version = params.get("Version")
        if not version:
            raise _missing("Version")
        if version != API_VERSION:
            raise _invalid("Version")
        if action not in ACTIONS:
            raise GatewayError(
                404,
                "InvalidApi.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        for name in (
            "AccessKeyId",
            "Format",
            "RegionId",
            "SignatureMethod",
            "SignatureNonce",
            "SignatureVersion",
            "Timestamp",
            "Signature",
        ):
            if not params.get(name):
                raise _missing(name)
        if params["Format"] != "JSON":
            raise GatewayError(
                400,
                "InvalidParameter.Format",
                "Specified parameter format is not valid. This sandbox answers JSON only.",
            )
        if params["SignatureMethod"] != SIGNATURE_METHOD:
            raise GatewayError(
                400, "InvalidSignatureMethod", "Specified signature method is not valid."
            )
        if params["SignatureVersion"] != SIGNATURE_VERSION:
            raise GatewayError(
                400, "InvalidSignatureVersion", "Specified signature version is not valid."
            )
        stamp = _parse_timestamp(params["Timestamp"])
        if stamp is None:
            raise GatewayError(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        now = self.now()
        if abs(now - stamp) > TIMESTAMP_WINDOW_S:
            raise GatewayError(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
        if params["RegionId"] not in REGIONS:
            raise GatewayError(400, "InvalidRegionId", "Specified region is not valid.")
        if not hmac.compare_digest(
            params["AccessKeyId"].encode("utf-8"), self.access_key_id.encode("utf-8")
        ):
            raise GatewayError(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        expected = rpc_signature(self.access_key_secret, method, params)
        if not hmac.compare_digest(params["Signature"].encode("utf-8"), expected.encode("ascii")):
            raise GatewayError(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. server string to sign "
                f"is:{rpc_string_to_sign(method, params)}",
            )
        self._use_nonce(params["SignatureNonce"], stamp + TIMESTAMP_WINDOW_S, now)
        return action

    def _use_nonce(self, nonce: str, forget_after: float, now: float) -> None:
        """Refuse a nonce seen before; remember this one for as long as its Timestamp could
        still be accepted (afterwards a replay fails on the Timestamp). Kept as 64-bit hashes,
        a third of the strings' memory; forgetting goes in order of arrival, which never
        forgets one early (a later arrival may only keep an earlier one a little longer)."""
        keys, expiries, used = self._nonce_keys, self._nonce_expiries, self._nonces
        while expiries and expiries[0] < now:
            expiries.popleft()
            used.discard(keys.popleft())
        key = hash(nonce)
        if key in used:
            raise GatewayError(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )
        while len(used) >= MAX_NONCES and keys:
            expiries.popleft()
            used.discard(keys.popleft())
            self._counts["nonces_evicted"] += 1
        used.add(key)
        keys.append(key)
        expiries.append(forget_after)

    # --- faults -----------------------------------------------------------------------------

    def take_fault(self, action: str) -> Faults | None:
        """The fault this call meets, counting it down; None when the platform is well."""
        faults = self.faults
        if faults.mode == "normal" or (faults.action is not None and faults.action != action):
            return None
        current = Faults(**asdict(faults))
        if faults.count is not None:
            faults.count -= 1
            if faults.count <= 0:
                self.faults = Faults()
        return current

    def set_faults(self, data: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(Faults)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ControlError(f"unknown fault fields {unknown}; known {sorted(known)}")
        mode = data.get("mode", "normal")
        if mode not in FAULT_MODES:
            raise ControlError(f"mode must be one of {list(FAULT_MODES)}")
        count = data.get("count")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise ControlError("count must be a positive integer or null")
        delay = data.get("delay_s", 2.0)
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise ControlError("delay_s must be a number")
        if not (math.isfinite(delay) and 0 <= delay <= MAX_FAULT_DELAY_S):
            raise ControlError(f"delay_s must be from 0 to {MAX_FAULT_DELAY_S:.0f}")
        code = data.get("code", "isp.SYSTEM_ERROR")
        if code not in BUSY_CODES:
            raise ControlError(f"code must be one of {list(BUSY_CODES)}")
        action = data.get("action")
        if action is not None and action not in ACTIONS:
            raise ControlError(f"action must be one of {list(ACTIONS)} or null")
        self.faults = Faults(mode=mode, count=count, delay_s=float(delay), code=code, action=action)
        return asdict(self.faults)

    # --- SendSms ----------------------------------------------------------------------------

    def send_sms(self, params: Mapping[str, str]) -> dict[str, Any]:
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise _missing(name)
        raw_numbers = params["PhoneNumbers"].split(",")
        if len(raw_numbers) > MAX_PHONE_NUMBERS:
            raise BusinessError("isv.MOBILE_COUNT_OVER_LIMIT", f"at most {MAX_PHONE_NUMBERS}")
        phones: list[str] = []
        for raw in raw_numbers:
            match = _MOBILE.fullmatch(raw)
            if match is None:
                raise BusinessError("isv.MOBILE_NUMBER_ILLEGAL")
            phones.append(match.group(1))
        sign = params["SignName"]
        if sign not in self.signs:
            raise BusinessError("isv.SMS_SIGNATURE_ILLEGAL")
        template = self.templates.get(params["TemplateCode"])
        if template is None:
            raise BusinessError("isv.SMS_TEMPLATE_ILLEGAL")
        out_id = params.get("OutId", "")
        if len(out_id) > OUT_ID_MAX_LENGTH:
            raise BusinessError("isv.PARAM_LENGTH_LIMIT", "OutId")
        values = self._template_values(template, params.get("TemplateParam"))
        now = self.now()
        keys = [key for phone in phones for key in self._flow_keys(template, sign, phone)]
        self._check_flow(keys, now)
        for key, rules in keys:
            if rules:
                self._record_flow(key, now)
        biz_id = f"{self._biz_base + next(self._biz_seq)}^0"
        content = f"【{sign}】{template.render(values)}"
        day = _beijing_day(now)
        for phone in phones:
            self._keep(
                _Message(
                    biz_id=biz_id,
                    phone=phone,
                    sign=sign,
                    template=template.code,
                    params=values,
                    out_id=out_id,
                    content=content,
                    sent_at=now,
                    day=day,
                )
            )
        self._counts["accepted"] += len(phones)
        self._ensure_pump()
        return {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": _request_id()}

    def _template_values(self, template: _Template, raw: str | None) -> dict[str, str]:
        if raw is None or raw == "":
            if template.variables:
                raise BusinessError("isv.TEMPLATE_MISSING_PARAMETERS", ",".join(template.variables))
            return {}
        try:
            values = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BusinessError("isv.INVALID_JSON_PARAM") from exc
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise BusinessError("isv.INVALID_JSON_PARAM")
        extra = sorted(set(values) - set(template.variables))
        if extra:
            raise BusinessError("isv.INVALID_PARAMETERS", f"unknown variables {','.join(extra)}")
        for name, kind in template.variables.items():
            value = values.get(name)
            if not value:
                raise BusinessError("isv.TEMPLATE_MISSING_PARAMETERS", name)
            if _URL.search(value):
                raise BusinessError("isv.PARAM_NOT_SUPPORT_URL", name)
            shortest, longest, shape = VARIABLE_TYPES[kind]
            if len(value) > longest:
                raise BusinessError("isv.PARAM_LENGTH_LIMIT", name)
            if len(value) < shortest or (shape is not None and not shape(value)):
                raise BusinessError("isv.INVALID_PARAMETERS", name)
        return {name: str(value) for name, value in values.items()}

    # --- flow control -----------------------------------------------------------------------

    def _flow_keys(
        self, template: _Template, sign: str, phone: str
    ) -> list[tuple[tuple[str, ...], list[tuple[float, int, str]]]]:
        """The counters one send to ``phone`` touches, each with its (window, limit, label)."""
        limits = self.limits
        if template.kind == KIND_VERIFICATION:
            per_sign = [
                (60.0, limits.verification_per_minute, "分钟级"),
                (3600.0, limits.verification_per_hour, "小时级"),
                (86400.0, limits.verification_per_day, "天级"),
            ]
            per_number = [(86400.0, limits.verification_per_number_day, "天级")]
            return [
                (("v", sign, phone), [(w, n, lbl) for w, n, lbl in per_sign if n is not None]),
                (("vn", phone), [(w, n, lbl) for w, n, lbl in per_number if n is not None]),
            ]
        rules = [(86400.0, limits.notification_per_day, "天级")]
        return [
            (
                ("n", sign, template.code, phone),
                [(w, n, lbl) for w, n, lbl in rules if n is not None],
            )
        ]

    def _check_flow(
        self, keys: list[tuple[tuple[str, ...], list[tuple[float, int, str]]]], now: float
    ) -> None:
        pending: Counter[tuple[str, ...]] = Counter()
        for key, rules in keys:
            window = self._windows.get(key)
            for span, limit, label in rules:
                recent = pending[key]
                if window is not None:
                    # the limit-th most recent send (counting this request's earlier numbers)
                    needed = limit - recent
                    if needed <= 0 or (len(window) >= needed and now - window[-needed] < span):
                        raise BusinessError(
                            "isv.BUSINESS_LIMIT_CONTROL", message=f"触发{label}流控Permits:{limit}"
                        )
                elif recent >= limit:
                    raise BusinessError(
                        "isv.BUSINESS_LIMIT_CONTROL", message=f"触发{label}流控Permits:{limit}"
                    )
            pending[key] += 1

    def _record_flow(self, key: tuple[str, ...], now: float) -> None:
        """Count one send; keys stay in least-recently-used order, so forgetting the idle ones
        is O(1) per send."""
        window = self._windows.pop(key, None)
        if window is None:
            window = []
        window.append(now)
        if len(window) > 2 * self._window_length:
            # Only the newest ``_window_length`` sends can matter; trimming in halves keeps
            # each send O(1) whatever the limit.
            del window[: len(window) - self._window_length]
        self._windows[key] = window
        windows = self._windows
        while windows:
            oldest_key, oldest = next(iter(windows.items()))
            if len(windows) <= MAX_WINDOWS and oldest and now - oldest[-1] < 86400.0:
                break
            del windows[oldest_key]

    def _set_limits(self, limits: Limits) -> None:
        """New limits, and counts kept as deep as the largest one (so a window holds enough
        sends to judge every rule, and no more); the counting restarts."""
        self.limits = limits
        finite = [v for v in asdict(limits).values() if v is not None]
        self._window_length = max(finite) if finite else 1
        self._windows.clear()

    def set_limits(self, data: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(Limits)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ControlError(f"unknown limits {unknown}; known {sorted(known)}")
        for name, value in data.items():
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ControlError(f"{name} must be a positive integer or null (no limit)")
        self._set_limits(Limits(**{**asdict(self.limits), **data}))
        return asdict(self.limits)

    # --- records ----------------------------------------------------------------------------

    def _keep(self, message: _Message) -> None:
        self._records.append(message)
        key = (message.phone, message.day)
        index = self._by_phone_day.get(key)
        if index is None:
            index = self._by_phone_day[key] = _Index()
        index.items.append(message)
        self._waiting.append(message)
        while len(self._records) > MAX_RECORDS:
            old = self._records.popleft()
            old_key = (old.phone, old.day)
            old_index = self._by_phone_day.get(old_key)
            if old_index is not None and old_index.drop_oldest():
                del self._by_phone_day[old_key]

    def messages(
        self, *, phone: str | None = None, out_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The most recent messages (oldest first), optionally of one number or OutId."""
        found: list[dict[str, Any]] = []
        for message in reversed(self._records):
            if phone is not None and message.phone != phone:
                continue
            if out_id is not None and message.out_id != out_id:
                continue
            found.append(message.view())
            if len(found) >= limit:
                break
        found.reverse()
        return found

    # --- QuerySendDetails -------------------------------------------------------------------

    def query_send_details(self, params: Mapping[str, str]) -> dict[str, Any]:
        for name in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage"):
            if not params.get(name):
                raise _missing(name)
        page_size = _positive_int(params["PageSize"])
        if page_size is None or page_size > PAGE_SIZE_MAX:
            raise _invalid("PageSize")
        page = _positive_int(params["CurrentPage"])
        if page is None:
            raise _invalid("CurrentPage")
        phone = params["PhoneNumber"]
        if not _BARE_MOBILE.fullmatch(phone):
            raise BusinessError("isv.MOBILE_NUMBER_ILLEGAL")
        day = params["SendDate"]
        if not self._queryable_day(day):
            raise BusinessError("isv.INVALID_PARAMETERS", "SendDate")
        biz_id = params.get("BizId")
        found = [
            message
            for message in reversed(self._by_phone_day.get((phone, day), _Index()).live())
            if not biz_id or message.biz_id == biz_id
        ]
        start = (page - 1) * page_size
        return {
            "Code": "OK",
            "Message": "OK",
            "RequestId": _request_id(),
            "TotalCount": str(len(found)),
            "SmsSendDetailDTOs": {
                "SmsSendDetailDTO": [m.detail() for m in found[start : start + page_size]]
            },
        }

    def _queryable_day(self, day: str) -> bool:
        if not re.fullmatch(r"\d{8}", day):
            return False
        try:
            asked = datetime.strptime(day, "%Y%m%d").date()
        except ValueError:
            return False
        today = date.fromisoformat(
            time.strftime("%Y-%m-%d", time.gmtime(self.now() + _BEIJING_OFFSET_S))
        )
        return 0 <= (today - asked).days < QUERY_DAYS

    # --- receipts ---------------------------------------------------------------------------

    def set_failing_number(self, phone: str, *, fail: bool, err_code: str, err_msg: str) -> None:
        if fail:
            self._fail_numbers[phone] = (err_code, err_msg)
        else:
            self._fail_numbers.pop(phone, None)

    def set_receipts(self, data: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(ReceiptSettings)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ControlError(f"unknown receipt settings {unknown}; known {sorted(known)}")
        current = self.receipts
        auto = data.get("auto", current.auto)
        if not isinstance(auto, bool):
            raise ControlError("auto must be a boolean")
        delay = data.get("delay_s", current.delay_s)
        if (
            isinstance(delay, bool)
            or not isinstance(delay, int | float)
            or not (math.isfinite(delay) and 0 <= delay <= 86400)
        ):
            raise ControlError("delay_s must be a number from 0 to 86400")
        batch = data.get("batch_size", current.batch_size)
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 1000:
            raise ControlError("batch_size must be an integer from 1 to 1000")
        retry = data.get("retry_s", list(current.retry_s))
        if (
            not isinstance(retry, list)
            or len(retry) > 10
            or not all(
                not isinstance(v, bool)
                and isinstance(v, int | float)
                and math.isfinite(v)
                and 0 <= v <= 86400
                for v in retry
            )
        ):
            raise ControlError("retry_s must be a list of at most 10 delays from 0 to 86400 s")
        self.receipts = ReceiptSettings(
            auto=auto,
            delay_s=float(delay),
            batch_size=batch,
            retry_s=tuple(float(v) for v in retry),
        )
        # Batches already waiting for a retry keep their due time, at the nearest level left.
        levels: list[deque[tuple[float, list[dict[str, Any]]]]] = [
            deque() for _ in self.receipts.retry_s
        ]
        for level, queue in enumerate(self._retry):
            for due, batch_items in queue:
                if levels:
                    levels[min(level, len(levels) - 1)].append((due, batch_items))
                else:
                    self._counts["reports_abandoned"] += len(batch_items)
        self._retry = [deque(sorted(queue, key=lambda entry: entry[0])) for queue in levels]
        self._ensure_pump()
        return self.receipt_view()

    def receipt_view(self) -> dict[str, Any]:
        view = asdict(self.receipts)
        view["retry_s"] = list(self.receipts.retry_s)
        view["report_url"] = self.report_url
        return view

    def set_report_url(self, url: str | None) -> None:
        self.report_url = url
        self._ensure_pump()

    def settle(self, *, force: bool) -> int:
        """The carrier's receipts for the messages whose time has come (all when ``force``):
        each moves to delivered or failed, and joins the push queue when a URL is set."""
        now = self.now()
        settings = self.receipts
        settled = 0
        while self._waiting:
            message = self._waiting[0]
            if not force and (not settings.auto or message.sent_at + settings.delay_s > now):
                break
            self._waiting.popleft()
            failure = self._fail_numbers.get(message.phone)
            if failure is None:
                message.status = SEND_STATUS_DELIVERED
                message.err_code, message.err_msg = DELIVERED_CODE, DELIVERED_MESSAGE
                self._counts["delivered"] += 1
            else:
                message.status = SEND_STATUS_FAILED
                message.err_code, message.err_msg = failure
                self._counts["failed"] += 1
            message.received_at = now
            settled += 1
            if self.report_url:
                self._unbatched.append(message.report())
                if len(self._unbatched) > MAX_QUEUED_REPORTS:
                    self._unbatched.popleft()
                    self._counts["reports_dropped"] += 1
        return settled

    def _has_work(self) -> bool:
        if self.receipts.auto and self._waiting:
            return True
        return bool(self.report_url) and (bool(self._unbatched) or any(self._retry))

    def _ensure_pump(self) -> None:
        """Run the receipt pump while there is something for it; it stops when idle."""
        if self._pump_task is not None and not self._pump_task.done():
            return
        if not self._has_work():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pump_task = loop.create_task(self._pump(self._generation))

    async def _pump(self, generation: int) -> None:
        try:
            while generation == self._generation and self._has_work():
                self.settle(force=False)
                await self.push_due(force=False)
                await asyncio.sleep(PUMP_INTERVAL_S)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sandbox sms receipt pump failed")

    async def push_now(self) -> dict[str, Any]:
        """The carrier answers every waiting message now and every queued receipt is pushed
        now, retries included."""
        settled = self.settle(force=True)
        attempts_before = self._counts["report_attempts"]
        acknowledged_before = self._counts["reports_acknowledged"]
        await self.push_due(force=True)
        self._ensure_pump()
        return {
            "settled": settled,
            "attempts": self._counts["report_attempts"] - attempts_before,
            "acknowledged": self._counts["reports_acknowledged"] - acknowledged_before,
        }

    async def push_due(self, *, force: bool) -> None:
        """Push the new receipts in batches, then the retries that are due (all when
        ``force``); one push at a time, so receipts are never sent twice at once."""
        async with self._push_lock:
            generation = self._generation
            # A forced push tries each batch once: a failure waits for its next retry.
            budget = [len(queue) for queue in self._retry]
            while self._unbatched and self.report_url:
                size = self.receipts.batch_size
                batch = [self._unbatched.popleft() for _ in range(min(size, len(self._unbatched)))]
                ok = await self._post(batch)
                if generation != self._generation:
                    return
                if not ok:
                    self._schedule_retry(batch, 0)
            for level in range(len(budget)):
                while self.report_url and level < len(self._retry) and self._retry[level]:
                    due, batch = self._retry[level][0]
                    if (force and budget[level] <= 0) or (not force and due > self.now()):
                        break
                    budget[level] -= 1
                    self._retry[level].popleft()
                    ok = await self._post(batch)
                    if generation != self._generation:
                        return
                    if not ok:
                        self._schedule_retry(batch, level + 1)

    def _schedule_retry(self, batch: list[dict[str, Any]], level: int) -> None:
        if level < len(self.receipts.retry_s):
            self._retry[level].append((self.now() + self.receipts.retry_s[level], batch))
        else:
            self._counts["reports_abandoned"] += len(batch)

    async def _post(self, batch: list[dict[str, Any]]) -> bool:
        url = self.report_url
        if not url:
            return False
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=REPORT_TIMEOUT_S)
        body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._counts["report_attempts"] += 1
        attempt: dict[str, Any] = {"size": len(batch), "at": _beijing(self.now())}
        try:
            response = await self._http.post(
                url, content=body, headers={"Content-Type": "application/json;charset=UTF-8"}
            )
        except httpx.HTTPError as exc:
            attempt.update(status=None, ok=False, error=type(exc).__name__)
            self._pushes.append(attempt)
            return False
        ok = response.status_code == 200 and _answer_has_numeric_code(response.content)
        attempt.update(status=response.status_code, ok=ok)
        self._pushes.append(attempt)
        if ok:
            self._counts["reports_acknowledged"] += len(batch)
        return ok

    def pushes(self) -> list[dict[str, Any]]:
        return list(self._pushes)

    async def close(self) -> None:
        self._generation += 1
        if self._pump_task is not None and not self._pump_task.done():
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump_task
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- the console ------------------------------------------------------------------------

    def register_template(self, data: dict[str, Any]) -> dict[str, Any]:
        code = data.get("code")
        if not isinstance(code, str) or not 0 < len(code) <= 64:
            raise ControlError("code must be a string of 1-64 characters")
        text = data.get("text")
        if text is not None and (not isinstance(text, str) or not 0 < len(text) <= 500):
            raise ControlError("text must be a string of 1-500 characters")
        raw = data.get("variables")
        if raw is None:
            names = _PLACEHOLDER.findall(text) if text else []
            variables = dict.fromkeys(names, DEFAULT_VARIABLE_TYPE)
        elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            variables = dict.fromkeys(raw, DEFAULT_VARIABLE_TYPE)
        elif isinstance(raw, dict) and all(isinstance(v, str) for v in raw.values()):
            variables = dict(raw)
        else:
            raise ControlError("variables must be a list of names or an object name -> type")
        for name, kind in variables.items():
            if not _PLACEHOLDER.fullmatch(f"${{{name}}}"):
                raise ControlError(f"variable name {name!r} must be [A-Za-z][A-Za-z0-9_]*")
            if kind not in VARIABLE_TYPES:
                raise ControlError(f"variable type {kind!r} must be one of {list(VARIABLE_TYPES)}")
        if text is not None and set(_PLACEHOLDER.findall(text)) != set(variables):
            raise ControlError("the text's ${...} placeholders must be the template's variables")
        kind = data.get("kind", KIND_NOTIFICATION)
        if kind not in KINDS:
            raise ControlError(f"kind must be one of {list(KINDS)}")
        template = _Template(
            code=code,
            variables=variables,
            text=text if text is not None else _default_text(variables),
            kind=kind,
        )
        self.templates[code] = template
        return template.view()

    def register_sign(self, sign: Any) -> str:
        if not isinstance(sign, str) or not 0 < len(sign) <= 64:
            raise ControlError("sign must be a string of 1-64 characters")
        self.signs.add(sign)
        return sign


def _parse_timestamp(value: str) -> float | None:
    """Seconds since the epoch of ``yyyy-MM-ddTHH:mm:ssZ`` (UTC), None when malformed."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def _positive_int(value: str) -> int | None:
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        return None
    number = int(value)
    return number if number >= 1 else None


def _answer_has_numeric_code(content: bytes) -> bool:
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    code = data.get("code") if isinstance(data, dict) else None
    return isinstance(code, int | float) and not isinstance(code, bool)


def request_params(request: Request) -> dict[str, str]:
    """Every parameter of an RPC call, from the query string and (POST) the form body; a name
    given twice is refused, since it could not be signed unambiguously."""
    try:
        pairs = parse_qsl(
            request.query_string,
            keep_blank_values=True,
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
        if request.method == "POST" and request.body:
            content_type = request.headers.get("content-type", "")
            if not content_type.startswith("application/x-www-form-urlencoded"):
                raise GatewayError(
                    400,
                    "InvalidParameter",
                    "A POST body must be application/x-www-form-urlencoded.",
                )
            pairs += parse_qsl(
                request.body.decode("utf-8"),
                keep_blank_values=True,
                errors="strict",
                max_num_fields=_MAX_FIELDS,
            )
    except (UnicodeDecodeError, ValueError) as exc:
        raise GatewayError(400, "InvalidParameter", "The parameters are not well formed.") from exc
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise GatewayError(
                400, "InvalidParameter", f"Specified parameter {name} is given more than once."
            )
        params[name] = value
    return params


Handler = Callable[[Request], Awaitable[HTTPResponse]]


def sms_blueprint(state: AliyunSmsSandbox) -> Blueprint:
    """The RPC endpoint and the control routes, served from ``state``."""
    bp = Blueprint("sandbox_sms", url_prefix="/sandbox/sms")

    @bp.route("/", methods=["GET", "POST"], name="rpc")
    async def rpc(request: Request) -> HTTPResponse:
        request_id = _request_id()
        action = "unknown"
        try:
            params = request_params(request)
            if params.get("Action") in ACTIONS:
                action = params["Action"]
            action = state.authenticate(request.method, params)
            fault = state.take_fault(action)
            if fault is not None and fault.mode == "failing":
                raise GatewayError(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                )
            if fault is not None and fault.mode == "busy":
                if fault.code == "Throttling.User":
                    raise GatewayError(
                        400, "Throttling.User", "Request was denied due to user flow control."
                    )
                raise BusinessError(fault.code)
            try:
                if action == "SendSms":
                    payload = state.send_sms(params)
                else:
                    payload = state.query_send_details(params)
            finally:
                if fault is not None and fault.mode == "slow":
                    await asyncio.sleep(fault.delay_s)
        except GatewayError as exc:
            state.count_call(action, exc.code)
            return json_response(exc.body(request_id), status=exc.status)
        except BusinessError as exc:
            state.count_call(action, exc.code)
            return json_response(
                {"RequestId": request_id, "Code": exc.code, "Message": exc.message}
            )
        except Exception:
            log.exception("sandbox sms handler failed", extra={"action": action})
            state.count_call(action, "InternalError")
            error = GatewayError(
                500,
                "InternalError",
                "The request processing has failed due to some unknown "
                "error, exception or failure.",
            )
            return json_response(error.body(request_id), status=500)
        state.count_call(action, None)
        return json_response(payload)

    def control(fn: Callable[[Request], Awaitable[dict[str, Any]]]) -> Handler:
        async def handler(request: Request) -> HTTPResponse:
            try:
                return json_response(await fn(request))
            except ControlError as exc:
                return json_response({"Code": "ControlError", "Message": exc.message}, exc.status)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    def body_of(request: Request) -> dict[str, Any]:
        if not request.body:
            return {}
        data = json_object(request)
        if data is None:
            raise ControlError("a JSON object is required")
        return data

    @bp.post("/_control/report-url", name="control_report_url")
    @control
    async def report_url(request: Request) -> dict[str, Any]:
        """``{"url": "http://…" | null}``: where SmsReport batches go (the console setting)."""
        data = body_of(request)
        url = data.get("url")
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 2048
        ):
            raise ControlError("url must be an http(s) URL or null")
        state.set_report_url(url)
        return {"report_url": state.report_url}

    @bp.get("/_control/faults", name="control_get_faults")
    @control
    async def get_faults(request: Request) -> dict[str, Any]:
        return asdict(state.faults)

    @bp.post("/_control/faults", name="control_faults")
    @control
    async def set_faults(request: Request) -> dict[str, Any]:
        """``{"mode": "normal"|"busy"|"slow"|"failing", "count": int|null, "delay_s": float,
        "code": "isp.SYSTEM_ERROR"|"Throttling.User"|"isv.BUSINESS_LIMIT_CONTROL",
        "action": "SendSms"|"QuerySendDetails"|null}``; an empty body clears them."""
        return state.set_faults(body_of(request))

    @bp.get("/_control/messages", name="control_messages")
    @control
    async def messages(request: Request) -> dict[str, Any]:
        """``?phone=&out_id=&limit=`` (at most 1000, default 100): the most recent messages."""
        raw_limit = request.args.get("limit", "100")
        limit = _positive_int(raw_limit) if isinstance(raw_limit, str) else None
        if limit is None or limit > 1000:
            raise ControlError("limit must be an integer from 1 to 1000")
        return {
            "messages": state.messages(
                phone=request.args.get("phone"), out_id=request.args.get("out_id"), limit=limit
            )
        }

    @bp.post("/_control/push", name="control_push")
    @control
    async def push(request: Request) -> dict[str, Any]:
        """The carrier answers every waiting message and every queued receipt is pushed now."""
        return await state.push_now()

    @bp.get("/_control/reports", name="control_reports")
    @control
    async def reports(request: Request) -> dict[str, Any]:
        """The last 500 push attempts: size, HTTP status, whether the answer counted."""
        return {"pushes": state.pushes()}

    @bp.get("/_control/receipts", name="control_get_receipts")
    @control
    async def get_receipts(request: Request) -> dict[str, Any]:
        return state.receipt_view()

    @bp.post("/_control/receipts", name="control_receipts")
    @control
    async def set_receipts(request: Request) -> dict[str, Any]:
        """``{"auto": bool, "delay_s": float, "batch_size": int, "retry_s": [float, …]}``."""
        return state.set_receipts(body_of(request))

    @bp.post("/_control/fail-number", name="control_fail_number")
    @control
    async def fail_number(request: Request) -> dict[str, Any]:
        """``{"phone": "138…", "fail": true, "err_code": "UNDELIV", "err_msg": "…"}``: the
        receipts of that number report failure (``fail: false`` clears it)."""
        data = body_of(request)
        phone = data.get("phone")
        fail = data.get("fail", True)
        err_code = data.get("err_code", FAILED_CODE)
        err_msg = data.get("err_msg", FAILED_MESSAGE)
        if not isinstance(phone, str) or not _BARE_MOBILE.fullmatch(phone):
            raise ControlError("phone must be an 11-digit mainland mobile number")
        if not isinstance(fail, bool):
            raise ControlError("fail must be a boolean")
        if not (isinstance(err_code, str) and err_code and isinstance(err_msg, str)):
            raise ControlError("err_code and err_msg must be strings")
        state.set_failing_number(phone, fail=fail, err_code=err_code, err_msg=err_msg)
        return {"phone": phone, "fail": fail, "err_code": err_code, "err_msg": err_msg}

    @bp.get("/_control/limits", name="control_get_limits")
    @control
    async def get_limits(request: Request) -> dict[str, Any]:
        return asdict(state.limits)

    @bp.post("/_control/limits", name="control_limits")
    @control
    async def set_limits(request: Request) -> dict[str, Any]:
        """Any of ``verification_per_minute``, ``verification_per_hour``,
        ``verification_per_day``, ``verification_per_number_day``, ``notification_per_day``: a
        positive integer, or null for no limit."""
        return state.set_limits(body_of(request))

    @bp.post("/_control/templates", name="control_templates")
    @control
    async def templates(request: Request) -> dict[str, Any]:
        """``{"code": "SMS_1", "variables": ["a"] | {"a": "others"}, "text": "…${a}…",
        "kind": "notification"|"verification"}``: registers (or replaces) a template."""
        return state.register_template(body_of(request))

    @bp.get("/_control/templates", name="control_get_templates")
    @control
    async def get_templates(request: Request) -> dict[str, Any]:
        return {"templates": [t.view() for t in state.templates.values()]}

    @bp.post("/_control/signs", name="control_signs")
    @control
    async def signs(request: Request) -> dict[str, Any]:
        """``{"sign": "掌办"}``: registers a signature."""
        return {"sign": state.register_sign(body_of(request).get("sign"))}

    @bp.post("/_control/advance-clock", name="control_advance_clock")
    @control
    async def advance_clock(request: Request) -> dict[str, Any]:
        seconds = body_of(request).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ControlError("seconds must be a number")
        return {"now": state.advance_clock(float(seconds))}

    @bp.post("/_control/reset", name="control_reset")
    @control
    async def reset(request: Request) -> dict[str, Any]:
        state.reset()
        return {"reset": True}

    @bp.get("/_control/stats", name="control_stats")
    @control
    async def stats(request: Request) -> dict[str, Any]:
        return state.stats()

    @bp.listener("after_server_stop")
    async def close_client(app: Any) -> None:
        with contextlib.suppress(Exception):
            await state.close()

    return bp


__all__ = [
    "API_VERSION",
    "AliyunSmsSandbox",
    "percent_encode",
    "rpc_signature",
    "rpc_string_to_sign",
    "sms_blueprint",
    "sms_size",
]
