"""Case endpoints for small screens: the citizen's cases, the staff inbox and one-tap actions,
and the public status page.

Every action takes an ``Idempotency-Key``: a phone that retries a tap gets the first answer and
the case moves once. Actions answer with a compact state (id, status, revision) so the phone can
update the card it shows without reloading the case.
"""

from __future__ import annotations

import json as stdjson
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from api import guards
from api.endpoint import Audience, Code, IntId, endpoint
from api.params import body, paging, query
from api.schemas import (
    CaseDetailOut,
    CasePage,
    CaseStateOut,
    FreeText,
    In,
    InboxPage,
    Out,
    PageQuery,
    PublicCaseOut,
    Query,
    StaffCaseDetailOut,
    TaskStateOut,
    UploadIntentOut,
    UploadOut,
)
from api.uploads import files
from auth import notices as auth_notices
from auth.models import StaffRole
from auth.permissions import (
    STEP_ACTIONS,
    Action,
    HandlingRoleName,
    departments,
    staff_may,
)
from cases import errors, filing, kernel, materials, prereview, review, views
from cases.models import Case
from cases.states import STATUS_LABELS, CaseStatus
from core.clock import utcnow
from core.errors import NotFound
from notify.catalogue import Moment

bp = Blueprint("cases", url_prefix="/api/v1")


def _state(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "status": case.status,
        "status_label": STATUS_LABELS[CaseStatus(case.status)],
        "revision": case.revision,
        "acceptance_number": case.acceptance_number,
    }


def _ok(case: Case, status: int = 200) -> HTTPResponse:
    return json(_state(case), status=status, ensure_ascii=False)


def _yellow(request: Request) -> int:
    return int(request.app.ctx.settings.case_yellow_card_days)


# --------------------------------------------------------------------------------------------
# Citizen
# --------------------------------------------------------------------------------------------


#: The largest form a case stores, as compact JSON: a form is a few dozen fields; anything much
#: larger is not an application form, and every read of the case would carry it.
MAX_FORM_BYTES = 32 * 1024
#: What the applicant side does next in a case of each status, as far as subscribe messages
#: go: the consent moment whose templates the case page asks for in that tap.
NEXT_MOMENT: dict[str, Moment] = {
    CaseStatus.draft.value: "submit",
    CaseStatus.correction_requested.value: "submit",
    CaseStatus.fee_due.value: "pay",
}


