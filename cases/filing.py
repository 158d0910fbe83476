"""Filing (申请): a draft against the item's published version, its form and files, submission
(and resubmission after a correction notice), withdrawal; the checklist of materials."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator
from tortoise.backends.base.client import BaseDBAsyncClient

from auth.common import require_realname_level
from auth.models import Company, Mandate, User
from auth.permissions import (
    Action,
    Owned,
    Subject,
    require,
)
from cases import personal
from cases.deadlines import ANSWER_LIMIT_WORKING_DAYS, resume_clock
from cases.errors import (
    CaseIncomplete,
    CaseNotFound,
    InvalidTransition,
    NotEditable,
    NotListedForCorrection,
    WrongApplicant,
)
from cases.fees import cancel_fee_order
from cases.kernel import (
    Actor,
    S,
    event_payload,
    guide_of,
    load_case,
    load_for,
    note,
    transition,
)
from cases.models import Case, CorrectionNotice, ReviewTask
from cases.states import (
    EDITABLE,
    Role,
)
from catalog.forms import undeclared_fields
from catalog.guides import version_guide
from catalog.schemas import Audience, Guide, Material, Requirement
from catalog.service import get_published_version
from core.calendar import calendar_source
from core.clock import local_today
from core.crypto import FieldCipher, mask_name
from core.db import in_transaction
from core.errors import ValidationFailed, field_error
from core.outbox import emit
from storage.models import Upload, UploadStatus

log = logging.getLogger(__name__)


def _title(schema: dict[str, Any], path: str) -> str:
    """The ``title`` the item's form schema gives the field at ``path`` (``a.b``), or ""."""
    node: Any = schema
    for part in [p for p in path.split(".") if p]:
        if not isinstance(node, dict):
            return ""
        if part.isdigit() and isinstance(node.get("items"), dict):
            node = node["items"]
            continue
        node = (node.get("properties") or {}).get(part)
    title = node.get("title") if isinstance(node, dict) else None
    return str(title)[:40] if title else ""


def form_errors(guide: Guide, form: dict[str, Any], *, complete: bool) -> list[dict]:
    """The form's problems against the item's JSON Schema; a draft (``complete=False``) may
    still miss required fields. Each names the field's title from the schema, in the message
    and as its ``label``."""
    schema = guide.form_schema
    # formats are checked too ("date": 2026-13-45 is no date; found from outside): JSON Schema
    # only annotates them unless asked
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for error in validator.iter_errors(form):
        if not complete and error.validator == "required":
            continue
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in error.message else ""
            path = f"{path}.{missing}".strip(".")
            label = _title(schema, path)
            message = f"请填写「{label}」。" if label else "此项为必填项。"
            problems.append(field_error(f"form.{path}", message, "required", label=label))
        else:
            label = _title(schema, path)
            message = f"「{label}」的内容格式不正确。" if label else "填写的内容格式不正确。"
            problems.append(
                field_error(f"form.{path}".rstrip("."), message, error.validator, label=label)
            )
    for path in undeclared_fields(schema, form):
        problems.append(field_error(f"form.{path}", "申请表中没有这一项，请删除。", "undeclared"))
    for path in personal.identifiers_outside_marks(form, guide.personal_paths):
        problems.append(
            field_error(
                f"form.{path}",
                "此栏不能填写身份证号码或手机号码，请填写在申请表对应的栏目中。",
                "identifier_not_allowed",
                label=_title(schema, path),
            )
        )
    return problems


def _material_needed(material: Material, form: dict[str, Any]) -> bool:
    if material.requirement is Requirement.required:
        return True
    when = material.when or {}
    return bool(when) and all(form.get(k) == v for k, v in when.items())


def checklist(guide: Guide, form: dict[str, Any], uploads: list[Upload]) -> list[dict]:
    """Each material of the item: whether it is needed now and how many ready files it has."""
    ready: dict[str, int] = {}
    for upload in uploads:
        if upload.status == UploadStatus.ready.value and upload.material_code:
            ready[upload.material_code] = ready.get(upload.material_code, 0) + 1
    rows = []
    for material in guide.materials:
        needed = _material_needed(material, form)
        files = ready.get(material.code, 0)
        rows.append(
            {
                "code": material.code,
                "name": material.name,
                "requirement": material.requirement.value,
                "condition": material.condition,
                "needed": needed,
                "files": files,
                "max_files": material.max_files,
                "satisfied": files > 0 or not needed,
            }
        )
    return rows


