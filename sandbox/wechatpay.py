"""WeChat Pay's merchant API v3 (直连商户), as a local HTTP peer (base ``/sandbox/wechatpay``).

Written from WeChat Pay's own pages (pay.weixin.qq.com, "APIv3 接口规则", "JSAPI/小程序下单",
"Native下单", "商户订单号查询订单", "关闭订单", "申请退款", "查询单笔退款（通过商户退款单号）",
"支付成功回调通知", "退款结果通知", "申请交易账单", "下载账单", "交易账单详细说明",
"小程序调起支付"),
never from our adapter: an adapter pointed at ``<server>/sandbox/wechatpay`` instead of
``https://api.mch.weixin.qq.com`` runs unchanged, and a mistake in it fails here as it would there.

Keys: the peer plays WeChat Pay in "微信支付公钥" mode. It verifies requests with the merchant's
public key and signs answers and notifications with the platform private key, named by its
``PUB_KEY_ID_…`` in ``Wechatpay-Serial``; it encrypts notification resources under the APIv3 key.
All come from the sandbox key folder (``sandbox.keys``), which the merchant side reads too.

Rules the peer enforces, each from the page named:

* 接口规则/签名生成: every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048`` with
  ``mchid, nonce_str, signature, timestamp, serial_no`` (any order), the signature being
  SHA256withRSA (PKCS#1 v1.5), base64, over ``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n`` where URL
  is the path with ``?query`` as sent; a missing or malformed header, another merchant, another
  certificate serial, a timestamp more than ``TIMESTAMP_SKEW_S`` off, or a signature that does not
  verify answer 401 ``SIGN_ERROR``;
* 接口规则/基本规则: JSON bodies only (``Content-Type: application/json`` on a body, else 400
  ``INVALID_REQUEST``), ``Accept`` and ``User-Agent`` present (400 ``INVALID_REQUEST``
  "Http头缺少Accept或User-Agent"), no ``null`` values and only 1–3 byte UTF-8 characters (400
  ``PARAM_ERROR``); errors are ``{"code", "message", "detail"?}`` with the documented status;
  every answer (but the bill file) is signed: ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature``
  (SHA256withRSA over ``timestamp\\nnonce\\nbody\\n``) and ``-Serial`` (the public key id), with a
  ``Request-ID``;
* JSAPI/小程序下单 and Native下单: ``appid`` (the mini-program's: else 400
  ``APPID_MCHID_NOT_MATCH``), ``mchid`` (else 400 ``MCH_NOT_EXISTS``), ``description`` 1–127
  characters, ``out_trade_no`` 6–32 of ``[0-9A-Za-z_-|*]``, ``time_expire`` RFC 3339 (raised to
  creation + 1 minute when earlier, lowered to creation + 90 days when later; 7 days when absent),
  ``attach`` ≤ 128, ``notify_url`` ≤ 255, absolute, without a query string, ``https`` (``http``
  allowed for an IP address or ``localhost``: "专线NAT IP或者私有回调域名可使用HTTP"),
  ``amount.total`` an integer ≥ 1 fen, ``amount.currency`` ``CNY``, ``payer.openid`` ≤ 128
  (JSAPI); each a 400 ``PARAM_ERROR`` naming the field. The same ``out_trade_no`` again with the
  same parameters before its ``time_expire`` gives a new ``prepay_id`` ("可使用原参数重新请求下单
  接口，以获取当前订单最新的prepay_id"); with other parameters 403 ``OUT_TRADE_NO_USED``;
  after it was closed 400 ``ORDER_CLOSED``; after it was paid 403 ``ORDERPAID`` (see below);
  a ``prepay_id`` lives 2 hours ("该值有效期为2小时");
* 商户订单号查询订单: ``?mchid=`` required (400 ``PARAM_ERROR``) and ours (400
  ``MCH_NOT_EXISTS``); an unknown order 404 ``ORDER_NOT_EXIST``; ``trade_state`` SUCCESS, REFUND,
  NOTPAY, CLOSED (an order past its time_expire stays NOTPAY: "支付结束时间…并非订单关闭的时间");
* 关闭订单: body ``{"mchid"}``; 204 without a body; closing again is 204; unknown 404
  ``ORDER_NOT_EXIST``;
* 申请退款: ``out_trade_no`` or ``transaction_id``, ``out_refund_no`` 1–64 of
  ``[0-9A-Za-z_-|*@]`` ("同一退款单号多次请求只退一笔": the same number answers the same refund,
  with other parameters 400 ``INVALID_REQUEST``), ``reason`` ≤ 80, ``notify_url`` ≤ 256 without a
  query string, ``amount.refund``/``amount.total`` integers ≥ 1, ``amount.currency`` ``CNY``
  (required); unknown order 404 ``RESOURCE_NOT_EXISTS``; ``total`` other than the order's, a
  refund of an unpaid order, more than what is left ("申请退款总金额不能超过订单金额"), a 51st
  refund ("每个支付订单的部分退款次数不能超过50次"), an order paid more than a year ago: 400
  ``INVALID_REQUEST``; a second refund of the same order within a minute ("同一笔订单多次退款的请求
  需相隔1分钟"): 429 ``FREQUENCY_LIMITED``. A refund starts ``PROCESSING`` and the order's
  trade_state becomes ``REFUND``;
* 查询单笔退款: unknown 404 ``RESOURCE_NOT_EXISTS``;
* 支付成功回调通知 / 退款结果通知: POST JSON ``{id, create_time, event_type, resource_type
  "encrypt-resource", summary, resource{algorithm "AEAD_AES_256_GCM", ciphertext,
  associated_data, original_type, nonce}}`` to the order's (refund's) ``notify_url``, signed like
  an answer; the resource is the transaction (refund) JSON encrypted with AES-256-GCM under the
  APIv3 key, a 12-character nonce and ``associated_data`` ``transaction`` (``refund``); only an
  HTTP 200 or 204 stops the resends, which follow 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m,
  3h, 3h, 3h, 6h, 6h ("通知频率为15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h"), each
  divided by the speedup; the refund one only when the refund named a ``notify_url``;
* 申请交易账单 / 下载账单: ``bill_date`` ``yyyy-MM-DD`` (400 ``PARAM_ERROR``), within three
  months (400 ``INVALID_REQUEST``), ``bill_type`` ALL (default), SUCCESS or REFUND,
  ``tar_type`` absent or GZIP; the bill of a day exists from 10:00 China time the next day
  ("建议商户10点后再获取"; before, 400 ``STATEMENT_CREATING``), and a day without trades has none
  (400 ``NO_STATEMENT_EXIST``); the answer is ``{hash_type "SHA1", hash_value, download_url}``,
  the URL valid 5 minutes and fetched with a signed GET whose answer is not signed ("该接口响应的
  信息请求头中不包含微信接口响应的签名值"); an unknown or expired token 400 ``INVALID_REQUEST``.
  The file is the documented one: detail header, detail lines whose every field starts with a
  backquote, summary header, summary line; amounts in yuan.

Choices where the pages are silent or the value is unconfirmed:

* the request timestamp may be ``TIMESTAMP_SKEW_S`` (300 s) off the wall clock ("微信支付会拒绝处理
  很久之前发起的请求" gives no figure; 300 s is the callbacks' documented window). The skew is
  checked against the real clock, while orders, expiries, refunds and bills live on the peer's
  own clock (the real one plus what ``advance-clock`` added), so a test may move business time
  by days and still sign its requests;
* ``ORDERPAID`` (403, "订单已支付"), from APIv2's close-order table, for an order paid already, on
  both order creation and close; the v3 tables list no code for these cases;
* a repeated order after its time_expire answers 400 ``ORDER_CLOSED``; a second refund of the
  same order within a minute 429 ``FREQUENCY_LIMITED`` (the page gives no code);
* a notification POST waits ``NOTIFY_TIMEOUT_S`` for the answer.

The ``_control/`` routes are not WeChat Pay: they play the payer (``pay``), the bank
(``refund-settle``) and the test (``faults``, ``bill-differences``, ``flush``, ``speedup``,
``advance-clock``, ``notifications``, ``merchant``, ``stats``, ``reset``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import ipaddress
import json
import logging
import math
import re
import secrets
import string
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

from sandbox._http import add_state_controls, json_object
from sandbox.faults import NotificationFaults, checked_faults
from sandbox.keys import (
    WECHATPAY_MERCHANT_PUBLIC,
    WECHATPAY_PLATFORM_KEY,
    ensure_sandbox_keys,
)

log = logging.getLogger("zhangban.sandbox.wechatpay")

SCHEME = "WECHATPAY2-SHA256-RSA2048"
TIMESTAMP_SKEW_S = 300
#: 支付成功回调通知 / 退款结果通知: the waits before each resend, in seconds.
RESEND_SCHEDULE_S: tuple[float, ...] = (
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
)  # fmt: skip
NOTIFY_TIMEOUT_S = 5.0
PREPAY_TTL_S = 7200
DEFAULT_PAY_WINDOW_S = 7 * 86400
MIN_PAY_WINDOW_S = 60
MAX_PAY_WINDOW_S = 90 * 86400
REFUND_INTERVAL_S = 60
MAX_REFUNDS_PER_ORDER = 50
REFUND_WINDOW_S = 365 * 86400
BILL_READY_HOUR = 10
BILL_MAX_AGE_DAYS = 92
DOWNLOAD_TTL_S = 300
#: out_of_order: notifications made within this window are held, then sent last first.
OUT_OF_ORDER_WINDOW_S = 0.5
#: and released this far apart, so that they arrive in that order
OUT_OF_ORDER_STAGGER_S = 0.1

CHINA = timezone(timedelta(hours=8))
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
BILL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AUTH_PARAM = re.compile(r'\s*([a-z_]+)="([^"]*)"\s*')
_NONCE_CHARS = string.ascii_letters + string.digits

TRADE_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "订单未支付",
    "CLOSED": "已关闭",
}
REFUND_EVENTS = {
    "SUCCESS": ("REFUND.SUCCESS", "退款成功"),
    "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
    "CLOSED": ("REFUND.CLOSED", "退款关闭"),
}
ALL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
ALL_SUMMARY = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)
SUCCESS_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注"
)
SUCCESS_SUMMARY = "总交易单数,应结订单总金额,手续费总金额,订单总金额"
REFUND_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,"
    "退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注"
)
FEE_RATE = Decimal("0.006")


class WeChatPayError(Exception):
    """A platform error answer: the documented status with ``{"code", "message", "detail"}``."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, issue: str = ""
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.issue = issue

    def body(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            answer["detail"] = {"field": self.field, "issue": self.issue or self.message}
        return answer


class ControlError(Exception):
    """A refused control request: the test's mistake, a 4xx."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _param(field_path: str, issue: str) -> WeChatPayError:
    return WeChatPayError(400, "PARAM_ERROR", "参数错误", field=field_path, issue=issue)


def sign_message(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: "使用商户私钥对待签名串进行SHA256 with RSA签名，并对
    签名结果进行Base64编码得到签名值" (and the same with the platform key for answers)."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify_message(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw_signature = base64.b64decode(signature, validate=True)
        key.verify(raw_signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, InvalidSignature):
        return False
    return True


def request_message(method: str, url: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """签名串: "一共有五行…行尾以 \\n 结束，包括最后一行"."""
    head = f"{method}\n{url}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def answer_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """应答和回调的验签名串: "应答时间戳\\n应答随机串\\n应答报文主体\\n"."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def encrypt_resource(apiv3_key: bytes, plaintext: bytes, associated_data: str) -> dict[str, str]:
    """AEAD_AES_256_GCM as the notification pages decrypt it: key = APIv3 key, a 12-byte nonce
    sent as text, ``associated_data`` as AAD, ciphertext = base64(encrypted || 16-byte tag)."""
    nonce = "".join(secrets.choice(_NONCE_CHARS) for _ in range(12))
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def _nonce() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32))


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).isoformat(timespec="seconds")


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _has_null_or_wide(value: Any) -> str | None:
    """The JSON pointer of the first ``null`` or 4-byte UTF-8 character, else None."""

    def walk(item: Any, pointer: str) -> str | None:
        if item is None:
            return pointer or "/"
        if isinstance(item, str):
            return pointer or "/" if any(ord(ch) > 0xFFFF for ch in item) else None
        if isinstance(item, dict):
            for key, sub in item.items():
                found = walk(sub, f"{pointer}/{key}")
                if found:
                    return found
        if isinstance(item, list):
            for index, sub in enumerate(item):
                found = walk(sub, f"{pointer}/{index}")
                if found:
                    return found
        return None

    return walk(value, "")


