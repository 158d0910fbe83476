"""Read side of cases, shaped for small screens: lists, details, inboxes.

Each function runs a fixed number of queries whatever the page size: a page of cases is one
query, and whatever a row needs besides the case is fetched for the whole page at once.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from auth.models import Company, User
from auth.permissions import (
    STEP_ACTIONS,
    Action,
    Owned,
    PermissionDenied,
    StaffRole,
    Standing,
    Subject,
    citizen_may,
    staff_may,
    standing_of,
)
from cases.filing import checklist
from cases.kernel import RIGHTS_NOTICE, guide_of, owned
from cases.models import (
    Case,
    CorrectionNotice,
    ItemDurationStats,
    ReviewTask,
)
from cases.personal import masked
from cases.queries import (
    INBOX_TASK_FIELDS,
    TASK_ALIASES,
    citizen_case_rows,
    inbox_rows,
    timeline_rows,
)
from cases.states import CLOCK_RUNNING, EVENT_LABELS, RATEABLE, STATUS_LABELS, CaseStatus
from catalog.guides import forget_guides
from core.calendar import WorkCalendar, calendar_source
from core.clock import local_today
from core.db import as_date, as_datetime, as_json, iso_or_none
from core.paging import Cursor, PageRequest
from storage.models import Upload
from storage.queries import live_files_of_case

S = CaseStatus
#: Status labels by the stored value (a list row has the plain string).
_LABELS: dict[str, str] = {status.value: label for status, label in STATUS_LABELS.items()}

#: Citizen list filters: a phone shows these as tabs.
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "draft": (S.draft.value,),
    "action_needed": (S.correction_requested.value, S.fee_due.value),
    "in_progress": (
        S.submitted.value,
        S.accepted.value,
        S.in_review.value,
        S.suspended.value,
        S.decided_granted.value,
        S.result_pending.value,
    ),
    "done": (
        S.completed.value,
        S.refused.value,
        S.decided_denied.value,
        S.withdrawn.value,
        S.lapsed.value,
    ),
}

#: Inbox tab counts stop here: a count equal to it means "at least this many" (the phone shows
#: 99+, as WeChat's own badges do). Counting a queue costs PostgreSQL about 0.2 µs an entry on
#: every inbox request: a cap of 1,000 made the count of a long reviewer queue 0.23 ms, a third
#: of the whole statement, for a figure no one reads beyond "a lot". Exact department totals are
#: on the supervisor's board.
INBOX_COUNT_CAP = 100

#: Completed cases an item needs before its median duration is used for predictions.
PREDICTION_MIN_CASES = 20


def card(case: Case | CaseRow, *, today: date, calendar: WorkCalendar, yellow_days: int) -> str:
    """Supervision card: ``red`` past the promised limit, ``yellow`` within ``yellow_days``
    working days of it, ``""`` otherwise (or while the clock is not running)."""
    if case.status not in CLOCK_RUNNING or case.promised_due_on is None:
        return ""
    if case.promised_due_on < today:
        return "red"
    if case.promised_due_on <= calendar.add_working_days(today, yellow_days):
        return "yellow"
    return ""


@dataclass(slots=True)
class CaseRow:
    """The columns of a list row, read without the ORM (``core.db.fetch_rows``): lists and
    inboxes are the most frequent reads of the whole service."""

    id: int
    item_code: str
    item_name: str
    status: str
    acceptance_number: str | None
    applicant_display: str
    promised_due_on: date | None
    updated_at: datetime
    answer_due_on: date | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> CaseRow:
        updated_at = as_datetime(row["updated_at"])
        assert updated_at is not None  # NOT NULL
        return cls(
            id=row["id"],
            item_code=row["item_code"],
            item_name=row["item_name"],
            status=row["status"],
            acceptance_number=row["acceptance_number"],
            applicant_display=row["applicant_display"],
            promised_due_on=as_date(row["promised_due_on"]),
            updated_at=updated_at,
            answer_due_on=as_date(row.get("answer_due_on")),
        )


def summary(case: Case | CaseRow, *, today: date, calendar: WorkCalendar, yellow_days: int) -> dict:
    """One list row: enough for a phone to draw the card without opening the case."""
    return {
        "id": case.id,
        "item_code": case.item_code,
        "item_name": case.item_name,
        "status": case.status,
        "status_label": _LABELS[case.status],
        "acceptance_number": case.acceptance_number,
        "applicant": case.applicant_display,
        "promised_due_on": case.promised_due_on.isoformat() if case.promised_due_on else None,
        "card": card(case, today=today, calendar=calendar, yellow_days=yellow_days),
        "updated_at": case.updated_at.isoformat(),
    }


def _median(histogram: dict[str, int]) -> int | None:
    total = sum(histogram.values())
    if not total:
        return None
    middle = (total + 1) // 2
    seen = 0
    for days in sorted(histogram, key=int):
        seen += histogram[days]
        if seen >= middle:
            return int(days)
    return None


def predicted_on(
    case: Case, stats: ItemDurationStats | None, *, calendar: WorkCalendar
) -> date | None:
    """The due date, or the item's median duration from acceptance if that is earlier and
    enough cases have finished to trust it."""
    if case.promised_due_on is None or case.accepted_on is None:
        return None
    due = case.promised_due_on
    if stats is not None and stats.count >= PREDICTION_MIN_CASES:
        median = _median(stats.histogram)
        if median is not None:
            typical = calendar.add_working_days(case.accepted_on, median + case.paused_working_days)
            return min(due, typical)
    return due


_STATS: dict[str, tuple[float, ItemDurationStats | None]] = {}
_STATS_TTL_S = 300.0


def reset_caches() -> None:
    """Forget every per-worker cache of this context (tests that rebuild the database)."""
    _STATS.clear()
    forget_guides()
    _FILED.clear()
    calendar_source.invalidate()


async def _duration_stats(item_code: str) -> ItemDurationStats | None:
    """An item's duration histogram, re-read per worker every few minutes: a prediction does not
    need the last decision of the hour."""
    cached = _STATS.get(item_code)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _STATS_TTL_S:
        return cached[1]
    stats = await ItemDurationStats.get_or_none(item_code=item_code)
    _STATS[item_code] = (now, stats)
    return stats


#: Details of a line the applicant sees without them: who among the staff did what.
_STAFF_ONLY_DETAILS = frozenset({"assigned_by"})


async def _timeline(
    case_id: int, *, staff: bool, rated: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The case's events, oldest first (internal ones, staff comments, for staff only), and its
    rating when ``rated`` may have one: one statement, the rating's columns joined to every event
    (a case has a handful). Read without the ORM: see ``fetch_rows``."""
    rows = await timeline_rows(case_id, rated=rated)
    timeline = []
    for row in rows:
        details = as_json(row["details"]) or {}
        if details.get("internal") and not staff:
            continue
        at = as_datetime(row["at"])
        assert at is not None  # NOT NULL
        timeline.append(
            {
                "action": row["action"],
                "label": EVENT_LABELS.get(row["action"], "办理进展"),
                "role": row["role"],
                "from": row["from_status"],
                "to": row["to_status"],
                "comment": row["comment"],
                "details": {
                    k: v
                    for k, v in details.items()
                    if k != "internal" and (staff or k not in _STAFF_ONLY_DETAILS)
                },
                "at": at.isoformat(),
            }
        )
    evaluation = None
    if rows and rows[0].get("v_score") is not None:
        first = rows[0]
        evaluation = {
            "score": first["v_score"],
            "tags": as_json(first["v_tags"]),
            "comment": first["v_comment"],
            "answer": first["v_answer"] or None,
            "follow_up": first["v_follow_up"] or None,
            "rated_at": iso_or_none(first["v_created_at"]),
            "answered_at": iso_or_none(first["v_answered_at"]),
        }
    return timeline, evaluation


