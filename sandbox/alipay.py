"""The Alipay OpenAPI gateway, as a local HTTP peer (``POST /sandbox/alipay/gateway.do``).

Written from Alipay's own pages, never from our adapter (``payments/providers/alipay.py``): the
peer must catch an adapter that signs, converts or reads an answer wrongly. An adapter pointed at
``<server>/sandbox/alipay/gateway.do`` instead of ``https://openapi.alipay.com/gateway.do`` runs
unchanged. Every answer is HTTP 200 ``{"<method with underscores>_response": {...}, "sign": …}``
whose ``sign`` is RSA2 (SHA256withRSA, PKCS#1 v1.5, base64) over the exact JSON text of the
response object, made with the Alipay private key of the sandbox key folder
(``sandbox/keys.py``); requests are verified with the app public key of the same folder.

Rules the documentation states and the peer enforces (sources: the open platform's pages 公共错误码,
签名 (自行实现签名), 异步通知说明, and the page of each API named below):

* common parameters, in this order: ``method`` missing 40001 ``isv.missing-method``, unknown
  40002 ``isv.invalid-method`` (both under ``error_response``: the gateway cannot name the
  method); ``app_id`` missing 40001 ``isv.missing-app-id``, another app's 40002
  ``isv.invalid-app-id`` (unsigned: the gateway has no key for an app it does not know);
  ``format`` other than JSON 40002 ``isv.invalid-format``; ``charset`` missing or other than
  utf-8/gbk 40002 ``isv.invalid-charset``; ``sign_type`` missing 40001
  ``isv.missing-signature-type``, other than RSA2/RSA 40002 ``isv.invalid-signature-type``, RSA
  (SHA1) 40002 ``isv.missing-signature-config`` (only an RSA2 key is configured, as Alipay
  requires for apps created since 2018); ``sign`` missing 40001 ``isv.missing-signature``;
  ``timestamp`` missing 40001 ``isv.missing-timestamp``, not ``yyyy-MM-dd HH:mm:ss`` (GMT+8) or
  more than 30 minutes off 40002 ``isv.invalid-timestamp``; ``version`` missing 40001
  ``isv.missing-version``, other than ``1.0`` 40002 ``isv.invalid-parameter``;
* the signature: drop ``sign`` and every empty value, sort by key, join ``key=value`` with ``&``
  (values not URL-encoded), SHA256withRSA with the app key; anything else 40002
  ``isv.invalid-signature`` with the documented sub_msg that quotes the string the gateway
  verified (``sign_content``);
* ``biz_content`` missing or not a JSON object 40002 ``isv.invalid-parameter``; a business
  field missing, too long or malformed 40004 ``ACQ.INVALID_PARAMETER``;
* amounts (``total_amount``, ``refund_amount``) are yuan with at most two decimals
  ("单位为元，精确到小数点后两位"); another shape 40004 ``ACQ.INVALID_PARAMETER``, outside
  [0.01, 100000000] 40004 ``ACQ.TOTAL_FEE_EXCEED``;
* ``out_trade_no`` at most 64 of letters, digits and ``_`` ("仅支持字母、数字、下划线");
  ``subject`` at most 256 characters without ``/``, ``=`` or ``&`` ("不可使用特殊字符");
* ``alipay.trade.create`` (小程序支付): ``buyer_open_id`` or ``buyer_id`` (2088 and 12 digits)
  required; ``product_code`` if given ``JSAPI_PAY``; answers ``trade_no`` for ``my.tradePay``;
  ``alipay.trade.precreate``: answers ``qr_code``; the trade exists at Alipay only once the
  buyer scanned it (until then query and close answer ``ACQ.TRADE_NOT_EXIST``);
* the same ``out_trade_no`` again: the same trade (same ``trade_no``) when nothing changed,
  ``ACQ.CONTEXT_INCONSISTENT`` when amount, subject or buyer differ (``ACQ.TRADE_BUYER_NOT_MATCH``
  for another buyer), ``ACQ.TRADE_HAS_SUCCESS`` when paid, ``ACQ.TRADE_HAS_CLOSE`` when closed;
* ``time_expire`` (``yyyy-MM-dd HH:mm:ss``) or ``timeout_express`` (1m–15d): past it an unpaid
  trade is ``TRADE_CLOSED`` and can no longer be paid;
* ``alipay.trade.query``: ``ACQ.TRADE_NOT_EXIST`` for an unknown trade; ``send_pay_date`` once
  paid (kept when a full refund closes the trade: "支付完成后全额退款" is also TRADE_CLOSED);
* ``alipay.trade.close``: only a ``WAIT_BUYER_PAY`` trade, else ``ACQ.TRADE_STATUS_ERROR``;
* ``alipay.trade.refund``: ``out_request_no`` identifies a refund; repeating it with the same
  amount refunds nothing more and answers ``fund_change`` ``N``; with another amount
  ``ACQ.DISCORDANT_REPEAT_REQUEST``; without it (it then defaults to the ``out_trade_no``) the
  amount must be the whole trade (``ACQ.REFUND_AMT_NOT_EQUAL_TOTAL``); more than what is left
  ``ACQ.REASON_TRADE_REFUND_FEE_ERR``; an unpaid or closed trade ``ACQ.TRADE_STATUS_ERROR``; a
  trade fully refunded becomes ``TRADE_CLOSED``; ``refund_fee`` is the trade's total refunded;
* ``alipay.trade.fastpay.refund.query``: ``refund_status`` ``REFUND_SUCCESS`` with
  ``refund_amount`` once the refund succeeded; while it is processing, or when it failed, the
  answer carries neither ("未返回该字段表示退款请求未收到或者退款失败");
* ``alipay.data.dataservice.bill.downloadurl.query``: ``bill_type`` ``trade``, ``bill_date``
  ``yyyy-MM-dd`` or ``yyyy-MM`` of a finished day or month (T+1; today or later 40004
  ``isp.bill_not_exist``); the ``bill_download_url`` works for 30 s and serves a zip of the two
  GBK CSV files (业务明细 and 业务明细(汇总)) in the documented layout;
* asynchronous notifications (异步通知): a form POST to the trade's ``notify_url`` with
  ``notify_time, notify_type=trade_status_sync, notify_id, app_id, charset, version, sign_type,
  sign, trade_no, out_trade_no, trade_status, total_amount, receipt_amount, buyer_pay_amount, …``
  signed over every other non-empty field sorted (``sign`` and ``sign_type`` excluded); resent at
  4m, 10m, 10m, 1h, 2h, 6h, 15h (divided by the speed-up) until the answer body is exactly
  ``success``; a refund notifies the trade's status again with ``out_biz_no``, ``refund_fee`` and
  ``gmt_refund`` (and ``TRADE_CLOSED`` with ``gmt_close`` after a full refund).

Choices where the pages are silent: the peer's answers are ``application/json; charset=utf-8``;
the timestamp window is checked against the host clock, not the clock tests move; a refund made
while ``refund_processing`` is on answers ``fund_change`` ``N`` and stays unknown to the refund
query until ``_control/refund-settle`` settles it; a failed refund frees its amount and may be
retried with the same number and amount; an expired download URL answers HTTP 403
"下载超时，请重新下载"; zip entry names are UTF-8 (flagged), the CSV text is GBK.

The ``_control/`` routes are not Alipay: they play the buyer (scan, pay), the test (fault
switches, bill differences, refund settlement, the clock) and read what happened (stats).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import logging
import math
import re
import secrets
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

from core.settings import get_settings
from sandbox._http import add_state_controls, json_object
from sandbox.faults import NotificationFaults, checked_faults
from sandbox.keys import ALIPAY_APP_PUBLIC, ALIPAY_KEY, SandboxKeys, ensure_sandbox_keys

log = logging.getLogger("zhangban.sandbox.alipay")

CHINA = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: "重发频率 4m,10m,10m,1h,2h,6h,15h": the first attempt at once, then these gaps (seconds).
RESEND_GAPS_S = (240, 600, 600, 3600, 7200, 21600, 54000)
#: The Alipay Global pages: "By default, the request expires in 30 minutes".
TIMESTAMP_WINDOW_S = 1800
DOWNLOAD_URL_TTL_S = 30
MIN_CENTS, MAX_CENTS = 1, 100_000_000_00
NOTIFY_TIMEOUT_S = 15.0

METHODS = (
    "alipay.trade.create",
    "alipay.trade.precreate",
    "alipay.trade.query",
    "alipay.trade.close",
    "alipay.trade.refund",
    "alipay.trade.fastpay.refund.query",
    "alipay.data.dataservice.bill.downloadurl.query",
)

#: 公共错误码: code → msg.
GATEWAY_MSG = {
    "10000": "Success",
    "20000": "Service Currently Unavailable",
    "40001": "Missing Required Arguments",
    "40002": "Invalid Arguments",
    "40004": "Business Failed",
}

SUB_MSG = {
    "isv.missing-method": "缺少方法名参数",
    "isv.invalid-method": "不存在的方法名",
    "isv.missing-app-id": "缺少AppID参数",
    "isv.invalid-app-id": "无效的AppID参数",
    "isv.invalid-format": "无效的数据格式",
    "isv.invalid-charset": "字符集错误",
    "isv.missing-signature-type": "缺少签名类型参数",
    "isv.invalid-signature-type": "无效签名类型",
    "isv.missing-signature-config": "验签出错, 未配置对应签名算法的公钥或者证书",
    "isv.missing-signature": "缺少签名参数",
    "isv.invalid-signature": "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
    "isv.missing-timestamp": "缺少时间戳参数",
    "isv.invalid-timestamp": "非法的时间戳参数",
    "isv.missing-version": "缺少版本参数",
    "isv.invalid-parameter": "参数无效",
    "ACQ.INVALID_PARAMETER": "参数无效",
    "ACQ.TOTAL_FEE_EXCEED": "订单总金额不在允许范围内",
    "ACQ.TRADE_HAS_SUCCESS": "交易已被支付",
    "ACQ.TRADE_HAS_CLOSE": "交易已经关闭",
    "ACQ.CONTEXT_INCONSISTENT": "交易信息被篡改",
    "ACQ.TRADE_BUYER_NOT_MATCH": "交易买家不匹配",
    "ACQ.TRADE_NOT_EXIST": "交易不存在",
    "ACQ.TRADE_STATUS_ERROR": "交易状态不合法",
    "ACQ.TRADE_HAS_FINISHED": "交易已完结",
    "ACQ.DISCORDANT_REPEAT_REQUEST": "不一致的请求",
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "撤销或退款金额与订单金额不一致",
    "ACQ.REASON_TRADE_REFUND_FEE_ERR": "退款金额无效",
    "isp.bill_not_exist": "账单不存在",
}

OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_]{1,64}")
OUT_REQUEST_NO = re.compile(r"[0-9A-Za-z_\-]{1,64}")
BUYER_ID = re.compile(r"2088[0-9]{12}")
AMOUNT = re.compile(r"(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?")
TIMEOUT_EXPRESS = re.compile(r"([1-9][0-9]*)([mhd])")
BILL_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
BILL_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
SUBJECT_FORBIDDEN = frozenset("/=&")

DETAIL_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)
RULE = "#-----------------------------------------"


# --- the documented formulas, written here from the pages -----------------------------------


def sign_content(params: dict[str, str], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    """The string Alipay signs: no excluded key, no empty value, sorted by key, ``k=v`` by ``&``."""
    pairs = sorted((k, v) for k, v in params.items() if k not in exclude and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs)


def rsa2_sign(key: rsa.RSAPrivateKey, content: str, charset: str = "utf-8") -> str:
    signature = key.sign(content.encode(charset), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(key: rsa.RSAPublicKey, content: str, signature: str, charset: str) -> bool:
    try:
        raw_signature = base64.b64decode(signature, validate=True)
        key.verify(raw_signature, content.encode(charset), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        return False
    return True


def yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def beijing(moment: float) -> str:
    return datetime.fromtimestamp(moment, CHINA).strftime(TIME_FORMAT)


def beijing_date(moment: float) -> date:
    return datetime.fromtimestamp(moment, CHINA).date()


class GatewayError(Exception):
    """A gateway or business error answer: ``code``, ``sub_code`` and the sub_msg."""

    def __init__(self, code: str, sub_code: str, detail: str = "", *, signed: bool = True) -> None:
        self.code = code
        self.sub_code = sub_code
        base = SUB_MSG.get(sub_code, "")
        self.sub_msg = f"{base}：{detail}" if detail and base else (detail or base)
        self.signed = signed
        super().__init__(f"{code} {sub_code} {self.sub_msg}")


class BusinessError(GatewayError):
    def __init__(self, sub_code: str, detail: str = "") -> None:
        super().__init__("40004", sub_code, detail)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass
class _Refund:
    out_request_no: str
    cents: int
    reason: str
    #: "success", "processing" or "failed"
    state: str
    requested_at: float
    settled_at: float | None = None


@dataclass
class _Trade:
    out_trade_no: str
    trade_no: str
    cents: int
    subject: str
    method: str
    created_at: float
    expires_at: float | None
    notify_url: str
    buyer_id: str
    buyer_open_id: str
    body: str = ""
    status: str = "WAIT_BUYER_PAY"
    #: a precreated trade exists at Alipay only once the buyer scanned its QR code
    scanned: bool = True
    paid_at: float | None = None
    closed_at: float | None = None
    refunds: dict[str, _Refund] = field(default_factory=dict)

    def refunded_cents(self, *, reserved: bool = False) -> int:
        states = ("success", "processing") if reserved else ("success",)
        return sum(r.cents for r in self.refunds.values() if r.state in states)


@dataclass
class _BillLine:
    day: date
    kind: str  # 交易 / 退款
    trade_no: str
    out_trade_no: str
    subject: str
    created_at: float
    finished_at: float
    cents: int
    out_request_no: str = ""


@dataclass
class _Notification:
    notify_id: str
    out_trade_no: str
    url: str
    form: dict[str, str]
    duplicate: int
    delay_s: float
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    dropped: bool = False
    queued: bool = False


@dataclass
class Faults(NotificationFaults):
    """What goes wrong with the notifications created (and refunds made) while it is set
    (``sandbox.faults``), and Alipay's own switches."""

    #: another app's ``app_id``, another seller's ``seller_id``, another ``total_amount``, each
    #: correctly signed, so only the adapter's checks after the signature can catch them
    wrong_app_id: bool = False
    wrong_seller_id: bool = False
    wrong_total_amount: bool = False
    #: the gateway's answers carry a signature that does not verify
    response_bad_signature: bool = False
    #: new refunds stay processing until ``_control/refund-settle``
    refund_processing: bool = False


