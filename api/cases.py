"""Case endpoints for small screens: the citizen's cases, the staff inbox and one-tap actions,
and the public status page.

Every action takes an ``Idempotency-Key``: a phone that retries a tap gets the first answer and
the case moves once. Actions answer with a compact state (id, status, revision) so the phone can
update the card it shows without reloading the case.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json
from sanic_ext import openapi

from api import guards
from api.idempotency import idempotent
from api.params import body, query
from api.schemas import ErrorEnvelope, Query
from cases import service as cases
from cases import views
from cases.models import Case
from cases.states import STATUS_LABELS, CaseStatus
from core.clock import utcnow
from core.errors import NotFound, ValidationFailed, field_error
from core.paging import page_size
from core.ratelimit import hit
from storage import service as storage
from storage.models import StaffRead

bp = Blueprint("cases", url_prefix="/api/v1")


def _doc(summary: str, tag: str, body_model: Any = None, *errors: int) -> Any:
    return openapi.definition(
        summary=summary,
        tag=tag,
        body={"application/json": body_model} if body_model is not None else None,
        response=[openapi.definitions.Response(ErrorEnvelope, e) for e in errors],
        secured={"bearer": []},
    )


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


class CaseIn(BaseModel):
    item_code: str = Field(min_length=1, max_length=64)
    company_id: int | None = Field(None, description="apply for this company (agent: apply)")
    principal_user_id: int | None = Field(None, description="apply for a mandate's principal")
    form: dict[str, Any] = Field(default_factory=dict)


class FormIn(BaseModel):
    form: dict[str, Any]


class ReasonIn(BaseModel):
    reason: str = Field("", max_length=500)


class PageQuery(Query):
    cursor: str | None = Field(None, max_length=512)
    limit: int | None = Field(None, description="page size, 1 to ZB_PAGE_SIZE_MAX")


class CaseListQuery(PageQuery):
    group: Literal["draft", "action_needed", "in_progress", "done"] | None = None
    company_id: int | None = None


@bp.post("/cases")
@idempotent
@_doc("Start a draft application", "cases", CaseIn, 400, 401, 403, 404)
async def create(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, CaseIn)
    case = await cases.create_draft(
        subject=subject,
        item_code=data.item_code,
        company_id=data.company_id,
        principal_user_id=data.principal_user_id,
        form=data.form,
        now=utcnow(),
    )
    return _ok(case, 201)


@bp.get("/cases")
@_doc("My cases, newest first, by status group", "cases", None, 400, 401, 403)
async def list_mine(request: Request) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    params = query(request, CaseListQuery)
    settings = request.app.ctx.settings
    if params.company_id is not None:
        from auth.permissions import Action, Owned, require

        await require(
            subject,
            Action.view,
            Owned(company_id=params.company_id),
            today=cases.local_today(utcnow()),
        )
    result = await views.my_cases(
        user_id=subject.id,
        company_id=params.company_id,
        group=params.group,
        cursor=params.cursor,
        limit=page_size(
            params.limit, default=settings.page_size_default, maximum=settings.page_size_max
        ),
        secret=settings.secret_key,
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(result, ensure_ascii=False)


async def _detail(request: Request, case: Case, *, staff: bool) -> dict[str, Any]:
    view, uploads = await views.case_detail(
        case, staff=staff, now=utcnow(), yellow_days=_yellow(request)
    )
    ctx = request.app.ctx
    by_id = {u.id: u for u in uploads}
    view["files"] = [
        f | storage.links(by_id[f["id"]], store=ctx.store, settings=ctx.settings)
        for f in view["files"]
    ]
    return view


@bp.get("/cases/<case_id:int>")
@_doc("One of my cases: checklist, corrections, timeline, predicted date", "cases", None, 401, 404)
async def detail(request: Request, case_id: int) -> HTTPResponse:
    from auth.permissions import Action

    subject = await guards.citizen_subject(request)
    case = await cases.load_for(subject, Action.view, case_id, now=utcnow())
    return json(await _detail(request, case, staff=False), ensure_ascii=False)


@bp.put("/cases/<case_id:int>/form")
@idempotent
@_doc(
    "Save the form of a draft (or the fields listed for correction)",
    "cases",
    FormIn,
    400,
    401,
    404,
    409,
)
async def save_form(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, FormIn)
    case = await cases.update_form(subject=subject, case_id=case_id, form=data.form, now=utcnow())
    return _ok(case)


@bp.delete("/cases/<case_id:int>")
@_doc("Delete a draft and its files", "cases", None, 401, 404, 409)
async def delete_draft(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    case = await cases.delete_draft(subject=subject, case_id=case_id, now=utcnow())
    await storage.delete_for_case(store=request.app.ctx.store, case_id=case.id)
    return empty()


@bp.post("/cases/<case_id:int>/submit")
@idempotent
@_doc("Submit, or resubmit after corrections", "cases", None, 400, 401, 404, 409)
async def submit(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    return _ok(await cases.submit(subject=subject, case_id=case_id, now=utcnow()))


@bp.post("/cases/<case_id:int>/withdraw")
@idempotent
@_doc("Withdraw before the decision", "cases", ReasonIn, 401, 404, 409)
async def withdraw(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.citizen_subject(request)
    data = body(request, ReasonIn)
    return _ok(
        await cases.withdraw(subject=subject, case_id=case_id, reason=data.reason, now=utcnow())
    )


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


class InboxQuery(PageQuery):
    role: Literal["clerk", "reviewer", "approver", "dispatcher"]


class CommentIn(BaseModel):
    comment: str = Field("", max_length=1000)


class ReasonsIn(BaseModel):
    reasons: str = Field(min_length=2, max_length=2000, description="shown to the applicant")


class CorrectionItem(BaseModel):
    kind: Literal["material", "field"]
    code: str = Field(min_length=1, max_length=64)
    problem: str = Field(min_length=2, max_length=500, description="what is wrong, in Chinese")


class CorrectionIn(BaseModel):
    items: list[CorrectionItem] = Field(min_length=1, max_length=50)
    comment: str = Field("", max_length=1000)


class DecideIn(BaseModel):
    outcome: Literal["pass", "deny"]
    opinion: str = Field(min_length=2, max_length=2000, description="reasons of the opinion")


class SuspendIn(BaseModel):
    procedure: Literal["hearing", "inspection", "expert_review", "other"]
    reason: str = Field(min_length=2, max_length=1000)


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


@bp.get("/staff/inbox")
@_doc("The inbox of one of my roles, with counts", "staff cases", None, 400, 401, 403)
async def inbox(request: Request) -> HTTPResponse:
    subject = await guards.staff(request)
    params = query(request, InboxQuery)
    if params.role not in subject.roles:
        raise cases.RoleNotAllowed(details={"required_role": params.role})
    settings = request.app.ctx.settings
    result = await views.staff_inbox(
        subject=subject,
        role=params.role,
        cursor=params.cursor,
        limit=page_size(
            params.limit, default=settings.page_size_default, maximum=settings.page_size_max
        ),
        secret=settings.secret_key,
        now=utcnow(),
        yellow_days=_yellow(request),
    )
    return json(result, ensure_ascii=False)


@bp.get("/staff/cases/<case_id:int>")
@_doc(
    "A case of my department, with tasks and file links (reads logged)",
    "staff cases",
    None,
    401,
    403,
    404,
)
async def staff_detail(request: Request, case_id: int) -> HTTPResponse:
    from auth.permissions import Action

    subject = await guards.staff(request)
    case = await cases.load_for(subject, Action.view, case_id, now=utcnow())
    view = await _detail(request, case, staff=True)
    if view["files"]:
        await StaffRead.bulk_create(
            [
                StaffRead(upload_id=f["id"], staff_id=subject.id, request_id=request.ctx.request_id)
                for f in view["files"]
            ]
        )
    return json(view, ensure_ascii=False)


@bp.post("/staff/cases/<case_id:int>/accept")
@idempotent
@_doc(
    "Accept (受理): acceptance number and due dates", "staff cases", CommentIn, 401, 403, 404, 409
)
async def accept(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, CommentIn)
    return _ok(
        await cases.accept(subject=subject, case_id=case_id, comment=data.comment, now=utcnow())
    )


@bp.post("/staff/cases/<case_id:int>/refuse")
@idempotent
@_doc(
    "Refuse acceptance (不予受理) with reasons", "staff cases", ReasonsIn, 400, 401, 403, 404, 409
)
async def refuse(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, ReasonsIn)
    return _ok(
        await cases.refuse(subject=subject, case_id=case_id, reasons=data.reasons, now=utcnow())
    )


@bp.post("/staff/cases/<case_id:int>/corrections")
@idempotent
@_doc(
    "One-time notice of every correction (一次性告知)",
    "staff cases",
    CorrectionIn,
    400,
    401,
    403,
    404,
    409,
)
async def corrections(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, CorrectionIn)
    case = await cases.request_correction(
        subject=subject,
        case_id=case_id,
        items=[i.model_dump() for i in data.items],
        comment=data.comment,
        now=utcnow(),
    )
    return _ok(case)


@bp.post("/staff/tasks/<task_id:int>/claim")
@idempotent
@_doc("Take a review task from the department queue", "staff cases", None, 401, 403, 404, 409)
async def claim(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    task = await cases.claim_task(subject=subject, task_id=task_id, now=utcnow())
    return json({"task_id": task.id, "status": task.status, "case_id": task.case_id})


@bp.post("/staff/tasks/<task_id:int>/release")
@idempotent
@_doc("Put a task back in the department queue", "staff cases", None, 401, 403, 404, 409)
async def release(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    task = await cases.release_task(subject=subject, task_id=task_id, now=utcnow())
    return json({"task_id": task.id, "status": task.status, "case_id": task.case_id})


@bp.post("/staff/tasks/<task_id:int>/decide")
@idempotent
@_doc("Pass or deny my step, with reasons", "staff cases", DecideIn, 400, 401, 403, 404, 409)
async def decide(request: Request, task_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, DecideIn)
    case = await cases.decide_task(
        subject=subject, task_id=task_id, outcome=data.outcome, opinion=data.opinion, now=utcnow()
    )
    return _ok(case)


@bp.post("/staff/cases/<case_id:int>/suspend")
@idempotent
@_doc(
    "Start a special procedure: the clock stops", "staff cases", SuspendIn, 400, 401, 403, 404, 409
)
async def suspend(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, SuspendIn)
    case = await cases.suspend(
        subject=subject, case_id=case_id, procedure=data.procedure, reason=data.reason, now=utcnow()
    )
    return _ok(case)


@bp.post("/staff/cases/<case_id:int>/resume")
@idempotent
@_doc("End the special procedure: the due dates move", "staff cases", CommentIn, 401, 403, 404, 409)
async def resume(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, CommentIn)
    return _ok(
        await cases.resume(subject=subject, case_id=case_id, comment=data.comment, now=utcnow())
    )


@bp.post("/staff/cases/<case_id:int>/complete")
@idempotent
@_doc(
    "Record the result served: the case is completed", "staff cases", CommentIn, 401, 403, 404, 409
)
async def complete(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, CommentIn)
    return _ok(
        await cases.complete(subject=subject, case_id=case_id, comment=data.comment, now=utcnow())
    )


@bp.post("/staff/cases/<case_id:int>/comments")
@idempotent
@_doc("An internal comment on the timeline", "staff cases", TextIn, 400, 401, 403, 404)
async def comment(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, TextIn)
    await cases.add_comment(subject=subject, case_id=case_id, text=data.text, now=utcnow())
    return empty(status=201)


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(ge=0, le=1_000_000_000)


#: What staff may attach: photos and PDFs, up to 20 files per staff member and case.
ATTACHMENT_RULE = storage.MaterialRule(formats=("jpg", "png", "heic", "webp", "pdf"), max_files=20)


@bp.post("/staff/cases/<case_id:int>/attachments")
@idempotent
@_doc(
    "An upload policy for a staff attachment to a case",
    "staff cases",
    AttachmentIn,
    400,
    401,
    403,
    404,
    409,
)
async def attachment_intent(request: Request, case_id: int) -> HTTPResponse:
    subject = await guards.staff(request)
    data = body(request, AttachmentIn)
    case = await cases.check_staff_attachment(subject=subject, case_id=case_id, now=utcnow())
    result = await storage.create_intent(
        store=request.app.ctx.store,
        settings=request.app.ctx.settings,
        owner=storage.Owner(staff_id=subject.id),
        uploaded_by=f"s:{subject.id}",
        purpose="staff_attachment",
        item_code=case.item_code,
        material_code=None,
        case_id=case.id,
        rule=ATTACHMENT_RULE,
        filename=data.filename,
        content_type=data.content_type,
        size=data.size,
    )
    return json(result, status=201, headers={"Cache-Control": "no-store"})


@bp.post("/staff/uploads/<upload_id:str>/complete")
@idempotent
@_doc("Verify and process my attachment (retry-safe)", "staff cases", None, 400, 401, 404, 409)
async def attachment_complete(request: Request, upload_id: str) -> HTTPResponse:
    subject = await guards.staff(request)
    upload = await storage.get_upload(upload_id=upload_id)
    if upload.uploaded_by != f"s:{subject.id}" or upload.case_id is None:
        raise storage.UploadNotFound()
    ctx = request.app.ctx
    first = upload.status != "ready"
    view = await storage.complete(
        store=ctx.store, settings=ctx.settings, upload=upload, rule=ATTACHMENT_RULE
    )
    if first:
        await storage.attach(upload_ids=[upload.id], case_id=upload.case_id)
        await cases.note_attachment(
            subject=subject,
            case_id=upload.case_id,
            upload_id=upload.id,
            filename=upload.filename,
            now=utcnow(),
        )
    upload = await storage.get_upload(upload_id=upload_id)
    return json(
        view | storage.links(upload, store=ctx.store, settings=ctx.settings), ensure_ascii=False
    )


# --------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------

_ACCEPTANCE_NUMBER = r"^[A-Za-z0-9_.-]{1,40}-\d{8}-\d{5}$"


@bp.get("/public/cases/<number:str>")
@openapi.definition(summary="Case status by acceptance number (name masked)", tag="public")
async def public_status(request: Request, number: str) -> HTTPResponse:
    import re

    if not re.match(_ACCEPTANCE_NUMBER, number):
        raise ValidationFailed(
            [field_error("acceptance_number", "受理编号格式不正确。", "invalid")]
        )
    # Numbers are sequential: a per-address limit keeps anyone from walking through them.
    await hit(
        request.app.ctx.redis,
        f"public-case:{guards.client_ip(request)}",
        limit=request.app.ctx.settings.public_status_limit_per_min,
        window_s=60,
    )
    view = await views.public_status(acceptance_number=number)
    if view is None:
        raise NotFound("未查询到该受理编号的办件。", code="case.not_found")
    return json(view, ensure_ascii=False, headers={"Cache-Control": "no-store"})
