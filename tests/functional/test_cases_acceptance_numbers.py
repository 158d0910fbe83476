"""Acceptance numbers (受理编号): unique, readable — department code, date, sequence — and
drawn safely when many cases are accepted at once (one atomic upsert per number). On the
PostgreSQL profile the acceptances below really run in parallel transactions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
from sanic import Sanic

from auth.permissions import Subject
from cases.models import AcceptanceCounter, Case
from core.clock import local_today, utcnow
from tests.cases_flow import import_case_catalogue
from tests.cases_service import submitted, worker_paused
from tests.people import Phone, citizen, uid
from tests.staff import staff_member

MANY = 24


async def test_many_acceptances_at_once_get_distinct_numbers_in_sequence(
    clean: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    async with worker_paused(clean):
        cat = await import_case_catalogue(clean, audience="both")
        clerk = await staff_member(
            clean, client, sandbox, department_code=cat.lead, roles=["clerk"]
        )
        partner_clerk = await staff_member(
            clean, client, sandbox, department_code=cat.partner, roles=["clerk"]
        )
        person = await citizen(phone())
        me = Subject(kind="user", id=uid(person))
        cases = [(await submitted(me, cat, now=utcnow())).id for _ in range(MANY)]

        answers = await asyncio.gather(
            *(
                clerk.call("POST", f"/api/v1/staff/cases/{case_id}/accept", json={})
                for case_id in cases
            )
        )

        assert [a.status_code for a in answers] == [200] * MANY, [a.text for a in answers]
        numbers = [a.json()["acceptance_number"] for a in answers]
        assert len(set(numbers)) == MANY
        today = local_today(utcnow())
        pattern = re.compile(rf"^{re.escape(cat.lead)}-{today:%Y%m%d}-(\d{{5}})$")
        sequences = sorted(int(pattern.fullmatch(n).group(1)) for n in numbers)  # type: ignore[union-attr]
        assert sequences == list(range(1, MANY + 1))
        stored = await Case.filter(id__in=cases).values_list("acceptance_number", flat=True)
        assert sorted(str(n) for n in stored) == sorted(numbers)
        counter = await AcceptanceCounter.get(department_code=cat.lead, day=today)
        assert counter.last_number == MANY

        # The next one continues the day's sequence; a department that does not handle the
        # item draws none.
        late = await submitted(me, cat, now=utcnow())
        taken = await clerk.call("POST", f"/api/v1/staff/cases/{late.id}/accept", json={})
        assert taken.json()["acceptance_number"].endswith(f"-{MANY + 1:05d}")
        other = await partner_clerk.call("POST", f"/api/v1/staff/cases/{late.id}/accept", json={})
        assert other.status_code == 403, other.text


async def test_concurrent_acceptances_of_one_case_give_one_number(
    clean: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> None:
    """Two clerks tapping "accept" on the same case at once: one wins; the loser's number is
    rolled back with its transaction, so the sequence has no hole."""
    async with worker_paused(clean):
        cat = await import_case_catalogue(clean, audience="both")
        clerks = [
            await staff_member(clean, client, sandbox, department_code=cat.lead, roles=["clerk"])
            for _ in range(2)
        ]
        me = Subject(kind="user", id=uid(await citizen(phone())))
        case = await submitted(me, cat, now=utcnow())

        answers = await asyncio.gather(
            *(c.call("POST", f"/api/v1/staff/cases/{case.id}/accept", json={}) for c in clerks)
        )

        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json()["error"]["code"] == "case.invalid_transition"
        winner = next(a for a in answers if a.status_code == 200)
        assert winner.json()["acceptance_number"].endswith("-00001")
        following = await submitted(me, cat, now=utcnow())
        next_one = await clerks[0].call(
            "POST", f"/api/v1/staff/cases/{following.id}/accept", json={}
        )
        assert next_one.json()["acceptance_number"].endswith("-00002")
