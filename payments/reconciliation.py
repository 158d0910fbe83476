"""Daily reconciliation: each channel's trade bill for a day against our ledger.

Every difference becomes one ``Discrepancy`` (unique per channel, day, kind and line, so a rerun
adds nothing): a line in the bill we have no record of (``missing_here``: a payment recorded by
no callback and no query, or a refund nobody asked for here), a record of ours the bill lacks
(``missing_there``), the same line with other amounts (``amount``) or another state
(``status``). Finance staff list them and resolve each with a note.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from core.clock import CHINA
from core.errors import ValidationFailed, field_error
from payments.channels import Channels
from payments.errors import DiscrepancyNotFound, DiscrepancyResolved
from payments.models import (
    ChannelOrder,
    Discrepancy,
    DiscrepancyKind,
    FeeOrder,
    Payment,
    Refund,
    RefundStatus,
)
from payments.providers.base import BillEntry, BillEntryKind

log = logging.getLogger("zhangban.payments")

Key = tuple[str, str, str]  # entry, out_trade_no, out_refund_no


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a China day runs between."""
    start = datetime.combine(day, time(), tzinfo=UTC) - CHINA
    return start, start + timedelta(days=1)


async def _ledger(channel: str, day: date) -> dict[Key, tuple[int, str, str]]:
    """Our payments and succeeded refunds of the day at ``channel``: key → (fen, transaction
    id, department)."""
    start, end = day_bounds(day)
    found: dict[Key, tuple[int, str, str]] = {}
    payments = await Payment.filter(channel=channel, paid_at__gte=start, paid_at__lt=end)
    attempts = {a.id: a for a in await ChannelOrder.filter(id__in=[p.attempt_id for p in payments])}
    orders = {o.id: o for o in await FeeOrder.filter(id__in=[p.order_id for p in payments])}
    for p in payments:
        key = (BillEntryKind.payment.value, attempts[p.attempt_id].out_trade_no, "")
        found[key] = (p.amount_fen, p.transaction_id, orders[p.order_id].payee_department_code)
    refunds = await Refund.filter(
        status=RefundStatus.succeeded.value, settled_at__gte=start, settled_at__lt=end
    )
    paid = {p.id: p for p in await Payment.filter(id__in=[r.payment_id for r in refunds])}
    refund_attempts = {
        a.id: a for a in await ChannelOrder.filter(id__in=[p.attempt_id for p in paid.values()])
    }
    refund_orders = {o.id: o for o in await FeeOrder.filter(id__in=[r.order_id for r in refunds])}
    for r in refunds:
        payment = paid[r.payment_id]
        if payment.channel != channel:
            continue
        key = (
            BillEntryKind.refund.value,
            refund_attempts[payment.attempt_id].out_trade_no,
            r.out_refund_no,
        )
        found[key] = (
            r.amount_fen,
            r.refund_id or "",
            refund_orders[r.order_id].payee_department_code,
        )
    return found


