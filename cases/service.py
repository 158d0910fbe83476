"""Use cases of a case (办件): filing, pre-review, corrections, acceptance, review, decision.

Every status change goes through ``_transition``: one compare-and-set ``UPDATE … WHERE status IN
(allowed)``, its timeline event and its outbox event, in one database transaction. Zero rows
updated means somebody else moved the case first; the caller gets ``case.invalid_transition``
with the current status, and nothing is written.

Dates: ``now`` is passed in by the caller (the HTTP edge, the worker's jobs, tests), and every
day-based limit is counted in China's local date of that moment on the working-day calendar.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from auth.models import Company, Mandate, PersonalDataAccess, User
from auth.permissions import (
    Action,
    Owned,
    Subject,
    can,
    departments,
    departments_of,
    require,
)
from auth.service import require_realname_level
from cases import personal
from cases.models import AcceptanceCounter, Case, CaseEvent, CorrectionNotice, ReviewTask
from cases.states import (
    EDITABLE,
    TRANSITIONS,
    CaseStatus,
    Role,
)
from catalog.forms import personal_paths, undeclared_fields
from catalog.models import ItemVersion
from core.calendar import WorkCalendar, calendar_source
from core.crypto import FieldCipher, mask_name
from core.db import fetch_models, fetch_rows
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed, field_error
from core.outbox import emit
from storage.models import Upload, UploadStatus

log = logging.getLogger(__name__)

#: Article 32 of the Administrative Licensing Law: unanswered for this many days = accepted.
ANSWER_LIMIT_WORKING_DAYS = 5

RIGHTS_NOTICE = (
    "申请人如对本决定不服，可以自收到本决定之日起六十日内依法申请行政复议，"
    "或者在六个月内依法向人民法院提起行政诉讼。"
)

S = CaseStatus


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class CaseNotFound(NotFound):
    code = "case.not_found"
    message = "办件不存在。"


class InvalidTransition(Conflict):
    code = "case.invalid_transition"
    message = "办件状态已变化，当前不能进行此操作，请刷新后查看。"


class RoleNotAllowed(Forbidden):
    code = "case.role_not_allowed"
    message = "您的岗位不能进行此操作。"


class CaseIncomplete(DomainError):
    status = 400
    code = "case.incomplete"
    message = "申请信息不完整，请按清单补充后再提交。"


class NotEditable(Conflict):
    code = "case.not_editable"
    message = "办件已提交，当前不能修改。"


class NotListedForCorrection(DomainError):
    status = 400
    code = "case.not_listed_for_correction"
    message = "只能修改补正告知中列出的材料和内容。"


class TaskNotFound(NotFound):
    code = "case.task_not_found"
    message = "审查任务不存在。"


class TaskTaken(Conflict):
    code = "case.task_taken"
    message = "该任务已被他人领取或已处理，请刷新后查看。"


class WrongApplicant(DomainError):
    status = 400
    code = "case.wrong_applicant"
    message = "该事项不接受此类申请人。"


# --------------------------------------------------------------------------------------------
# Who acts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who performs an act, as the timeline records it."""

    ref: str  # "u:<id>", "s:<id>", "system"
    role: Role

    @classmethod
    def for_subject(cls, subject: Subject, role: Role) -> Actor:
        prefix = "s" if subject.is_staff else "u"
        return cls(ref=f"{prefix}:{subject.id}", role=role)


SYSTEM = Actor(ref="system", role=Role.system)


def local_today(now: datetime) -> date:
    """The date in China (UTC+8) at ``now``: the calendar every limit is counted in."""
    return (now.astimezone(UTC) + timedelta(hours=8)).date()


def owned(case: Case, *, departments: tuple[str, ...] | None = None) -> Owned:
    """The case as ``auth.permissions`` sees it; ``departments`` narrows it to the part one
    department handles (a review task)."""
    return Owned(
        owner_user_id=case.applicant_user_id,
        company_id=case.company_id,
        item_code=case.item_code,
        department_codes=(
            departments
            if departments is not None
            else tuple(c for c in case.department_codes.split(",") if c)
        ),
        status=case.status,
        agent_user_id=case.agent_user_id,
    )


async def _get_case(case_id: int, conn: BaseDBAsyncClient | None = None) -> Case:
    if conn is not None:  # inside a transaction of the caller's: its connection
        case = await Case.filter(id=case_id).using_db(conn).first()
    else:  # every read and every action starts here: without the query builder
        case = next(iter(await fetch_models(Case, '"id" = $1', [case_id])), None)
    if case is None:
        raise CaseNotFound(details={"case_id": case_id})
    return case


async def person_as_handled(*, user_id: int) -> Owned:
    """A person as ``auth.permissions`` sees them for ``Action.reveal``: in the departments that
    handle, or have handled, a case of theirs (as applicant or as the one who filed it). Drafts
    do not count, a department has not seen them. Only staff of these may need the person's full
    identifiers (PIPL art. 28: sensitive data for a specific purpose)."""
    rows = await fetch_rows(
        'SELECT DISTINCT "department_codes" FROM "cases_case" '
        'WHERE ("applicant_user_id" = $1 OR "agent_user_id" = $1) AND "status" <> $2',
        [user_id, CaseStatus.draft.value],
    )
    return departments(*departments_of(row["department_codes"] for row in rows))