def _bounded(form: dict[str, Any]) -> dict[str, Any]:
    size = len(stdjson.dumps(form, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_FORM_BYTES:
        raise ValueError(f"申请表单内容过长（最多 {MAX_FORM_BYTES // 1024} KB）。")
    return form


Form = Annotated[dict[str, Any], AfterValidator(_bounded)]


class CaseIn(In):
    item_code: Code
    company_id: IntId | None = Field(None, description="apply for this company (agent: apply)")
    principal_user_id: IntId | None = Field(None, description="apply for a mandate's principal")
    form: Form = Field(
        default_factory=dict,
        description="the item's application form (its form_schema), at most 32 KB",
    )


class FormIn(In):
    form: Form = Field(description="the whole form, at most 32 KB; identifiers may stay masked")


class ReasonIn(In):
    reason: FreeText = Field("", max_length=500)


class CaseListQuery(PageQuery):
    group: Literal["draft", "action_needed", "in_progress", "done"] | None = None
    company_id: IntId | None = None


_citizen = partial(endpoint, tag="cases", audience=Audience.citizen)

_staff = partial(endpoint, tag="staff cases", audience=Audience.staff)


@bp.post("/cases")
@_citizen(
    "Start a draft application",
    action=Action.apply,
    target="new_case",
    body=CaseIn,
    ok=201,
    out=CaseStateOut,
    errors=(403, 404),
    idempotent=True,
)
async def create(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, CaseIn)
    case = await filing.create_draft(
        subject=subject,
        item_code=data.item_code,
        company_id=data.company_id,
        principal_user_id=data.principal_user_id,
        form=data.form,
        cipher=request.app.ctx.auth.cipher,
        now=utcnow(),
    )
    return _ok(case, 201)


@bp.get("/cases")
@_citizen(
    "My cases (or a company's), newest first, by status group",
    action=Action.view,
    target="case_list",
    query=CaseListQuery,
    out=CasePage,
    errors=(403,),
)
async def list_mine(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    params = query(request, CaseListQuery)
    result = await views.my_cases(
        subject=subject,
        company_id=params.company_id,
        group=params.group,
        page_request=paging(request, params),
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(result, ensure_ascii=False)


@bp.get("/cases/<case_id:int>")
@_citizen(
    "One of my cases: checklist, corrections, timeline, predicted date",
    action=Action.view,
    target="case",
    out=CaseDetailOut,
)
async def detail(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    now = utcnow()
    case = await kernel.load_for(subject, Action.view, case_id, now=now)
    view = await materials.case_view(
        files=files(request), case=case, staff=False, now=now, yellow_days=_yellow(request)
    )
    moment = NEXT_MOMENT.get(case.status)
    view["subscriptions_to_ask"] = None
    if moment is not None:
        asked = await auth_notices.consent_to_ask(
            kind="user",
            subject_id=subject.id,
            moment=moment,
            notify=request.app.ctx.resources.notify,
        )
        view["subscriptions_to_ask"] = asked if asked["template_ids"] else None
    return json(view, ensure_ascii=False)


@bp.put("/cases/<case_id:int>/form")
@_citizen(
    "Save the form of a draft (or the fields listed for correction)",
    action=Action.apply,
    target="case",
    body=FormIn,
    out=CaseStateOut,
    errors=(403, 409),
    idempotent=True,
)
async def save_form(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, FormIn)
    case = await filing.update_form(
        subject=subject,
        case_id=case_id,
        form=data.form,
        cipher=request.app.ctx.auth.cipher,
        now=utcnow(),
    )
    return _ok(case)


@bp.delete("/cases/<case_id:int>")
@_citizen(
    "Delete a draft and its files",
    action=Action.apply,
    target="case",
    ok=204,
    errors=(403, 409),
)
async def delete_draft(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    await materials.remove_draft(
        files=files(request), subject=subject, case_id=case_id, now=utcnow()
    )
    return empty()


@bp.post("/cases/<case_id:int>/submit")
@_citizen(
    "Submit, or resubmit after corrections",
    action=Action.apply,
    target="case",
    out=CaseStateOut,
    errors=(403, 409),
    idempotent=True,
)
async def submit(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    return _ok(
        await filing.submit(
            subject=subject, case_id=case_id, cipher=request.app.ctx.auth.cipher, now=utcnow()
        )
    )


@bp.post("/cases/<case_id:int>/withdraw")
@_citizen(
    "Withdraw before the decision",
    action=Action.apply,
    target="case",
    body=ReasonIn,
    out=CaseStateOut,
    errors=(403, 409),
    idempotent=True,
)
async def withdraw(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, ReasonIn)
    return _ok(
        await filing.withdraw(subject=subject, case_id=case_id, reason=data.reason, now=utcnow())
    )


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


class InboxQuery(PageQuery):
    role: HandlingRoleName


class CommentIn(In):
    comment: FreeText = Field("", max_length=1000)


class ReasonsIn(In):
    reasons: FreeText = Field(min_length=2, max_length=2000, description="shown to the applicant")


class CorrectionItem(In):
    kind: Literal["material", "field"]
    code: str = Field(min_length=1, max_length=64, description="material code or form field")
    problem: FreeText = Field(min_length=2, max_length=500, description="what is wrong, in Chinese")


class CorrectionIn(In):
    items: list[CorrectionItem] = Field(min_length=1, max_length=50)
    comment: FreeText = Field("", max_length=1000)


class DecideIn(In):
    outcome: Literal["pass", "deny"]
    opinion: FreeText = Field(min_length=2, max_length=2000, description="reasons of the opinion")


class SuspendIn(In):
    procedure: Literal["hearing", "inspection", "expert_review", "other"]
    reason: FreeText = Field(min_length=2, max_length=1000)


class TextIn(In):
    text: FreeText = Field(min_length=1, max_length=2000)


#: A step of a case's handling: it answers the case's new state; a state that has moved on is a
#: 409, and a retry with the same Idempotency-Key gets the first answer.
_case_step = partial(_staff, target="case", out=CaseStateOut, errors=(409,), idempotent=True)


async def _take_step(
    request: Request, case_id: int, use_case: Callable[..., Awaitable[Case]], shape: type[In]
) -> HTTPResponse:
    """A step's handler: the staff member, the body's fields as the use case's keywords (the
    bodies are named after them), and the moment."""
    subject = await guards.staff(request)
    fields = body(request, shape).model_dump()
    return _ok(await use_case(subject=subject, case_id=case_id, now=utcnow(), **fields))


@bp.get("/staff/inbox")
@_staff(
    "The inbox of one of my roles, with counts",
    action=(Action.accept, Action.review, Action.approve, Action.dispatch),
    target="inbox",
    query=InboxQuery,
    out=InboxPage,
)
async def inbox(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, InboxQuery)
    # An inbox is the department's queue of one role's action: the rule decides who reads it.
    if not staff_may(
        subject, STEP_ACTIONS[StaffRole(params.role)], departments(subject.department_code)
    ):
        raise errors.RoleNotAllowed(details={"required_role": params.role})
    result = await views.staff_inbox(
        subject=subject,
        role=params.role,
        page_request=paging(request, params),
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(result, ensure_ascii=False)


@bp.get("/staff/cases/<case_id:int>")
@_staff(
    "A submitted case of my department, with tasks and file links (reads logged)",
    action=Action.view,
    target="case",
    out=StaffCaseDetailOut,
)
async def staff_detail(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    view = await materials.staff_case_view(
        files=files(request),
        subject=subject,
        case_id=case_id,
        request_id=request.ctx.request_id,
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(view, ensure_ascii=False)


class FormFieldRevealIn(In):
    field: str = Field(
        min_length=1,
        max_length=100,
        description="a field the item's form marks as an identifier, e.g. persons.0.id_number",
    )
    reason: str = Field(min_length=4, max_length=200, description="why, recorded with the read")


class FormFieldOut(Out):
    field: str
    kind: Literal["id_number", "phone"]
    value: str


@bp.post("/staff/cases/<case_id:int>/personal-data")
@_staff(
    "See one identifier written in the case's form in full, with a recorded reason",
    action=Action.reveal,
    target="case",
    body=FormFieldRevealIn,
    out=FormFieldOut,
    headers={"Cache-Control": "no-store"},
)
async def reveal_form_field(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, FormFieldRevealIn)
    result = await review.reveal_form_field(
        subject=subject,
        case_id=case_id,
        field=data.field,
        reason=data.reason,
        cipher=request.app.ctx.auth.cipher,
        request_id=request.ctx.request_id,
        now=utcnow(),
    )
    return json(result, ensure_ascii=False, headers={"Cache-Control": "no-store"})


@bp.post("/staff/cases/<case_id:int>/accept")
@_case_step(
    "Accept (受理): acceptance number and due dates",
    action=Action.accept,
    body=CommentIn,
)
async def accept(request: Request, case_id: int) -> HTTPResponse:
    return await _take_step(request, case_id, prereview.accept, CommentIn)


@bp.post("/staff/cases/<case_id:int>/refuse")
@_case_step(
    "Refuse acceptance (不予受理) with reasons",
    action=Action.accept,
    body=ReasonsIn,
)
async def refuse(request: Request, case_id: int) -> HTTPResponse:
    return await _take_step(request, case_id, prereview.refuse, ReasonsIn)


@bp.post("/staff/cases/<case_id:int>/corrections")
@_case_step(
    "One-time notice of every correction (一次性告知): the clerk at pre-review, the holder of "
    "the case's task during review",
    action=(Action.accept, Action.review, Action.approve),
    body=CorrectionIn,
)
async def corrections(request: Request, case_id: int) -> HTTPResponse:
    return await _take_step(request, case_id, prereview.request_correction, CorrectionIn)


#: A review step is reviewed or approved, as its role says.
REVIEW_STEP = (Action.review, Action.approve)
#: An act on a review task, by the role the task names.
_task_step = partial(_staff, action=REVIEW_STEP, target="task", errors=(409,), idempotent=True)


def _task(task: Any) -> HTTPResponse:
    return json({"task_id": task.id, "status": task.status, "case_id": task.case_id})


@bp.post("/staff/tasks/<task_id:int>/claim")
@_task_step(
    "Take a review task from the department queue",
    out=TaskStateOut,
    description="Reviewers and approvers: the task's role decides which of the two may.",
)
async def claim(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    return _task(await review.claim_task(subject=subject, task_id=task_id, now=utcnow()))


@bp.post("/staff/tasks/<task_id:int>/release")
@_task_step(
    "Put a task back in the department queue",
    out=TaskStateOut,
)
async def release(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    return _task(await review.release_task(subject=subject, task_id=task_id, now=utcnow()))


@bp.post("/staff/tasks/<task_id:int>/decide")
@_task_step(
    "Pass or deny my step, with reasons",
    body=DecideIn,
    out=CaseStateOut,
)
async def decide(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, DecideIn)
    case = await review.decide_task(
        subject=subject, task_id=task_id, outcome=data.outcome, opinion=data.opinion, now=utcnow()
    )
    return _ok(case)


@bp.post("/staff/cases/<case_id:int>/suspend")
@_case_step(
    "Start a special procedure: the clock stops (the holder of the case's task)",
    action=REVIEW_STEP,
    body=SuspendIn,
)
async def suspend(request: Request, case_id: int) -> HTTPResponse:
    return await _take_step(request, case_id, review.suspend, SuspendIn)


@bp.post("/staff/cases/<case_id:int>/resume")
@_case_step(
    "End the special procedure: the due dates move (the holder of the case's task)",
    action=REVIEW_STEP,
    body=CommentIn,
)
async def resume(request: Request, case_id: int) -> HTTPResponse:
    return await _take_step(request, case_id, review.resume, CommentIn)


@bp.post("/staff/cases/<case_id:int>/complete")
@_case_step(
    "Record the result served: the case is completed",
    action=Action.dispatch,
    body=CommentIn,
)
async def complete(request: Request, case_id: int) -> HTTPResponse:
    return await _take_step(request, case_id, review.complete, CommentIn)


@bp.post("/staff/cases/<case_id:int>/comments")
@_staff(
    "An internal comment on the timeline",
    action=Action.handle,
    target="case",
    body=TextIn,
    ok=204,
    idempotent=True,
)
async def comment(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, TextIn)
    await review.add_comment(subject=subject, case_id=case_id, text=data.text, now=utcnow())
    return empty()


class AttachmentIn(In):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(ge=0, le=1_000_000_000)


@bp.post("/staff/cases/<case_id:int>/attachments")
@_staff(
    "An upload policy for a staff attachment to a case",
    action=Action.handle,
    target="case",
    body=AttachmentIn,
    ok=201,
    out=UploadIntentOut,
    errors=(409,),
    idempotent=True,
)
async def attachment_intent(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, AttachmentIn)
    result = await materials.attachment_intent(
        files=files(request),
        subject=subject,
        case_id=case_id,
        filename=data.filename,
        content_type=data.content_type,
        size=data.size,
        now=utcnow(),
    )
    return json(result, status=201, headers={"Cache-Control": "no-store"})


@bp.post("/staff/uploads/<upload_id:str>/complete")
@_staff(
    "Verify and process my attachment (retry-safe)",
    action=Action.handle,
    target="staff_upload",
    out=UploadOut,
    errors=(409, 422),
    idempotent=True,
)
async def attachment_complete(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.staff(request)
    view = await materials.complete_attachment(
        files=files(request), subject=subject, upload_id=upload_id, now=utcnow()
    )
    return json(view, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------


class PublicStatusQuery(Query):
    name: str = Field(
        min_length=2,
        max_length=100,
        description="the applicant's full name (or the company's name), as on the application",
    )


#: Look-ups of one acceptance number per hour, whatever the address: a name cannot be guessed
#: from many machines either.
PUBLIC_LOOKUPS_PER_NUMBER = 20


@bp.get("/public/cases/<acceptance_number:str>")
@endpoint(
    "Case status by acceptance number and applicant name (name masked; limited)",
    tag="public",
    audience=Audience.anonymous,
    query=PublicStatusQuery,
    out=PublicCaseOut,
    errors=(404, 429),
)
async def public_status(request: Request, acceptance_number: str) -> HTTPResponse:
    params = query(request, PublicStatusQuery)
    # Numbers are sequential: limited per address and per number.
    await guards.limit_public_lookup(
        request, "public-case", acceptance_number, per_hour=PUBLIC_LOOKUPS_PER_NUMBER
    )
    view = await views.public_status(
        acceptance_number=acceptance_number, applicant_name=params.name
    )
    if view is None:
        raise NotFound("未查询到该受理编号的办件，请核对编号和申请人姓名。", code="case.not_found")
    return json(view, ensure_ascii=False, headers={"Cache-Control": "no-store"})