class AlipaySandbox:
    """The gateway's state for one app and seller, with its own clock and outgoing notifications.

    Every gateway method runs without awaiting, so on the single-worker server each request sees
    and leaves a consistent state; notifications are sent by asyncio tasks afterwards.
    """

    def __init__(
        self,
        *,
        app_id: str,
        seller_id: str,
        keys: SandboxKeys,
        speedup: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (math.isfinite(speedup) and speedup > 0):
            raise ValueError("speedup must be a positive number")
        self.app_id = app_id
        self.seller_id = seller_id
        self.speedup = speedup
        self._app_public = keys.public_key(ALIPAY_APP_PUBLIC)
        self._alipay_key = keys.private_key(ALIPAY_KEY)
        #: signs what a forger would send: a valid RSA2 signature by the wrong key
        self._forger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._clock = clock
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.reset()

    # --- state and clock ----------------------------------------------------------------------

    def reset(self) -> None:
        for task in getattr(self, "_tasks", set()):
            task.cancel()
        self._tasks = set()
        self._offset = 0.0
        self.faults = Faults()
        self._trades: dict[str, _Trade] = {}
        self._by_trade_no: dict[str, str] = {}
        self._bill: list[_BillLine] = []
        self._bill_differences: dict[str, Any] = {}
        self._downloads: dict[str, tuple[float, bytes, str]] = {}
        self._notifications: list[_Notification] = []
        self._queue: list[_Notification] = []
        self._calls: Counter[str] = Counter()
        self._errors: Counter[str] = Counter()
        self._sequence = 0

    def now(self) -> float:
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ControlError(400, "seconds must be a finite, non-negative number")
        self._offset += seconds
        return self.now()

    def stats(self) -> dict[str, Any]:
        return {
            "calls": {method: self._calls[method] for method in METHODS},
            "errors": {method: self._errors[method] for method in METHODS},
            "trades": len(self._trades),
            "notifications": [self._notification_view(n) for n in self._notifications],
            "queued": len(self._queue),
        }

    @staticmethod
    def _notification_view(n: _Notification) -> dict[str, Any]:
        return {
            "notify_id": n.notify_id,
            "out_trade_no": n.out_trade_no,
            "trade_status": n.form.get("trade_status", ""),
            "refund": "out_biz_no" in n.form,
            "attempts": list(n.attempts),
            "delivered": n.delivered,
            "dropped": n.dropped,
            "queued": n.queued,
        }

    def _next_trade_no(self) -> str:
        self._sequence += 1
        day = datetime.fromtimestamp(self.now(), CHINA).strftime("%Y%m%d")
        return f"{day}2200{secrets.randbelow(10**14):014d}{self._sequence % 10**6:06d}"

    def _trade(self, biz: dict[str, Any], *, visible_only: bool = True) -> _Trade:
        out_trade_no = _optional_str(biz, "out_trade_no", 64)
        trade_no = _optional_str(biz, "trade_no", 64)
        if not out_trade_no and not trade_no:
            raise BusinessError("ACQ.INVALID_PARAMETER", "out_trade_no 与 trade_no 不能同时为空")
        key = (trade_no and self._by_trade_no.get(trade_no)) or out_trade_no
        trade = self._trades.get(key or "")
        if trade is None or (trade_no and trade.trade_no != trade_no):
            raise BusinessError("ACQ.TRADE_NOT_EXIST")
        if visible_only and not trade.scanned:
            raise BusinessError("ACQ.TRADE_NOT_EXIST")
        self._expire(trade)
        return trade

    def _expire(self, trade: _Trade) -> None:
        if (
            trade.status == "WAIT_BUYER_PAY"
            and trade.expires_at is not None
            and self.now() >= trade.expires_at
        ):
            trade.status = "TRADE_CLOSED"
            trade.closed_at = trade.expires_at

    # --- the gateway ---------------------------------------------------------------------------

    def gateway(
        self, params: dict[str, str], *, host_now: float | None = None
    ) -> tuple[str, dict[str, Any], bool]:
        """Check the common parameters and the signature, run the method. Returns the response
        key, the response object and whether to sign it; raises ``GatewayError``."""
        method = params.get("method", "")
        if not method:
            raise _Keyed("error_response", GatewayError("40001", "isv.missing-method"))
        if method not in METHODS:
            raise _Keyed("error_response", GatewayError("40002", "isv.invalid-method"))
        key = method.replace(".", "_") + "_response"
        try:
            self._calls[method] += 1
            self._check_common(params, host_now=host_now)
            biz = _biz_content(params.get("biz_content", ""))
            answer = self._run(method, params, biz)
        except GatewayError as exc:
            self._errors[method] += 1
            raise _Keyed(key, exc) from None
        return key, {"code": "10000", "msg": "Success", **answer}, True

    def _check_common(self, params: dict[str, str], *, host_now: float | None) -> None:
        app_id = params.get("app_id", "")
        if not app_id:
            raise GatewayError("40001", "isv.missing-app-id", signed=False)
        if app_id != self.app_id:
            raise GatewayError("40002", "isv.invalid-app-id", signed=False)
        fmt = params.get("format", "")
        if fmt and fmt.upper() != "JSON":
            raise GatewayError("40002", "isv.invalid-format")
        charset = params.get("charset", "")
        if charset.lower() not in ("utf-8", "gbk"):
            raise GatewayError("40002", "isv.invalid-charset")
        sign_type = params.get("sign_type", "")
        if not sign_type:
            raise GatewayError("40001", "isv.missing-signature-type")
        if sign_type not in ("RSA2", "RSA"):
            raise GatewayError("40002", "isv.invalid-signature-type")
        if sign_type == "RSA":
            raise GatewayError("40002", "isv.missing-signature-config")
        signature = params.get("sign", "")
        if not signature:
            raise GatewayError("40001", "isv.missing-signature")
        stamp = params.get("timestamp", "")
        if not stamp:
            raise GatewayError("40001", "isv.missing-timestamp")
        try:
            sent = datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=CHINA).timestamp()
        except ValueError:
            raise GatewayError("40002", "isv.invalid-timestamp") from None
        reference = time.time() if host_now is None else host_now
        if abs(reference - sent) > TIMESTAMP_WINDOW_S:
            raise GatewayError("40002", "isv.invalid-timestamp")
        version = params.get("version", "")
        if not version:
            raise GatewayError("40001", "isv.missing-version")
        if version != "1.0":
            raise GatewayError("40002", "isv.invalid-parameter", "version must be 1.0")
        content = sign_content(params)
        if not rsa2_verify(self._app_public, content, signature, charset.lower()):
            raise GatewayError(
                "40002", "isv.invalid-signature", f"网关生成的验签字符串为：{content}"
            )
        notify_url = params.get("notify_url", "")
        if notify_url and not _valid_url(notify_url):
            raise GatewayError("40002", "isv.invalid-parameter", "notify_url")

    def _run(self, method: str, params: dict[str, str], biz: dict[str, Any]) -> dict[str, Any]:
        if method == "alipay.trade.create":
            return self._create(params, biz, precreate=False)
        if method == "alipay.trade.precreate":
            return self._create(params, biz, precreate=True)
        if method == "alipay.trade.query":
            return self._query(biz)
        if method == "alipay.trade.close":
            return self._close(biz)
        if method == "alipay.trade.refund":
            return self._refund(biz)
        if method == "alipay.trade.fastpay.refund.query":
            return self._refund_query(biz)
        return self._bill_url(biz, params)

    def _create(
        self, params: dict[str, str], biz: dict[str, Any], *, precreate: bool
    ) -> dict[str, Any]:
        out_trade_no = _required_str(biz, "out_trade_no", 64)
        if not OUT_TRADE_NO.fullmatch(out_trade_no):
            raise BusinessError(
                "ACQ.INVALID_PARAMETER", "out_trade_no 仅支持字母、数字、下划线，64个字符以内"
            )
        cents = _amount(biz, "total_amount")
        subject = _required_str(biz, "subject", 256)
        if SUBJECT_FORBIDDEN & set(subject):
            raise BusinessError("ACQ.INVALID_PARAMETER", "subject 不可使用特殊字符 / = &")
        body = _optional_str(biz, "body", 128)
        product_code = _optional_str(biz, "product_code", 64)
        buyer_id = buyer_open_id = ""
        if precreate:
            if product_code and product_code != "FACE_TO_FACE_PAYMENT":
                raise BusinessError("ACQ.INVALID_PARAMETER", "product_code")
        else:
            if product_code and product_code != "JSAPI_PAY":
                raise BusinessError("ACQ.INVALID_PARAMETER", "product_code 小程序场景为 JSAPI_PAY")
            _optional_str(biz, "op_app_id", 32)
            buyer_id = _optional_str(biz, "buyer_id", 28)
            buyer_open_id = _optional_str(biz, "buyer_open_id", 128)
            if not buyer_id and not buyer_open_id:
                raise BusinessError(
                    "ACQ.INVALID_PARAMETER", "buyer_open_id 与 buyer_id 不能同时为空"
                )
            if buyer_id and not BUYER_ID.fullmatch(buyer_id):
                raise BusinessError("ACQ.INVALID_PARAMETER", "buyer_id")
        seller_id = _optional_str(biz, "seller_id", 28)
        if seller_id and seller_id != self.seller_id:
            raise BusinessError("ACQ.INVALID_PARAMETER", "seller_id")
        expires_at = self._expiry(biz)
        existing = self._trades.get(out_trade_no)
        if existing is not None:
            self._expire(existing)
            if existing.status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                raise BusinessError("ACQ.TRADE_HAS_SUCCESS")
            if existing.status == "TRADE_CLOSED":
                raise BusinessError("ACQ.TRADE_HAS_CLOSE")
            same_buyer = (existing.buyer_id, existing.buyer_open_id) == (buyer_id, buyer_open_id)
            if existing.method == "create" and not precreate and not same_buyer:
                raise BusinessError("ACQ.TRADE_BUYER_NOT_MATCH")
            method = "precreate" if precreate else "create"
            if (existing.cents, existing.subject, existing.method) != (cents, subject, method):
                raise BusinessError("ACQ.CONTEXT_INCONSISTENT")
            trade = existing
        else:
            trade = _Trade(
                out_trade_no=out_trade_no,
                trade_no=self._next_trade_no(),
                cents=cents,
                subject=subject,
                method="precreate" if precreate else "create",
                created_at=self.now(),
                expires_at=expires_at,
                notify_url=params.get("notify_url", ""),
                buyer_id=buyer_id,
                buyer_open_id=buyer_open_id,
                body=body,
                scanned=not precreate,
            )
            self._trades[out_trade_no] = trade
            self._by_trade_no[trade.trade_no] = out_trade_no
        if precreate:
            return {"out_trade_no": out_trade_no, "qr_code": f"https://qr.alipay.com/{_qr(trade)}"}
        return {"out_trade_no": out_trade_no, "trade_no": trade.trade_no}

    def _expiry(self, biz: dict[str, Any]) -> float | None:
        time_expire = _optional_str(biz, "time_expire", 32)
        timeout_express = _optional_str(biz, "timeout_express", 6)
        if time_expire:
            try:
                moment = datetime.strptime(time_expire, TIME_FORMAT).replace(tzinfo=CHINA)
            except ValueError:
                raise BusinessError(
                    "ACQ.INVALID_PARAMETER", "time_expire 格式为 yyyy-MM-dd HH:mm:ss"
                ) from None
            return moment.timestamp()
        if timeout_express:
            match = TIMEOUT_EXPRESS.fullmatch(timeout_express)
            if match is None:
                raise BusinessError("ACQ.INVALID_PARAMETER", "timeout_express 取值范围 1m～15d")
            unit = {"m": 60, "h": 3600, "d": 86400}[match.group(2)]
            seconds = int(match.group(1)) * unit
            if seconds > 15 * 86400:
                raise BusinessError("ACQ.INVALID_PARAMETER", "timeout_express 取值范围 1m～15d")
            return self.now() + seconds
        return None

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "138****0000",
            "trade_status": trade.status,
            "total_amount": yuan(trade.cents),
        }
        if trade.paid_at is not None:
            answer.update(
                buyer_pay_amount=yuan(trade.cents),
                receipt_amount=yuan(trade.cents),
                point_amount="0.00",
                invoice_amount=yuan(trade.cents),
                send_pay_date=beijing(trade.paid_at),
                buyer_user_id=trade.buyer_id,
            )
        else:
            answer["buyer_pay_amount"] = "0.00"
        return answer

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade.status != "WAIT_BUYER_PAY":
            raise BusinessError("ACQ.TRADE_STATUS_ERROR")
        trade.status = "TRADE_CLOSED"
        trade.closed_at = self.now()
        return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        cents = _amount(biz, "refund_amount")
        out_request_no = _optional_str(biz, "out_request_no", 64)
        reason = _optional_str(biz, "refund_reason", 256)
        if out_request_no and not OUT_REQUEST_NO.fullmatch(out_request_no):
            raise BusinessError("ACQ.INVALID_PARAMETER", "out_request_no")
        number = out_request_no or trade.out_trade_no
        existing = trade.refunds.get(number)
        if existing is not None and existing.cents != cents:
            raise BusinessError("ACQ.DISCORDANT_REPEAT_REQUEST")
        if existing is not None and existing.state != "failed":
            # "重试时请务必保证退款请求号和退款金额一致": the same refund, nothing more moves
            return self._refund_answer(trade, fund_change="N")
        if trade.status == "TRADE_FINISHED":
            raise BusinessError("ACQ.TRADE_HAS_FINISHED")
        if trade.status != "TRADE_SUCCESS":
            raise BusinessError("ACQ.TRADE_STATUS_ERROR")
        if not out_request_no and cents != trade.cents:
            raise BusinessError("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
        if cents > trade.cents - trade.refunded_cents(reserved=True):
            raise BusinessError("ACQ.REASON_TRADE_REFUND_FEE_ERR")
        now = self.now()
        refund = _Refund(number, cents, reason, "processing", now)
        trade.refunds[number] = refund
        if self.faults.refund_processing:
            return self._refund_answer(trade, fund_change="N")
        self._settle(trade, refund, success=True)
        return self._refund_answer(trade, fund_change="Y", refund=refund)

    def _refund_answer(
        self, trade: _Trade, *, fund_change: str, refund: _Refund | None = None
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "138****0000",
            "fund_change": fund_change,
            "refund_fee": yuan(trade.refunded_cents()),
            "send_back_fee": yuan(refund.cents if refund else 0),
        }
        if refund is not None and refund.settled_at is not None:
            answer["gmt_refund_pay"] = beijing(refund.settled_at)
        if trade.buyer_id:
            answer["buyer_user_id"] = trade.buyer_id
        return answer

    def _settle(self, trade: _Trade, refund: _Refund, *, success: bool) -> None:
        refund.state = "success" if success else "failed"
        refund.settled_at = self.now()
        if not success:
            return
        if trade.refunded_cents() == trade.cents:
            trade.status = "TRADE_CLOSED"
            trade.closed_at = refund.settled_at
        self._bill.append(
            _BillLine(
                day=beijing_date(refund.settled_at),
                kind="退款",
                trade_no=trade.trade_no,
                out_trade_no=trade.out_trade_no,
                subject=trade.subject,
                created_at=trade.created_at,
                finished_at=refund.settled_at,
                cents=-refund.cents,
                out_request_no=refund.out_request_no,
            )
        )
        if trade.notify_url:
            extra = {
                "out_biz_no": refund.out_request_no,
                "refund_fee": yuan(trade.refunded_cents()),
                "gmt_refund": beijing(refund.settled_at) + ".000",
            }
            if trade.status == "TRADE_CLOSED" and trade.closed_at is not None:
                extra["gmt_close"] = beijing(trade.closed_at)
            self._notify(trade, extra)

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        out_request_no = _required_str(biz, "out_request_no", 64)
        trade = self._trade(biz)
        options = biz.get("query_options") or []
        if not isinstance(options, list):
            raise BusinessError("ACQ.INVALID_PARAMETER", "query_options")
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "out_request_no": out_request_no,
        }
        refund = trade.refunds.get(out_request_no)
        if refund is None or refund.state != "success":
            return answer
        answer.update(
            total_amount=yuan(trade.cents),
            refund_amount=yuan(refund.cents),
            refund_status="REFUND_SUCCESS",
        )
        if refund.reason:
            answer["refund_reason"] = refund.reason
        if "gmt_refund_pay" in options and refund.settled_at is not None:
            answer["gmt_refund_pay"] = beijing(refund.settled_at)
        return answer

    def _bill_url(self, biz: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        bill_type = _required_str(biz, "bill_type", 16)
        bill_date = _required_str(biz, "bill_date", 16)
        if bill_type != "trade":
            raise BusinessError("ACQ.INVALID_PARAMETER", "bill_type 仅支持 trade")
        today = beijing_date(self.now())
        try:
            if BILL_DAY.fullmatch(bill_date):
                first = last = date.fromisoformat(bill_date)
                ready = last < today
            elif BILL_MONTH.fullmatch(bill_date):
                first = date.fromisoformat(bill_date + "-01")
                last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                ready = last < today
            else:
                raise ValueError(bill_date)
        except ValueError:
            raise BusinessError(
                "ACQ.INVALID_PARAMETER", "bill_date 日账单格式为yyyy-MM-dd，月账单格式为yyyy-MM"
            ) from None
        if not ready:
            raise BusinessError("isp.bill_not_exist")
        token = secrets.token_hex(16)
        stamp = bill_date.replace("-", "")
        name = f"{self.seller_id}0156_{stamp}.csv.zip"
        content = self._bill_zip(first, last, stamp)
        self._downloads[token] = (self.now() + DOWNLOAD_URL_TTL_S, content, name)
        query = urlencode(
            {
                "bizType": "trade",
                "userId": f"{self.seller_id}0156",
                "fileType": "csv.zip",
                "bizDates": stamp,
                "downloadFileName": name,
                "fileId": f"/trade/{self.seller_id}0156/{stamp}.csv.zip",
                "timestamp": str(int(self.now())),
                "token": token,
            }
        )
        # the handler puts the peer's own scheme and host in front
        return {"bill_download_url": f"/downloadBillFile.resource?{query}"}

    def _bill_zip(self, first: date, last: date, stamp: str) -> bytes:
        lines = [line for line in self._bill if first <= line.day <= last]
        lines = self._apply_differences(lines, first)
        account = f"{self.seller_id}0156"
        start = datetime.combine(first, datetime.min.time())
        end = datetime.combine(last + timedelta(days=1), datetime.min.time())
        period = (
            f"#起始日期：[{start:%Y年%m月%d日 %H:%M:%S}]   终止日期：[{end:%Y年%m月%d日 %H:%M:%S}]"
        )
        exported = datetime.fromtimestamp(self.now(), CHINA)
        detail = io.StringIO()
        detail.write("#支付宝业务明细查询\r\n")
        detail.write(f"#账号：[{account}]\r\n{period}\r\n")
        detail.write(f"{RULE}业务明细列表----------------------------------------\r\n")
        detail.write(DETAIL_HEADER + "\r\n")
        writer = csv.writer(detail, lineterminator="\r\n")
        for line in lines:
            amount = yuan(line.cents)
            writer.writerow(
                [
                    line.trade_no + "\t",
                    line.out_trade_no + "\t",
                    line.kind + "\t",
                    line.subject,
                    beijing(line.created_at),
                    beijing(line.finished_at),
                    "\t",
                    "\t",
                    "\t",
                    "\t",
                    "**买(138****0000)\t",
                    amount,
                    amount,
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "0.00",
                    "",
                    "0.00\t",
                    "0.00",
                    line.out_request_no + "\t",
                    "0.00",
                    "0.00",
                    "",
                ]
            )
        payments = sum(1 for line in lines if line.kind == "交易")
        refunds = len(lines) - payments
        detail.write(f"{RULE}业务明细列表结束------------------------------------\r\n")
        detail.write(f"#交易合计：{payments}笔，退款合计：{refunds}笔\r\n")
        detail.write(f"#导出时间：[{exported:%Y年%m月%d日 %H:%M:%S}]\r\n")
        total = sum(line.cents for line in lines)
        summary = io.StringIO()
        summary.write("#支付宝业务汇总查询\r\n")
        summary.write(f"#账号：[{account}]\r\n{period}\r\n")
        summary.write(f"{RULE}业务汇总列表----------------------------------------\r\n")
        summary.write(
            "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,"
            "支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\r\n"
        )
        summary.write(
            f"合计,,{payments},{refunds},{yuan(total)},{yuan(total)},0.00,0.00,0.00,0.00,0.00,"
            f"{yuan(total)}\r\n"
        )
        summary.write(f"{RULE}业务汇总列表结束------------------------------------\r\n")
        summary.write(f"#导出时间：[{exported:%Y年%m月%d日 %H:%M:%S}]\r\n")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{account}_{stamp}_业务明细.csv", detail.getvalue().encode("gbk"))
            archive.writestr(
                f"{account}_{stamp}_业务明细(汇总).csv", summary.getvalue().encode("gbk")
            )
        return buffer.getvalue()

    def _apply_differences(self, lines: list[_BillLine], day: date) -> list[_BillLine]:
        differences, self._bill_differences = self._bill_differences, {}
        if not differences:
            return lines
        lines = list(lines)
        payments = [line for line in lines if line.kind == "交易"]
        missing = differences.get("missing")
        if missing:
            victim = next((line for line in payments if line.out_trade_no == missing), None)
            if victim is None and missing is True and payments:
                victim = payments[0]
            if victim is not None:
                lines.remove(victim)
                payments.remove(victim)
        amount = differences.get("amount")
        if amount:
            target = next((line for line in payments if line.out_trade_no == amount), None)
            if target is None and amount is True and payments:
                target = payments[-1]
            if target is not None:
                index = lines.index(target)
                lines[index] = _BillLine(**{**target.__dict__, "cents": target.cents + 1})
        extra = differences.get("extra")
        if extra:
            out_trade_no = extra if isinstance(extra, str) else f"EXTRA_{secrets.token_hex(6)}"
            moment = datetime.combine(day, datetime.min.time(), CHINA).timestamp() + 43200
            lines.append(
                _BillLine(
                    day=day,
                    kind="交易",
                    trade_no=self._next_trade_no(),
                    out_trade_no=out_trade_no,
                    subject="sandbox",
                    created_at=moment,
                    finished_at=moment,
                    cents=100,
                )
            )
        return lines

    def download(self, token: str) -> tuple[bytes, str] | None:
        entry = self._downloads.get(token)
        if entry is None or self.now() >= entry[0]:
            return None
        return entry[1], entry[2]

    def sign_response(self, text: str) -> str:
        key = self._forger_key if self.faults.response_bad_signature else self._alipay_key
        return rsa2_sign(key, text)

    # --- control: the buyer and the test -------------------------------------------------------

    def scan(self, out_trade_no: str) -> _Trade:
        trade = self._trades.get(out_trade_no)
        if trade is None:
            raise ControlError(404, "no trade with this out_trade_no")
        trade.scanned = True
        return trade

    def pay(self, out_trade_no: str, buyer_id: str | None = None) -> dict[str, Any]:
        """The buyer pays: TRADE_SUCCESS, a bill line, and the notification on its way."""
        trade = self.scan(out_trade_no)
        self._expire(trade)
        if trade.status != "WAIT_BUYER_PAY":
            raise ControlError(409, f"trade is {trade.status}, not WAIT_BUYER_PAY")
        if buyer_id is not None and not BUYER_ID.fullmatch(buyer_id):
            raise ControlError(400, "buyer_id must be 2088 and 12 digits")
        trade.buyer_id = trade.buyer_id or buyer_id or "2088" + f"{secrets.randbelow(10**12):012d}"
        trade.status = "TRADE_SUCCESS"
        trade.paid_at = self.now()
        self._bill.append(
            _BillLine(
                day=beijing_date(trade.paid_at),
                kind="交易",
                trade_no=trade.trade_no,
                out_trade_no=trade.out_trade_no,
                subject=trade.subject,
                created_at=trade.created_at,
                finished_at=trade.paid_at,
                cents=trade.cents,
            )
        )
        notified = bool(trade.notify_url)
        if notified:
            self._notify(trade, {})
        return {"trade_no": trade.trade_no, "trade_status": trade.status, "notify": notified}

    def settle_refund(self, out_trade_no: str | None, out_request_no: str, state: str) -> str:
        if state not in ("success", "failed"):
            raise ControlError(400, "state must be success or failed")
        for trade in self._trades.values():
            if out_trade_no is not None and trade.out_trade_no != out_trade_no:
                continue
            refund = trade.refunds.get(out_request_no)
            if refund is None:
                continue
            if refund.state != "processing":
                raise ControlError(409, f"refund is {refund.state}, not processing")
            self._settle(trade, refund, success=state == "success")
            return refund.state
        raise ControlError(404, "no refund with this out_request_no")

    def set_faults(self, values: dict[str, Any]) -> dict[str, Any]:
        """The switches named (the others as they were)."""
        try:
            values = checked_faults(Faults, values)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        was_out_of_order = self.faults.out_of_order
        for name, value in values.items():
            setattr(self.faults, name, value)
        if was_out_of_order and not self.faults.out_of_order:
            self.flush()
        return self.fault_values()

    def fault_values(self) -> dict[str, Any]:
        return {name: getattr(self.faults, name) for name in Faults.names()}

    def set_bill_differences(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(values) - {"missing", "extra", "amount"})
        if unknown:
            raise ControlError(400, "unknown difference: " + ", ".join(unknown))
        for name, value in values.items():
            if not isinstance(value, bool | str) or (isinstance(value, str) and not value):
                raise ControlError(400, f"{name} must be true or an out_trade_no")
        self._bill_differences = {k: v for k, v in values.items() if v}
        return dict(self._bill_differences)

    def flush(self) -> int:
        """Send the held-back notifications, newest first."""
        queued, self._queue = self._queue, []
        for notification in reversed(queued):
            notification.queued = False
            self._start(notification)
        return len(queued)

    # --- notifications -------------------------------------------------------------------------

    def _notify(self, trade: _Trade, extra: dict[str, str]) -> None:
        faults = self.faults
        now = self.now()
        form: dict[str, str] = {
            "notify_time": beijing(now),
            "notify_type": "trade_status_sync",
            "notify_id": f"2025{secrets.token_hex(15)}",
            "app_id": "2021000000000999" if faults.wrong_app_id else self.app_id,
            "auth_app_id": self.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": yuan(trade.cents + 1 if faults.wrong_total_amount else trade.cents),
            "receipt_amount": yuan(trade.cents),
            "invoice_amount": yuan(trade.cents),
            "buyer_pay_amount": yuan(trade.cents),
            "point_amount": "0.00",
            "seller_id": "2088000000000999" if faults.wrong_seller_id else self.seller_id,
            "buyer_id": trade.buyer_id,
            "buyer_logon_id": "138****0000",
            "subject": trade.subject,
            "body": trade.body,
            "gmt_create": beijing(trade.created_at),
            "fund_bill_list": json.dumps(
                [{"amount": yuan(trade.cents), "fundChannel": "ALIPAYACCOUNT"}],
                separators=(",", ":"),
            ),
        }
        if trade.paid_at is not None:
            form["gmt_payment"] = beijing(trade.paid_at)
        form.update(extra)
        form = {k: v for k, v in form.items() if v != ""}
        key = self._forger_key if faults.bad_signature else self._alipay_key
        form["sign"] = rsa2_sign(key, sign_content(form, exclude=("sign", "sign_type")))
        form["sign_type"] = "RSA2"
        notification = _Notification(
            notify_id=form["notify_id"],
            out_trade_no=trade.out_trade_no,
            url=trade.notify_url,
            form=form,
            duplicate=faults.duplicate,
            delay_s=faults.delay_s,
        )
        self._notifications.append(notification)
        if faults.drop:
            notification.dropped = True
        elif faults.out_of_order:
            notification.queued = True
            self._queue.append(notification)
        else:
            self._start(notification)

    def _start(self, notification: _Notification) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (a unit test of the state): nothing to send with
            return
        task = loop.create_task(self._deliver(notification))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, notification: _Notification) -> None:
        if notification.delay_s:
            await asyncio.sleep(notification.delay_s)
        gaps = (0.0, *(gap / self.speedup for gap in RESEND_GAPS_S))
        for number, gap in enumerate(gaps):
            if gap:
                await asyncio.sleep(gap)
            copies = await asyncio.gather(
                *(self._post(notification) for _ in range(notification.duplicate))
            )
            answered = any(ok for ok, _ in copies)
            notification.attempts.append(
                {
                    "number": number + 1,
                    "at": self.now(),
                    "copies": len(copies),
                    "statuses": [status for _, status in copies],
                    "success": answered,
                }
            )
            if answered:
                notification.delivered = True
                return

    async def _post(self, notification: _Notification) -> tuple[bool, int]:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=NOTIFY_TIMEOUT_S)
        try:
            response = await self._http.post(
                notification.url,
                content=urlencode(notification.form).encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
        except httpx.HTTPError:
            return False, 0
        # "程序执行完后必须打印输出success": anything else is a failure and is sent again.
        return response.status_code == 200 and response.content == b"success", (
            response.status_code
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class _Keyed(Exception):
    """A ``GatewayError`` with the response key it is answered under."""

    def __init__(self, key: str, error: GatewayError) -> None:
        self.key = key
        self.error = error
        super().__init__(str(error))


def _qr(trade: _Trade) -> str:
    return "bax0" + base64.b32encode(trade.trade_no.encode()).decode().rstrip("=").lower()[:20]


def _valid_url(value: str) -> bool:
    if len(value) > 256:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _biz_content(text: str) -> dict[str, Any]:
    if not text:
        raise GatewayError("40002", "isv.invalid-parameter", "biz_content 不能为空")
    try:
        data = json.loads(text)
    except ValueError:
        raise GatewayError("40002", "isv.invalid-parameter", "biz_content 不是合法的JSON") from None
    if not isinstance(data, dict):
        raise GatewayError("40002", "isv.invalid-parameter", "biz_content 不是JSON对象")
    return data


def _optional_str(biz: dict[str, Any], key: str, max_length: int) -> str:
    value = biz.get(key)
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise BusinessError("ACQ.INVALID_PARAMETER", f"{key} 格式错误或超过 {max_length} 个字符")
    return value


def _required_str(biz: dict[str, Any], key: str, max_length: int) -> str:
    value = _optional_str(biz, key, max_length)
    if not value:
        raise BusinessError("ACQ.INVALID_PARAMETER", f"{key} 不能为空")
    return value


def _amount(biz: dict[str, Any], key: str) -> int:
    """Yuan with at most two decimals, as cents; the range [0.01, 100000000]."""
    value = biz.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BusinessError("ACQ.INVALID_PARAMETER", f"{key} 不能为空")
    text = value if isinstance(value, str) else json.dumps(value)
    if not AMOUNT.fullmatch(text):
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            # a number of another shape: too many decimals, or more digits than the range allows
            try:
                if Decimal(text) > Decimal(MAX_CENTS) / 100:
                    raise BusinessError("ACQ.TOTAL_FEE_EXCEED")
            except InvalidOperation:
                pass
        raise BusinessError("ACQ.INVALID_PARAMETER", f"{key} 单位为元，精确到小数点后两位")
    cents = int(Decimal(text) * 100)
    if not MIN_CENTS <= cents <= MAX_CENTS:
        raise BusinessError("ACQ.TOTAL_FEE_EXCEED")
    return cents


def _request_params(request: Request) -> dict[str, str] | None:
    """Query string and form body together, as the gateway reads them; None when malformed
    (a key given twice, a value that does not decode)."""
    pairs: list[tuple[str, str]] = []
    try:
        query = request.query_string
        if query:
            pairs += parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        content_type = request.headers.get("content-type", "")
        if request.body and content_type.startswith("multipart/form-data"):
            for name, values in (request.form or {}).items():
                pairs += [(name, value) for value in values]
        elif request.body:
            text = request.body.decode("ascii")
            charset = "utf-8"
            probe = dict(parse_qsl(text, keep_blank_values=True, encoding="latin-1"))
            if probe.get("charset", "").lower() == "gbk":
                charset = "gbk"
            pairs += parse_qsl(
                text, keep_blank_values=True, strict_parsing=True, encoding=charset, errors="strict"
            )
    except (UnicodeDecodeError, ValueError):
        return None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            return None
        params[key] = value
    return params


def alipay_blueprint(state: AlipaySandbox) -> Blueprint:
    """The gateway, the bill download and the control routes, served from ``state``."""
    bp = Blueprint("sandbox_alipay", url_prefix="/sandbox/alipay")

    def answer(key: str, inner: dict[str, Any], *, signed: bool) -> HTTPResponse:
        text = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        body = f'{{"{key}":{text}'
        if signed:
            body += f',"sign":"{state.sign_response(text)}"'
        body += "}"
        return raw(body.encode("utf-8"), content_type="application/json; charset=utf-8")

    def error_object(error: GatewayError) -> dict[str, Any]:
        return {
            "code": error.code,
            "msg": GATEWAY_MSG.get(error.code, ""),
            "sub_code": error.sub_code,
            "sub_msg": error.sub_msg,
        }

    @bp.post("/gateway.do", name="gateway")
    async def gateway(request: Request) -> HTTPResponse:
        params = _request_params(request)
        if params is None:
            error = GatewayError("40002", "isv.invalid-parameter", "请求参数无法解析")
            return answer("error_response", error_object(error), signed=True)
        try:
            key, inner, signed = state.gateway(params)
        except _Keyed as exc:
            return answer(exc.key, error_object(exc.error), signed=exc.error.signed)
        except Exception:
            log.exception("sandbox alipay gateway failed")
            error = GatewayError("20000", "isp.unknow-error", "服务暂不可用")
            return answer("error_response", error_object(error), signed=True)
        if "bill_download_url" in inner:
            inner["bill_download_url"] = (
                f"{request.scheme}://{request.host}{bp.url_prefix}" + (inner["bill_download_url"])
            )
        return answer(key, inner, signed=signed)

    @bp.get("/downloadBillFile.resource", name="download_bill")
    async def download_bill(request: Request) -> HTTPResponse:
        found = state.download(request.args.get("token", ""))
        if found is None:
            return raw(
                "下载超时，请重新下载".encode(),
                status=403,
                content_type="text/plain; charset=utf-8",
            )
        content, name = found
        return raw(
            content,
            content_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def control_body(request: Request) -> dict[str, Any]:
        if not request.body:
            return {}
        data = json_object(request)
        if data is None:
            raise ControlError(400, "a JSON object is required")
        return data

    def out_trade_no_of(data: dict[str, Any]) -> str:
        value = data.get("out_trade_no")
        if not isinstance(value, str) or not value:
            raise ControlError(400, "out_trade_no is required")
        return value

    async def control(request: Request, action: Callable[[dict[str, Any]], Any]) -> HTTPResponse:
        try:
            return json_response(action(control_body(request)))
        except ControlError as exc:
            return json_response({"error": str(exc)}, status=exc.status)

    @bp.post("/_control/scan", name="control_scan")
    async def scan(request: Request) -> HTTPResponse:
        def act(data: dict[str, Any]) -> dict[str, Any]:
            trade = state.scan(out_trade_no_of(data))
            return {"trade_no": trade.trade_no, "trade_status": trade.status}

        return await control(request, act)

    @bp.post("/_control/pay", name="control_pay")
    async def pay(request: Request) -> HTTPResponse:
        def act(data: dict[str, Any]) -> dict[str, Any]:
            buyer_id = data.get("buyer_id")
            if buyer_id is not None and not isinstance(buyer_id, str):
                raise ControlError(400, "buyer_id must be a string")
            return state.pay(out_trade_no_of(data), buyer_id)

        return await control(request, act)

    @bp.post("/_control/refund-settle", name="control_refund_settle")
    async def refund_settle(request: Request) -> HTTPResponse:
        def act(data: dict[str, Any]) -> dict[str, Any]:
            number = data.get("out_request_no")
            trade = data.get("out_trade_no")
            if not isinstance(number, str) or not number:
                raise ControlError(400, "out_request_no is required")
            if trade is not None and not isinstance(trade, str):
                raise ControlError(400, "out_trade_no must be a string")
            settled = state.settle_refund(trade, number, str(data.get("state", "success")))
            return {"out_request_no": number, "state": settled}

        return await control(request, act)

    @bp.get("/_control/faults", name="control_faults")
    async def faults(request: Request) -> HTTPResponse:
        return json_response(state.fault_values())

    @bp.post("/_control/faults", name="control_set_faults")
    async def set_faults(request: Request) -> HTTPResponse:
        return await control(request, state.set_faults)

    @bp.post("/_control/bill-differences", name="control_bill_differences")
    async def bill_differences(request: Request) -> HTTPResponse:
        return await control(request, state.set_bill_differences)

    @bp.post("/_control/flush", name="control_flush")
    async def flush(request: Request) -> HTTPResponse:
        return await control(request, lambda data: {"sent": state.flush()})

    @bp.post("/_control/advance-clock", name="control_advance_clock")
    async def advance_clock(request: Request) -> HTTPResponse:
        def act(data: dict[str, Any]) -> dict[str, Any]:
            seconds = data.get("seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ControlError(400, "seconds must be a number")
            return {"now": state.advance_clock(float(seconds))}

        return await control(request, act)

    @bp.after_server_stop
    async def close_http(*_: Any) -> None:
        with contextlib.suppress(Exception):
            await state.close()

    add_state_controls(bp, state)
    return bp


def alipay_peer(
    *,
    keys_dir: Path,
    callback_speedup: float = 1.0,
    app_id: str | None = None,
    seller_id: str | None = None,
) -> AlipaySandbox:
    """The peer for the deployment's Alipay app and seller (``ZB_ALIPAY_APP_ID``,
    ``ZB_ALIPAY_SELLER_ID`` unless named), with the sandbox keys of ``keys_dir``."""
    settings = get_settings()
    return AlipaySandbox(
        app_id=app_id or settings.alipay_app_id,
        seller_id=seller_id or settings.alipay_seller_id,
        keys=ensure_sandbox_keys(keys_dir),
        speedup=callback_speedup,
    )
