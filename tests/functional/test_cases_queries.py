"""A constant number of queries per request whatever the page size (DESIGN.md §4): the
citizen's list, the staff inboxes and a case's detail, each counted with a page (or a
timeline and a file list) of 1 and of 50.

Queries are counted where Tortoise logs every statement it sends (``tortoise.db_client`` at
DEBUG), for the task serving the request only: the in-process worker is paused too, so its
polling never lands in the count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sanic import Sanic

from auth.permissions import Subject
from cases import service
from cases.models import Case
from core.clock import utcnow
from tests.cases_flow import CaseCatalogue, Office, office
from tests.cases_service import (
    import_catalogue,
    ready_file,
    submitted,
    task_of,
    worker_paused,
)
from tests.people import Phone
from tests.staff import StaffMember
from tests.uploads import citizen, uid

MANY = 50


class QueryLog(logging.Handler):
    """Statements sent by the current task while installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.task = asyncio.current_task()
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if asyncio.current_task() is self.task:
            self.statements.append(record.getMessage())


@contextlib.contextmanager
def counting() -> Iterator[QueryLog]:
    logger = logging.getLogger("tortoise.db_client")
    handler = QueryLog()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # counted, not printed
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def queries(caller: Phone | StaffMember, path: str, **params: object) -> int:
    # Once before counting: per-worker caches (guides, statistics) fill on first use.
    warm = await caller.call("GET", path, params=params)
    assert warm.status_code == 200, warm.text
    with counting() as log:
        answer = await caller.call("GET", path, params=params)
    assert answer.status_code == 200, answer.text
    assert log.statements, "no query seen: is the request served in another task?"
    return len(log.statements)


@dataclass
class Busy:
    cat: CaseCatalogue
    staff: Office
    person: Phone
    cases: list[int]


@pytest.fixture
async def busy(
    clean: Sanic, client: httpx.AsyncClient, sandbox: httpx.AsyncClient, phone: Callable[[], Phone]
) -> AsyncIterator[Busy]:
    """One applicant with more than a page of cases: submitted ones for the clerk, accepted
    ones (an open review task each) for the reviewer, finished ones for the dispatcher."""
    async with worker_paused(clean):
        cat = await import_catalogue(clean)
        staff = await office(clean, client, sandbox, cat)
        person = await citizen(phone())
        me = Subject(kind="user", id=uid(person))
        clerk = Subject(
            kind="staff", id=staff.clerk.id, department_code=cat.lead, roles=frozenset({"clerk"})
        )
        ids = []
        for n in range(3 * MANY + 3):
            case = await submitted(me, cat, now=utcnow())
            if n % 3:
                await service.accept(subject=clerk, case_id=case.id, comment="", now=utcnow())
            ids.append(case.id)
        yield Busy(cat=cat, staff=staff, person=person, cases=ids)


async def test_the_citizens_list_costs_the_same_for_1_and_50(busy: Busy) -> None:
    one = await queries(busy.person, "/api/v1/cases", limit=1)
    fifty = await queries(busy.person, "/api/v1/cases", limit=MANY)
    assert one == fifty
    grouped = await queries(busy.person, "/api/v1/cases", limit=MANY, group="in_progress")
    assert grouped == one


@pytest.mark.parametrize("role", ["clerk", "reviewer"])
async def test_a_staff_inbox_costs_the_same_for_1_and_50(busy: Busy, role: str) -> None:
    member: StaffMember = getattr(busy.staff, role)
    one = await queries(member, "/api/v1/staff/inbox", role=role, limit=1)
    fifty = await queries(member, "/api/v1/staff/inbox", role=role, limit=MANY)
    assert one == fifty


async def test_a_case_detail_costs_the_same_with_a_long_timeline_and_many_files(
    busy: Busy,
) -> None:
    cat = busy.cat
    short, long_ = busy.cases[1], busy.cases[4]  # both accepted
    case = await Case.get(id=long_)
    reviewer = Subject(
        kind="staff",
        id=busy.staff.reviewer.id,
        department_code=cat.lead,
        roles=frozenset({"reviewer"}),
    )
    task = await task_of(long_, cat.lead, "reviewer")
    for _ in range(MANY // 2):  # a long timeline: claims and releases
        await service.claim_task(subject=reviewer, task_id=task.id, now=utcnow())
        await service.release_task(subject=reviewer, task_id=task.id, now=utcnow())
    for _ in range(MANY):
        await ready_file(case, cat.id_card, now=utcnow())

    for caller, base in (
        (busy.person, "/api/v1/cases"),
        (busy.staff.reviewer, "/api/v1/staff/cases"),
    ):
        few = await queries(caller, f"{base}/{short}")
        many = await queries(caller, f"{base}/{long_}")
        assert few == many, base