#: The columns of a file that the detail, its checklist and its links read.
_UPLOAD_FIELDS = (
    "id",
    "material_code",
    "purpose",
    "status",
    "filename",
    "content_type",
    "width",
    "height",
    "pages",
    "created_at",
    "object_key",
    "thumbnail_key",
)


def _upload_view(upload: Upload) -> dict[str, Any]:
    return {
        "id": upload.id,
        "material_code": upload.material_code,
        "purpose": upload.purpose,
        "status": upload.status,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "width": upload.width,
        "height": upload.height,
        "pages": upload.pages,
        "created_at": upload.created_at.isoformat(),
    }


async def case_detail(
    case: Case, *, staff: bool, now: datetime, yellow_days: int
) -> tuple[dict[str, Any], list[Upload]]:
    """Everything one screen shows about a case, and its files (the edge adds their links).
    Staff also see internal comments and the review tasks."""
    calendar = await calendar_source.get()
    today = local_today(now)
    timeline, evaluation = await _timeline(
        case.id, staff=staff, rated=CaseStatus(case.status) in RATEABLE
    )
    uploads = await live_files_of_case(case.id, fields=_UPLOAD_FIELDS)
    if not staff:
        uploads = [u for u in uploads if u.purpose == "material"]  # staff attachments are internal
    guide = await guide_of(case)
    notice = (
        await CorrectionNotice.filter(case_id=case.id, round=case.correction_round).first()
        if case.correction_round
        else None
    )
    stats = await _duration_stats(case.item_code) if case.accepted_on else None
    predicted = predicted_on(case, stats, calendar=calendar)
    view: dict[str, Any] = {
        **summary(case, today=today, calendar=calendar, yellow_days=yellow_days),
        "revision": case.revision,
        "lead_department_code": case.lead_department_code,
        "company_id": case.company_id,
        "applicant_user_id": case.applicant_user_id,
        "agent_user_id": case.agent_user_id,
        "form": masked(case.form_data, guide.personal_paths),
        "form_titles": guide.field_titles,
        "fee_fen": case.fee_fen,
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
        "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
        "statutory_due_on": case.statutory_due_on.isoformat() if case.statutory_due_on else None,
        "answer_due_on": case.answer_due_on.isoformat() if case.answer_due_on else None,
        "clock_stopped_since": case.paused_on.isoformat() if case.paused_on else None,
        "predicted_on": predicted.isoformat() if predicted else None,
        "decision": case.decision or None,
        "decision_reasons": case.decision_reasons or None,
        "rights_notice": RIGHTS_NOTICE if case.decision in ("denied", "refused") else None,
        "checklist": checklist(guide, case.form_data, uploads),
        "files": [_upload_view(u) for u in uploads],
        "correction": (
            {
                "round": notice.round,
                "items": notice.items,
                "issued_at": notice.issued_at.isoformat(),
                "resolved": notice.resolved_at is not None,
            }
            if notice
            else None
        ),
        "evaluation": evaluation,
        "timeline": timeline,
    }
    if staff:
        tasks = await ReviewTask.filter(case_id=case.id).order_by("id")
        view["tasks"] = [_task_view(t) for t in tasks]
    return view, uploads