async def find_case(*, case_id: int) -> Case | None:
    return await Case.get_or_none(id=case_id)


async def load_for(subject: Subject, action: Action, case_id: int, *, now: datetime) -> Case:
    """The case, if ``subject`` may do ``action`` on it. Someone else's case is "not found" to a
    citizen (its existence is not theirs to learn), and so is a draft to staff (it is its
    applicant's alone until submitted); another department's case is "forbidden" to staff, and
    so is a case to a citizen who may see it but not do this (a company agent with only the
    ``view`` scope)."""
    case = await _get_case(case_id)
    today = local_today(now)
    try:
        await require(subject, action, owned(case), today=today)
    except Forbidden:
        if subject.is_staff:
            if case.status == S.draft:
                raise CaseNotFound(details={"case_id": case_id}) from None
            raise
        if action is not Action.view and await can(subject, Action.view, owned(case), today=today):
            raise
        raise CaseNotFound(details={"case_id": case_id}) from None
    return case


# --------------------------------------------------------------------------------------------
# Transitions
# --------------------------------------------------------------------------------------------


def _event_payload(case: Case, name: str, frm: str, to: str, actor: Actor) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "transition": name,
        "from": frm,
        "to": to,
        "actor": actor.ref,
        "role": actor.role.value,
        "item_code": case.item_code,
        "department": case.lead_department_code,
        "applicant_user_id": case.applicant_user_id,
        "company_id": case.company_id,
        "agent_user_id": case.agent_user_id,
        "acceptance_number": case.acceptance_number,
    }


async def _transition(
    conn: BaseDBAsyncClient,
    case: Case,
    name: str,
    actor: Actor,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
    now: datetime,
) -> Case:
    """Apply one transition of the table as a compare-and-set, with its timeline and outbox
    events, on the caller's transaction ``conn``. Returns the case as it now is."""
    transition = TRANSITIONS[name]
    if actor.role not in transition.roles:
        raise RoleNotAllowed(details={"transition": name, "role": actor.role.value})
    frm = case.status
    values = dict(updates or {})
    moved = (
        await Case.filter(id=case.id, status__in=[s.value for s in transition.from_states])
        .using_db(conn)
        .update(status=transition.to.value, revision=F("revision") + 1, updated_at=now, **values)
    )
    if not moved:
        current = await _get_case(case.id, conn)
        raise InvalidTransition(
            details={"case_id": case.id, "current_status": current.status, "action": name}
        )
    for key, value in values.items():
        setattr(case, key, value)
    case.status = transition.to.value
    case.revision += 1
    await CaseEvent.create(
        case_id=case.id,
        action=name,
        actor=actor.ref,
        role=actor.role.value,
        from_status=frm,
        to_status=transition.to.value,
        comment=comment,
        details=details or {},
        at=now,
        using_db=conn,
    )
    await emit(
        f"case.{name}",
        {**_event_payload(case, name, frm, transition.to.value, actor), **(details or {})},
        using_db=conn,
    )
    return case


