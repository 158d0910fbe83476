"""好差评: the applicant's one rating of a finished case, the department's follow-up of a bad
one, and the statistics per item and department.

* Once the case is completed, refused or denied (``cases.states.RATEABLE``), anyone on the
  applicant side who may view the case (the applicant, the company's representative or agent,
  the family member under a mandate) rates it once: 1 to 5, optional tags and comment.
* A rating of 1 or 2 opens a follow-up (``follow_up = "open"``) for the case's lead department;
  a staff member of that department holding any handling role answers it once, and the applicant
  sees the answer on the case.
* Statistics: count, average and the distribution of scores; supervisors for any department,
  other staff for their own.

Every rating and answer writes its timeline line and its outbox event in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from auth.permissions import DEPLOYMENT, Action, Subject, departments, staff_may
from cases.kernel import Actor, handling_role, load_for, note, own_cases, owned
from cases.models import Case, Evaluation
from cases.states import RATEABLE, CaseStatus, Role
from core.db import in_transaction
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from core.outbox import emit
from core.paging import Cursor, PageRequest

#: Scores at or below this open a follow-up for the department.
FOLLOW_UP_MAX_SCORE = 2
SCORES = range(1, 6)

FollowUp = Literal["open", "answered"]


class NotRateable(Conflict):
    code = "case.not_rateable"
    message = "办件办结（或不予受理、不予许可）后才能评价。"


class AlreadyRated(Conflict):
    code = "case.already_rated"
    message = "该办件已经评价过了，每个办件只能评价一次。"


class EvaluationNotFound(NotFound):
    code = "evaluation.not_found"
    message = "评价不存在。"


class NoOpenFollowUp(Conflict):
    code = "evaluation.no_open_follow_up"
    message = "该评价没有待回复的整改事项，或已经回复过了。"


class NotHandlingStaff(Forbidden):
    code = "evaluation.forbidden"
    message = "只有办件所属部门的经办人员可以处理该评价。"


def evaluation_view(evaluation: Evaluation, case: Case | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": evaluation.id,
        "case_id": evaluation.case_id,
        "item_code": evaluation.item_code,
        "department_code": evaluation.department_code,
        "score": evaluation.score,
        "tags": list(evaluation.tags or []),
        "comment": evaluation.comment,
        "follow_up": evaluation.follow_up or None,
        "answer": evaluation.answer or None,
        "answered_at": evaluation.answered_at.isoformat() if evaluation.answered_at else None,
        "created_at": evaluation.created_at.isoformat(),
    }
    if case is not None:
        view |= {
            "item_name": case.item_name,
            "acceptance_number": case.acceptance_number,
            "applicant": case.applicant_display,
            "case_status": case.status,
        }
    return view


async def rate(
    *,
    subject: Subject,
    case_id: int,
    score: int,
    tags: list[str],
    comment: str,
    now: datetime,
) -> dict[str, Any]:
    if subject.is_staff:
        raise Forbidden("只有申请人可以评价。", code="evaluation.applicant_only")
    case = await load_for(subject, Action.view, case_id, now=now)
    if CaseStatus(case.status) not in RATEABLE:
        raise NotRateable(details={"case_id": case.id, "current_status": case.status})
    if score not in SCORES:  # the edge validates too; the rule lives here
        raise ValidationFailed([field_error("score", "评分应为 1 到 5 分。", "out_of_range")])
    if await Evaluation.filter(case_id=case.id).exists():
        raise AlreadyRated(details={"case_id": case.id})
    follow_up = "open" if score <= FOLLOW_UP_MAX_SCORE else ""
    actor = Actor.for_subject(subject, Role.applicant)
    tags = list(dict.fromkeys(tags))
    try:
        async with in_transaction() as conn:
            evaluation = await Evaluation.create(
                case_id=case.id,
                user_id=subject.id,
                item_code=case.item_code,
                department_code=case.lead_department_code,
                score=score,
                tags=tags,
                comment=comment,
                follow_up=follow_up,
                created_at=now,
                using_db=conn,
            )
            await note(
                conn,
                case,
                "evaluate",
                actor,
                comment=comment,
                details={"score": score, "tags": tags},
                now=now,
            )
            await emit(
                "case.evaluated",
                {
                    "case_id": case.id,
                    "evaluation_id": evaluation.id,
                    "score": score,
                    "follow_up": follow_up or None,
                    "item_code": case.item_code,
                    "department": case.lead_department_code,
                    "acceptance_number": case.acceptance_number,
                },
                using_db=conn,
            )
    except IntegrityError:
        # Two taps at once: the unique case_id lets one rating in.
        raise AlreadyRated(details={"case_id": case.id}) from None
    return evaluation_view(evaluation)


def _scope(subject: Subject, department: str | None) -> str | None:
    """The department a staff member may read evaluations of (``Action.view`` on the
    department): supervisors any (``None`` = every department), others their own, which they
    hold a handling role in."""
    if department is None and staff_may(subject, Action.view, DEPLOYMENT):
        return None
    wanted = department if department is not None else subject.department_code or ""
    if not staff_may(subject, Action.view, departments(wanted)):
        raise NotHandlingStaff(
            "只能查看本部门的评价。" if wanted != subject.department_code else None,
            details={"department": wanted},
        )
    return wanted


async def list_for_staff(
    *,
    subject: Subject,
    department: str | None,
    follow_up: FollowUp | None,
    page_request: PageRequest,
) -> dict[str, Any]:
    """A department's evaluations, newest first (open follow-ups with ``follow_up=open``): one
    query for the page and one for its cases."""
    scope = _scope(subject, department)
    query = Evaluation.all()
    if scope is not None:
        query = query.filter(department_code=scope)
    if follow_up is not None:
        query = query.filter(follow_up=follow_up)
    if (own := own_cases(subject)) is not None:
        # the ratings of one's own applications are not one's to read or answer (recusal)
        query = query.filter(~Q(case_id__in=Subquery(own.values("id"))))
    paging = Cursor(
        list="evaluations",
        scope=f"s:{subject.id}|{scope or ''}|{follow_up or ''}",
        fields={"id": "int"},
    )
    if position := page_request.position(paging):
        query = query.filter(id__lt=position["id"])
    rows = await query.order_by("-id").limit(page_request.limit + 1)
    page, next_cursor = page_request.cut(rows, paging, lambda e: {"id": e.id})
    cases = {c.id: c for c in await Case.filter(id__in=[e.case_id for e in page])}
    return {
        "items": [evaluation_view(e, cases.get(e.case_id)) for e in page],
        "next_cursor": next_cursor,
    }


async def answer(
    *, subject: Subject, evaluation_id: int, text: str, now: datetime
) -> dict[str, Any]:
    """The department's answer to a follow-up: once (compare-and-set from ``open``)."""
    evaluation = await Evaluation.get_or_none(id=evaluation_id)
    if evaluation is None:
        raise EvaluationNotFound(details={"evaluation_id": evaluation_id})
    case = await Case.get(id=evaluation.case_id)
    # the department's handling staff, as the rule sees this case (recusal included)
    if not staff_may(
        subject, Action.handle, owned(case, departments=(evaluation.department_code,))
    ):
        raise NotHandlingStaff(details={"department": evaluation.department_code})
    role = handling_role(subject)
    actor = Actor.for_subject(subject, role)
    async with in_transaction() as conn:
        moved = (
            await Evaluation.filter(id=evaluation.id, follow_up="open")
            .using_db(conn)
            .update(
                follow_up="answered",
                answer=text,
                answered_by_staff_id=subject.id,
                answered_at=now,
            )
        )
        if not moved:
            raise NoOpenFollowUp(
                details={"evaluation_id": evaluation.id, "follow_up": evaluation.follow_up or None}
            )
        await note(
            conn,
            case,
            "evaluation_answer",
            actor,
            comment=text,
            details={"evaluation_id": evaluation.id},
            now=now,
        )
        await emit(
            "case.evaluation_answered",
            {
                "case_id": case.id,
                "evaluation_id": evaluation.id,
                "applicant_user_id": case.applicant_user_id,
                "company_id": case.company_id,
                "agent_user_id": case.agent_user_id,
                "user_id": evaluation.user_id,
                "department": evaluation.department_code,
                "acceptance_number": case.acceptance_number,
            },
            using_db=conn,
        )
    fresh = await Evaluation.get(id=evaluation.id)
    return evaluation_view(fresh, case)