#: What a staff screen shows of a review task.
_TASK_FIELDS = (
    "id",
    "step_index",
    "step_name",
    "role",
    "department_code",
    "status",
    "assignee_staff_id",
    "opinion",
)


def _task_view(task: ReviewTask) -> dict[str, Any]:
    return {name: getattr(task, name) for name in _TASK_FIELDS}


#: The acts a staff screen may offer on a case, by the endpoint that takes each
#: (``StaffCaseDetailOut.actions``).
STAFF_ACTIONS_OFFERED = (
    "accept",  # POST /staff/cases/{id}/accept
    "refuse",  # …/refuse
    "request_correction",  # …/corrections
    "claim",  # POST /staff/tasks/{task_id}/claim
    "decide",  # …/decide
    "release",  # …/release
    "suspend",  # POST /staff/cases/{id}/suspend
    "resume",  # …/resume
    "complete",  # …/complete
    "comment",  # …/comments
    "attach",  # …/attachments
    "reveal",  # …/personal-data
    "reassign",  # POST /supervisor/tasks/{task_id}/reassign
)


def staff_actions(
    subject: Subject, case: Case, tasks: list[dict[str, Any]], *, has_identifiers: bool
) -> list[str]:
    """What ``subject`` may do on ``case`` now, as the endpoints decide it: the one rule
    (``staff_may``), the case's status and its review tasks (held, claimable, separation of
    duties). A phone shows these buttons and no others; the endpoints still decide, and a race
    lost meanwhile is their 409."""
    target = owned(case)
    status = case.status
    found: set[str] = set()
    if status == S.submitted and staff_may(subject, Action.accept, target):
        found |= {"accept", "refuse", "request_correction"}
    decided_steps = [
        t["step_index"]
        for t in tasks
        if t["assignee_staff_id"] == subject.id and t["status"] in ("passed", "denied")
    ]

    def takes(task: dict[str, Any]) -> bool:
        if task["role"] not in subject.roles or task["department_code"] != subject.department_code:
            return False
        step_action = STEP_ACTIONS[StaffRole(task["role"])]
        return staff_may(
            subject, step_action, owned(case, departments=(task["department_code"],))
        ) and not any(step < task["step_index"] for step in decided_steps)

    held = [
        t
        for t in tasks
        if t["status"] == "claimed" and t["assignee_staff_id"] == subject.id and takes(t)
    ]
    if held:
        found.add("release")
        if status == S.in_review:
            found |= {"decide", "request_correction", "suspend"}
        elif status == S.suspended:
            found.add("resume")
    # a task may be claimed whatever holds the case up: a suspension's or a correction's task
    # released must be taken again to go on (``claim_task`` asks no status)
    if status in (S.accepted, S.in_review, S.suspended, S.correction_requested) and any(
        t["status"] == "open" and takes(t) for t in tasks
    ):
        found.add("claim")
    if status == S.result_pending and staff_may(subject, Action.dispatch, target):
        found.add("complete")
    if staff_may(subject, Action.handle, target):
        found |= {"comment", "attach"}
    if has_identifiers and staff_may(subject, Action.reveal, target):
        found.add("reveal")
    if any(
        t["status"] in ("open", "claimed")
        and staff_may(subject, Action.reassign, owned(case, departments=(t["department_code"],)))
        for t in tasks
    ):
        found.add("reassign")
    return [name for name in STAFF_ACTIONS_OFFERED if name in found]