async def _note(
    conn: BaseDBAsyncClient,
    case: Case,
    action: str,
    actor: Actor,
    *,
    comment: str = "",
    details: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    """A timeline line that is not a transition (claim, comment, supervision notice...)."""
    await CaseEvent.create(
        case_id=case.id,
        action=action,
        actor=actor.ref,
        role=actor.role.value,
        from_status=case.status,
        to_status=case.status,
        comment=comment,
        details=details or {},
        at=now,
        using_db=conn,
    )


# --------------------------------------------------------------------------------------------
# Guide helpers
# --------------------------------------------------------------------------------------------


#: Published item versions never change (catalog.models.ItemVersion), and cases only point at
#: published ones: their guides are cached per worker for good, bounded in number.
_GUIDES: dict[tuple[int, str], dict[str, Any]] = {}
_GUIDES_MAX = 1024


async def _guide_of(case: Case) -> dict[str, Any]:
    key = (case.item_version_id, case.item_code)
    guide = _GUIDES.get(key)
    if guide is None:
        version = await ItemVersion.get(id=case.item_version_id)
        guide = dict(version.guide)
        if len(_GUIDES) >= _GUIDES_MAX:
            _GUIDES.pop(next(iter(_GUIDES)))
        _GUIDES[key] = guide
    return guide


def _departments(guide: dict[str, Any]) -> list[str]:
    return [guide["lead_department"], *guide.get("parallel_departments", [])]


def form_errors(guide: dict[str, Any], form: dict[str, Any], *, complete: bool) -> list[dict]:
    """The form's problems against the item's JSON Schema; a draft (``complete=False``) may
    still miss required fields."""
    validator = Draft202012Validator(guide.get("form_schema") or {"type": "object"})
    problems = []
    for error in validator.iter_errors(form):
        if not complete and error.validator == "required":
            continue
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in error.message else ""
            path = f"{path}.{missing}".strip(".")
            problems.append(field_error(f"form.{path}", "此项为必填项。", "required"))
        else:
            problems.append(
                field_error(f"form.{path}".rstrip("."), "填写的内容格式不正确。", error.validator)
            )
    schema = guide.get("form_schema")
    for path in undeclared_fields(schema, form):
        problems.append(field_error(f"form.{path}", "申请表中没有这一项，请删除。", "undeclared"))
    for path in personal.identifiers_outside_marks(form, personal_paths(schema)):
        problems.append(
            field_error(
                f"form.{path}",
                "此栏不能填写身份证号码或手机号码，请填写在申请表对应的栏目中。",
                "identifier_not_allowed",
            )
        )
    return problems


def _material_needed(material: dict[str, Any], form: dict[str, Any]) -> bool:
    if material.get("requirement", "required") == "required":
        return True
    when: dict[str, Any] = material.get("when") or {}
    return bool(when) and all(form.get(k) == v for k, v in when.items())


def checklist(guide: dict[str, Any], form: dict[str, Any], uploads: list[Upload]) -> list[dict]:
    """Each material of the item: whether it is needed now and how many ready files it has."""
    ready: dict[str, int] = {}
    for upload in uploads:
        if upload.status == UploadStatus.ready.value and upload.material_code:
            ready[upload.material_code] = ready.get(upload.material_code, 0) + 1
    rows = []
    for material in guide.get("materials", []):
        needed = _material_needed(material, form)
        files = ready.get(material["code"], 0)
        rows.append(
            {
                "code": material["code"],
                "name": material["name"],
                "requirement": material.get("requirement", "required"),
                "condition": material.get("condition"),
                "needed": needed,
                "files": files,
                "max_files": material.get("max_files", 1),
                "satisfied": files > 0 or not needed,
            }
        )
    return rows


async def _case_uploads(case_id: int) -> list[Upload]:
    return await Upload.filter(case_id=case_id, status__in=("pending", "processing", "ready"))


# --------------------------------------------------------------------------------------------
# Filing: drafts, submission, withdrawal
# --------------------------------------------------------------------------------------------


async def create_draft(
    *,
    subject: Subject,
    item_code: str,
    company_id: int | None,
    principal_user_id: int | None,
    form: dict[str, Any],
    cipher: FieldCipher,
    now: datetime,
) -> Case:
    """A draft against the item's current published version, for the applicant the caller may
    act for: themselves, a company (agent with ``apply``) or a principal under a mandate. The
    form's personal identifiers are sealed before they are stored (``cases.personal``)."""
    from catalog.service import get_published_version

    version = await get_published_version(code=item_code)
    guide = dict(version.guide)
    actor_user = await User.get(id=subject.id)
    require_realname_level(actor_user.realname_level, int(guide.get("min_realname_level", 1)))
    audience = guide.get("audience", "both")
    if company_id is not None and principal_user_id is not None:
        raise ValidationFailed(
            [field_error("company_id", "不能同时代企业和代他人申请。", "conflict")]
        )
    today = local_today(now)
    mandate_id = None
    if company_id is not None:
        if audience == "person":
            raise WrongApplicant("该事项只接受个人申请。")
        company = await Company.get_or_none(id=company_id)
        if company is None:
            raise CaseNotFound("企业不存在。", code="auth.company_not_found")
        target = Owned(company_id=company_id, item_code=item_code)
        await require(subject, Action.apply, target, today=today)
        applicant_user_id = None
        display = company.name
        agent_user_id = None if company.legal_rep_id == subject.id else subject.id
    else:
        if audience == "company":
            raise WrongApplicant("该事项只接受企业申请。")
        applicant_user_id = principal_user_id or subject.id
        agent_user_id = None
        if principal_user_id is not None and principal_user_id != subject.id:
            target = Owned(owner_user_id=principal_user_id, item_code=item_code)
            await require(subject, Action.apply, target, today=today)
            agent_user_id = subject.id
            mandate = (
                await Mandate.filter(
                    principal_id=principal_user_id, agent_id=subject.id, ended_at=None
                )
                .order_by("-id")
                .first()
            )
            mandate_id = mandate.id if mandate else None
            principal = await User.get(id=principal_user_id)
            display = mask_name(principal.real_name)
        else:
            display = mask_name(actor_user.real_name)
    problems = form_errors(guide, form, complete=False)
    if problems:
        raise ValidationFailed(problems)
    departments = _departments(guide)
    async with in_transaction() as conn:
        case = await Case.create(
            item_code=item_code,
            item_version_id=version.id,
            item_name=guide["name"],
            lead_department_code=departments[0],
            department_codes="," + ",".join(departments) + ",",
            applicant_user_id=applicant_user_id,
            company_id=company_id,
            agent_user_id=agent_user_id,
            mandate_id=mandate_id,
            applicant_display=display,
            form_data=personal.seal(form, personal_paths(guide.get("form_schema")), cipher),
            fee_fen=int(guide.get("fee", {}).get("amount_fen", 0)),
            created_at=now,
            updated_at=now,
            using_db=conn,
        )
        actor = Actor.for_subject(subject, Role.applicant)
        await _note(conn, case, "create", actor, now=now)
        await emit(
            "case.created",
            _event_payload(case, "create", "", S.draft.value, actor),
            using_db=conn,
        )
    return case


async def update_form(
    *, subject: Subject, case_id: int, form: dict[str, Any], cipher: FieldCipher, now: datetime
) -> Case:
    """Save the form of a draft, or during corrections only the fields listed for correction.
    An identifier the phone sends back masked, as it was shown, keeps its stored value."""
    case = await load_for(subject, Action.apply, case_id, now=now)
    if case.status not in EDITABLE:
        raise NotEditable(details={"current_status": case.status})
    guide = await _guide_of(case)
    paths = personal_paths(guide.get("form_schema"))
    form = personal.keep_unchanged(form, case.form_data, paths, cipher)
    stored = personal.unseal(case.form_data, paths, cipher)
    if case.status == S.correction_requested:
        listed = await _listed_for_correction(case)
        changed = {key for key in set(form) | set(stored) if form.get(key) != stored.get(key)}
        unlisted = sorted(changed - listed["fields"])
        if unlisted:
            raise NotListedForCorrection(
                details={
                    "fields": [
                        field_error(f"form.{k}", "此项不在补正清单中，不能修改。", "not_listed")
                        for k in unlisted
                    ]
                }
            )
    problems = form_errors(guide, form, complete=False)
    if problems:
        raise ValidationFailed(problems)
    sealed = personal.seal(form, paths, cipher)
    moved = await Case.filter(id=case.id, status=case.status, revision=case.revision).update(
        form_data=sealed, updated_at=now
    )
    if not moved:
        raise InvalidTransition(details={"case_id": case.id, "action": "update_form"})
    case.form_data = sealed
    return case


async def _listed_for_correction(case: Case) -> dict[str, set[str]]:
    notice = await CorrectionNotice.filter(case_id=case.id, round=case.correction_round).first()
    items = notice.items if notice else []
    return {
        "materials": {i["code"] for i in items if i["kind"] == "material"},
        "fields": {i["code"] for i in items if i["kind"] == "field"},
    }


async def check_upload_allowed(
    *, subject: Subject, case_id: int, material_code: str, now: datetime
) -> Case:
    """May ``subject`` add or remove a file of ``material_code`` on this case now?"""
    case = await load_for(subject, Action.apply, case_id, now=now)
    if case.status not in EDITABLE:
        raise NotEditable(details={"current_status": case.status})
    if case.status == S.correction_requested:
        listed = await _listed_for_correction(case)
        if material_code not in listed["materials"]:
            raise NotListedForCorrection(
                details={"material_code": material_code, "listed": sorted(listed["materials"])}
            )
    return case


async def delete_draft(*, subject: Subject, case_id: int, now: datetime) -> Case:
    """Remove a draft; the caller deletes its files (``storage.delete_for_case``)."""
    case = await load_for(subject, Action.apply, case_id, now=now)
    async with in_transaction() as conn:
        deleted = await Case.filter(id=case.id, status=S.draft.value).using_db(conn).delete()
        if not deleted:
            current = await _get_case(case.id, conn)
            raise InvalidTransition(
                details={"case_id": case.id, "current_status": current.status, "action": "delete"}
            )
    return case


async def submit(*, subject: Subject, case_id: int, cipher: FieldCipher, now: datetime) -> Case:
    """Submit a draft, or resubmit after corrections; refused with the complete list of what is
    missing (form fields and materials) when anything is."""
    case = await load_for(subject, Action.apply, case_id, now=now)
    if case.status not in EDITABLE:
        raise InvalidTransition(
            details={"case_id": case.id, "current_status": case.status, "action": "submit"}
        )
    guide = await _guide_of(case)
    uploads = await _case_uploads(case.id)
    form = personal.unseal(case.form_data, personal_paths(guide.get("form_schema")), cipher)
    problems = form_errors(guide, form, complete=True)
    rows = checklist(guide, form, uploads)
    missing = [row for row in rows if not row["satisfied"]]
    problems += [
        field_error(f"materials.{row['code']}", f"请上传「{row['name']}」。", "missing")
        for row in missing
    ]
    if any(u.status != UploadStatus.ready.value for u in uploads):
        problems.append(
            field_error("materials", "还有文件正在上传或处理，请稍候再提交。", "processing")
        )
    if case.status == S.correction_requested:
        problems += await _unresolved_corrections(case, uploads)
    if problems:
        raise CaseIncomplete(details={"fields": problems, "checklist": rows})
    actor = Actor.for_subject(subject, Role.applicant)
    calendar = await calendar_source.get()
    today = local_today(now)
    async with in_transaction() as conn:
        if case.status == S.draft:
            await _transition(
                conn,
                case,
                "submit",
                actor,
                now=now,
                updates={
                    "submitted_at": now,
                    "answer_due_on": calendar.add_working_days(today, ANSWER_LIMIT_WORKING_DAYS),
                },
            )
        elif case.correction_stage == "review":
            updates = _resume_clock(case, calendar, today)
            await _transition(conn, case, "resubmit_in_review", actor, now=now, updates=updates)
            await _resolve_notice(conn, case, now)
        else:
            await _transition(
                conn,
                case,
                "resubmit",
                actor,
                now=now,
                updates={
                    "submitted_at": now,
                    "answer_due_on": calendar.add_working_days(today, ANSWER_LIMIT_WORKING_DAYS),
                },
            )
            await _resolve_notice(conn, case, now)
        await (
            Upload.filter(case_id=case.id, status=UploadStatus.ready.value)
            .using_db(conn)
            .update(attached_at=now)
        )
    return case


async def _unresolved_corrections(case: Case, uploads: list[Upload]) -> list[dict]:
    """Each listed material must have a file newer than the notice."""
    notice = await CorrectionNotice.filter(case_id=case.id, round=case.correction_round).first()
    if notice is None:
        return []
    problems = []
    for item in notice.items:
        if item["kind"] != "material":
            continue
        fresh = [
            u
            for u in uploads
            if u.material_code == item["code"] and u.created_at > notice.issued_at
        ]
        if not fresh:
            problems.append(
                field_error(
                    f"materials.{item['code']}",
                    f"请按补正要求重新上传：{item['problem']}",
                    "not_corrected",
                )
            )
    return problems


async def _resolve_notice(conn: BaseDBAsyncClient, case: Case, now: datetime) -> None:
    await (
        CorrectionNotice.filter(case_id=case.id, round=case.correction_round)
        .using_db(conn)
        .update(resolved_at=now)
    )


async def withdraw(*, subject: Subject, case_id: int, reason: str, now: datetime) -> Case:
    case = await load_for(subject, Action.apply, case_id, now=now)
    async with in_transaction() as conn:
        await _transition(
            conn,
            case,
            "withdraw",
            Actor.for_subject(subject, Role.applicant),
            comment=reason,
            now=now,
            updates={"closed_at": now, "paused_on": None},
        )
        await (
            ReviewTask.filter(case_id=case.id, status__in=("open", "claimed"))
            .using_db(conn)
            .update(status="cancelled")
        )
    return case


# --------------------------------------------------------------------------------------------
# Pre-review (clerk): accept, refuse, request corrections; article 32 auto-acceptance
# --------------------------------------------------------------------------------------------


async def _staff_case(subject: Subject, action: Action, case_id: int, now: datetime) -> Case:
    """The case, for staff who may do ``action`` on it. Not for applicants, even their own
    case's: ``view`` would let an owner through to staff-only acts (internal comments)."""
    if not subject.is_staff:
        raise Forbidden("只有工作人员可以进行此操作。", code="auth.forbidden")
    return await load_for(subject, action, case_id, now=now)


async def _next_acceptance_number(conn: BaseDBAsyncClient, department: str, day: date) -> str:
    """Department code, date, sequence: one atomic upsert per number, so concurrent acceptances
    in the same department never share a number."""
    dialect = conn.capabilities.dialect
    table = AcceptanceCounter._meta.db_table
    if dialect == "postgres":
        sql = (
            f'INSERT INTO "{table}" ("department_code", "day", "last_number") VALUES ($1, $2, 1) '
            'ON CONFLICT ("department_code", "day") DO UPDATE SET '
            f'"last_number" = "{table}"."last_number" + 1 RETURNING "last_number"'
        )
        params: list[Any] = [department, day]
    else:
        sql = (
            f'INSERT INTO "{table}" ("department_code", "day", "last_number") VALUES (?, ?, 1) '
            'ON CONFLICT ("department_code", "day") DO UPDATE SET '
            '"last_number" = "last_number" + 1 RETURNING "last_number"'
        )
        params = [department, day.isoformat()]
    # execute_query_dict: Tortoise's asyncpg ``execute_query`` runs an INSERT without fetching
    # (no RETURNING rows), so it would hand back nothing on PostgreSQL.
    rows = await conn.execute_query_dict(sql, params)
    sequence = int(rows[0]["last_number"])
    return f"{department}-{day:%Y%m%d}-{sequence:05d}"


async def _accept(
    conn: BaseDBAsyncClient,
    case: Case,
    name: str,
    actor: Actor,
    *,
    comment: str,
    now: datetime,
    accepted_on: date | None = None,
) -> Case:
    """Accept ``case`` at ``now``; the legal clock runs from ``accepted_on`` (default: today),
    which article 32 sets to the day the materials were received."""
    guide = await _guide_of(case)
    calendar = await calendar_source.get()
    number = await _next_acceptance_number(conn, case.lead_department_code, local_today(now))
    today = accepted_on or local_today(now)
    statutory = int(guide.get("statutory_limit_days", 0))
    promised = int(guide.get("promised_limit_days", statutory))
    await _transition(
        conn,
        case,
        name,
        actor,
        comment=comment,
        details={"acceptance_number": number},
        now=now,
        updates={
            "acceptance_number": number,
            "accepted_at": now,
            "accepted_on": today,
            "statutory_due_on": calendar.add_working_days(today, statutory),
            "promised_due_on": calendar.add_working_days(today, promised),
            "answer_due_on": None,
            "assignee_staff_id": None,
        },
    )
    await _open_step(conn, case, guide, 0, now)
    return case


async def _open_step(
    conn: BaseDBAsyncClient, case: Case, guide: dict[str, Any], index: int, now: datetime
) -> None:
    """Open review step ``index``: the first step goes to every department of a parallel item
    (并联审批), later steps to the lead department only."""
    steps = guide.get("review_steps") or [
        {"name": "审查", "role": "reviewer"},
        {"name": "决定", "role": "approver"},
    ]
    step = steps[index]
    departments = _departments(guide) if index == 0 else [case.lead_department_code]
    await ReviewTask.bulk_create(
        [
            ReviewTask(
                case_id=case.id,
                step_index=index,
                step_name=step["name"],
                role=step.get("role", "reviewer"),
                department_code=code,
                created_at=now,
            )
            for code in departments
        ],
        using_db=conn,
    )


async def accept(*, subject: Subject, case_id: int, comment: str, now: datetime) -> Case:
    case = await _staff_case(subject, Action.accept, case_id, now)
    async with in_transaction() as conn:
        return await _accept(
            conn, case, "accept", Actor.for_subject(subject, Role.clerk), comment=comment, now=now
        )


async def refuse(*, subject: Subject, case_id: int, reasons: str, now: datetime) -> Case:
    case = await _staff_case(subject, Action.accept, case_id, now)
    async with in_transaction() as conn:
        return await _transition(
            conn,
            case,
            "refuse",
            Actor.for_subject(subject, Role.clerk),
            comment=reasons,
            details={"rights_notice": RIGHTS_NOTICE},
            now=now,
            updates={
                "decision": "refused",
                "decision_reasons": reasons,
                "closed_at": now,
                "answer_due_on": None,
            },
        )


def _check_correction_items(
    guide: dict[str, Any], items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    materials = {m["code"] for m in guide.get("materials", [])}
    fields = set((guide.get("form_schema") or {}).get("properties", {}))
    problems = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        known = materials if item["kind"] == "material" else fields
        if item["code"] not in known:
            what = "材料" if item["kind"] == "material" else "表单项"
            problems.append(
                field_error(f"items[{index}].code", f"该事项没有{what} {item['code']}。", "unknown")
            )
        if (item["kind"], item["code"]) in seen:
            problems.append(
                field_error(f"items[{index}].code", "同一项不能重复列出。", "duplicate")
            )
        seen.add((item["kind"], item["code"]))
    return problems


async def request_correction(
    *, subject: Subject, case_id: int, items: list[dict[str, Any]], comment: str, now: datetime
) -> Case:
    """一次性告知: the complete list of problems, per material and per form field, in one notice.

    At pre-review the clerk sends it (the five-day answer clock stops: the applicant's
    resubmission starts a new one); during review a reviewer or approver holding the case's task
    sends it and the legal clock stops until the resubmission."""
    case = await _get_case(case_id)
    in_review = case.status == S.in_review
    if in_review:
        role = await _holder_role(subject, case)
        await require(subject, action_of(role), owned(case), today=local_today(now))
        name, stage = "request_correction_in_review", "review"
    else:
        await require(subject, Action.accept, owned(case), today=local_today(now))
        role, name, stage = Role.clerk, "request_correction", "pre_review"
    guide = await _guide_of(case)
    problems = _check_correction_items(guide, items)
    if problems:
        raise ValidationFailed(problems)
    round_number = case.correction_round + 1
    updates: dict[str, Any] = {
        "correction_round": round_number,
        "correction_stage": stage,
        "answer_due_on": None,
    }
    if in_review:
        updates["paused_on"] = local_today(now)
    async with in_transaction() as conn:
        await _transition(
            conn,
            case,
            name,
            Actor.for_subject(subject, role),
            comment=comment,
            details={"round": round_number, "items": items},
            now=now,
            updates=updates,
        )
        await CorrectionNotice.create(
            case_id=case.id,
            round=round_number,
            stage=stage,
            items=items,
            issued_by_staff_id=subject.id,
            issued_at=now,
            using_db=conn,
        )
    return case


async def auto_accept_overdue(*, now: datetime, limit: int = 500) -> list[int]:
    """Article 32: every case submitted and left unanswered past its answer day is accepted, by
    the system, and the timeline says so. Safe to run concurrently: each acceptance is a
    compare-and-set, and a case someone answered meanwhile is skipped."""
    today = local_today(now)
    rows = (
        await Case.filter(status=S.submitted.value, answer_due_on__lt=today)
        .order_by("id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    ids = [int(str(value)) for value in rows]
    accepted: list[int] = []
    for case_id in ids:
        case = await _get_case(case_id)
        try:
            async with in_transaction() as conn:
                await _accept(
                    conn,
                    case,
                    "auto_accept",
                    SYSTEM,
                    comment="依据《行政许可法》第三十二条，申请之日起五日内未作出答复，视为受理。",
                    now=now,
                    # 逾期不告知的，自收到申请材料之日起即为受理: the clock started then.
                    accepted_on=local_today(case.submitted_at) if case.submitted_at else None,
                )
            accepted.append(case.id)
        except InvalidTransition:
            continue  # answered meanwhile by a clerk
        except Exception:  # one broken case must not hold back the others
            log.exception("article 32 auto-acceptance failed", extra={"case_id": case.id})
    if accepted:
        log.info("article 32 auto-acceptance", extra={"cases": len(accepted)})
    return accepted


# --------------------------------------------------------------------------------------------
# Review and decision
# --------------------------------------------------------------------------------------------


async def _holder_role(subject: Subject, case: Case) -> Role:
    """The role in which ``subject`` holds a claimed task of the case, or refuse. Only staff
    hold tasks: a citizen's user id may well equal the holder's staff id."""
    task = None
    if subject.is_staff:
        task = await ReviewTask.filter(
            case_id=case.id,
            assignee_staff_id=subject.id,
            status="claimed",
            department_code=subject.department_code,
        ).first()
    if task is None or task.role not in subject.roles:
        raise RoleNotAllowed("请先领取该办件的审查任务。", code="case.task_not_held")
    return Role(task.role)


async def _task_for(subject: Subject, task_id: int, now: datetime) -> tuple[ReviewTask, Case]:
    task = await ReviewTask.get_or_none(id=task_id)
    if task is None:
        raise TaskNotFound(details={"task_id": task_id})
    case = await _get_case(task.case_id)
    # The task is the case as its department sees it: its department and its role decide.
    await require(
        subject,
        action_of(Role(task.role)),
        owned(case, departments=(task.department_code,)),
        today=local_today(now),
    )
    return task, case


def action_of(role: Role) -> Action:
    """The permission a review step's role takes."""
    return Action.review if role is Role.reviewer else Action.approve


class SameHandsTwice(Forbidden):
    code = "case.separation_of_duties"
    message = "同一工作人员不能办理同一办件的两个审查步骤（审批分离），请由其他同事办理。"


async def require_other_hands(subject: Subject, task: ReviewTask) -> None:
    """Separation of duties (审批分离): whoever decided an earlier step of a case takes no later
    step of it, even when holding both roles (a reviewer who is also an approver)."""
    if await ReviewTask.filter(
        case_id=task.case_id,
        step_index__lt=task.step_index,
        assignee_staff_id=subject.id,
        status__in=("passed", "denied"),
    ).exists():
        raise SameHandsTwice(details={"task_id": task.id, "step": task.step_index})


async def claim_task(*, subject: Subject, task_id: int, now: datetime) -> ReviewTask:
    task, case = await _task_for(subject, task_id, now)
    await require_other_hands(subject, task)
    actor = Actor.for_subject(subject, Role(task.role))
    async with in_transaction() as conn:
        claimed = (
            await ReviewTask.filter(id=task.id, status="open")
            .using_db(conn)
            .update(status="claimed", assignee_staff_id=subject.id)
        )
        if not claimed:
            raise TaskTaken(details={"task_id": task.id})
        if case.status == S.accepted:
            await _transition(conn, case, "start_review", actor, now=now)
        await Case.filter(id=case.id).using_db(conn).update(assignee_staff_id=subject.id)
        await _note(conn, case, "claim", actor, details={"task_id": task.id}, now=now)
    task.status, task.assignee_staff_id = "claimed", subject.id
    return task


async def release_task(*, subject: Subject, task_id: int, now: datetime) -> ReviewTask:
    task, case = await _task_for(subject, task_id, now)
    actor = Actor.for_subject(subject, Role(task.role))
    async with in_transaction() as conn:
        released = (
            await ReviewTask.filter(id=task.id, status="claimed", assignee_staff_id=subject.id)
            .using_db(conn)
            .update(status="open", assignee_staff_id=None)
        )
        if not released:
            raise TaskTaken(details={"task_id": task.id})
        await (
            Case.filter(id=case.id, assignee_staff_id=subject.id)
            .using_db(conn)
            .update(assignee_staff_id=None)
        )
        await _note(conn, case, "release", actor, details={"task_id": task.id}, now=now)
    task.status, task.assignee_staff_id = "open", None
    return task


async def decide_task(
    *, subject: Subject, task_id: int, outcome: str, opinion: str, now: datetime
) -> Case:
    """The holder's opinion on their step: ``pass`` or ``deny``. Any denial denies the case (the
    other open tasks are cancelled); when every task of the last step has passed, the case is
    granted and moves on to fee due or result pending."""
    task, case = await _task_for(subject, task_id, now)
    await require_other_hands(subject, task)
    role = Role(task.role)
    actor = Actor.for_subject(subject, role)
    if case.status != S.in_review:
        raise InvalidTransition(
            details={"case_id": case.id, "current_status": case.status, "action": outcome}
        )
    guide = await _guide_of(case)
    steps = guide.get("review_steps") or [{}, {}]
    async with in_transaction() as conn:
        done = (
            await ReviewTask.filter(id=task.id, status="claimed", assignee_staff_id=subject.id)
            .using_db(conn)
            .update(
                status="passed" if outcome == "pass" else "denied", opinion=opinion, decided_at=now
            )
        )
        if not done:
            raise TaskTaken(details={"task_id": task.id})
        details = {"task_id": task.id, "step": task.step_name, "department": task.department_code}
        if outcome == "deny":
            await (
                ReviewTask.filter(case_id=case.id, status__in=("open", "claimed"))
                .using_db(conn)
                .update(status="cancelled")
            )
            await _transition(
                conn,
                case,
                "deny",
                actor,
                comment=opinion,
                details={**details, "rights_notice": RIGHTS_NOTICE},
                now=now,
                updates={
                    "decision": "denied",
                    "decision_reasons": opinion,
                    "decided_at": now,
                    "closed_at": now,
                    "assignee_staff_id": None,
                },
            )
            return case
        await _note(conn, case, "pass", actor, comment=opinion, details=details, now=now)
        pending = (
            await ReviewTask.filter(
                case_id=case.id, step_index=task.step_index, status__in=("open", "claimed")
            )
            .using_db(conn)
            .exists()
        )
        if pending:
            return case
        if task.step_index + 1 < len(steps):
            await _open_step(conn, case, guide, task.step_index + 1, now)
            await Case.filter(id=case.id).using_db(conn).update(assignee_staff_id=None)
            return case
        await _transition(
            conn,
            case,
            "grant",
            actor,
            comment=opinion,
            details=details,
            now=now,
            updates={
                "decision": "granted",
                "decision_reasons": opinion,
                "decided_at": now,
                "assignee_staff_id": None,
            },
        )
        follow = "require_fee" if case.fee_fen > 0 else "await_result"
        await _transition(conn, case, follow, SYSTEM, now=now)
    return case


def _resume_clock(case: Case, calendar: WorkCalendar, today: date) -> dict[str, Any]:
    """The due dates move by the working days the clock stood still."""
    if case.paused_on is None:
        return {}
    stopped = max(calendar.working_days_between(case.paused_on, today), 0)
    updates: dict[str, Any] = {
        "paused_on": None,
        "paused_working_days": case.paused_working_days + stopped,
    }
    if case.statutory_due_on is not None:
        updates["statutory_due_on"] = calendar.add_working_days(case.statutory_due_on, stopped)
    if case.promised_due_on is not None:
        updates["promised_due_on"] = calendar.add_working_days(case.promised_due_on, stopped)
    return updates


async def suspend(
    *, subject: Subject, case_id: int, procedure: str, reason: str, now: datetime
) -> Case:
    """Special procedure (hearing, inspection, expert review): the clock stops."""
    case = await _get_case(case_id)
    role = await _holder_role(subject, case)
    await require(subject, action_of(role), owned(case), today=local_today(now))
    async with in_transaction() as conn:
        return await _transition(
            conn,
            case,
            "suspend",
            Actor.for_subject(subject, role),
            comment=reason,
            details={"procedure": procedure},
            now=now,
            updates={"paused_on": local_today(now)},
        )


async def resume(*, subject: Subject, case_id: int, comment: str, now: datetime) -> Case:
    case = await _get_case(case_id)
    role = await _holder_role(subject, case)
    await require(subject, action_of(role), owned(case), today=local_today(now))
    calendar = await calendar_source.get()
    updates = _resume_clock(case, calendar, local_today(now))
    async with in_transaction() as conn:
        return await _transition(
            conn,
            case,
            "resume",
            Actor.for_subject(subject, role),
            comment=comment,
            details={
                "stopped_working_days": updates.get("paused_working_days", 0)
                - case.paused_working_days
            },
            now=now,
            updates=updates,
        )


async def mark_fee_paid(*, case_id: int, payment_ref: str, now: datetime) -> Case:
    """Called by the payments context (step 5) once a fee order is paid."""
    case = await _get_case(case_id)
    async with in_transaction() as conn:
        return await _transition(
            conn, case, "fee_paid", SYSTEM, details={"payment": payment_ref}, now=now
        )


async def complete(*, subject: Subject, case_id: int, comment: str, now: datetime) -> Case:
    """The dispatcher records the result served (delivery arrives with step 7)."""
    case = await _staff_case(subject, Action.dispatch, case_id, now)
    async with in_transaction() as conn:
        return await _transition(
            conn,
            case,
            "complete",
            Actor.for_subject(subject, Role.dispatcher),
            comment=comment,
            now=now,
            updates={"closed_at": now},
        )


#: The role a handling act is recorded in, by preference.
HANDLING_ORDER = (Role.reviewer, Role.approver, Role.clerk, Role.dispatcher)


def handling_role(subject: Subject, default: Role = Role.clerk) -> Role:
    return next((r for r in HANDLING_ORDER if r.value in subject.roles), default)


async def check_staff_attachment(*, subject: Subject, case_id: int, now: datetime) -> Case:
    """Staff handling a submitted case may add documents to it (inspection notes, a hearing
    record): staff of its departments with a handling role (``Action.handle``), not
    supervisors, and never to a draft (which staff cannot see at all)."""
    return await _staff_case(subject, Action.handle, case_id, now)


async def note_attachment(
    *, subject: Subject, case_id: int, upload_id: str, filename: str, now: datetime
) -> None:
    case = await _get_case(case_id)
    role = handling_role(subject)
    async with in_transaction() as conn:
        await _note(
            conn,
            case,
            "attachment",
            Actor.for_subject(subject, role),
            comment=filename,
            details={"upload_id": upload_id, "internal": True},
            now=now,
        )


async def add_comment(*, subject: Subject, case_id: int, text: str, now: datetime) -> None:
    """An internal staff comment on the timeline (not shown to the applicant)."""
    case = await _staff_case(subject, Action.handle, case_id, now)
    role = handling_role(subject)
    async with in_transaction() as conn:
        await _note(
            conn,
            case,
            "comment",
            Actor.for_subject(subject, role),
            comment=text,
            details={"internal": True},
            now=now,
        )


async def reveal_form_field(
    *,
    subject: Subject,
    case_id: int,
    field: str,
    reason: str,
    cipher: FieldCipher,
    request_id: str,
    now: datetime,
) -> dict[str, Any]:
    """One personal identifier written in the case's form, in full, for staff who may reveal
    identifiers of the case's applicant (``Action.reveal``) and give a reason; recorded like a
    reveal of the applicant's own identifiers (PIPL art. 28)."""
    case = await load_for(subject, Action.reveal, case_id, now=now)
    guide = await _guide_of(case)
    value, kind = personal.reveal(
        case.form_data, personal_paths(guide.get("form_schema")), field, cipher
    )
    answerable = case.applicant_user_id or case.agent_user_id
    if answerable is None and case.company_id is not None:
        company = await Company.get(id=case.company_id)
        answerable = company.legal_rep_id
    await PersonalDataAccess.create(
        staff_id=subject.id,
        user_id=answerable or 0,
        field="form",
        case_id=case.id,
        form_field=field,
        reason=reason.strip(),
        request_id=request_id,
    )
    log.info(
        "personal data revealed",
        extra={"staff_id": subject.id, "case_id": case.id, "field": f"form.{field}"},
    )
    return {"field": field, "kind": kind, "value": value}
