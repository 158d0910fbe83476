"""A property test of the case workflow: random sequences of actions by random subjects, at the
service level, and after every step the invariants of ``tests.cases_service.check_case``:

* the status is a ``CaseStatus``; the timeline's transitions chain from the draft to it, each
  taken from one of its sources by one of its roles; the revision counts them; every one has
  its outbox event;
* a refused action changes nothing (case, timeline, outbox, notices, tasks, files), and is
  refused with a client error, never a crash;
* a final state never changes again; no open or claimed task outlives a decision;
* someone with no business on the case (a stranger, staff of an uninvolved department, the
  supervisor) never moves it.

Actions are drawn half of the time from those that make sense in the current status, and the
actor half of the time from those whose job it is, so sequences reach decisions, fees and
completion, not only refusals.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sanic import Sanic

from auth.permissions import Subject
from cases import errors, filing, kernel, prereview, review
from cases.models import Case, CaseEvent, CorrectionNotice, ReviewTask
from cases.states import FINAL_STATES, CaseStatus
from core.errors import DomainError
from tests.cases_flow import CaseCatalogue, import_case_catalogue
from tests.cases_service import (
    CIPHER,
    at,
    check_case,
    complete_draft,
    desk,
    fee_paid,
    person,
    ready_file,
    snapshot,
    worker_paused,
)

S = CaseStatus

ACTIONS = (
    "save_form",
    "correct_files",
    "submit",
    "withdraw",
    "accept",
    "refuse",
    "request_correction",
    "claim",
    "release",
    "pass",
    "deny",
    "suspend",
    "resume",
    "complete",
    "fee_paid",
    "article_32",
)
#: What makes sense in each status, weighted towards moving on (the rest is drawn too, less
#: often).
PLAUSIBLE: dict[S, tuple[str, ...]] = {
    S.draft: ("submit", "submit", "submit", "save_form"),
    S.submitted: (
        *("accept",) * 4,
        *("request_correction",) * 3,
        "refuse",
        "withdraw",
        "article_32",
    ),
    S.correction_requested: ("correct_files", "correct_files", "submit", "submit", "save_form"),
    S.accepted: ("claim", "claim", "claim", "withdraw"),
    S.in_review: (
        *("claim",) * 3,
        *("pass",) * 4,
        "deny",
        "suspend",
        "request_correction",
        "request_correction",
        "release",
    ),
    S.suspended: ("resume", "resume", "resume", "withdraw"),
    S.fee_due: ("fee_paid",),
    S.result_pending: ("complete",),
}
ACTORS = (
    "applicant",
    "stranger",
    "clerk",
    "reviewer",
    "approver",
    "dispatcher",
    "supervisor",
    "partner_reviewer",
    "other_clerk",
    "other_reviewer",
)
#: Examples per run; ``ZB_PROPERTY_EXAMPLES=500`` for a longer hunt.
EXAMPLES = int(os.environ.get("ZB_PROPERTY_EXAMPLES", "30"))
#: Three times in four: the plausible action, by the actor whose job it is.
LIKELY = (True, True, True, False)
#: Seven times in eight.
MOSTLY = (*(True,) * 7, False)
#: Subjects that have no business on any case of the catalogue: they never move one.
OUTSIDERS = {"stranger", "supervisor", "other_clerk", "other_reviewer"}


@dataclass
class World:
    cat: CaseCatalogue
    subjects: dict[str, Subject]
    clock: list[datetime]  # the next moment to use; moves on with every step


START = at(date(2026, 9, 21), 9)


@pytest.fixture
async def world(clean: Sanic) -> AsyncIterator[World]:
    async with worker_paused(clean):
        cat = await import_case_catalogue(clean, audience="both")
        staff = await desk(cat)
        subjects = {
            "applicant": await person("张三丰"),
            "stranger": await person("李四光"),
            **{name: getattr(staff, name) for name in ACTORS[2:]},
        }
        yield World(cat=cat, subjects=subjects, clock=[START])


def _tick(world: World, hours: int = 1) -> datetime:
    now = world.clock[0]
    world.clock[0] = now + timedelta(hours=hours)
    return now


async def _live_tasks(case_id: int, status: str) -> list[ReviewTask]:
    return await ReviewTask.filter(case_id=case_id, status=status).order_by("id")


def _holder_name(world: World, staff_id: int | None) -> str | None:
    return next(
        (n for n, s in world.subjects.items() if s.is_staff and s.id == staff_id),
        None,
    )


def _fits(subject: Subject, task: ReviewTask) -> bool:
    return subject.department_code == task.department_code and task.role in subject.roles


async def _pick(
    world: World, data: st.DataObject, case: Case, action: str, fit: bool
) -> tuple[str, ReviewTask | None]:
    """The actor's name (or "system") and, for task actions, the task acted on."""
    status = S(case.status)
    if action in ("fee_paid", "article_32"):
        return "system", None
    if action in ("claim",):
        tasks = await _live_tasks(case.id, "open") or await ReviewTask.filter(case_id=case.id)
        if not tasks:
            return data.draw(st.sampled_from(ACTORS)), None
        task = data.draw(st.sampled_from(tasks))
        if fit:
            fitting = [n for n in ACTORS if _fits(world.subjects[n], task)] or list(ACTORS)
            return data.draw(st.sampled_from(fitting)), task
        return data.draw(st.sampled_from(ACTORS)), task
    if action in ("release", "pass", "deny", "suspend", "resume") or (
        action == "request_correction" and status is S.in_review
    ):
        held = await _live_tasks(case.id, "claimed")
        holding = data.draw(st.sampled_from(held)) if held else None
        if fit and holding is not None:
            return _holder_name(world, holding.assignee_staff_id) or "reviewer", holding
        return data.draw(st.sampled_from(ACTORS)), holding
    if fit:
        owner = {
            "save_form": "applicant",
            "correct_files": "applicant",
            "submit": "applicant",
            "withdraw": "applicant",
            "accept": "clerk",
            "refuse": "clerk",
            "request_correction": "clerk",
            "complete": "dispatcher",
        }
        return owner[action], None
    return data.draw(st.sampled_from(ACTORS)), None


