"""WeChat Pay API v3 (直连商户, 微信支付公钥 mode) as a ``PaymentChannel``.

Every request is signed as "签名生成" says: SHA256withRSA with the merchant API key over
``METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n`` (URL = the path with its ``?query``, without the
host), in ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",
timestamp="…",serial_no="…"``. Every successful answer is verified before it is read ("签名验证"):
``Wechatpay-Serial`` must be our platform public key id, ``Wechatpay-Timestamp`` within five
minutes, and ``Wechatpay-Signature`` a SHA256withRSA signature of ``timestamp\\nnonce\\nbody\\n``
under that key; an unsigned or badly signed answer is ``ChannelUnavailable`` (as if none had
come). Notifications are verified the same way and their ``resource`` decrypted with
AEAD_AES_256_GCM under the APIv3 key. The bill file is the one answer WeChat Pay does not sign:
its SHA-1 is checked against the one the signed bill answer gave.

Money is fen on both sides of this adapter; the bill file speaks yuan, converted here.
Signing takes about a millisecond (RSA-2048), so it runs inline; the network is async.
Nothing here logs a key, a body or an openid.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import json
import logging
import secrets
import string
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
from payments.providers.credentials import WeChatPayCredentials

log = logging.getLogger("zhangban.payments.wechatpay")

SCHEME = "WECHATPAY2-SHA256-RSA2048"
#: "验证应答/回调的时间戳…与当前时间相差超过5分钟的…应拒绝".
MAX_SKEW_S = 300
CHINA = timezone(timedelta(hours=8))
_NONCE_CHARS = string.ascii_uppercase + string.digits

TRADE_STATES: Mapping[str, TradeState] = {
    "SUCCESS": TradeState.paid,
    "REFUND": TradeState.paid,
    "NOTPAY": TradeState.pending,
    "USERPAYING": TradeState.pending,
    "CLOSED": TradeState.closed,
    "REVOKED": TradeState.closed,
    "PAYERROR": TradeState.closed,
}
REFUND_STATES: Mapping[str, RefundState] = {
    "PROCESSING": RefundState.processing,
    "SUCCESS": RefundState.succeeded,
    "CLOSED": RefundState.failed,
    "ABNORMAL": RefundState.failed,
}
#: Answers that say nothing happened and a retry with the same numbers is safe.
_RETRYABLE_CODES = frozenset({"SYSTEM_ERROR", "FREQUENCY_LIMITED", "RATELIMIT_EXCEEDED"})
_FAIL_BODY = json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False).encode()


# --- the documented formulas, pure (tests/unit/test_wechatpay_signing.py checks them) --------


def request_message(method: str, url: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """签名串 of a request: five lines, each ending in ``\\n``, the last one included."""
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"


def answer_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """验签名串 of an answer or a notification: ``timestamp\\nnonce\\nbody\\n``."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def pay_sign_message(appid: str, timestamp: str, nonce: str, package: str) -> bytes:
    """小程序调起支付 paySign 签名串: ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``."""
    return f"{appid}\n{timestamp}\n{nonce}\n{package}\n".encode()


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, binascii.Error, InvalidSignature):
        return False
    return True


def authorization(
    *,
    mch_id: str,
    serial: str,
    key: rsa.RSAPrivateKey,
    method: str,
    url: str,
    body: bytes,
    timestamp: str,
    nonce: str,
) -> str:
    signature = rsa_sign(key, request_message(method, url, timestamp, nonce, body))
    return (
        f'{SCHEME} mchid="{mch_id}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial}"'
    )


def decrypt_resource(apiv3_key: bytes, nonce: str, associated_data: str, ciphertext: str) -> bytes:
    """AEAD_AES_256_GCM: key = APIv3 key, IV = the nonce's bytes, AAD = associated_data,
    ciphertext = base64(encrypted || 16-byte tag). ``ValueError`` when it does not open."""
    try:
        sealed = base64.b64decode(ciphertext, validate=True)
        return AESGCM(apiv3_key).decrypt(nonce.encode(), sealed, associated_data.encode())
    except (binascii.Error, InvalidTag, ValueError) as exc:
        raise ValueError("resource does not decrypt") from exc


