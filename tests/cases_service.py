"""Service-level helpers for case tests: people and staff as rows and ``Subject`` objects, files
as ready uploads, cases driven through their use cases with an explicit ``now``, and the
invariants every case keeps.

Faster than HTTP, and the only way to set the clock: the endpoints use the real one. What the
upload flow itself does (policies, ``wx.uploadFile``, verification) is covered by the upload
tests; here a file is a row in its final ``ready`` state, created at the test's ``now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sanic import Sanic

from auth.models import Staff, User
from auth.permissions import Subject
from cases import fees, filing, prereview, review
from cases.errors import InvalidTransition
from cases.models import Case, CaseEvent, CorrectionNotice, ReviewTask
from cases.states import FINAL_STATES, TRANSITIONS, CaseStatus
from core.crypto import FieldCipher
from core.models import OutboxEvent
from core.settings import Settings
from payments.models import ChannelOrder, FeeOrder
from payments.orders import Applied, apply_trade
from payments.providers.base import TradeState, TradeStatus
from storage.models import Upload, UploadStatus
from tests.cases_flow import CaseCatalogue, required_materials

#: The field cipher of the test application (the settings leave the field keys at their
#: embedded defaults): what the edge passes to the case use cases.
CIPHER = FieldCipher.from_settings(Settings())

_seq = itertools.count(1)
CHINA = timedelta(hours=8)


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock in China on ``day``, as the aware UTC moment the services take."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - CHINA


# --- people ----------------------------------------------------------------------------------


async def person(name: str = "张三丰") -> Subject:
    """A citizen verified at L1, as a subject (what ``api.guards.citizen_subject`` builds)."""
    row = await User.create(
        openid=f"o-case-{next(_seq)}-{secrets.token_hex(4)}", realname_level=1, real_name=name
    )
    return Subject(kind="user", id=row.id)


async def staff(department: str, *roles: str) -> Subject:
    """A staff member, as ``api.guards.staff`` builds the subject: from the current row."""
    row = await Staff.create(
        username=f"case-staff-{next(_seq)}",
        name="测试工作人员",
        department_code=department,
        roles=list(roles),
    )
    return Subject(
        kind="staff", id=row.id, department_code=row.department_code, roles=frozenset(row.roles)
    )


@dataclass
class Desk:
    """The staff of the catalogue's departments, one per role, as subjects."""

    clerk: Subject
    reviewer: Subject
    approver: Subject
    dispatcher: Subject
    supervisor: Subject
    partner_reviewer: Subject
    other_clerk: Subject
    other_reviewer: Subject


async def desk(cat: CaseCatalogue) -> Desk:
    return Desk(
        clerk=await staff(cat.lead, "clerk"),
        reviewer=await staff(cat.lead, "reviewer"),
        approver=await staff(cat.lead, "approver"),
        dispatcher=await staff(cat.lead, "dispatcher"),
        supervisor=await staff(cat.other, "supervisor"),
        partner_reviewer=await staff(cat.partner, "reviewer"),
        other_clerk=await staff(cat.other, "clerk"),
        other_reviewer=await staff(cat.other, "reviewer"),
    )


# --- files and cases -------------------------------------------------------------------------


async def ready_file(
    case: Case, material: str | None, *, now: datetime, staff_id: int | None = None
) -> Upload:
    """A verified file of ``material`` on ``case``, uploaded at ``now`` by its applicant side,
    or (``staff_id``, no material) a staff member's attachment."""
    key = secrets.token_hex(16)
    by_staff = staff_id is not None
    return await Upload.create(
        id=key,
        owner_user_id=None if by_staff else case.applicant_user_id,
        company_id=None if by_staff else case.company_id,
        uploaded_by=f"s:{staff_id}"
        if by_staff
        else f"u:{case.agent_user_id or case.applicant_user_id}",
        purpose="staff_attachment" if by_staff else "material",
        item_code=case.item_code,
        material_code=material,
        case_id=case.id,
        filename="photo.png",
        claimed_content_type="image/png",
        claimed_size=100,
        max_size=10_000_000,
        incoming_key=f"incoming/{key}",
        status=UploadStatus.ready.value,
        object_key=f"materials/{key}",
        content_type="image/png",
        size=100,
        sha256=secrets.token_hex(32),
        width=64,
        height=48,
        created_at=now,
        completed_at=now,
    )


