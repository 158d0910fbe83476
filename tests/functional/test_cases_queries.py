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
from cases import prereview, review
from cases.models import Case
from core.clock import utcnow
from tests.cases_flow import CaseCatalogue, Office, import_case_catalogue, office
from tests.cases_service import (
    ready_file,
    submitted,
    task_of,
    worker_paused,
)
from tests.people import Phone, citizen, uid
from tests.staff import StaffMember

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
        cat = await import_case_catalogue(clean, audience="both")
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
                await prereview.accept(subject=clerk, case_id=case.id, comment="", now=utcnow())
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
        await review.claim_task(subject=reviewer, task_id=task.id, now=utcnow())
        await review.release_task(subject=reviewer, task_id=task.id, now=utcnow())
    for _ in range(MANY):
        await ready_file(case, cat.id_card, now=utcnow())

    for caller, base in (
        (busy.person, "/api/v1/cases"),
        (busy.staff.reviewer, "/api/v1/staff/cases"),
    ):
        few = await queries(caller, f"{base}/{short}")
        many = await queries(caller, f"{base}/{long_}")
        assert few == many, base


async def pages(caller: Phone | StaffMember, path: str, **params: object) -> list[dict]:
    """Every row of a cursor-paged list, walked page by page."""
    rows: list[dict] = []
    cursor = None
    for _ in range(100):
        answer = await caller.call(
            "GET", path, params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert answer.status_code == 200, answer.text
        rows += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("the cursor never ended")


async def test_the_citizens_list_walks_every_case_once_newest_first(busy: Busy) -> None:
    walked = await pages(busy.person, "/api/v1/cases", limit=7)
    assert [row["id"] for row in walked] == sorted(busy.cases, reverse=True)
    assert {row["status"] for row in walked} == {"submitted", "accepted"}
    row = walked[0]
    assert set(row) == {
        "id",
        "item_code",
        "item_name",
        "status",
        "status_label",
        "acceptance_number",
        "applicant",
        "promised_due_on",
        "card",
        "updated_at",
    }
    accepted = await pages(busy.person, "/api/v1/cases", limit=7, group="in_progress")
    assert len(accepted) == len(busy.cases)
    assert await pages(busy.person, "/api/v1/cases", limit=7, group="done") == []


async def test_the_reviewer_inbox_walks_the_open_queue_and_own_tasks_once_in_order(
    busy: Busy,
) -> None:
    """The inbox merges two queries (open tasks, tasks I hold): paging must see each task once,
    oldest first, and the counts must match what was walked."""
    cat, reviewer = busy.cat, busy.staff.reviewer
    me = Subject(
        kind="staff", id=reviewer.id, department_code=cat.lead, roles=frozenset({"reviewer"})
    )
    accepted = [c for n, c in enumerate(busy.cases) if n % 3]
    mine = []
    for case_id in accepted[::4]:  # every fourth claimed by me, spread over the queue
        task = await task_of(case_id, cat.lead, "reviewer")
        await review.claim_task(subject=me, task_id=task.id, now=utcnow())
        mine.append(task.id)
    walked = await pages(reviewer, "/api/v1/staff/inbox", role="reviewer", limit=7)
    task_ids = [row["task"]["id"] for row in walked]
    assert task_ids == sorted(task_ids) and len(set(task_ids)) == len(accepted)
    assert sorted(
        t for t, row in zip(task_ids, walked, strict=True) if row["task"]["status"] == "claimed"
    ) == sorted(mine)
    assert {row["id"] for row in walked} == set(accepted)
    # A row's task says which step and who holds it; the role and department are the inbox's own.
    assert {row["task"]["step_name"] for row in walked} == {"审查"}
    assert {row["task"]["assignee_staff_id"] for row in walked} == {None, reviewer.id}
    assert all(
        set(row["task"]) == {"id", "step_index", "step_name", "status", "assignee_staff_id"}
        for row in walked
    )
    first = await reviewer.call("GET", "/api/v1/staff/inbox", params={"role": "reviewer"})
    counts = first.json()["counts"]
    assert counts["queue"] == len(accepted) - len(mine) and counts["mine"] == len(mine)
    assert counts["supervision"] == 0


async def test_the_clerk_inbox_walks_the_submitted_cases_oldest_first(busy: Busy) -> None:
    submitted_ids = [c for n, c in enumerate(busy.cases) if n % 3 == 0]
    walked = await pages(busy.staff.clerk, "/api/v1/staff/inbox", role="clerk", limit=7)
    assert [row["id"] for row in walked] == submitted_ids
    assert all(row["answer_due_on"] for row in walked)
    first = await busy.staff.clerk.call("GET", "/api/v1/staff/inbox", params={"role": "clerk"})
    assert first.json()["counts"] == {"queue": len(submitted_ids), "supervision": 0}


async def test_an_empty_inbox_still_counts(busy: Busy) -> None:
    """The counts ride along with the page's rows; an empty page asks for them alone."""
    empty = await busy.staff.dispatcher.call(
        "GET", "/api/v1/staff/inbox", params={"role": "dispatcher"}
    )
    assert empty.status_code == 200, empty.text
    assert empty.json()["items"] == [] and empty.json()["next_cursor"] is None
    assert empty.json()["counts"] == {"queue": 0, "supervision": 0}
    approver = await busy.staff.approver.call(
        "GET", "/api/v1/staff/inbox", params={"role": "approver"}
    )
    assert approver.json()["counts"] == {"queue": 0, "mine": 0, "supervision": 0}


async def test_inbox_counts_stop_at_the_cap(busy: Busy, monkeypatch: pytest.MonkeyPatch) -> None:
    """A count equal to ``counts_cap`` means "at least that many"; below it counts are exact."""
    from cases import views

    submitted_ids = [c for n, c in enumerate(busy.cases) if n % 3 == 0]
    monkeypatch.setattr(views, "INBOX_COUNT_CAP", 5)
    capped = await busy.staff.clerk.call("GET", "/api/v1/staff/inbox", params={"role": "clerk"})
    assert capped.json()["counts"] == {"queue": 5, "supervision": 0}
    assert capped.json()["counts_cap"] == 5
    assert len(capped.json()["items"]) == 20  # the page itself is not capped
    monkeypatch.setattr(views, "INBOX_COUNT_CAP", len(submitted_ids) + 1)
    exact = await busy.staff.clerk.call("GET", "/api/v1/staff/inbox", params={"role": "clerk"})
    assert exact.json()["counts"]["queue"] == len(submitted_ids)