async def _act(
    world: World,
    data: st.DataObject,
    case: Case,
    action: str,
    actor: str,
    task: ReviewTask | None,
    now: datetime,
) -> None:
    subject = world.subjects.get(actor)
    cat = world.cat
    if action == "fee_paid":
        await fee_paid(case, now=now)
        return
    if action == "article_32":
        await prereview.auto_accept_overdue(now=now)
        return
    assert subject is not None
    if action == "save_form":
        form: dict[str, Any] = data.draw(
            st.sampled_from(
                [
                    {"reason": "姓名中错别字更正"},
                    {"reason": "出生日期更正", "moving": False},
                    {"reason": "迁入新住所", "moving": True},
                    {"reason": "x"},  # too short: refused by the item's schema
                ]
            )
        )
        await filing.update_form(
            cipher=CIPHER, subject=subject, case_id=case.id, form=form, now=now
        )
    elif action == "correct_files":
        notice = await CorrectionNotice.filter(case_id=case.id, round=case.correction_round).first()
        listed = [i["code"] for i in (notice.items if notice else []) if i["kind"] == "material"]
        materials = listed or [cat.id_card]
        for material in materials:
            await filing.check_upload_allowed(
                subject=subject, case_id=case.id, material_code=material, now=now
            )
            await ready_file(case, material, now=now)
    elif action == "submit":
        await filing.submit(cipher=CIPHER, subject=subject, case_id=case.id, now=now)
    elif action == "withdraw":
        await filing.withdraw(subject=subject, case_id=case.id, reason="不再需要。", now=now)
    elif action == "accept":
        await prereview.accept(subject=subject, case_id=case.id, comment="", now=now)
    elif action == "refuse":
        await prereview.refuse(
            subject=subject, case_id=case.id, reasons="不符合受理条件。", now=now
        )
    elif action == "request_correction":
        guide = await kernel.guide_of(case)
        choices = [("material", m.code) for m in guide.materials] + [("field", "reason")]
        picked = data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))
        if data.draw(st.sampled_from(LIKELY)) is False:
            picked.append(("material", "mat-nowhere"))  # a material the item does not have
        items = [{"kind": k, "code": c, "problem": "请按要求补正。"} for k, c in picked]
        await prereview.request_correction(
            subject=subject, case_id=case.id, items=items, comment="", now=now
        )
    elif action in ("claim", "release", "pass", "deny"):
        if task is None:
            raise errors.TaskNotFound()
        if action == "claim":
            await review.claim_task(subject=subject, task_id=task.id, now=now)
        elif action == "release":
            await review.release_task(subject=subject, task_id=task.id, now=now)
        else:
            await review.decide_task(
                subject=subject, task_id=task.id, outcome=action, opinion="审查意见。", now=now
            )
    elif action == "suspend":
        await review.suspend(
            subject=subject, case_id=case.id, procedure="inspection", reason="现场核查。", now=now
        )
    elif action == "resume":
        await review.resume(subject=subject, case_id=case.id, comment="", now=now)
    elif action == "complete":
        await review.complete(subject=subject, case_id=case.id, comment="已送达。", now=now)
    else:  # pragma: no cover - the list above is the list of ACTIONS
        raise AssertionError(action)


DECIDED = {S.decided_granted, S.fee_due, S.result_pending, S.completed}
ACCEPTED = {S.accepted, S.in_review, S.suspended, S.decided_denied} | DECIDED