async def stats(
    *, subject: Subject, item_code: str | None, department: str | None
) -> dict[str, Any]:
    """Count, average and distribution of scores (and follow-ups), for an item and/or a
    department: one grouped query for the scores, one for the follow-ups."""
    scope = _scope(subject, department)
    query = Evaluation.all()
    if scope is not None:
        query = query.filter(department_code=scope)
    if item_code:
        query = query.filter(item_code=item_code)
    by_score = await query.annotate(n=Count("id")).group_by("score").values("score", "n")
    by_follow_up = (
        await query.filter(follow_up__in=("open", "answered"))
        .annotate(n=Count("id"))
        .group_by("follow_up")
        .values("follow_up", "n")
    )
    distribution = {str(s): 0 for s in SCORES}
    for row in by_score:
        distribution[str(int(row["score"]))] = int(row["n"])
    count = sum(distribution.values())
    total = sum(int(s) * n for s, n in distribution.items())
    follow_ups = {"open": 0, "answered": 0}
    for row in by_follow_up:
        follow_ups[str(row["follow_up"])] = int(row["n"])
    return {
        "department": scope,
        "item_code": item_code or None,
        "count": count,
        "average": round(total / count, 2) if count else None,
        "distribution": distribution,
        "satisfied_rate": (
            round(sum(distribution[s] for s in ("4", "5")) / count, 4) if count else None
        ),
        "follow_ups": follow_ups,
    }
