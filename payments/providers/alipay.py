"""Alipay (OpenAPI, RSA2) as a ``PaymentChannel``: the mini-program's ``alipay.trade.create``
(the client pays with ``my.tradePay({tradeNO})``) and ``alipay.trade.precreate`` (a QR code a
finance officer scans on another phone), query, close, refund, refund query, the trade bill and
the asynchronous notification.

Signing and verification use ``cryptography`` (RSA2 = SHA256withRSA, PKCS#1 v1.5): about 0.3 ms a
signature, where the official SDK's pure-Python RSA takes about 21 ms and would stall the event
loop. The SDK is the test oracle (``tests/unit/test_alipay_signing.py``): our signatures are
byte-identical to its ``sign_with_rsa2``.

Money is integer fen outside this module; Alipay's yuan strings ("12.30") exist only here, and a
yuan string with more than two decimals is refused, never rounded. Keys, request and answer
bodies and buyer ids are never logged.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import math
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from payments.providers.base import (
    AlreadyPaid,
    BillEntry,
    BillEntryKind,
    CallbackAnswer,
    CallbackRejected,
    ChannelRefused,
    ChannelUnavailable,
    Charge,
    ChargeMode,
    ChargeRequest,
    Notification,
    NotificationKind,
    RefundRequest,
    RefundState,
    RefundStatus,
    TradeState,
    TradeStatus,
)
from payments.providers.credentials import AlipayCredentials

log = logging.getLogger("zhangban.payments.alipay")

CHINA = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CHARSET = "utf-8"
SUCCESS = "10000"
#: a notification is a short form; anything far larger is not Alipay's
MAX_CALLBACK_BYTES = 64 * 1024
#: "仅支持字母、数字、下划线" (trade.create, trade.precreate)
ALIPAY_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_]{1,64}")
YUAN = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]{1,2})?")
BUYER_ID = re.compile(r"2088[0-9]{12}")
#: "订单标题…不可使用特殊字符，如 /，=，& 等"
SUBJECT_FORBIDDEN = re.compile(r"[/=&]")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)

PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}


# --- the documented formulas --------------------------------------------------------------------


def sign_content(params: Mapping[str, str], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    """The string Alipay signs (签名 page, 自行实现签名): every parameter but ``exclude`` and the
    empty ones, sorted by key (ASCII), joined ``key=value`` by ``&``, values not URL-encoded.
    A request excludes ``sign``; a notification also ``sign_type`` (异步通知验签)."""
    return "&".join(
        f"{key}={value}"
        for key, value in sorted(params.items())
        if key not in exclude and value != ""
    )


def rsa2_sign(key: rsa.RSAPrivateKey, content: str, charset: str = CHARSET) -> str:
    """SHA256withRSA (PKCS#1 v1.5) of ``content`` in ``charset``, base64."""
    signature = key.sign(content.encode(charset), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(key: rsa.RSAPublicKey, content: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, content, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def response_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where each top-level member's value lies in a JSON object's text, exactly as sent: the
    answer's signature covers the raw text of ``<method>_response``, which re-serialising would
    change (spacing, escapes, key order)."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    index = _skip(text, 0)
    if text[index : index + 1] != "{":
        raise ValueError("not a JSON object")
    index = _skip(text, index + 1)
    if text[index : index + 1] == "}":
        return spans
    while True:
        if text[index : index + 1] != '"':
            raise ValueError("a key was expected")
        key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
        index = _skip(text, index)
        if text[index : index + 1] != ":":
            raise ValueError("':' was expected")
        start = _skip(text, index + 1)
        _, end = decoder.raw_decode(text, start)
        spans[key] = (start, end)
        index = _skip(text, end)
        if text[index : index + 1] == ",":
            index = _skip(text, index + 1)
            continue
        if text[index : index + 1] == "}":
            return spans
        raise ValueError("',' or '}' was expected")


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\n\r":
        index += 1
    return index


def fen_to_yuan(fen: int) -> str:
    """``1230`` → ``"12.30"``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("fen must be an integer")
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def yuan_to_fen(text: str) -> int:
    """``"12.30"`` → ``1230``, exactly; more than two decimals (or any other shape) is refused."""
    if not isinstance(text, str) or not YUAN.fullmatch(text):
        raise ValueError("not a yuan amount with at most two decimals")
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise ValueError("not a yuan amount") from None
    if value != value.to_integral_value():
        raise ValueError("more than two decimals")
    return int(value)


def beijing_time(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime(TIME_FORMAT)


def parse_beijing(text: str | None) -> datetime | None:
    """Alipay's "yyyy-MM-dd HH:mm:ss" (GMT+8; a notification's ``gmt_refund`` adds ``.SSS``)."""
    if not text:
        return None
    try:
        moment = datetime.strptime(text[:19], TIME_FORMAT)
    except ValueError:
        return None
    return moment.replace(tzinfo=CHINA).astimezone(UTC)


class _BusinessError(Exception):
    """A code 40004 answer, already verified."""

    def __init__(self, sub_code: str, sub_msg: str) -> None:
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        super().__init__(sub_code)


class AlipayChannel:
    """``PaymentChannel`` over the Alipay OpenAPI gateway with async httpx."""

    name = "alipay"

    def __init__(self, credentials: AlipayCredentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http

    # --- the gateway ---------------------------------------------------------------------------

    def signed_params(
        self,
        method: str,
        biz: Mapping[str, Any],
        *,
        notify_url: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The form of one gateway call, signed with the app key."""
        moment = now or datetime.now(UTC)
        params = {
            "app_id": self._credentials.app_id,
            "method": method,
            "format": "JSON",
            "charset": CHARSET,
            "sign_type": "RSA2",
            "timestamp": beijing_time(moment),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        if notify_url:
            params["notify_url"] = notify_url
        params["sign"] = rsa2_sign(self._credentials.app_private_key, sign_content(params))
        return params

    async def _call(
        self, method: str, biz: Mapping[str, Any], *, notify_url: str | None = None
    ) -> dict[str, Any]:
        """One gateway call; the verified response object (code 10000), ``_BusinessError`` for a
        verified 40004, ``ChannelRefused`` for the gateway's other refusals, and
        ``ChannelUnavailable`` when nothing trustworthy came back."""
        params = self.signed_params(method, biz, notify_url=notify_url)
        try:
            response = await self._http.post(
                self._credentials.gateway,
                data=params,
                headers={"Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            log.warning("alipay unreachable", extra={"method": method, "error": type(exc).__name__})
            raise ChannelUnavailable() from None
        if response.status_code != 200:
            log.warning("alipay answered %s", response.status_code, extra={"method": method})
            raise ChannelUnavailable()
        answer = self._verified(method, response.content)
        code = str(answer.get("code", ""))
        if code == SUCCESS:
            return answer
        sub_code = str(answer.get("sub_code", ""))
        log.info("alipay refused", extra={"method": method, "code": code, "sub_code": sub_code})
        if code == "40004":
            raise _BusinessError(sub_code, str(answer.get("sub_msg", "")))
        if code.startswith("2") or sub_code in ("ACQ.SYSTEM_ERROR", "isp.unknow-error"):
            raise ChannelUnavailable()
        raise ChannelRefused(details={"channel_code": sub_code or code})

    def _verified(self, method: str, body: bytes) -> dict[str, Any]:
        """The response object whose signature verifies over its exact text, else
        ``ChannelUnavailable`` (an answer we cannot trust tells us nothing)."""
        try:
            text = body.decode(CHARSET)
            spans = response_spans(text)
            document = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            log.warning("alipay answer is not JSON", extra={"method": method})
            raise ChannelUnavailable() from None
        key = method.replace(".", "_") + "_response"
        if key not in spans:
            key = "error_response"
        sign = document.get("sign") if isinstance(document, dict) else None
        inner = document.get(key) if isinstance(document, dict) else None
        if key not in spans or not isinstance(sign, str) or not isinstance(inner, dict):
            log.warning("alipay answer unsigned or without its response", extra={"method": method})
            raise ChannelUnavailable()
        start, end = spans[key]
        if not rsa2_verify(
            self._credentials.alipay_public_key, text[start:end].encode(CHARSET), sign
        ):
            log.warning("alipay answer signature does not verify", extra={"method": method})
            raise ChannelUnavailable()
        return inner

    # --- the port ------------------------------------------------------------------------------

    async def charge(self, request: ChargeRequest) -> Charge:
        self._check_out_no(request.out_trade_no)
        subject = SUBJECT_FORBIDDEN.sub(" ", request.description).strip()[:256] or "缴费"
        biz: dict[str, Any] = {
            "out_trade_no": request.out_trade_no,
            "total_amount": fen_to_yuan(request.amount_fen),
            "subject": subject,
        }
        if request.mode is ChargeMode.in_app:
            method = "alipay.trade.create"
            payer = request.payer_id or ""
            biz["product_code"] = "JSAPI_PAY"
            biz["op_app_id"] = self._credentials.app_id
            biz["buyer_id" if BUYER_ID.fullmatch(payer) else "buyer_open_id"] = payer
            biz["time_expire"] = beijing_time(request.expires_at)
        elif request.mode is ChargeMode.qr:
            method = "alipay.trade.precreate"
            minutes = math.ceil((request.expires_at - datetime.now(UTC)).total_seconds() / 60)
            biz["timeout_express"] = f"{min(max(minutes, 1), 15 * 24 * 60)}m"
        else:
            raise ChannelRefused(details={"channel_code": "mode_not_supported"})
        try:
            answer = await self._call(method, biz, notify_url=request.notify_url)
        except _BusinessError as exc:
            if exc.sub_code == "ACQ.TRADE_HAS_SUCCESS":
                raise AlreadyPaid(details={"channel_code": exc.sub_code}) from None
            raise self._refused(exc) from None
        if request.mode is ChargeMode.in_app:
            trade_no = answer.get("trade_no")
            if not isinstance(trade_no, str) or not trade_no:
                raise ChannelUnavailable()
            return Charge(out_trade_no=request.out_trade_no, client={"tradeNO": trade_no})
        qr_code = answer.get("qr_code")
        if not isinstance(qr_code, str) or not qr_code:
            raise ChannelUnavailable()
        return Charge(out_trade_no=request.out_trade_no, client={"qr_code": qr_code})

    async def query(self, out_trade_no: str) -> TradeStatus:
        try:
            answer = await self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        except _BusinessError as exc:
            if exc.sub_code == "ACQ.TRADE_NOT_EXIST":
                return TradeStatus(out_trade_no=out_trade_no, state=TradeState.unknown)
            raise self._refused(exc) from None
        return self._trade_status(out_trade_no, answer)

    def _trade_status(self, out_trade_no: str, answer: Mapping[str, Any]) -> TradeStatus:
        status = str(answer.get("trade_status", ""))
        paid_at = parse_beijing(_text(answer.get("send_pay_date")))
        if status in PAID_STATES:
            state = TradeState.paid
        elif status == "WAIT_BUYER_PAY":
            state = TradeState.pending
        elif status == "TRADE_CLOSED":
            # "未付款交易超时关闭，或支付完成后全额退款": a trade that was paid (it has a
            # payment date) and then refunded in full is closed too, but the money was taken.
            state = TradeState.paid if paid_at is not None else TradeState.closed
        else:
            raise ChannelUnavailable()
        return TradeStatus(
            out_trade_no=out_trade_no,
            state=state,
            transaction_id=_text(answer.get("trade_no")) or None,
            amount_fen=_fen_or_none(answer.get("total_amount")),
            paid_at=paid_at,
            channel_state=status,
        )

    async def close(self, out_trade_no: str) -> None:
        try:
            await self._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        except _BusinessError as exc:
            if exc.sub_code == "ACQ.TRADE_NOT_EXIST":
                return
            if exc.sub_code == "ACQ.TRADE_STATUS_ERROR":
                # Not open any more: paid (the money must be recorded) or already closed.
                status = await self.query(out_trade_no)
                if status.state is TradeState.paid:
                    raise AlreadyPaid(details={"channel_code": status.channel_state}) from None
                if status.state in (TradeState.closed, TradeState.unknown):
                    return
            raise self._refused(exc) from None

    async def refund(self, request: RefundRequest) -> RefundStatus:
        self._check_out_no(request.out_trade_no)
        biz = {
            "out_trade_no": request.out_trade_no,
            "refund_amount": fen_to_yuan(request.refund_fen),
            "out_request_no": request.out_refund_no,
            "refund_reason": request.reason[:256],
        }
        try:
            answer = await self._call("alipay.trade.refund", biz)
        except _BusinessError as exc:
            raise self._refused(exc) from None
        if answer.get("fund_change") == "Y":
            return RefundStatus(
                out_refund_no=request.out_refund_no,
                state=RefundState.succeeded,
                amount_fen=request.refund_fen,
                refund_id=_text(answer.get("trade_no")) or None,
                succeeded_at=parse_beijing(_text(answer.get("gmt_refund_pay"))),
                channel_state="REFUND_SUCCESS",
            )
        # "fund_change=N或无此字段值返回时需通过退款查询接口进一步确认退款状态"
        status = await self.query_refund(request.out_trade_no, request.out_refund_no)
        if status.amount_fen == 0:
            return RefundStatus(
                out_refund_no=status.out_refund_no,
                state=status.state,
                amount_fen=request.refund_fen,
                refund_id=status.refund_id,
                channel_state=status.channel_state,
            )
        return status

    async def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundStatus:
        """``refund_status`` ``REFUND_SUCCESS`` is the only final answer Alipay gives: without it
        the refund is "not received or failed", which we keep as ``processing`` (with the
        amount 0: Alipay does not say) so that the caller polls and, past its patience, raises
        it to finance staff."""
        biz = {
            "out_trade_no": out_trade_no,
            "out_request_no": out_refund_no,
            "query_options": ["gmt_refund_pay"],
        }
        try:
            answer = await self._call("alipay.trade.fastpay.refund.query", biz)
        except _BusinessError as exc:
            raise self._refused(exc) from None
        if answer.get("refund_status") == "REFUND_SUCCESS":
            amount = _fen_or_none(answer.get("refund_amount"))
            if amount is None:
                raise ChannelUnavailable()
            return RefundStatus(
                out_refund_no=out_refund_no,
                state=RefundState.succeeded,
                amount_fen=amount,
                refund_id=_text(answer.get("trade_no")) or None,
                succeeded_at=parse_beijing(_text(answer.get("gmt_refund_pay"))),
                channel_state="REFUND_SUCCESS",
            )
        return RefundStatus(
            out_refund_no=out_refund_no,
            state=RefundState.processing,
            amount_fen=0,
            channel_state="",
        )

    def parse_callback(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> Notification:
        """The 异步通知: verify RSA2 over every non-empty field but ``sign`` and ``sign_type``,
        sorted, with the Alipay public key; then the app, the seller and the amount."""
        if len(body) > MAX_CALLBACK_BYTES:
            raise CallbackRejected("oversized")
        form = _form(body)
        signature = form.get("sign", "")
        if not signature:
            raise CallbackRejected("unsigned")
        if form.get("sign_type", "RSA2") != "RSA2":
            raise CallbackRejected("sign_type")
        charset = form.get("charset", CHARSET).lower()
        if charset not in ("utf-8", "gbk"):
            raise CallbackRejected("charset")
        content = sign_content(form, exclude=("sign", "sign_type"))
        if not rsa2_verify(self._credentials.alipay_public_key, content.encode(charset), signature):
            raise CallbackRejected("signature")
        if form.get("app_id") != self._credentials.app_id:
            raise CallbackRejected("app_id")
        if form.get("seller_id") != self._credentials.seller_id:
            raise CallbackRejected("seller_id")
        if form.get("notify_type") != "trade_status_sync":
            raise CallbackRejected("notify_type")
        out_trade_no = form.get("out_trade_no", "")
        if not ALIPAY_OUT_TRADE_NO.fullmatch(out_trade_no):
            raise CallbackRejected("out_trade_no")
        try:
            amount = yuan_to_fen(form.get("total_amount", ""))
        except ValueError:
            raise CallbackRejected("amount") from None
        status = form.get("trade_status", "")
        paid_at = parse_beijing(form.get("gmt_payment"))
        refund_fee = form.get("refund_fee")
        if status in PAID_STATES:
            state = TradeState.paid
        elif status == "WAIT_BUYER_PAY":
            state = TradeState.pending
        elif status == "TRADE_CLOSED":
            refunded = paid_at is not None or bool(refund_fee)
            state = TradeState.paid if refunded else TradeState.closed
        else:
            raise CallbackRejected("trade_status")
        trade = TradeStatus(
            out_trade_no=out_trade_no,
            state=state,
            transaction_id=form.get("trade_no") or None,
            amount_fen=amount,
            paid_at=paid_at,
            channel_state=status,
        )
        notify_id = form.get("notify_id", "")
        out_biz_no = form.get("out_biz_no", "")
        if refund_fee and out_biz_no:
            # A refund notifies the trade again with the trade's total refunded so far
            # (``refund_fee``), not this refund's own amount: confirm with ``query_refund``.
            try:
                refunded_fen = yuan_to_fen(refund_fee)
            except ValueError:
                raise CallbackRejected("amount") from None
            refund = RefundStatus(
                out_refund_no=out_biz_no,
                state=RefundState.succeeded,
                amount_fen=refunded_fen,
                refund_id=form.get("trade_no") or None,
                succeeded_at=parse_beijing(form.get("gmt_refund")),
                channel_state="REFUND_SUCCESS",
            )
            return Notification(
                kind=NotificationKind.refund, trade=trade, refund=refund, notify_id=notify_id
            )
        return Notification(kind=NotificationKind.payment, trade=trade, notify_id=notify_id)

    def answer(self, *, processed: bool) -> CallbackAnswer:
        """ "程序执行完后必须打印输出success": exactly these 7 bytes stop the resends; anything
        else (we say ``fail``) makes Alipay send again."""
        return CallbackAnswer(status=200, body=b"success" if processed else b"fail")

    async def bill(self, day: date) -> list[BillEntry]:
        biz = {"bill_type": "trade", "bill_date": day.isoformat()}
        try:
            answer = await self._call("alipay.data.dataservice.bill.downloadurl.query", biz)
        except _BusinessError as exc:
            log.info("alipay bill not ready", extra={"sub_code": exc.sub_code})
            raise ChannelUnavailable() from None
        url = answer.get("bill_download_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ChannelUnavailable()
        try:
            response = await self._http.get(url, timeout=TIMEOUT, follow_redirects=True)
        except httpx.HTTPError:
            raise ChannelUnavailable() from None
        if response.status_code != 200:
            raise ChannelUnavailable()
        try:
            return parse_trade_bill(response.content)
        except ValueError:
            log.warning("alipay bill unreadable")
            raise ChannelUnavailable() from None

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _check_out_no(out_trade_no: str) -> None:
        if not ALIPAY_OUT_TRADE_NO.fullmatch(out_trade_no):
            # Alipay's out_trade_no is letters, digits and "_" only; refusing here beats an
            # ACQ.INVALID_PARAMETER that says less.
            raise ChannelRefused(details={"channel_code": "out_trade_no_charset"})

    @staticmethod
    def _refused(exc: _BusinessError) -> ChannelRefused | ChannelUnavailable:
        if exc.sub_code in ("ACQ.SYSTEM_ERROR", "isp.unknow-error"):
            return ChannelUnavailable()
        return ChannelRefused(details={"channel_code": exc.sub_code})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _fen_or_none(value: Any) -> int | None:
    try:
        return yuan_to_fen(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _form(body: bytes) -> dict[str, str]:
    """A form body, each key once; ``CallbackRejected("malformed")`` otherwise."""
    try:
        text = body.decode("ascii")
        probe = dict(parse_qsl(text, keep_blank_values=True, encoding="latin-1"))
        charset = probe.get("charset", CHARSET).lower()
        charset = charset if charset in ("utf-8", "gbk") else CHARSET
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, encoding=charset, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise CallbackRejected("malformed") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise CallbackRejected("malformed")
        form[key] = value
    return form


def parse_trade_bill(archive: bytes) -> list[BillEntry]:
    """The lines of the 业务明细 CSV inside Alipay's bill zip (GBK; every id ends in a tab so that
    spreadsheets keep it as text). ``ValueError`` for anything else."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as files:
            texts = [files.read(name) for name in files.namelist()]
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ValueError("not a bill archive") from exc
    detail = None
    for raw in texts:
        for encoding in ("gbk", "utf-8"):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            if text.lstrip("\ufeff").startswith("#支付宝业务明细查询"):
                detail = text
            break
    if detail is None:
        raise ValueError("no 业务明细 file in the archive")
    entries: list[BillEntry] = []
    header: list[str] | None = None
    for row in csv.reader(io.StringIO(detail)):
        if not row:
            continue
        first = row[0].strip()
        if first.startswith("#"):
            if header is not None and "结束" in first:
                break
            continue
        cells = [cell.strip() for cell in row]
        if header is None:
            header = cells
            continue
        entries.append(_bill_entry(dict(zip(header, cells, strict=False))))
    if header is None:
        raise ValueError("the 业务明细 file has no header")
    return entries


def _bill_entry(line: Mapping[str, str]) -> BillEntry:
    kind_text = line.get("业务类型", "")
    amount = yuan_to_fen(line.get("订单金额（元）", ""))
    at = parse_beijing(line.get("完成时间")) or parse_beijing(line.get("创建时间"))
    if at is None:
        raise ValueError("a bill line without a time")
    if kind_text == "交易":
        kind, number = BillEntryKind.payment, None
    elif kind_text == "退款":
        kind, number = BillEntryKind.refund, line.get("退款批次号/请求号") or None
    else:
        raise ValueError("an unknown kind of bill line")
    return BillEntry(
        kind=kind,
        out_trade_no=line.get("商户订单号", ""),
        transaction_id=line.get("支付宝交易号", ""),
        amount_fen=abs(amount),
        at=at,
        out_refund_no=number,
        channel_state=kind_text,
    )