def _row_target(row: dict[str, Any]) -> Owned:
    return Owned(
        owner_user_id=row["applicant_user_id"],
        company_id=row["company_id"],
        item_code=row["item_code"],
        status=row["status"],
    )


async def my_cases(
    *,
    subject: Subject,
    company_id: int | None,
    group: str | None,
    page_request: PageRequest,
    now: datetime,
    yellow_days: int,
) -> dict[str, Any]:
    """The citizen's cases (their own and those they filed for others), or a company's, newest
    first.

    The list applies the rule of the detail (``auth.permissions``): the rows are chosen by that
    rule written as SQL, and each is checked by the rule itself before it is shown. Whom the
    citizen may act for (``standing_of``, one statement) is read only when it matters: for a
    company's list, and for a citizen who ever filed a case for someone else; for everyone else a
    page of their own applications is one statement."""
    today = local_today(now)
    paging = Cursor(
        list="cases", scope=f"u:{subject.id}|{company_id or ''}|{group or ''}", fields={"id": "int"}
    )
    position = page_request.position(paging)
    standing: Standing | None = None
    if company_id is not None:
        standing = await standing_of(subject.id, today=today, everything=True)
        if not citizen_may(standing, Action.view, Owned(company_id=company_id)):
            raise PermissionDenied(details={"action": Action.view.value})
    if standing is None and subject.id in _FILED:
        standing = await standing_of(subject.id, today=today, everything=True)
    rows_for = partial(
        citizen_case_rows,
        user_id=subject.id,
        company_id=company_id,
        statuses=STATUS_GROUPS[group] if group else None,
        after=position["id"] if position else None,
        limit=page_request.limit,
    )
    found = await rows_for(standing=standing)
    if standing is None and (not found or found[0]["filed"]):
        # They filed for others (or the page is empty, and the probe with it): the exact rule.
        if found:
            _remember_filer(subject.id)
        standing = await standing_of(subject.id, today=today, everything=True)
        found = await rows_for(standing=standing)
    page, next_cursor = page_request.cut(found, paging, lambda row: {"id": row["id"]})
    if standing is not None:
        page = [r for r in page if citizen_may(standing, Action.view, _row_target(r))]
    rows = [CaseRow.of(r) for r in page]
    calendar = await calendar_source.get()
    return {
        "items": [
            summary(c, today=today, calendar=calendar, yellow_days=yellow_days) for c in rows
        ],
        "next_cursor": next_cursor,
    }