def make_nonce() -> str:
    return "".join(secrets.choice(_NONCE_CHARS) for _ in range(32))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def _fen(yuan: str) -> int:
    try:
        value = Decimal(yuan) * 100
    except InvalidOperation:
        raise ValueError(f"not an amount: {yuan!r}") from None
    if value != value.to_integral_value():
        raise ValueError(f"not a whole number of fen: {yuan!r}")
    return int(value)


def parse_trade_bill(content: bytes) -> list[BillEntry]:
    """The lines of a trade bill (ALL): payments (交易状态 SUCCESS) and refunds (REFUND).

    "明细数据表头、明细数据内容、汇总数据表头、汇总数据" with every field behind a backquote;
    amounts in yuan, times in China time."""
    lines = content.decode("utf-8-sig").splitlines()
    if not lines:
        return []
    header = [name.strip() for name in lines[0].split(",")]
    entries: list[BillEntry] = []
    for line in lines[1:]:
        if line.startswith("总交易单数"):
            break
        if not line.strip():
            continue
        values = [value.strip().lstrip("`") for value in line.split(",")]
        if len(values) != len(header):
            raise ValueError("bill line with the wrong number of fields")
        row = dict(zip(header, values, strict=True))
        at = datetime.strptime(row["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        state = row["交易状态"]
        if state == "REFUND":
            entries.append(
                BillEntry(
                    kind=BillEntryKind.refund,
                    out_trade_no=row["商户订单号"],
                    transaction_id=row["微信订单号"],
                    amount_fen=_fen(row.get("申请退款金额") or row["退款金额"]),
                    at=at.astimezone(UTC),
                    out_refund_no=row["商户退款单号"],
                    channel_state=row.get("退款状态", ""),
                )
            )
        else:
            entries.append(
                BillEntry(
                    kind=BillEntryKind.payment,
                    out_trade_no=row["商户订单号"],
                    transaction_id=row["微信订单号"],
                    amount_fen=_fen(row.get("订单金额") or row["应结订单金额"]),
                    at=at.astimezone(UTC),
                    channel_state=state,
                )
            )
    return entries


class WeChatPayChannel:
    """The ``wechatpay`` channel: JSAPI (mini-program) and Native (QR) orders, refunds, bills."""

    name = "wechatpay"

    def __init__(self, credentials: WeChatPayCredentials, http: httpx.AsyncClient) -> None:
        self._c = credentials
        self._http = http

    # --- transport ---------------------------------------------------------------------------

    def _authorization(self, method: str, url: httpx.URL, body: bytes) -> str:
        return authorization(
            mch_id=self._c.mch_id,
            serial=self._c.merchant_serial,
            key=self._c.merchant_key,
            method=method,
            url=url.raw_path.decode("ascii"),
            body=body,
            timestamp=str(int(time.time())),
            nonce=make_nonce(),
        )

    def _verify_answer(self, response: httpx.Response) -> None:
        headers = response.headers
        serial = headers.get("wechatpay-serial")
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        if serial != self._c.platform_key_id:
            raise ChannelUnavailable(details={"reason": "answer_serial"})
        if not _within_skew(timestamp, time.time()):
            raise ChannelUnavailable(details={"reason": "answer_timestamp"})
        message = answer_message(timestamp, nonce, response.content)
        if not rsa_verify(self._c.platform_key, message, signature):
            raise ChannelUnavailable(details={"reason": "answer_signature"})

    async def _call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, verify: bool = True
    ) -> tuple[int, Any]:
        """One signed call; (status, decoded JSON or None) for a 2xx, or raises: a 4xx
        ``ChannelRefused`` with the channel's code, anything else ``ChannelUnavailable``."""
        url = httpx.URL(self._c.api_base + path) if path.startswith("/") else httpx.URL(path)
        content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {
            "Authorization": self._authorization(method, url, content),
            "Accept": "application/json",
            "User-Agent": "zhangban-wechatpay/1 (python-httpx)",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(details={"reason": type(exc).__name__}) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ChannelUnavailable(details={"status": response.status_code})
        if response.status_code >= 400:
            code = ""
            with contextlib.suppress(ValueError, AttributeError):
                code = str(response.json().get("code", ""))
            if code in _RETRYABLE_CODES:
                raise ChannelUnavailable(details={"channel_code": code})
            log.info(
                "wechatpay refused",
                extra={"status": response.status_code, "channel_code": code, "path": url.path},
            )
            raise ChannelRefused(details={"channel_code": code, "status": response.status_code})
        if verify:
            self._verify_answer(response)
        if not response.content:
            return response.status_code, None
        if not verify:
            return response.status_code, response.content
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ChannelUnavailable(details={"reason": "answer_not_json"}) from None

    # --- the port ----------------------------------------------------------------------------

    async def charge(self, request: ChargeRequest) -> Charge:
        if request.mode is ChargeMode.code:
            raise ValueError("WeChat Pay issues no payment codes")
        body: dict[str, Any] = {
            "appid": self._c.appid,
            "mchid": self._c.mch_id,
            "description": request.description[:127],
            "out_trade_no": request.out_trade_no,
            "time_expire": request.expires_at.astimezone(CHINA).isoformat(timespec="seconds"),
            "notify_url": request.notify_url,
            "amount": {"total": request.amount_fen, "currency": "CNY"},
        }
        if request.mode is ChargeMode.qr:
            _, answer = await self._call("POST", "/v3/pay/transactions/native", body=body)
            code_url = answer.get("code_url") if isinstance(answer, dict) else None
            if not isinstance(code_url, str) or not code_url:
                raise ChannelUnavailable(details={"reason": "no_code_url"})
            return Charge(out_trade_no=request.out_trade_no, client={"qr_code": code_url})
        body["payer"] = {"openid": request.payer_id}
        _, answer = await self._call("POST", "/v3/pay/transactions/jsapi", body=body)
        prepay_id = answer.get("prepay_id") if isinstance(answer, dict) else None
        if not isinstance(prepay_id, str) or not prepay_id:
            raise ChannelUnavailable(details={"reason": "no_prepay_id"})
        return Charge(out_trade_no=request.out_trade_no, client=self.request_payment(prepay_id))

    def request_payment(self, prepay_id: str, *, timestamp: str | None = None) -> dict[str, str]:
        """The ``wx.requestPayment`` parameters for a prepay_id ("小程序调起支付"): signType RSA,
        paySign over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n`` with the merchant key."""
        stamp = timestamp or str(int(time.time()))
        nonce = make_nonce()
        package = f"prepay_id={prepay_id}"
        return {
            "timeStamp": stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": rsa_sign(
                self._c.merchant_key, pay_sign_message(self._c.appid, stamp, nonce, package)
            ),
        }

    def _trade(self, data: Mapping[str, Any]) -> TradeStatus:
        channel_state = str(data.get("trade_state", ""))
        amount = data.get("amount")
        # ``total`` is the order's amount, the one we asked for; ``payer_total`` is what the payer
        # paid after a coupon or a bank's discount, which may be less and still pays the order.
        total = amount.get("total") if isinstance(amount, dict) else None
        return TradeStatus(
            out_trade_no=str(data.get("out_trade_no", "")),
            state=TRADE_STATES.get(channel_state, TradeState.pending),
            transaction_id=data.get("transaction_id") or None,
            amount_fen=total if isinstance(total, int) and not isinstance(total, bool) else None,
            paid_at=_parse_time(data.get("success_time")),
            channel_state=channel_state,
        )

    async def query(self, out_trade_no: str) -> TradeStatus:
        path = (
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}"
            f"?mchid={quote(self._c.mch_id, safe='')}"
        )
        try:
            _, answer = await self._call("GET", path)
        except ChannelRefused as exc:
            if exc.details.get("channel_code") == "ORDER_NOT_EXIST":
                return TradeStatus(
                    out_trade_no=out_trade_no,
                    state=TradeState.unknown,
                    channel_state="ORDER_NOT_EXIST",
                )
            raise
        if not isinstance(answer, dict) or answer.get("out_trade_no") != out_trade_no:
            raise ChannelUnavailable(details={"reason": "answer_for_another_order"})
        return self._trade(answer)

    async def close(self, out_trade_no: str) -> None:
        path = f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close"
        try:
            await self._call("POST", path, body={"mchid": self._c.mch_id})
            return
        except ChannelRefused as exc:
            refused = exc
        # Whatever the refusal says, the order itself decides (a signed query): paid → the money
        # must be recorded; closed or unknown → nothing to close.
        status = await self.query(out_trade_no)
        if status.state is TradeState.paid:
            raise AlreadyPaid(details={"channel_code": refused.details.get("channel_code", "")})
        if status.state in (TradeState.closed, TradeState.unknown):
            return
        raise refused

    def _refund(self, data: Mapping[str, Any]) -> RefundStatus:
        channel_state = str(data.get("status") or data.get("refund_status") or "")
        amount = data.get("amount")
        refund = amount.get("refund") if isinstance(amount, dict) else None
        return RefundStatus(
            out_refund_no=str(data.get("out_refund_no", "")),
            state=REFUND_STATES.get(channel_state, RefundState.processing),
            amount_fen=refund if isinstance(refund, int) and not isinstance(refund, bool) else 0,
            refund_id=data.get("refund_id") or None,
            succeeded_at=_parse_time(data.get("success_time")),
            channel_state=channel_state,
        )

    async def refund(self, request: RefundRequest) -> RefundStatus:
        body: dict[str, Any] = {
            "out_trade_no": request.out_trade_no,
            "out_refund_no": request.out_refund_no,
            "reason": request.reason[:80],
            "notify_url": request.notify_url,
            "amount": {
                "refund": request.refund_fen,
                "total": request.total_fen,
                "currency": "CNY",
            },
        }
        if not body["reason"]:
            del body["reason"]
        _, answer = await self._call("POST", "/v3/refund/domestic/refunds", body=body)
        if not isinstance(answer, dict) or answer.get("out_refund_no") != request.out_refund_no:
            raise ChannelUnavailable(details={"reason": "answer_for_another_refund"})
        return self._refund(answer)

    async def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundStatus:
        path = f"/v3/refund/domestic/refunds/{quote(out_refund_no, safe='')}"
        _, answer = await self._call("GET", path)
        if not isinstance(answer, dict) or answer.get("out_refund_no") != out_refund_no:
            raise ChannelUnavailable(details={"reason": "answer_for_another_refund"})
        if answer.get("out_trade_no") not in (None, out_trade_no):
            raise ChannelUnavailable(details={"reason": "refund_of_another_order"})
        return self._refund(answer)

    # --- callbacks -----------------------------------------------------------------------------

    def parse_callback(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> Notification:
        serial = headers.get("wechatpay-serial")
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        if not signature or not nonce:
            raise CallbackRejected("unsigned")
        if serial != self._c.platform_key_id:
            raise CallbackRejected("serial")
        if not _within_skew(timestamp, now.timestamp()):
            raise CallbackRejected("timestamp")
        if not rsa_verify(self._c.platform_key, answer_message(timestamp, nonce, body), signature):
            raise CallbackRejected("signature")
        try:
            envelope = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise CallbackRejected("malformed") from None
        resource = envelope.get("resource") if isinstance(envelope, dict) else None
        if not isinstance(resource, dict) or envelope.get("resource_type") != "encrypt-resource":
            raise CallbackRejected("malformed")
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise CallbackRejected("algorithm")
        fields = [resource.get(k) for k in ("nonce", "associated_data", "ciphertext")]
        if not all(isinstance(value, str) for value in fields):
            raise CallbackRejected("malformed")
        try:
            plaintext = decrypt_resource(self._c.apiv3_key, *fields)  # type: ignore[arg-type]
            data = json.loads(plaintext)
        except (ValueError, UnicodeDecodeError):
            raise CallbackRejected("decrypt") from None
        if not isinstance(data, dict):
            raise CallbackRejected("malformed")
        if data.get("mchid") != self._c.mch_id:
            raise CallbackRejected("mchid")
        event_type = str(envelope.get("event_type", ""))
        notify_id = str(envelope.get("id", ""))
        if event_type.startswith("TRANSACTION."):
            if data.get("appid") != self._c.appid:
                raise CallbackRejected("appid")
            if not isinstance(data.get("out_trade_no"), str):
                raise CallbackRejected("malformed")
            return Notification(
                kind=NotificationKind.payment, trade=self._trade(data), notify_id=notify_id
            )
        if event_type.startswith("REFUND."):
            if not isinstance(data.get("out_refund_no"), str):
                raise CallbackRejected("malformed")
            out_trade_no = str(data.get("out_trade_no", ""))
            amount = data.get("amount")
            total = amount.get("total") if isinstance(amount, dict) else None
            trade = TradeStatus(
                out_trade_no=out_trade_no,
                state=TradeState.paid,
                transaction_id=data.get("transaction_id") or None,
                amount_fen=total
                if isinstance(total, int) and not isinstance(total, bool)
                else None,
                channel_state="REFUND",
            )
            return Notification(
                kind=NotificationKind.refund,
                trade=trade,
                refund=self._refund(data),
                notify_id=notify_id,
            )
        raise CallbackRejected("event_type")

    def answer(self, *, processed: bool) -> CallbackAnswer:
        """The documented answers: "接收成功：HTTP应答状态码需返回200或204，无需返回应答报文；
        接收失败：HTTP应答状态码需返回5XX或4XX，同时需返回应答报文" ``{"code": "FAIL", …}``."""
        if processed:
            return CallbackAnswer(status=204, body=b"")
        # 4XX, not 5XX: WeChat Pay resends on either, and a callback we refuse (or cannot
        # apply yet) is not a fault of this server that its 5XX alarms should count.
        return CallbackAnswer(
            status=400, body=_FAIL_BODY, content_type="application/json; charset=utf-8"
        )

    # --- bills -------------------------------------------------------------------------------

    async def bill(self, day: date) -> list[BillEntry]:
        try:
            _, answer = await self._call(
                "GET", f"/v3/bill/tradebill?bill_date={day.isoformat()}&bill_type=ALL"
            )
        except ChannelRefused as exc:
            code = exc.details.get("channel_code")
            if code == "NO_STATEMENT_EXIST":
                return []
            if code == "STATEMENT_CREATING":
                raise ChannelUnavailable(details={"channel_code": code}) from None
            raise
        if not isinstance(answer, dict):
            raise ChannelUnavailable(details={"reason": "bill_answer"})
        download_url, hash_value = answer.get("download_url"), answer.get("hash_value")
        if not isinstance(download_url, str) or not isinstance(hash_value, str):
            raise ChannelUnavailable(details={"reason": "bill_answer"})
        # "该接口响应的信息请求头中不包含微信接口响应的签名值": the hash from the signed answer
        # stands for the signature.
        _, content = await self._call("GET", download_url.strip(), verify=False)
        data = content if isinstance(content, bytes) else b""
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if not secrets.compare_digest(hashlib.sha1(data).hexdigest(), hash_value.lower()):
            raise ChannelUnavailable(details={"reason": "bill_hash"})
        try:
            return parse_trade_bill(data)
        except (ValueError, KeyError):
            raise ChannelUnavailable(details={"reason": "bill_format"}) from None


def _within_skew(timestamp: str, now: float) -> bool:
    """A ``Wechatpay-Timestamp``: ASCII digits of a plausible length (``str.isdigit`` also takes
    superscripts, and a thousand digits overflow a float), within five minutes of ``now``."""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    return abs(int(timestamp) - now) <= MAX_SKEW_S
