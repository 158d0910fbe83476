"""The notify context's plain SQL, and nowhere else: what the ORM cannot say in one statement.

Placeholders are PostgreSQL's ``$n``; ``core.queries.for_dialect`` turns them into SQLite's
``?n``, which bind by the same numbers. Every statement runs on both dialects (SQLite 3.35+ for
``RETURNING``).
"""

from __future__ import annotations

from notify.models import ConsentGrant, Delivery, InboxMessage, SmsOptOut

_DELIVERY = Delivery._meta.db_table
_INBOX = InboxMessage._meta.db_table
_CONSENT = ConsentGrant._meta.db_table
_OPT_OUT = SmsOptOut._meta.db_table

_COLUMNS = (
    "id, key, event_key, channel, recipient, kind, template, address_sealed, data, page, "
    "batch_count, attempts, last_code, urgent, event_at, updated_at"
)


#: One inbox line, unless this event already wrote it (``RETURNING`` nothing then): the whole
#: message is published once, whatever the outbox redelivers. The answer also says whether the
#: recipient opted out of SMS, which the plan needs next: one round trip, not two.
INSERT_INBOX_SQL = f"""
INSERT INTO "{_INBOX}" (recipient, dedupe, kind, title, body, link, subject, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (dedupe) DO NOTHING
RETURNING id, EXISTS (SELECT 1 FROM "{_OPT_OUT}" o WHERE o.recipient = $1) AS opted_out
"""

#: Use one acceptance of template ``$2`` by ``$1`` (its openid's lookup hash) at ``$3``: a
#: one-time grant counts down, an accepted long-term one stays as it is. A row back means the
#: message may go; none, that nothing was left (or never given).
SPEND_GRANT_SQL = f"""
UPDATE "{_CONSENT}"
SET remaining = CASE WHEN long_term AND last_result = 'accept' THEN remaining
                     ELSE remaining - 1 END,
    updated_at = CASE WHEN long_term AND last_result = 'accept' THEN updated_at ELSE $3 END
WHERE openid_hash = $1 AND template_id = $2
  AND ((long_term AND last_result = 'accept') OR remaining > 0)
RETURNING id
"""

#: The ledger rows of one message (``delivery_values`` once per row), each at most once.
INSERT_DELIVERIES_SQL = f"""
INSERT INTO "{_DELIVERY}" (
    key, event_key, channel, recipient, kind, template, address_sealed, data, page, urgent,
    status, next_at, last_code, event_at, created_at, updated_at,
    batch_count, attempts, locked_by, last_error, failed_field, reference, receipt
) VALUES {{values}}
ON CONFLICT (key) DO NOTHING
"""
#: The parameters of one row, in the column order above: key ... last_code, event_at, created_at.
DELIVERY_ROW_PARAMS = 15


def delivery_values(rows: int) -> str:
    """``rows`` value lists for ``INSERT_DELIVERIES_SQL`` (created_at is also updated_at)."""
    lists = []
    for row in range(rows):
        n = [f"${row * DELIVERY_ROW_PARAMS + i + 1}" for i in range(DELIVERY_ROW_PARAMS)]
        lists.append(f"({', '.join(n)}, {n[-1]}, 1, 0, '', '', '', '', '')")
    return ", ".join(lists)


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