async def case_uploads(case_id: int) -> list[Upload]:
    return await Upload.filter(case_id=case_id, status__in=("pending", "processing", "ready"))


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
    version = await get_published_version(code=item_code)
    guide = await version_guide(version.id)
    actor_user = await User.get(id=subject.id)
    require_realname_level(actor_user.realname_level, guide.min_realname_level)
    audience = guide.audience
    if company_id is not None and principal_user_id is not None:
        raise ValidationFailed(
            [field_error("company_id", "不能同时代企业和代他人申请。", "conflict")]
        )
    today = local_today(now)
    mandate_id = None
    if company_id is not None:
        if audience is Audience.person:
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
        if audience is Audience.company:
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
    departments = guide.department_codes
    async with in_transaction() as conn:
        case = await Case.create(
            item_code=item_code,
            item_version_id=version.id,
            item_name=guide.name,
            lead_department_code=departments[0],
            department_codes="," + ",".join(departments) + ",",
            applicant_user_id=applicant_user_id,
            company_id=company_id,
            agent_user_id=agent_user_id,
            mandate_id=mandate_id,
            applicant_display=display,
            form_data=personal.seal(form, guide.personal_paths, cipher),
            fee_fen=guide.fee.amount_fen,
            created_at=now,
            updated_at=now,
            using_db=conn,
        )
        actor = Actor.for_subject(subject, Role.applicant)
        await note(conn, case, "create", actor, now=now)
        await emit(
            "case.created",
            event_payload(case, "create", "", S.draft.value, actor),
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
    guide = await guide_of(case)
    paths = guide.personal_paths
    form = personal.keep_unchanged(form, case.form_data, paths, cipher)
    stored = personal.unseal(case.form_data, paths, cipher)
    if case.status == S.correction_requested:
        listed = await listed_for_correction(case)
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


async def listed_for_correction(case: Case) -> dict[str, set[str]]:
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
        listed = await listed_for_correction(case)
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
            current = await load_case(case.id, conn)
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
    guide = await guide_of(case)
    uploads = await case_uploads(case.id)
    form = personal.unseal(case.form_data, guide.personal_paths, cipher)
    problems = form_errors(guide, form, complete=True)
    rows = checklist(guide, form, uploads)
    missing = [row for row in rows if not row["satisfied"]]
    problems += [
        field_error(
            f"materials.{row['code']}", f"请上传「{row['name']}」。", "missing", label=row["name"]
        )
        for row in missing
    ]
    if any(u.status != UploadStatus.ready.value for u in uploads):
        problems.append(
            field_error("materials", "还有文件正在上传或处理，请稍候再提交。", "processing")
        )
    if case.status == S.correction_requested:
        names = {m.code: m.name for m in guide.materials}
        problems += await unresolved_corrections(case, uploads, names=names)
    if problems:
        raise CaseIncomplete(details={"fields": problems, "checklist": rows})
    actor = Actor.for_subject(subject, Role.applicant)
    calendar = await calendar_source.get()
    today = local_today(now)
    async with in_transaction() as conn:
        if case.status == S.draft:
            await transition(
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
            updates = resume_clock(case, calendar, today)
            await transition(conn, case, "resubmit_in_review", actor, now=now, updates=updates)
            await resolve_notice(conn, case, now)
        else:
            await transition(
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
            await resolve_notice(conn, case, now)
        await (
            Upload.filter(case_id=case.id, status=UploadStatus.ready.value)
            .using_db(conn)
            .update(attached_at=now)
        )
    return case


async def unresolved_corrections(
    case: Case, uploads: list[Upload], *, names: dict[str, str] | None = None
) -> list[dict]:
    """Each listed material must have a file newer than the notice (``names``: the materials'
    names by code, for the labels)."""
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
                    label=(names or {}).get(item["code"], ""),
                )
            )
    return problems


async def resolve_notice(conn: BaseDBAsyncClient, case: Case, now: datetime) -> None:
    await (
        CorrectionNotice.filter(case_id=case.id, round=case.correction_round)
        .using_db(conn)
        .update(resolved_at=now)
    )


async def withdraw(*, subject: Subject, case_id: int, reason: str, now: datetime) -> Case:
    case = await load_for(subject, Action.apply, case_id, now=now)
    async with in_transaction() as conn:
        await cancel_fee_order(conn, case, now=now)
        await transition(
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
