"""A platform's callback, from its bytes to the answer that platform expects.

The channel verifies it first (signature, timestamp, app and merchant ids, decryption) and
nothing is read before that; then the amount and the order are checked against our attempt
(``orders.apply_trade``). The answer tells the platform to stop resending only when the
notification was processed (recorded, a duplicate of a recorded one, or nothing to record), so a
callback we could not process is always sent again. A refused callback is logged by its reason
alone: never its body, which holds the payer's data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from payments.orders import apply_trade
from payments.providers.base import (
    CallbackAnswer,
    CallbackRejected,
    NotificationKind,
    PaymentChannel,
)
from payments.refunds import apply_refund_status

log = logging.getLogger("zhangban.payments")


async def receive(
    channel: PaymentChannel,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    expect: NotificationKind | None = None,
) -> CallbackAnswer:
    """``expect``: the kind of notification the route is for (WeChat Pay sends payments and
    refunds to different URLs; Alipay sends both to one)."""
    try:
        notification = channel.parse_callback(
            {k.lower(): v for k, v in headers.items()}, body, now=now
        )
    except CallbackRejected as rejected:
        return _refused(channel, rejected.reason, body)
    except Exception:  # a parser's bug must still answer in the platform's format
        log.exception("callback parser failed", extra={"channel": channel.name})
        return _refused(channel, "parser_error", body)
    if expect is not None and notification.kind is not expect:
        return _refused(channel, f"not_{expect.value}", body)
    if notification.kind is NotificationKind.refund and notification.refund is not None:
        processed = await apply_refund_status(
            notification.refund, now=now, out_trade_no=notification.trade.out_trade_no
        )
    else:
        applied = await apply_trade(channel=channel.name, status=notification.trade, now=now)
        processed = applied.processed
        if not processed:
            log.warning(
                "callback not applied", extra={"channel": channel.name, "outcome": applied.value}
            )
    return channel.answer(processed=processed)


def _refused(channel: PaymentChannel, reason: str, body: bytes) -> CallbackAnswer:
    log.warning(
        "callback refused", extra={"channel": channel.name, "reason": reason, "bytes": len(body)}
    )
    return channel.answer(processed=False)