def _string(
    data: dict[str, Any], key: str, pointer: str, *, max_length: int, required: bool = True
) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _param(pointer, f"{key} is required")
        return None
    if not isinstance(value, str) or not value:
        raise _param(pointer, f"{key} must be a non-empty string")
    if len(value) > max_length:
        raise _param(pointer, f"{key} must be at most {max_length} characters")
    return value


def _integer(data: dict[str, Any], key: str, pointer: str, *, minimum: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _param(pointer, f"{key} must be an integer")
    if value < minimum:
        raise _param(pointer, f"{key} must be at least {minimum}")
    return value


def _object(data: dict[str, Any], key: str, pointer: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise _param(pointer, f"{key} must be an object")
    return value


def _notify_url(value: str, pointer: str) -> str:
    """The notify_url rule: "通知URL必须为外网可访问的URL，不能携带参数。公网域名必须为HTTPS，
    如果是走专线接入，使用专线NAT IP或者私有回调域名可使用HTTP"."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _param(pointer, "notify_url must be an absolute http(s) URL")
    if parts.query or parts.fragment or "?" in value:
        raise _param(pointer, "notify_url must not carry a query string")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise _param(pointer, "notify_url on a public domain must be https") from None
    return value


@dataclass
class Faults(NotificationFaults):
    """What goes wrong with the notifications made while they are set (``sandbox.faults``), and
    a resource naming another merchant / app / amount (well signed and encrypted)."""

    wrong_mchid: bool = False
    wrong_appid: bool = False
    wrong_amount: bool = False

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Faults:
        """All the switches at once: those not named are off."""
        try:
            return cls(**checked_faults(cls, data))
        except ValueError as exc:
            raise ControlError(400, "PARAM_ERROR", str(exc)) from None


@dataclass
class _Order:
    out_trade_no: str
    trade_type: str  # JSAPI or NATIVE
    appid: str
    mchid: str
    description: str
    notify_url: str
    total: int
    time_expire: str | None
    openid: str | None
    attach: str | None
    created_at: float
    expires_at: float
    prepay_id: str = ""
    prepay_at: float = 0.0
    code_url: str = ""
    state: str = "NOTPAY"
    transaction_id: str | None = None
    success_at: float | None = None
    payer_openid: str | None = None

    def same_request(self, other: _Order) -> bool:
        keys = ("trade_type", "appid", "mchid", "description", "notify_url", "total")
        more = ("time_expire", "openid", "attach")
        return all(getattr(self, k) == getattr(other, k) for k in keys + more)


@dataclass
class _Refund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    reason: str | None
    notify_url: str | None
    created_at: float
    status: str = "PROCESSING"
    success_at: float | None = None


@dataclass
class _Attempt:
    at: float
    status: int | None
    error: str = ""


@dataclass
class _Notification:
    id: str
    kind: str  # payment or refund
    event_type: str
    reference: str  # out_trade_no or out_refund_no
    url: str
    body: bytes
    faults: Faults
    made_at: float
    attempts: list[_Attempt] = field(default_factory=list)
    state: str = "pending"  # pending, held, delivered, dropped, failed

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "event_type": self.event_type,
            "reference": self.reference,
            "state": self.state,
            "attempts": [
                {"at": a.at - self.made_at, "status": a.status, "error": a.error}
                for a in self.attempts
            ],
        }


@dataclass
class _Bill:
    content: bytes
    gzip: bool
    expires_at: float


class WeChatPaySandbox:
    """WeChat Pay's state for one merchant (one mchid, one appid), with its own business clock.

    Handlers run without awaiting, so on the single-worker server every request sees and leaves a
    consistent state; only sending notifications awaits, in tasks of its own.
    """

    def __init__(
        self,
        *,
        keys_dir: Path,
        appid: str,
        mch_id: str,
        callback_speedup: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        keys = ensure_sandbox_keys(keys_dir)
        self.appid = appid
        self.mch_id = mch_id
        self.merchant_serial = keys.wechatpay_merchant_serial
        self.merchant_public = keys.public_key(WECHATPAY_MERCHANT_PUBLIC)
        self.platform_key = keys.private_key(WECHATPAY_PLATFORM_KEY)
        self.platform_key_id = keys.wechatpay_platform_key_id
        self.apiv3_key = keys.wechatpay_apiv3_key.encode()
        self.default_speedup = callback_speedup
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.reset()

    # --- state ---------------------------------------------------------------------------

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = set()
        self._offset = 0.0
        self.speedup = self.default_speedup
        self.faults = Faults()
        self._orders: dict[str, _Order] = {}
        self._by_transaction: dict[str, str] = {}
        self._refunds: dict[str, _Refund] = {}
        self._notifications: dict[str, _Notification] = {}
        self._held: list[_Notification] = []
        self._bills: dict[str, _Bill] = {}
        self._differences: dict[str, Any] | None = None
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()

    def now(self) -> float:
        """Business time: the wall clock plus what ``advance_clock`` added."""
        return self._clock() + self._offset

    def wall(self) -> float:
        """Transport time, for signature timestamps."""
        return self._clock()

    def advance_clock(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ControlError(400, "PARAM_ERROR", "seconds must be a finite number ≥ 0")
        self._offset += seconds
        return self.now()

    def count(self, api: str, *, error: bool) -> None:
        self._calls[api] += 1
        if error:
            self._errors[api] += 1

    def stats(self) -> dict[str, Any]:
        states = Counter(n.state for n in self._notifications.values())
        return {
            "calls": dict(self._calls),
            "errors": dict(self._errors),
            "orders": len(self._orders),
            "refunds": len(self._refunds),
            "notifications": len(self._notifications),
            "notification_states": dict(states),
            "attempts": self._counts["attempts"],
            "acknowledged": self._counts["acknowledged"],
            "speedup": self.speedup,
        }

    # --- authentication and signing ------------------------------------------------------

    def authenticate(self, method: str, url: str, headers: Any, body: bytes) -> None:
        """签名验证 of one request, or 401 SIGN_ERROR (400 INVALID_REQUEST for missing headers)."""
        if not headers.get("accept") or not headers.get("user-agent"):
            raise WeChatPayError(400, "INVALID_REQUEST", "Http头缺少Accept或User-Agent")
        authorization = headers.get("authorization", "")
        scheme, _, params = authorization.partition(" ")
        if scheme != SCHEME:
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误", issue="unsupported scheme")
        values: dict[str, str] = {}
        for part in params.split(","):
            match = _AUTH_PARAM.fullmatch(part)
            if match is None or match.group(1) in values:
                raise WeChatPayError(401, "SIGN_ERROR", "签名错误：Authorization格式错误")
            values[match.group(1)] = match.group(2)
        needed = {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
        if set(values) != needed:
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误：Authorization缺少参数")
        if values["mchid"] != self.mch_id:
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误：商户号不存在")
        if values["serial_no"] != self.merchant_serial:
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误：商户证书序列号有误")
        timestamp = values["timestamp"]
        if (
            not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12)
            or abs(int(timestamp) - self.wall()) > TIMESTAMP_SKEW_S
        ):
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误：请求时间戳已过期或无效")
        nonce = values["nonce_str"]
        if not nonce or len(nonce) > 32:
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误：随机串无效")
        message = request_message(method, url, timestamp, nonce, body)
        if not verify_message(self.merchant_public, message, values["signature"]):
            raise WeChatPayError(401, "SIGN_ERROR", "签名错误")

    def signed_headers(self, body: bytes, *, bad: bool = False) -> dict[str, str]:
        timestamp = str(int(self.wall()))
        nonce = _nonce()
        signature = sign_message(self.platform_key, answer_message(timestamp, nonce, body))
        if bad:
            signature = sign_message(self.platform_key, answer_message(timestamp, nonce, b"x"))
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": self.platform_key_id,
            "Request-ID": uuid.uuid4().hex,
        }

    # --- orders --------------------------------------------------------------------------

    def _check_body(self, body: dict[str, Any] | None) -> dict[str, Any]:
        if body is None:
            raise WeChatPayError(400, "PARAM_ERROR", "参数错误：请求体必须是JSON对象")
        pointer = _has_null_or_wide(body)
        if pointer is not None:
            raise _param(pointer, "null values and 4-byte UTF-8 characters are not allowed")
        return body

    def create_order(self, body: dict[str, Any] | None, *, trade_type: str) -> dict[str, Any]:
        """``POST /v3/pay/transactions/jsapi`` (``native``)."""
        data = self._check_body(body)
        appid = _string(data, "appid", "/appid", max_length=32)
        mchid = _string(data, "mchid", "/mchid", max_length=32)
        description = _string(data, "description", "/description", max_length=127)
        out_trade_no = _string(data, "out_trade_no", "/out_trade_no", max_length=32)
        assert appid and mchid and description and out_trade_no
        if not OUT_TRADE_NO.fullmatch(out_trade_no):
            raise _param("/out_trade_no", "out_trade_no must be 6-32 of [0-9A-Za-z_-|*]")
        time_expire = _string(data, "time_expire", "/time_expire", max_length=64, required=False)
        attach = _string(data, "attach", "/attach", max_length=128, required=False)
        notify_url = _notify_url(
            _string(data, "notify_url", "/notify_url", max_length=255) or "", "/notify_url"
        )
        amount = _object(data, "amount", "/amount")
        total = _integer(amount, "total", "/amount/total", minimum=1)
        currency = amount.get("currency", "CNY")
        if currency != "CNY":
            raise _param("/amount/currency", "Currency code is invalid")
        openid = None
        if trade_type == "JSAPI":
            payer = _object(data, "payer", "/payer")
            openid = _string(payer, "openid", "/payer/openid", max_length=128)
        if mchid != self.mch_id:
            raise WeChatPayError(400, "MCH_NOT_EXISTS", "商户号不存在")
        if appid != self.appid:
            raise WeChatPayError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配，请检查后再试")
        now = self.now()
        expires_at = now + DEFAULT_PAY_WINDOW_S
        if time_expire is not None:
            if not RFC3339.fullmatch(time_expire):
                raise _param("/time_expire", "time_expire must be RFC 3339")
            try:
                moment = datetime.fromisoformat(time_expire.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise _param("/time_expire", "time_expire must be RFC 3339") from None
            expires_at = min(max(moment, now + MIN_PAY_WINDOW_S), now + MAX_PAY_WINDOW_S)
        order = _Order(
            out_trade_no=out_trade_no,
            trade_type=trade_type,
            appid=appid,
            mchid=mchid,
            description=description,
            notify_url=notify_url,
            total=total,
            time_expire=time_expire,
            openid=openid,
            attach=attach,
            created_at=now,
            expires_at=expires_at,
        )
        existing = self._orders.get(out_trade_no)
        if existing is not None:
            if existing.state in ("SUCCESS", "REFUND"):
                raise WeChatPayError(403, "ORDERPAID", "订单已支付")
            if existing.state == "CLOSED":
                raise WeChatPayError(400, "ORDER_CLOSED", "订单已关闭")
            if not existing.same_request(order):
                raise WeChatPayError(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            if now >= existing.expires_at:
                raise WeChatPayError(
                    400, "ORDER_CLOSED", "订单已超过支付结束时间，请使用新的商户订单号"
                )
            order = existing
        else:
            self._orders[out_trade_no] = order
        if trade_type == "NATIVE":
            if not order.code_url:
                order.code_url = f"weixin://wxpay/bizpayurl?pr={secrets.token_urlsafe(6)}"
            return {"code_url": order.code_url}
        stamp = datetime.fromtimestamp(now, CHINA).strftime("%Y%m%d%H%M%S")
        order.prepay_id = f"wx{stamp}{secrets.token_hex(9)}"
        order.prepay_at = now
        return {"prepay_id": order.prepay_id}

    def _check_mchid(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or not value:
            raise _param(where, "mchid is required")
        if value != self.mch_id:
            raise WeChatPayError(400, "MCH_NOT_EXISTS", "商户号不存在")

    def _order(self, out_trade_no: str) -> _Order:
        order = self._orders.get(out_trade_no)
        if order is None:
            raise WeChatPayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def transaction(self, order: _Order, *, faults: Faults | None = None) -> dict[str, Any]:
        """The order as the query answers it (and as the payment notification carries it)."""
        wrong = faults or Faults()
        answer: dict[str, Any] = {
            "appid": "wx-some-other-app" if wrong.wrong_appid else order.appid,
            "mchid": "1900000000" if wrong.wrong_mchid else order.mchid,
            "out_trade_no": order.out_trade_no,
            "trade_type": order.trade_type,
            "trade_state": order.state,
            "trade_state_desc": TRADE_STATE_DESC[order.state],
            "amount": {"total": order.total, "currency": "CNY"},
        }
        if order.transaction_id is not None:
            paid = order.total + 1 if wrong.wrong_amount else order.total
            answer.update(
                transaction_id=order.transaction_id,
                bank_type="OTHERS",
                success_time=_rfc3339(order.success_at or order.created_at),
                payer={"openid": order.payer_openid},
                amount={
                    "total": paid,
                    "payer_total": paid,
                    "currency": "CNY",
                    "payer_currency": "CNY",
                },
            )
            if order.attach is not None:
                answer["attach"] = order.attach
        return answer

    def query_order(self, out_trade_no: str, mchid: str | None) -> dict[str, Any]:
        self._check_mchid(mchid, "mchid")
        return self.transaction(self._order(out_trade_no))

    def close_order(self, out_trade_no: str, body: dict[str, Any] | None) -> None:
        data = self._check_body(body)
        self._check_mchid(data.get("mchid"), "/mchid")
        order = self._order(out_trade_no)
        if order.state in ("SUCCESS", "REFUND"):
            raise WeChatPayError(403, "ORDERPAID", "订单已支付")
        order.state = "CLOSED"

    # --- the payer ------------------------------------------------------------------------

    def pay(self, out_trade_no: str, openid: str | None) -> dict[str, Any]:
        """The payer confirms on the payment sheet; WeChat Pay then notifies the merchant."""
        order = self._orders.get(out_trade_no)
        if order is None:
            raise ControlError(404, "ORDER_NOT_EXIST", "订单不存在")
        now = self.now()
        if order.state in ("SUCCESS", "REFUND"):
            raise ControlError(409, "ORDERPAID", "订单已支付")
        if order.state == "CLOSED":
            raise ControlError(409, "ORDER_CLOSED", "订单已关闭")
        if now >= order.expires_at:
            raise ControlError(409, "ORDER_EXPIRED", "订单已超过支付结束时间")
        if order.trade_type == "JSAPI" and now >= order.prepay_at + PREPAY_TTL_S:
            raise ControlError(409, "PREPAY_ID_EXPIRED", "prepay_id已失效，请重新下单获取")
        order.state = "SUCCESS"
        order.success_at = now
        order.payer_openid = order.openid or openid or "o" + secrets.token_urlsafe(20)
        order.transaction_id = (
            "42000"
            + datetime.fromtimestamp(now, CHINA).strftime("%Y%m%d")
            + "".join(secrets.choice(string.digits) for _ in range(15))
        )
        self._by_transaction[order.transaction_id] = order.out_trade_no
        plaintext = self.transaction(order, faults=self.faults)
        note = self._notify(
            kind="payment",
            event_type="TRANSACTION.SUCCESS",
            summary="支付成功",
            reference=order.out_trade_no,
            url=order.notify_url,
            original_type="transaction",
            plaintext=plaintext,
        )
        return {"transaction_id": order.transaction_id, "notification_id": note.id}

    def request_payment(self, params: dict[str, Any], *, cancel: bool) -> dict[str, Any]:
        """What ``wx.requestPayment`` does with what the phone holds: the five parameters the
        merchant's server handed out, the ``paySign`` checked as WeChat checks it (RSA over
        ``appId\ntimeStamp\nnonceStr\npackage\n`` with the merchant's key, ``signType`` RSA),
        the order found by its ``prepay_id``; then the payer taps (or cancels). Answers the
        ``errMsg`` the phone sees: ``requestPayment:ok``, ``requestPayment:fail cancel``, or
        ``requestPayment:fail <why>``."""
        names = ("timeStamp", "nonceStr", "package", "signType", "paySign")
        if any(not isinstance(params.get(n), str) or not params.get(n) for n in names):
            return {"errMsg": "requestPayment:fail parameter error: " + ", ".join(names)}
        package = params["package"]
        if params["signType"] != "RSA" or not package.startswith("prepay_id="):
            return {
                "errMsg": "requestPayment:fail parameter error: signType RSA, package prepay_id=…"
            }
        prepay_id = package[len("prepay_id=") :]
        order = next((o for o in self._orders.values() if o.prepay_id == prepay_id), None)
        if order is None:
            return {"errMsg": "requestPayment:fail prepay_id not found"}
        # "小程序调起支付签名": appId\ntimeStamp\nnonceStr\npackage\n, SHA256 with RSA.
        message = f"{order.appid}\n{params['timeStamp']}\n{params['nonceStr']}\n{package}\n"
        if not verify_message(self.merchant_public, message.encode(), params["paySign"]):
            return {"errMsg": "requestPayment:fail sign error"}
        if cancel:
            return {"errMsg": "requestPayment:fail cancel"}
        try:
            paid = self.pay(order.out_trade_no, None)
        except ControlError as exc:
            return {"errMsg": f"requestPayment:fail {exc}"}
        return {"errMsg": "requestPayment:ok", **paid}

    # --- refunds -------------------------------------------------------------------------

    def refund_view(self, refund: _Refund) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": refund.transaction_id,
            "out_trade_no": refund.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": _rfc3339(refund.created_at),
            "status": refund.status,
            "funds_account": "AVAILABLE",
            "amount": {
                "total": refund.total,
                "refund": refund.refund,
                "from": [],
                "payer_total": refund.total,
                "payer_refund": refund.refund,
                "settlement_refund": refund.refund,
                "settlement_total": refund.total,
                "discount_refund": 0,
                "currency": "CNY",
                "refund_fee": 0,
            },
            "promotion_detail": [],
        }
        if refund.success_at is not None:
            answer["success_time"] = _rfc3339(refund.success_at)
        return answer

    def create_refund(self, body: dict[str, Any] | None) -> dict[str, Any]:
        """``POST /v3/refund/domestic/refunds``."""
        data = self._check_body(body)
        transaction_id = _string(
            data, "transaction_id", "/transaction_id", max_length=32, required=False
        )
        out_trade_no = _string(data, "out_trade_no", "/out_trade_no", max_length=32, required=False)
        if transaction_id is None and out_trade_no is None:
            raise _param("/out_trade_no", "transaction_id or out_trade_no is required")
        out_refund_no = _string(data, "out_refund_no", "/out_refund_no", max_length=64)
        assert out_refund_no
        if not OUT_REFUND_NO.fullmatch(out_refund_no):
            raise _param("/out_refund_no", "out_refund_no must be 1-64 of [0-9A-Za-z_-|*@]")
        reason = _string(data, "reason", "/reason", max_length=80, required=False)
        notify_url = _string(data, "notify_url", "/notify_url", max_length=256, required=False)
        if notify_url is not None:
            _notify_url(notify_url, "/notify_url")
        amount = _object(data, "amount", "/amount")
        refund_fen = _integer(amount, "refund", "/amount/refund", minimum=1)
        total = _integer(amount, "total", "/amount/total", minimum=1)
        if amount.get("currency") != "CNY":
            raise _param("/amount/currency", "currency is required and must be CNY")
        if transaction_id is not None:
            found = self._by_transaction.get(transaction_id)
            if found is None or (out_trade_no is not None and found != out_trade_no):
                raise WeChatPayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            out_trade_no = found
        assert out_trade_no is not None
        order = self._orders.get(out_trade_no)
        if order is None:
            raise WeChatPayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        existing = self._refunds.get(out_refund_no)
        if existing is not None:
            if (existing.out_trade_no, existing.refund, existing.total) != (
                out_trade_no,
                refund_fen,
                total,
            ):
                raise WeChatPayError(400, "INVALID_REQUEST", "退款单号重复，但参数与原退款单不一致")
            return self.refund_view(existing)
        if order.state not in ("SUCCESS", "REFUND") or order.transaction_id is None:
            raise WeChatPayError(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != order.total:
            raise WeChatPayError(400, "INVALID_REQUEST", "订单金额与原订单金额不一致")
        now = self.now()
        if now - (order.success_at or now) > REFUND_WINDOW_S:
            raise WeChatPayError(400, "INVALID_REQUEST", "交易时间超过一年的订单无法提交退款")
        mine = [r for r in self._refunds.values() if r.out_trade_no == out_trade_no]
        if len(mine) >= MAX_REFUNDS_PER_ORDER:
            raise WeChatPayError(400, "INVALID_REQUEST", "订单部分退款次数超过50次")
        if mine and now - max(r.created_at for r in mine) < REFUND_INTERVAL_S:
            raise WeChatPayError(429, "FREQUENCY_LIMITED", "同一笔订单多次退款的请求需相隔1分钟")
        left = order.total - sum(r.refund for r in mine if r.status != "CLOSED")
        if refund_fen > left:
            raise WeChatPayError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        refund = _Refund(
            out_refund_no=out_refund_no,
            refund_id="50" + "".join(secrets.choice(string.digits) for _ in range(27)),
            out_trade_no=out_trade_no,
            transaction_id=order.transaction_id,
            refund=refund_fen,
            total=total,
            reason=reason,
            notify_url=notify_url,
            created_at=now,
        )
        self._refunds[out_refund_no] = refund
        order.state = "REFUND"
        return self.refund_view(refund)

    def query_refund(self, out_refund_no: str) -> dict[str, Any]:
        refund = self._refunds.get(out_refund_no)
        if refund is None:
            raise WeChatPayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return self.refund_view(refund)

    def settle_refund(self, out_refund_no: str, status: str) -> dict[str, Any]:
        """The bank answers: the refund becomes SUCCESS, ABNORMAL or CLOSED, and is notified."""
        refund = self._refunds.get(out_refund_no)
        if refund is None:
            raise ControlError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        if status not in REFUND_EVENTS:
            raise ControlError(400, "PARAM_ERROR", "status must be SUCCESS, ABNORMAL or CLOSED")
        if refund.status not in ("PROCESSING", "ABNORMAL") or refund.status == status:
            raise ControlError(409, "INVALID_REQUEST", f"refund is {refund.status} already")
        refund.status = status
        if status == "SUCCESS":
            refund.success_at = self.now()
        answer: dict[str, Any] = {"out_refund_no": out_refund_no, "status": status}
        if refund.notify_url:
            event_type, summary = REFUND_EVENTS[status]
            faults = self.faults
            plaintext: dict[str, Any] = {
                "mchid": "1900000000" if faults.wrong_mchid else self.mch_id,
                "transaction_id": refund.transaction_id,
                "out_trade_no": refund.out_trade_no,
                "refund_id": refund.refund_id,
                "out_refund_no": refund.out_refund_no,
                "refund_status": status,
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": refund.total,
                    "refund": refund.refund + (1 if faults.wrong_amount else 0),
                    "payer_total": refund.total,
                    "payer_refund": refund.refund + (1 if faults.wrong_amount else 0),
                },
            }
            if refund.success_at is not None:
                plaintext["success_time"] = _rfc3339(refund.success_at)
            note = self._notify(
                kind="refund",
                event_type=event_type,
                summary=summary,
                reference=out_refund_no,
                url=refund.notify_url,
                original_type="refund",
                plaintext=plaintext,
            )
            answer["notification_id"] = note.id
        return answer

    # --- notifications -------------------------------------------------------------------

    def _notify(
        self,
        *,
        kind: str,
        event_type: str,
        summary: str,
        reference: str,
        url: str,
        original_type: str,
        plaintext: dict[str, Any],
    ) -> _Notification:
        faults = self.faults
        resource = encrypt_resource(
            self.apiv3_key,
            json.dumps(plaintext, ensure_ascii=False, separators=(",", ":")).encode(),
            original_type,
        )
        resource["original_type"] = original_type
        notification_id = str(uuid.uuid4())
        body = {
            "id": notification_id,
            "create_time": _rfc3339(self.now()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
        }
        note = _Notification(
            id=notification_id,
            kind=kind,
            event_type=event_type,
            reference=reference,
            url=url,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            faults=faults,
            made_at=time.monotonic(),
        )
        self._notifications[note.id] = note
        if faults.drop:
            note.state = "dropped"
        elif faults.out_of_order:
            note.state = "held"
            self._held.append(note)
            if len(self._held) == 1:
                self._spawn(self._release_held_later())
        else:
            self._spawn(self._deliver(note))
        return note

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release_held_later(self) -> None:
        await asyncio.sleep(OUT_OF_ORDER_WINDOW_S)
        self.flush()

    def flush(self) -> int:
        """Send the held notifications now, the last made first."""
        held, self._held = self._held, []
        for place, note in enumerate(reversed(held)):
            note.state = "pending"
            self._spawn(self._deliver(note, after_s=place * OUT_OF_ORDER_STAGGER_S))
        return len(held)

    async def _deliver(self, note: _Notification, *, after_s: float = 0.0) -> None:
        if note.faults.delay_s or after_s:
            await asyncio.sleep(note.faults.delay_s + after_s)
        for attempt, wait in enumerate((0.0, *RESEND_SCHEDULE_S)):
            if wait:
                await asyncio.sleep(wait / self.speedup)
            copies = note.faults.duplicate if attempt == 0 else 1
            answers = await asyncio.gather(*(self._attempt(note) for _ in range(copies)))
            if any(answers):
                note.state = "delivered"
                return
        note.state = "failed"

    async def _attempt(self, note: _Notification) -> bool:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=NOTIFY_TIMEOUT_S)
        headers = self.signed_headers(note.body, bad=note.faults.bad_signature)
        headers["Content-Type"] = "application/json"
        headers["User-Agent"] = "Mozilla/4.0 (sandbox WeChat Pay notifier)"
        self._counts["attempts"] += 1
        try:
            response = await self._http.post(note.url, content=note.body, headers=headers)
        except httpx.HTTPError as exc:
            note.attempts.append(_Attempt(time.monotonic(), None, type(exc).__name__))
            return False
        note.attempts.append(_Attempt(time.monotonic(), response.status_code))
        if response.status_code in (200, 204):
            self._counts["acknowledged"] += 1
            return True
        return False

    def notifications(self) -> list[dict[str, Any]]:
        return [note.summary() for note in self._notifications.values()]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- bills ---------------------------------------------------------------------------

    def set_differences(self, data: dict[str, Any]) -> dict[str, Any]:
        """The next bill generated will leave out, add or change these lines."""
        missing = data.get("missing", [])
        extra = data.get("extra", [])
        amounts = data.get("amounts", {})
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            raise ControlError(400, "PARAM_ERROR", "missing must be a list of out_trade_no")
        if not isinstance(extra, list) or not all(
            isinstance(e, dict)
            and isinstance(e.get("out_trade_no"), str)
            and isinstance(e.get("amount_fen"), int)
            for e in extra
        ):
            raise ControlError(400, "PARAM_ERROR", "extra must be [{out_trade_no, amount_fen}]")
        if not isinstance(amounts, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in amounts.values()
        ):
            raise ControlError(400, "PARAM_ERROR", "amounts must map out_trade_no to fen")
        self._differences = {"missing": missing, "extra": extra, "amounts": amounts}
        return self._differences

    def trade_bill(self, args: Any, base_url: str) -> dict[str, Any]:
        """``GET /v3/bill/tradebill``."""
        bill_date = args.get("bill_date")
        bill_type = args.get("bill_type") or "ALL"
        tar_type = args.get("tar_type")
        if not isinstance(bill_date, str) or not BILL_DATE.fullmatch(bill_date):
            raise _param("bill_date", "bill_date must be yyyy-MM-DD")
        try:
            day = date.fromisoformat(bill_date)
        except ValueError:
            raise _param("bill_date", "bill_date must be a real date") from None
        if bill_type not in ("ALL", "SUCCESS", "REFUND"):
            raise _param("bill_type", "bill_type must be ALL, SUCCESS or REFUND")
        if tar_type not in (None, "GZIP"):
            raise _param("tar_type", "tar_type must be GZIP")
        now = datetime.fromtimestamp(self.now(), CHINA)
        ready_at = datetime.combine(day + timedelta(days=1), datetime.min.time(), CHINA)
        if now < ready_at.replace(hour=BILL_READY_HOUR):
            raise WeChatPayError(400, "STATEMENT_CREATING", "账单生成中")
        if (now.date() - day).days > BILL_MAX_AGE_DAYS:
            raise WeChatPayError(400, "INVALID_REQUEST", "仅支持三个月内的账单下载申请")
        content = self._bill_content(day, bill_type)
        if content is None:
            raise WeChatPayError(400, "NO_STATEMENT_EXIST", "请求的账单文件不存在")
        token = secrets.token_urlsafe(24)
        self._bills[token] = _Bill(
            content=gzip.compress(content) if tar_type == "GZIP" else content,
            gzip=tar_type == "GZIP",
            expires_at=self.wall() + DOWNLOAD_TTL_S,
        )
        return {
            "hash_type": "SHA1",
            "hash_value": hashlib.sha1(content).hexdigest(),
            "download_url": f"{base_url}/v3/billdownload/file?token={token}",
        }

    def download(self, token: str | None) -> _Bill:
        bill = self._bills.get(token or "")
        if bill is None or self.wall() >= bill.expires_at:
            raise WeChatPayError(400, "INVALID_REQUEST", "参数错误：账单下载地址无效或已过期")
        return bill

    def _bill_content(self, day: date, bill_type: str) -> bytes | None:
        differences, self._differences = self._differences or {}, None
        missing = set(differences.get("missing", []))
        amounts: dict[str, int] = differences.get("amounts", {})

        def on_day(moment: float | None) -> bool:
            return moment is not None and datetime.fromtimestamp(moment, CHINA).date() == day

        def clock(moment: float) -> str:
            return datetime.fromtimestamp(moment, CHINA).strftime("%Y-%m-%d %H:%M:%S")

        payments: list[tuple[float, _Order, int]] = []
        for order in self._orders.values():
            if on_day(order.success_at) and order.out_trade_no not in missing:
                assert order.success_at is not None
                paid = amounts.get(order.out_trade_no, order.total)
                payments.append((order.success_at, order, paid))
        for extra in differences.get("extra", []):
            ghost = _Order(
                out_trade_no=extra["out_trade_no"],
                trade_type="JSAPI",
                appid=self.appid,
                mchid=self.mch_id,
                description="",
                notify_url="",
                total=extra["amount_fen"],
                time_expire=None,
                openid=None,
                attach=None,
                created_at=self.now(),
                expires_at=self.now(),
                transaction_id="42000" + "".join(secrets.choice(string.digits) for _ in range(23)),
                payer_openid="o" + secrets.token_urlsafe(20),
            )
            moment = datetime.combine(day, datetime.min.time(), CHINA).timestamp() + 43200
            payments.append((moment, ghost, extra["amount_fen"]))
        refunds = [
            r
            for r in self._refunds.values()
            if on_day(r.created_at) and r.out_trade_no not in missing
        ]
        if bill_type == "SUCCESS":
            refunds = []
        if bill_type == "REFUND":
            payments = []
        if not payments and not refunds:
            return None

        def common(moment: float, order: _Order, state: str) -> list[str]:
            return [
                clock(moment),
                order.appid,
                order.mchid,
                "0",
                "",
                order.transaction_id or "",
                order.out_trade_no,
                order.payer_openid or "",
                order.trade_type,
                state,
                "OTHERS",
                "CNY",
            ]

        def fee(fen: int) -> str:
            return f"{(Decimal(fen) / 100 * FEE_RATE).quantize(Decimal('0.01'))}000"

        lines: list[list[str]] = []
        total_paid = total_refund = total_fee = 0
        for moment, order, paid in sorted(payments, key=lambda p: p[0]):
            head = common(moment, order, "SUCCESS")
            tail = [order.description, order.attach or "", fee(paid), "0.60%", _yuan(paid)]
            if bill_type == "ALL":
                no_refund = ["0", "0", "0.00", "0.00", "", ""]
                lines.append([*head, _yuan(paid), "0.00", *no_refund, *tail, "0.00", ""])
            else:
                lines.append([*head, _yuan(paid), "0.00", *tail, ""])
            total_paid += paid
            total_fee += int(Decimal(fee(paid)) * 100)
        for refund in sorted(refunds, key=lambda r: r.created_at):
            order = self._orders[refund.out_trade_no]
            head = common(refund.created_at, order, "REFUND")
            refund_part = [
                refund.refund_id,
                refund.out_refund_no,
                _yuan(refund.refund),
                "0.00",
                "ORIGINAL",
                refund.status,
            ]
            tail = [order.description, order.attach or "", "0.00000", "0.60%", "0.00"]
            if bill_type == "ALL":
                lines.append([*head, "0.00", "0.00", *refund_part, *tail, _yuan(refund.refund), ""])
            else:
                success = clock(refund.success_at) if refund.success_at else ""
                times = [clock(refund.created_at), success]
                lines.append(
                    [*head, "0.00", "0.00", *times, *refund_part, *tail, _yuan(refund.refund), ""]
                )
            total_refund += refund.refund
        header, summary_header = {
            "ALL": (ALL_HEADER, ALL_SUMMARY),
            "SUCCESS": (SUCCESS_HEADER, SUCCESS_SUMMARY),
            "REFUND": (REFUND_HEADER, ALL_SUMMARY),
        }[bill_type]
        count = str(len(lines))
        if bill_type == "SUCCESS":
            summary = [count, _yuan(total_paid), _yuan(total_fee), _yuan(total_paid)]
        else:
            summary = [
                count,
                _yuan(total_paid),
                _yuan(total_refund),
                "0.00",
                _yuan(total_fee),
                _yuan(total_paid),
                _yuan(total_refund),
            ]
        rows = [header]
        rows += [",".join("`" + value for value in line) for line in lines]
        rows += [summary_header, ",".join("`" + value for value in summary)]
        return ("\r\n".join(rows) + "\r\n").encode("utf-8")


Handler = Callable[..., Awaitable[HTTPResponse]]


def wechatpay_blueprint(state: WeChatPaySandbox) -> Blueprint:
    """The platform's routes and the control routes, served from ``state``."""
    prefix = "/sandbox/wechatpay"
    bp = Blueprint("sandbox_wechatpay", url_prefix=prefix)

    def signed(status: int, payload: dict[str, Any] | None) -> HTTPResponse:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = state.signed_headers(body)
        if payload is None:
            return raw(b"", status=status, headers=headers, content_type="application/json")
        return raw(body, status=status, headers=headers, content_type="application/json")

    def platform(api: str, *, success: int = 200) -> Callable[[Callable[..., Any]], Handler]:
        """Authenticate, run, answer signed: the payload, or the error with its status."""

        def decorate(fn: Callable[..., Any]) -> Handler:
            @wraps(fn)
            async def handler(request: Request, **params: str) -> HTTPResponse:
                url = request.path + (f"?{request.query_string}" if request.query_string else "")
                body = request.body or b""
                try:
                    if request.method in ("POST", "PUT", "PATCH") and not (
                        request.headers.get("content-type", "").startswith("application/json")
                    ):
                        raise WeChatPayError(
                            400, "INVALID_REQUEST", "Content-Type必须为application/json"
                        )
                    state.authenticate(request.method, url, request.headers, body)
                    payload = fn(request, **{k: unquote(v) for k, v in params.items()})
                except WeChatPayError as exc:
                    state.count(api, error=True)
                    return signed(exc.status, exc.body())
                except Exception:
                    log.exception("sandbox wechatpay handler failed", extra={"api": api})
                    state.count(api, error=True)
                    return signed(500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
                state.count(api, error=False)
                if isinstance(payload, HTTPResponse):
                    return payload
                return signed(success, payload)

            return handler

        return decorate

    def control(fn: Callable[[Request], dict[str, Any]]) -> Handler:
        @wraps(fn)
        async def handler(request: Request) -> HTTPResponse:
            try:
                return json_response(fn(request))
            except ControlError as exc:
                return json_response({"code": exc.code, "message": exc.message}, status=exc.status)

        return handler

    def control_body(request: Request) -> dict[str, Any]:
        if not request.body:
            return {}
        data = json_object(request)
        if data is None:
            raise ControlError(400, "PARAM_ERROR", "a JSON object is required")
        return data

    # --- the platform ------------------------------------------------------------------------

    @bp.post("/v3/pay/transactions/jsapi", name="jsapi")
    @platform("jsapi")
    def jsapi(request: Request) -> dict[str, Any]:
        return state.create_order(json_object(request), trade_type="JSAPI")

    @bp.post("/v3/pay/transactions/native", name="native")
    @platform("native")
    def native(request: Request) -> dict[str, Any]:
        return state.create_order(json_object(request), trade_type="NATIVE")

    @bp.get("/v3/pay/transactions/out-trade-no/<out_trade_no:str>", name="query_order")
    @platform("query_order")
    def query_order(request: Request, out_trade_no: str) -> dict[str, Any]:
        return state.query_order(out_trade_no, request.args.get("mchid"))

    @bp.post("/v3/pay/transactions/out-trade-no/<out_trade_no:str>/close", name="close")
    @platform("close", success=204)
    def close(request: Request, out_trade_no: str) -> None:
        state.close_order(out_trade_no, json_object(request))

    @bp.post("/v3/refund/domestic/refunds", name="refund")
    @platform("refund")
    def refund(request: Request) -> dict[str, Any]:
        return state.create_refund(json_object(request))

    @bp.get("/v3/refund/domestic/refunds/<out_refund_no:str>", name="query_refund")
    @platform("query_refund")
    def query_refund(request: Request, out_refund_no: str) -> dict[str, Any]:
        return state.query_refund(out_refund_no)

    @bp.get("/v3/bill/tradebill", name="tradebill")
    @platform("tradebill")
    def tradebill(request: Request) -> dict[str, Any]:
        base = f"{request.scheme}://{request.host}{prefix}"
        return state.trade_bill(request.args, base)

    @bp.get("/v3/billdownload/file", name="billdownload")
    @platform("billdownload")
    def billdownload(request: Request) -> HTTPResponse:
        bill = state.download(request.args.get("token"))
        kind = "application/octet-stream" if bill.gzip else "text/plain; charset=utf-8"
        return raw(bill.content, status=200, content_type=kind)

    # --- control ---------------------------------------------------------------------------

    @bp.post("/_control/pay", name="control_pay")
    @control
    def pay(request: Request) -> dict[str, Any]:
        data = control_body(request)
        out_trade_no = data.get("out_trade_no")
        openid = data.get("openid")
        if not isinstance(out_trade_no, str) or (
            openid is not None and not isinstance(openid, str)
        ):
            raise ControlError(400, "PARAM_ERROR", "out_trade_no (and openid) must be strings")
        return state.pay(out_trade_no, openid)

    @bp.post("/_control/request-payment", name="control_request_payment")
    @control
    def request_payment(request: Request) -> dict[str, Any]:
        """The phone's ``wx.requestPayment(params)``: ``{"params": {...}, "cancel": false}``."""
        data = control_body(request)
        params, cancel = data.get("params"), data.get("cancel", False)
        if not isinstance(params, dict) or not isinstance(cancel, bool):
            raise ControlError(400, "PARAM_ERROR", "params must be an object, cancel a boolean")
        return state.request_payment(params, cancel=cancel)

    @bp.post("/_control/refund-settle", name="control_refund_settle")
    @control
    def refund_settle(request: Request) -> dict[str, Any]:
        data = control_body(request)
        out_refund_no, status = data.get("out_refund_no"), data.get("status", "SUCCESS")
        if not isinstance(out_refund_no, str) or not isinstance(status, str):
            raise ControlError(400, "PARAM_ERROR", "out_refund_no and status must be strings")
        return state.settle_refund(out_refund_no, status)

    @bp.get("/_control/faults", name="control_get_faults")
    @control
    def get_faults(request: Request) -> dict[str, Any]:
        return vars(state.faults).copy()

    @bp.post("/_control/faults", name="control_faults")
    @control
    def faults(request: Request) -> dict[str, Any]:
        state.faults = Faults.parse(control_body(request))
        if not state.faults.out_of_order:
            state.flush()
        return vars(state.faults).copy()

    @bp.post("/_control/flush", name="control_flush")
    @control
    def flush(request: Request) -> dict[str, Any]:
        return {"released": state.flush()}

    @bp.post("/_control/bill-differences", name="control_bill_differences")
    @control
    def bill_differences(request: Request) -> dict[str, Any]:
        return state.set_differences(control_body(request))

    @bp.post("/_control/speedup", name="control_speedup")
    @control
    def speedup(request: Request) -> dict[str, Any]:
        value = control_body(request).get("speedup")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ControlError(400, "PARAM_ERROR", "speedup must be a number > 0")
        state.speedup = float(value)
        return {"speedup": state.speedup}

    @bp.post("/_control/advance-clock", name="control_advance_clock")
    @control
    def advance_clock(request: Request) -> dict[str, Any]:
        seconds = control_body(request).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ControlError(400, "PARAM_ERROR", "seconds must be a number")
        return {"now": state.advance_clock(float(seconds))}

    @bp.get("/_control/merchant", name="control_merchant")
    @control
    def merchant(request: Request) -> dict[str, Any]:
        """Whom this peer serves, for a test that builds the merchant side against it."""
        return {"appid": state.appid, "mchid": state.mch_id, "speedup": state.speedup}

    @bp.get("/_control/notifications", name="control_notifications")
    @control
    def notifications(request: Request) -> dict[str, Any]:
        return {"notifications": state.notifications()}

    @bp.listener("after_server_stop")
    async def close_client(app: Any) -> None:
        with contextlib.suppress(Exception):
            await state.close()

    add_state_controls(bp, state)
    return bp


__all__ = [
    "RESEND_SCHEDULE_S",
    "WeChatPayError",
    "WeChatPaySandbox",
    "answer_message",
    "encrypt_resource",
    "request_message",
    "sign_message",
    "verify_message",
    "wechatpay_blueprint",
]