async def draft(
    subject: Subject,
    item: str,
    *,
    now: datetime,
    form: dict[str, Any] | None = None,
    company_id: int | None = None,
    principal_user_id: int | None = None,
) -> Case:
    return await filing.create_draft(
        cipher=CIPHER,
        subject=subject,
        item_code=item,
        company_id=company_id,
        principal_user_id=principal_user_id,
        form=form if form is not None else {"reason": "姓名更正"},
        now=now,
    )


async def complete_draft(
    subject: Subject,
    cat: CaseCatalogue,
    item: str | None = None,
    *,
    now: datetime,
    company_id: int | None = None,
) -> Case:
    """A draft with every required material: ready to submit."""
    item = item or cat.item
    case = await draft(subject, item, now=now, company_id=company_id)
    for material in required_materials(cat, item):
        await ready_file(case, material, now=now)
    return case


async def submitted(
    subject: Subject, cat: CaseCatalogue, item: str | None = None, *, now: datetime, **kw: Any
) -> Case:
    """``complete_draft``'s case (same arguments), submitted at ``now``."""
    case = await complete_draft(subject, cat, item, now=now, **kw)
    return await filing.submit(cipher=CIPHER, subject=subject, case_id=case.id, now=now)


async def accepted(
    subject: Subject, cat: CaseCatalogue, clerk: Subject, *, now: datetime, **kw: Any
) -> Case:
    case = await submitted(subject, cat, now=now, **kw)
    return await prereview.accept(subject=clerk, case_id=case.id, comment="", now=now)


async def task_of(case_id: int, department: str, role: str, status: str = "open") -> ReviewTask:
    task = await ReviewTask.filter(
        case_id=case_id, department_code=department, role=role, status=status
    ).first()
    assert task is not None, f"no {status} {role} task of {department} on case {case_id}"
    return task


async def in_review(
    subject: Subject, cat: CaseCatalogue, desk_: Desk, *, now: datetime, **kw: Any
) -> tuple[Case, ReviewTask]:
    """Accepted, and the lead reviewer holds the first step's task."""
    case = await accepted(subject, cat, desk_.clerk, now=now, **kw)
    task = await task_of(case.id, cat.lead, "reviewer")
    await review.claim_task(subject=desk_.reviewer, task_id=task.id, now=now)
    return await Case.get(id=case.id), task


async def decide(staff_: Subject, case_id: int, *, now: datetime, outcome: str = "pass") -> Case:
    """``staff_`` claims their department's open task of the case and decides it."""
    role = next(r for r in ("reviewer", "approver") if r in staff_.roles)
    assert staff_.department_code is not None
    task = await task_of(case_id, staff_.department_code, role)
    await review.claim_task(subject=staff_, task_id=task.id, now=now)
    return await review.decide_task(
        subject=staff_, task_id=task.id, outcome=outcome, opinion="符合法定条件。", now=now
    )


async def result_pending(
    subject: Subject, cat: CaseCatalogue, desk_: Desk, *, now: datetime, **kw: Any
) -> Case:
    case = await accepted(subject, cat, desk_.clerk, now=now, **kw)
    await decide(desk_.reviewer, case.id, now=now)
    case = await decide(desk_.approver, case.id, now=now)
    assert case.status == CaseStatus.result_pending
    return case


async def fee_paid(case: Case, *, now: datetime) -> Case:
    """The case's open fee order paid as a channel's notification records it (an attempt at
    the WeChat Pay channel, paid), then the case told as the worker tells it."""
    order = await FeeOrder.get_or_none(open_reference=fees.reference_of(case.id))
    if order is None:  # no fee is due: what the kernel answers a payment of such a case
        raise InvalidTransition(details={"case_id": case.id, "action": "fee_paid"})
    attempt = await ChannelOrder.create(
        order_id=order.id,
        channel="wechatpay",
        mode="in_app",
        out_trade_no=f"ZBTEST{order.id}{secrets.token_hex(4)}",
        amount_fen=order.amount_fen,
        created_at=now,
        expires_at=now + timedelta(minutes=30),
    )
    status = TradeStatus(
        out_trade_no=attempt.out_trade_no,
        state=TradeState.paid,
        transaction_id=f"4200{secrets.token_hex(8)}",
        amount_fen=order.amount_fen,
        paid_at=now,
    )
    assert await apply_trade(channel="wechatpay", status=status, now=now) is Applied.recorded
    event = await OutboxEvent.filter(topic="payment.paid").order_by("-id").first()
    assert event is not None and event.payload["order_id"] == order.id
    await fees.fee_paid(event.payload, now=now)
    return await Case.get(id=case.id)