async def reconcile(
    *, channels: Channels, channel_name: str, day: date, now: datetime
) -> dict[str, Any]:
    """Compare one channel's bill of ``day`` with the ledger; the counts of what was found."""
    channel = channels.get(channel_name)
    if channel is None:
        raise ValueError(f"no channel {channel_name}")
    entries = await channel.bill(day)
    theirs: dict[Key, BillEntry] = {
        (e.kind.value, e.out_trade_no, e.out_refund_no or ""): e for e in entries
    }
    ours = await _ledger(channel_name, day)
    unmatched = set(theirs) - set(ours)
    departments = await _departments_of(unmatched)
    # A refund the bill shows done that our ledger holds as not (yet) succeeded: its state differs.
    unsettled = {
        r.out_refund_no: r
        for r in await Refund.filter(out_refund_no__in=[k[2] for k in unmatched if k[2]])
    }
    found: list[dict[str, Any]] = []
    for key, entry in theirs.items():
        mine = ours.get(key)
        if mine is None and key[2] in unsettled:
            refund = unsettled[key[2]]
            found.append(
                _row(
                    key,
                    DiscrepancyKind.status,
                    refund.amount_fen,
                    entry,
                    departments.get(key[1], ""),
                )
            )
        elif mine is None:
            found.append(
                _row(key, DiscrepancyKind.missing_here, None, entry, departments.get(key[1], ""))
            )
        elif mine[0] != entry.amount_fen:
            found.append(_row(key, DiscrepancyKind.amount, mine[0], entry, mine[2]))
    for key, (fen, transaction_id, department) in ours.items():
        if key not in theirs:
            row = _row(key, DiscrepancyKind.missing_there, fen, None, department)
            row["transaction_id"] = transaction_id
            found.append(row)
    created = 0
    for row in found:
        try:
            _, made = await Discrepancy.get_or_create(
                channel=channel_name,
                day=day,
                kind=row.pop("kind"),
                entry=row.pop("entry"),
                out_trade_no=row.pop("out_trade_no"),
                out_refund_no=row.pop("out_refund_no"),
                defaults={**row, "found_at": now},
            )
        except IntegrityError:  # a concurrent run recorded it
            made = False
        created += int(made)
    log.info(
        "reconciled",
        extra={
            "channel": channel_name,
            "day": day.isoformat(),
            "bill_lines": len(theirs),
            "ledger_lines": len(ours),
            "differences": len(found),
        },
    )
    return {"bill": len(theirs), "ledger": len(ours), "differences": len(found), "new": created}


def _row(
    key: Key,
    kind: DiscrepancyKind,
    ours_fen: int | None,
    entry: BillEntry | None,
    department: str,
) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "entry": key[0],
        "out_trade_no": key[1],
        "out_refund_no": key[2],
        "transaction_id": entry.transaction_id if entry else "",
        "ours_fen": ours_fen,
        "theirs_fen": entry.amount_fen if entry else None,
        "department_code": department,
    }


async def _departments_of(keys: set[Key]) -> dict[str, str]:
    """The payee department of the attempts a bill names that the ledger lacks (an attempt we
    made but never saw paid), by out_trade_no."""
    numbers = {key[1] for key in keys}
    attempts = await ChannelOrder.filter(out_trade_no__in=list(numbers))
    orders = {o.id: o for o in await FeeOrder.filter(id__in=[a.order_id for a in attempts])}
    return {a.out_trade_no: orders[a.order_id].payee_department_code for a in attempts}


async def resolve(
    *, discrepancy_id: int, note: str, resolved_by: str, now: datetime
) -> Discrepancy:
    """Close a difference with what finance staff found and did (the caller checked who)."""
    if not note.strip():
        raise ValidationFailed([field_error("note", "请填写处理说明。", "missing")])
    moved = await Discrepancy.filter(id=discrepancy_id, resolved_at=None).update(
        resolved_at=now, resolved_by=resolved_by, note=note.strip()[:500]
    )
    found = await Discrepancy.get_or_none(id=discrepancy_id)
    if found is None:
        raise DiscrepancyNotFound(details={"discrepancy_id": discrepancy_id})
    if not moved:
        raise DiscrepancyResolved(details={"discrepancy_id": discrepancy_id})
    return found


def discrepancy_view(d: Discrepancy) -> dict[str, Any]:
    return {
        "id": d.id,
        "channel": d.channel,
        "day": d.day.isoformat(),
        "kind": d.kind,
        "entry": d.entry,
        "out_trade_no": d.out_trade_no,
        "out_refund_no": d.out_refund_no or None,
        "transaction_id": d.transaction_id or None,
        "ours_fen": d.ours_fen,
        "theirs_fen": d.theirs_fen,
        "department_code": d.department_code or None,
        "found_at": d.found_at.isoformat(),
        "resolved_at": d.resolved_at.isoformat() if d.resolved_at else None,
        "resolved_by": d.resolved_by or None,
        "note": d.note or None,
    }