async def _check_state(case: Case) -> None:
    """What the status implies about the rest of the case: the clock stopped exactly while a
    special procedure runs or the applicant corrects during review; an acceptance number and
    due dates once accepted; an answer day while waiting for pre-review; the decision recorded;
    a closing time on every final state. Review tasks follow the status: none before
    acceptance, some open or held while the case is examined (also while the applicant corrects
    during review)."""
    status = S(case.status)
    in_review_correction = status is S.correction_requested and case.correction_stage == "review"
    assert (case.paused_on is not None) == (status is S.suspended or in_review_correction)
    if status in ACCEPTED or in_review_correction:
        assert case.acceptance_number and case.accepted_on, status
        assert case.promised_due_on and case.statutory_due_on, status
        assert case.promised_due_on <= case.statutory_due_on
    elif status is not S.withdrawn:  # withdrawn: before or after acceptance
        assert case.acceptance_number is None, status
    if status is S.submitted:
        assert case.answer_due_on is not None
    if status in DECIDED:
        assert case.decision == "granted" and case.decided_at is not None
    elif status is S.decided_denied:
        assert case.decision == "denied" and case.decision_reasons
    elif status is S.refused:
        assert case.decision == "refused" and case.decision_reasons
    else:
        assert case.decision == ""
    assert (case.closed_at is not None) == (status in FINAL_STATES), status
    tasks = await ReviewTask.filter(case_id=case.id)
    live = [t for t in tasks if t.status in ("open", "claimed")]
    status = S(case.status)
    if status in (S.accepted, S.in_review, S.suspended) or (
        status is S.correction_requested and case.correction_stage == "review"
    ):
        assert live, f"{status} with no task to work on"
    if status is S.accepted:
        assert all(t.status == "open" for t in tasks), "claiming starts the review"
    for task in tasks:
        if task.status == "claimed":
            assert task.assignee_staff_id is not None
        if task.status == "open":
            assert task.assignee_staff_id is None


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_actions_keep_every_case_valid(world: World, data: st.DataObject) -> None:
    cat = world.cat
    world.clock[0] = START  # every example replays the same way: the clock is its own
    item = data.draw(st.sampled_from([cat.item, cat.paid_item, cat.parallel_item]), label="item")
    applicant = world.subjects["applicant"]
    case = await complete_draft(applicant, cat, item, now=_tick(world))
    final: tuple[str, int] | None = None
    after_final = 0
    log: list[str] = []
    for _ in range(data.draw(st.integers(min_value=5, max_value=40), label="steps")):
        if final is not None:
            after_final += 1
            if after_final > 4:  # a few tries at moving a final state are enough
                break
        case = await Case.get(id=case.id)
        status = S(case.status)
        plausible = PLAUSIBLE.get(status, ())
        if plausible and data.draw(st.sampled_from(MOSTLY)):
            action = data.draw(st.sampled_from(plausible))
        else:
            action = data.draw(st.sampled_from(ACTIONS))
        fit = data.draw(st.sampled_from(LIKELY))
        actor, task = await _pick(world, data, case, action, fit)
        now = _tick(world, 24 * 8 if action == "article_32" else 1)
        if action == "article_32":
            now += timedelta(days=8)
        before = await snapshot(case.id)
        outcome: Any = "ok"
        try:
            await _act(world, data, case, action, actor, task, now)
        except DomainError as error:
            outcome = error.code
            assert error.status < 500, (action, actor, error.code)
        log.append(f"{status}:{action}:{actor}:{outcome}")
        assert not (actor in OUTSIDERS and outcome == "ok"), f"{actor} was let in: {log}"
        if outcome != "ok" or actor in OUTSIDERS:
            assert await snapshot(case.id) == before, f"{action} by {actor} left traces: {log}"
            continue
        after = await check_case(case.id)
        await _check_state(after)
        if after.revision != case.revision:
            events = await CaseEvent.filter(case_id=case.id).order_by("id")
            new = events[before["events"] :]
            expected_actor = "system" if actor == "system" else None
            if expected_actor is None:
                subject = world.subjects[actor]
                expected_actor = f"{'s' if subject.is_staff else 'u'}:{subject.id}"
            # The actor's own transition comes first; the system may follow (fee due).
            first_move = next(e for e in new if e.from_status != e.to_status)
            assert first_move.actor == expected_actor, (log, first_move.actor)
        if final is not None:
            assert (after.status, after.revision) == final, f"a final state moved: {log}"
        elif S(after.status) in FINAL_STATES:
            final = (after.status, after.revision)
    # ``--hypothesis-show-statistics`` shows how far the sequences went.
    event(f"ended {(await Case.get(id=case.id)).status}")