# --- what a test compares --------------------------------------------------------------------


async def case_outbox(case_id: int) -> list[OutboxEvent]:
    rows = await OutboxEvent.filter(topic__startswith="case.").order_by("id")
    return [r for r in rows if r.payload.get("case_id") == case_id]


async def snapshot(case_id: int) -> dict[str, Any]:
    """Everything an action may change on a case, to prove a refused one changed nothing."""
    case = await Case.get_or_none(id=case_id)
    return {
        "case": None
        if case is None
        else {
            "status": case.status,
            "revision": case.revision,
            "form": case.form_data,
            "acceptance_number": case.acceptance_number,
            "correction_round": case.correction_round,
            "answer_due_on": case.answer_due_on,
            "promised_due_on": case.promised_due_on,
            "statutory_due_on": case.statutory_due_on,
            "paused_on": case.paused_on,
            "assignee": case.assignee_staff_id,
        },
        "events": await CaseEvent.filter(case_id=case_id).count(),
        "outbox": await OutboxEvent.all().count(),
        "notices": await CorrectionNotice.filter(case_id=case_id).count(),
        "tasks": sorted(
            (t.id, t.status, t.assignee_staff_id) for t in await ReviewTask.filter(case_id=case_id)
        ),
        "uploads": sorted(
            (u.id, u.status) for u in await Upload.filter(case_id=case_id).exclude(status="deleted")
        ),
    }


async def check_case(case_id: int) -> Case:
    """The invariants of one case, read from the database:

    * its status is a ``CaseStatus``;
    * the timeline's transitions chain from the draft: each one starts where the previous one
      ended, the last one ends at the case's status, each is a transition of the table taken
      from one of its sources to its target by one of its roles;
    * every transition has its outbox event (topic ``case.<transition>``), in the same order;
    * the revision counts the transitions;
    * no open or claimed review task outlives a decision, and none exists before acceptance.
    """
    case = await Case.get(id=case_id)
    status = CaseStatus(case.status)
    events = await CaseEvent.filter(case_id=case_id).order_by("id")
    moves = [e for e in events if e.action in TRANSITIONS]
    current = CaseStatus.draft
    for event in moves:
        transition = TRANSITIONS[event.action]
        assert event.from_status == current, (event.action, event.from_status, current)
        assert CaseStatus(event.from_status) in transition.from_states, event.action
        assert event.to_status == transition.to, event.action
        assert event.role in {r.value for r in transition.roles}, (event.action, event.role)
        current = transition.to
    for event in events:
        if event.action not in TRANSITIONS:  # notes never move the case
            assert event.from_status == event.to_status, event.action
    assert current == status, (current, status)
    assert case.revision == len(moves), (case.revision, len(moves))
    assert [e.at for e in events] == sorted(e.at for e in events)
    outbox = [
        e.topic for e in await case_outbox(case_id) if e.topic.removeprefix("case.") in TRANSITIONS
    ]
    assert outbox == [f"case.{e.action}" for e in moves], (outbox, [e.action for e in moves])
    live = await ReviewTask.filter(case_id=case_id, status__in=("open", "claimed")).count()
    if status in FINAL_STATES or status in {
        CaseStatus.decided_granted,
        CaseStatus.fee_due,
        CaseStatus.result_pending,
    }:
        assert live == 0, (status, live)
    if case.acceptance_number is None:
        assert await ReviewTask.filter(case_id=case_id).count() == 0
    return case


async def outbox_settled(app: Sanic, *, within_s: float = 10.0) -> None:
    """Wait until the in-process worker (embedded profile) has handled every pending event:
    its handlers write (a completion's duration marker is a timeline line), and a test that
    compares before and after must not count their rows as its own. Without a worker running
    nothing is handled behind a test's back."""
    worker = getattr(app.ctx, "worker", None)
    if worker is None or getattr(worker, "_task", None) is None:
        return
    deadline = asyncio.get_running_loop().time() + within_s
    while await OutboxEvent.filter(status="pending").exists():
        assert asyncio.get_running_loop().time() < deadline, "the outbox did not settle"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def worker_paused(app: Sanic) -> AsyncIterator[None]:
    """The in-process worker (embedded profile) stopped for the block: its jobs run on the real
    clock and would act on cases a test has placed in another time, and its queries would be
    counted with the request's."""
    worker = getattr(app.ctx, "worker", None)
    if worker is None or getattr(worker, "_task", None) is None:
        yield
        return
    await worker.stop()
    try:
        yield
    finally:
        worker.start()