#: Citizens this worker has seen file a case for someone else: their lists take the exact rule
#: at once (two statements) instead of first probing (three). Only the fact that they filed is
#: kept, which never becomes untrue; whom they may act for is read afresh on every request.
_FILED: set[int] = set()
_FILED_MAX = 100_000


def _remember_filer(user_id: int) -> None:
    if len(_FILED) >= _FILED_MAX:
        _FILED.clear()  # a bound, not an eviction policy
    _FILED.add(user_id)


async def staff_inbox(
    *,
    subject: Subject,
    role: str,
    page_request: PageRequest,
    now: datetime,
    yellow_days: int,
) -> dict[str, Any]:
    """The inbox of one of the staff member's roles in their department, oldest first, with
    counts for the tabs (up to ``INBOX_COUNT_CAP``): clerk → submitted cases; reviewer/approver
    → open and own tasks; dispatcher → results to serve."""
    dept = subject.department_code or ""
    paging = Cursor(list="inbox", scope=f"s:{subject.id}|{role}", fields={"id": "int"})
    position = page_request.position(paging)
    key = "id" if role in ("clerk", "dispatcher") else "task_id"
    found, counts = await inbox_rows(
        staff_id=subject.id,
        department=dept,
        role=role,
        after=position["id"] if position else 0,
        limit=page_request.limit,
        count_cap=INBOX_COUNT_CAP,
        person_id=subject.person_id,
        person_companies=subject.person_companies,
    )
    page, next_cursor = page_request.cut(found, paging, lambda row: {"id": row[key]})
    calendar = await calendar_source.get()
    today = local_today(now)
    items: list[dict[str, Any]] = []
    for row in page:
        case = CaseRow.of(row)
        item = summary(case, today=today, calendar=calendar, yellow_days=yellow_days)
        if key == "id":
            item["answer_due_on"] = case.answer_due_on.isoformat() if case.answer_due_on else None
        else:
            item["task"] = {name: row[TASK_ALIASES.get(name, name)] for name in INBOX_TASK_FIELDS}
        items.append(item)
    return {
        "role": role,
        "counts": counts,
        "counts_cap": INBOX_COUNT_CAP,
        "items": items,
        "next_cursor": next_cursor,
    }


async def public_status(*, acceptance_number: str, applicant_name: str) -> dict[str, Any] | None:
    """What anyone holding an acceptance number and the applicant's name may see (as on a
    service centre's 办件查询 page): no personal data beyond a masked name. Numbers run in
    sequence, so the number alone proves nothing: the full name of the applicant (or the
    company) must match, and a wrong one looks exactly like an unknown number."""
    case = await Case.get_or_none(acceptance_number=acceptance_number)
    if case is None or not await _named(case, applicant_name):
        return None
    return {
        "acceptance_number": case.acceptance_number,
        "item_name": case.item_name,
        "applicant": case.applicant_display,
        "status": case.status,
        "status_label": _LABELS[case.status],
        "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
        "promised_due_on": case.promised_due_on.isoformat() if case.promised_due_on else None,
        "closed": case.closed_at is not None,
    }


async def _named(case: Case, name: str) -> bool:
    wanted = " ".join(name.split())
    if case.company_id is not None:
        company = await Company.get_or_none(id=case.company_id)
        return company is not None and _same(company.name, wanted)
    user = await User.get_or_none(id=case.applicant_user_id) if case.applicant_user_id else None
    return user is not None and bool(user.real_name) and _same(user.real_name, wanted)


def _same(known: str, given: str) -> bool:
    return hmac.compare_digest(known.encode(), given.encode())
