"""Consent to subscribe messages: what the phone reports after ``wx.requestSubscribeMessage``,
counted per WeChat user and template, and spent by each send.

WeChat delivers a one-time template's message only against an acceptance not used yet, and a
long-term template's as long as the person leaves it on; anything else answers 43101 and the
message is lost on that channel. Counting here lets a message that has no acceptance go to SMS
and the inbox at once instead of failing at WeChat, and lets the phone ask, before a submission
or a payment, for exactly the templates whose acceptances are used up. WeChat stays the judge: a
43101 zeroes our count (``zero_grant``).

Grants are keyed by a keyed hash of the openid (as WeChat keys them: a person who is a citizen
and a staff member holds one set), so the table holds no identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from tortoise.backends.base.client import BaseDBAsyncClient

from core.crypto import FieldCipher
from core.db import in_transaction
from core.errors import ValidationFailed
from core.queries import for_dialect
from notify import queries
from notify.catalogue import Catalogue, Moment
from notify.models import ConsentGrant

OPENID_CONTEXT = "notify_consent.openid"
Result = Literal["accept", "reject", "ban", "filter"]
RESULTS: tuple[Result, ...] = ("accept", "reject", "ban", "filter")
#: ``wx.requestSubscribeMessage`` asks for three templates at most in one call.
MAX_PER_REQUEST = 3
#: One-time acceptances a person may bank for one template: each tap adds one, and a message
#: type sends a handful over a case's life; a client reporting thousands is not a phone.
MAX_BANKED = 50


def _hash(cipher: FieldCipher, openid: str) -> str:
    return cipher.lookup_hash(openid, context=OPENID_CONTEXT)


async def spend_grant(
    conn: BaseDBAsyncClient, *, openid: str, template_id: str, cipher: FieldCipher, now: datetime
) -> bool:
    """Whether a message of ``template_id`` may go to ``openid`` now; a one-time acceptance is
    used up by saying yes (one statement: this runs once for every message published)."""
    sql = for_dialect(queries.SPEND_GRANT_SQL, conn.capabilities.dialect)
    rows = await conn.execute_query_dict(sql, [_hash(cipher, openid), template_id, now])
    return bool(rows)


async def zero_grant(
    conn: BaseDBAsyncClient, *, openid: str, template_id: str, cipher: FieldCipher, now: datetime
) -> None:
    """WeChat said 43101: whatever we counted, nothing is left (a long-term template was
    turned off in the phone's settings)."""
    await (
        ConsentGrant.filter(openid_hash=_hash(cipher, openid), template_id=template_id)
        .using_db(conn)
        .update(remaining=0, refused_at=now, last_result="reject", updated_at=now)
    )


class UnknownTemplate(ValidationFailed):
    code = "notify.unknown_template"
    message = "订阅消息模板不属于本小程序，请更新小程序后重试。"


def _check_report(results: Mapping[str, Any], catalogue: Catalogue) -> None:
    known = catalogue.by_template_id()
    problems: list[dict[str, Any]] = []
    if not results:
        problems.append({"field": "results", "message": "至少需要一个模板的订阅结果。"})
    if len(results) > MAX_PER_REQUEST:
        problems.append(
            {"field": "results", "message": f"一次最多上报 {MAX_PER_REQUEST} 个模板的订阅结果。"}
        )
    for template_id, result in results.items():
        if result not in RESULTS:
            problems.append(
                {
                    "field": f"results.{template_id}"[:80],
                    "message": "订阅结果只能是 accept、reject、ban 或 filter。",
                }
            )
    if problems:
        raise ValidationFailed(problems)
    unknown = [t for t in results if t not in known]
    if unknown:
        raise UnknownTemplate(
            [{"field": f"results.{t}"[:80], "message": UnknownTemplate.message} for t in unknown]
        )


async def report(
    *,
    openid: str,
    results: Mapping[str, str],
    catalogue: Catalogue,
    cipher: FieldCipher,
    now: datetime,
) -> dict[str, Any]:
    """Record what the phone's consent sheet answered; returns the grants now held."""
    _check_report(results, catalogue)
    known = catalogue.by_template_id()
    openid_hash = _hash(cipher, openid)
    async with in_transaction() as conn:
        for template_id, result in sorted(results.items()):
            template = known[template_id]
            # Created if missing without failing on a concurrent report's row, then locked.
            await ConsentGrant.bulk_create(
                [
                    ConsentGrant(
                        openid_hash=openid_hash,
                        template_id=template_id,
                        long_term=template.long_term,
                        updated_at=now,
                    )
                ],
                ignore_conflicts=True,
                using_db=conn,
            )
            grant = (
                await ConsentGrant.filter(openid_hash=openid_hash, template_id=template_id)
                .using_db(conn)
                .select_for_update()
                .get()
            )
            values: dict[str, Any] = {"last_result": result, "updated_at": now}
            if result == "accept" and not template.long_term:
                values["remaining"] = min(grant.remaining + 1, MAX_BANKED)
            await ConsentGrant.filter(id=grant.id).using_db(conn).update(**values)
    return await grants(openid=openid, catalogue=catalogue, cipher=cipher)


async def grants(*, openid: str, catalogue: Catalogue, cipher: FieldCipher) -> dict[str, Any]:
    rows = {g.template_id: g for g in await ConsentGrant.filter(openid_hash=_hash(cipher, openid))}
    listed = []
    for template in catalogue.wechat.values():
        grant = rows.get(template.template_id)
        listed.append(
            {
                "template_id": template.template_id,
                "title": template.title,
                "long_term": template.long_term,
                "remaining": (grant.remaining if grant and not template.long_term else 0),
                "accepted": bool(grant and grant.last_result == "accept"),
                "last_result": (grant.last_result if grant else None) or None,
            }
        )
    return {"grants": listed}


async def to_ask(
    *, openid: str, moment: Moment, catalogue: Catalogue, cipher: FieldCipher
) -> dict[str, Any]:
    """The templates the phone should ask for before ``moment``: those of that moment with no
    acceptance left, at most three (one ``wx.requestSubscribeMessage`` call). A template the
    person banned ("always reject") is not asked again: WeChat would not show it."""
    rows = {g.template_id: g for g in await ConsentGrant.filter(openid_hash=_hash(cipher, openid))}
    wanted = []
    for template in catalogue.wechat.values():
        if moment not in template.moments:
            continue
        grant = rows.get(template.template_id)
        if grant is not None:
            if grant.last_result == "ban":
                continue
            if template.long_term and grant.last_result == "accept":
                continue
            if not template.long_term and grant.remaining > 0:
                continue
        wanted.append({"template_id": template.template_id, "title": template.title})
    return {
        "moment": moment,
        "template_ids": [w["template_id"] for w in wanted[:MAX_PER_REQUEST]],
        "templates": wanted[:MAX_PER_REQUEST],
    }
