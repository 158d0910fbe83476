"""The payments context's plain SQL, and nowhere else: the read every platform callback starts
with (each copy of a notification, a query job's answer), where the ORM's two reads cost more
CPU than verifying the signature and decrypting the resource together. ``core.db`` says how
``$n`` placeholders run on SQLite.
"""

from __future__ import annotations

from typing import Any

from core.db import fetch_rows
from payments.models import ChannelOrder, Payment

_ATTEMPT = ChannelOrder._meta.db_table
_PAYMENT = Payment._meta.db_table

#: The attempt a channel's word names, with the payment already recorded for the transaction it
#: names, if any. Mirrors ``ChannelOrder.get_or_none(out_trade_no=…, channel=…)`` and
#: ``Payment.filter(channel=…, transaction_id=…).first()``.
ATTEMPT_AND_PAYMENT_SQL = f"""
SELECT a.id, a.order_id, a.amount_fen, p.id AS payment_id, p.attempt_id AS payment_attempt_id
FROM "{_ATTEMPT}" a
LEFT JOIN "{_PAYMENT}" p ON p.channel = $1 AND p.transaction_id = $3
WHERE a.out_trade_no = $2 AND a.channel = $1
"""


async def attempt_and_payment(
    channel: str, out_trade_no: str, transaction_id: str
) -> dict[str, Any] | None:
    rows = await fetch_rows(ATTEMPT_AND_PAYMENT_SQL, [channel, out_trade_no, transaction_id])
    return rows[0] if rows else None
