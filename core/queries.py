"""The shared layer's plain SQL, and nowhere else: the outbox claim, which the ORM cannot say.

Table names come from the models; each statement names its ORM twin, which must select the
same rows. Placeholders are PostgreSQL's ``$n``.
"""

from __future__ import annotations

import re

from core.models import OutboxEvent

_OUTBOX = OutboxEvent._meta.db_table


def for_dialect(sql: str, dialect: str) -> str:
    """A statement written for PostgreSQL as SQLite takes it: ``$n`` placeholders become
    ``?n`` (which bind by the same numbers) and row locks go (SQLite has one writer)."""
    if dialect == "postgres":
        return sql
    return re.sub(r"\$(\d+)", r"?\1", sql.replace(" FOR UPDATE SKIP LOCKED", ""))


#: Claim up to ``$4`` due events for worker ``$1`` until ``$2`` (``$3`` is now), oldest first,
#: skipping rows another worker is claiming this instant: any number of workers claim at once
#: without waiting on each other or sharing an event. PostgreSQL only.
#: ORM twin (SQLite, one writer at a time): ``core.worker.Worker.claim_batch``'s
#: ``OutboxEvent.filter(_claimable(now))`` then a conditional ``update`` per row.
CLAIM_OUTBOX_SQL = f"""
UPDATE "{_OUTBOX}" AS e
SET locked_by = $1, locked_until = $2, attempts = e.attempts + 1
WHERE e.id IN (
    SELECT id FROM "{_OUTBOX}"
    WHERE status = 'pending' AND available_at <= $3
      AND (locked_until IS NULL OR locked_until <= $3)
    ORDER BY id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
RETURNING e.id, e.topic, e.payload, e.attempts, e.done_handlers
"""

#: Settle event ``$4`` as delivered at ``$1`` with its handlers ``$2`` (JSON), if worker ``$3``
#: still holds it; both dialects (``for_dialect``). Once per event: one prepared statement
#: rather than the ORM's query building (bench/notify.sh).
SETTLE_OUTBOX_SQL = f"""
UPDATE "{_OUTBOX}"
SET status = 'delivered', delivered_at = $1, locked_by = '', locked_until = NULL,
    done_handlers = $2
WHERE id = $4 AND locked_by = $3
"""
