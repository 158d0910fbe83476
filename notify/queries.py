"""The notify context's plain SQL, and nowhere else: what the ORM cannot say in one statement.

Placeholders are PostgreSQL's ``$n``; ``for_dialect`` turns them into SQLite's ``?n``, which
bind by the same numbers. Every statement runs on both dialects (SQLite 3.35+ for ``RETURNING``).
"""

from __future__ import annotations

import re

from notify.models import Delivery, InboxMessage

_DELIVERY = Delivery._meta.db_table
_INBOX = InboxMessage._meta.db_table

_COLUMNS = (
    "id, key, event_key, channel, recipient, kind, template, address_sealed, data, page, "
    "batch_count, attempts, last_code, urgent, event_at, updated_at"
)


def for_dialect(sql: str, dialect: str) -> str:
    if dialect == "postgres":
        return sql
    return re.sub(r"\$(\d+)", r"?\1", sql.replace(" FOR UPDATE SKIP LOCKED", ""))


#: One inbox line, unless this event already wrote it (``RETURNING`` nothing then): the whole
#: message is published once, whatever the outbox redelivers.
INSERT_INBOX_SQL = f"""
INSERT INTO "{_INBOX}" (recipient, dedupe, kind, title, body, link, subject, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (dedupe) DO NOTHING
RETURNING id
"""

#: A staff queue message: a new row for the person's batch, or one more in the row waiting.
#: A row leaves its batch (``batch`` NULL) when a worker takes it, so the next event opens a
#: new one; the unique index on ``batch`` makes two workers agree.
UPSERT_BATCH_SQL = f"""
INSERT INTO "{_DELIVERY}" (
    key, event_key, channel, recipient, kind, template, address_sealed, data, page, urgent,
    batch, batch_count, status, attempts, next_at, locked_by, last_code, last_error,
    failed_field, reference, receipt, event_at, created_at, updated_at
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, 'queued', 0, $12, '', '', '', '', '', '',
    $13, $14, $14
)
ON CONFLICT (batch) DO UPDATE SET batch_count = "{_DELIVERY}".batch_count + 1
RETURNING id
"""

#: Take up to ``$3`` messages due at ``$2`` for worker ``$1`` until ``$4``, oldest due first,
#: skipping rows another worker is taking this instant (PostgreSQL; SQLite has one writer).
CLAIM_SQL = f"""
UPDATE "{_DELIVERY}"
SET status = 'sending', locked_by = $1, locked_until = $4, attempts = attempts + 1,
    batch = NULL, updated_at = $2
WHERE id IN (
    SELECT id FROM "{_DELIVERY}"
    WHERE status = 'queued' AND next_at <= $2
    ORDER BY next_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING {_COLUMNS}
"""

#: Take over one message whose worker stopped during the call (its lease ran out).
TAKE_STALE_SQL = f"""
UPDATE "{_DELIVERY}"
SET locked_by = $1, locked_until = $3, updated_at = $2
WHERE id = $4 AND status = 'sending' AND locked_until < $2
RETURNING {_COLUMNS}
"""

#: Settle a sent message (executed for many rows at once).
MARK_SENT_SQL = f"""
UPDATE "{_DELIVERY}"
SET status = 'sent', sent_at = $1, updated_at = $1, reference = $2, last_code = $3,
    last_error = '', locked_by = '', locked_until = NULL
WHERE id = $4 AND locked_by = $5
"""
