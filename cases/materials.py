"""Files of applications (申请材料) and of staff: ``cases`` orchestrates, ``storage`` serves.

``storage`` knows files (policies, verification, objects) and nothing of cases, items or people;
this module decides what it is asked: whose file it is (the person, the company, the case's
applicant), which rules a material's files follow (the item's guide), who may read or change a
file (``auth.permissions``, on the file or on its case), and what a file's arrival means for
its case (a staff attachment: attached and noted on the timeline, in one transaction). The HTTP
edge only translates requests to these functions and their answers to JSON.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auth.permissions import Action, Owned, Subject, can, require
from cases.filing import check_upload_allowed, delete_draft
from cases.kernel import find_case, guide_of, load_for, owned
from cases.models import Case
from cases.review import check_staff_attachment, note_attachment
from cases.views import case_detail, staff_actions
from catalog.guides import published_guide
from core.cache import GenerationalCache
from core.clock import local_today
from core.db import in_transaction
from core.errors import DomainError, ValidationFailed, field_error
from core.settings import Settings
from storage import service as storage
from storage.base import ObjectStore
from storage.models import StaffRead, Upload
from storage.queries import LIVE

log = logging.getLogger("zhangban.cases")

#: What staff may attach to a case: photos and PDFs, up to 20 files per staff member and case.
ATTACHMENT_RULE = storage.MaterialRule(formats=("jpg", "png", "heic", "webp", "pdf"), max_files=20)


@dataclass(frozen=True)
class Files:
    """What the file use cases talk to; one per worker, built by the composition root."""

    store: ObjectStore
    settings: Settings
    catalog_cache: GenerationalCache

    def with_links(self, upload: Upload, view: dict[str, Any]) -> dict[str, Any]:
        return {**view, **storage.links(upload, store=self.store, settings=self.settings)}


# --------------------------------------------------------------------------------------------
# Whose file, which rules
# --------------------------------------------------------------------------------------------


async def material_rule(files: Files, item_code: str, material_code: str) -> storage.MaterialRule:
    """The material's file rules, from the item's current guide: read from the catalogue's
    cache, since an intent is asked for with every photo a phone takes."""
    guide = await published_guide(code=item_code, cache=files.catalog_cache)
    material = guide.material(material_code)
    if material is None:
        raise ValidationFailed(
            [field_error("material_code", "该事项没有这项材料。", "unknown_material")]
        )
    return storage.MaterialRule(
        formats=tuple(f.value for f in material.formats),
        max_files=material.max_files,
        watermark=material.watermark,
        item_name=guide.name,
    )


def owner_for(subject: Subject, company_id: int | None, principal_id: int | None) -> storage.Owner:
    """Whose file a citizen uploads: theirs, a company's, or a mandate principal's."""
    if company_id is not None and principal_id is not None:
        raise ValidationFailed(
            [field_error("company_id", "不能同时代企业和代他人上传。", "conflict")]
        )
    if company_id is not None:
        return storage.Owner(company_id=company_id)
    return storage.Owner(user_id=principal_id if principal_id is not None else subject.id)


def as_owned(upload: Upload) -> Owned:
    """A file as ``auth.permissions`` sees it from the applicant side: its owner's."""
    return Owned(
        owner_user_id=upload.owner_user_id,
        company_id=upload.company_id,
        item_code=upload.item_code,
    )


async def as_handled(upload: Upload) -> Owned | None:
    """The file as staff see it: part of its case (its departments, its status), or nothing
    for a file of no case, or of a draft (an applicant's files are theirs until submitted)."""
    if upload.case_id is None:
        return None
    case = await find_case(case_id=upload.case_id)
    return owned(case) if case else None


async def _mine(subject: Subject, action: Action, upload_id: str, now: datetime) -> Upload:
    """The upload, if ``subject`` may take ``action`` on it; someone else's does not exist."""
    upload = await storage.get_upload(upload_id=upload_id)
    if not await can(subject, action, as_owned(upload), today=local_today(now)):
        raise storage.UploadNotFound()
    return upload


# --------------------------------------------------------------------------------------------
# The applicant's files
# --------------------------------------------------------------------------------------------


async def new_intent(
    *,
    files: Files,
    subject: Subject,
    purpose: str,
    item_code: str,
    material_code: str,
    case_id: int | None,
    company_id: int | None,
    principal_user_id: int | None,
    filename: str,
    content_type: str,
    size: int,
    now: datetime,
    replaces: str | None = None,
) -> dict[str, Any]:
    """A presigned POST policy for a material's file: for a case (the case decides whose file
    it is and whether the material may change now) or ahead of one (for oneself, a company or a
    principal the caller may apply for). ``replaces``: the caller's file of that material the
    new one takes the place of once it is ready."""
    rule = await material_rule(files, item_code, material_code)
    replaced = await _mine(subject, Action.apply, replaces, now) if replaces else None
    if case_id is not None:
        case = await check_upload_allowed(
            subject=subject, case_id=case_id, material_code=material_code, now=now
        )
        if case.item_code != item_code:
            raise ValidationFailed(
                [field_error("item_code", "文件所属事项与办件不一致。", "case_mismatch")]
            )
        owner = storage.Owner(user_id=case.applicant_user_id, company_id=case.company_id)
    else:
        owner = owner_for(subject, company_id, principal_user_id)
        target = Owned(
            owner_user_id=owner.user_id, company_id=owner.company_id, item_code=item_code
        )
        await require(subject, Action.apply, target, today=local_today(now))
    return await storage.create_intent(
        store=files.store,
        settings=files.settings,
        owner=owner,
        uploaded_by=f"u:{subject.id}",
        purpose=purpose,
        item_code=item_code,
        material_code=material_code,
        case_id=case_id,
        rule=rule,
        filename=filename,
        content_type=content_type,
        size=size,
        now=now,
        replaces=replaced,
    )


async def complete_upload(
    *, files: Files, subject: Subject, upload_id: str, now: datetime
) -> dict[str, Any]:
    """Verify and process what the phone uploaded, by its material's rules (retry-safe)."""
    upload = await _mine(subject, Action.apply, upload_id, now)
    rule = (
        await material_rule(files, upload.item_code, upload.material_code)
        if upload.item_code and upload.material_code
        else storage.MaterialRule()
    )
    view = await storage.complete(
        store=files.store, settings=files.settings, upload=upload, rule=rule, now=now
    )
    if upload.replaces:
        await _retire(files, subject, upload.replaces, now)
    return files.with_links(await storage.get_upload(upload_id=upload_id), view)


async def _retire(files: Files, subject: Subject, upload_id: str, now: datetime) -> None:
    """The file a new one replaced goes, now that the new one is ready; unless the case moved
    on meanwhile (submitted, say), where the old file stays with what was submitted."""
    try:
        old = await _mine(subject, Action.apply, upload_id, now)
        if old.status in LIVE:
            await _remove(files, subject, old, now)
    except DomainError as exc:
        log.info("replaced file kept", extra={"upload_id": upload_id, "reason": exc.code})


async def file_for(
    *, files: Files, subject: Subject, upload_id: str, now: datetime
) -> dict[str, Any]:
    upload = await _mine(subject, Action.view, upload_id, now)
    return files.with_links(upload, storage.upload_view(upload))


async def files_of(
    *,
    files: Files,
    subject: Subject,
    company_id: int | None,
    principal_user_id: int | None,
    item_code: str | None,
    material_code: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Processed files of the caller (or a company or principal they act for), newest first."""
    owner = owner_for(subject, company_id, principal_user_id)
    target = Owned(owner_user_id=owner.user_id, company_id=owner.company_id, item_code=item_code)
    await require(subject, Action.view, target, today=local_today(now))
    rows = await storage.list_uploads(
        owner=owner, item_code=item_code, material_code=material_code, limit=100
    )
    return {"uploads": [files.with_links(u, storage.upload_view(u)) for u in rows]}


async def remove_file(*, files: Files, subject: Subject, upload_id: str, now: datetime) -> None:
    """Delete a file not yet part of a submitted case, or one listed for correction."""
    await _remove(files, subject, await _mine(subject, Action.apply, upload_id, now), now)


async def _remove(files: Files, subject: Subject, upload: Upload, now: datetime) -> None:
    replacing = False
    if upload.case_id is not None and await find_case(case_id=upload.case_id):
        # The case decides whether this file may go now (a draft, or listed for correction).
        await check_upload_allowed(
            subject=subject,
            case_id=upload.case_id,
            material_code=upload.material_code or "",
            now=now,
        )
        replacing = True
    await storage.delete_upload(store=files.store, upload=upload, replacing=replacing, now=now)


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


async def staff_file(
    *, files: Files, subject: Subject, upload_id: str, request_id: str, now: datetime
) -> dict[str, Any]:
    """A file of a submitted case of the staff member's department; every read is recorded."""
    upload = await storage.get_upload(upload_id=upload_id)
    target = await as_handled(upload)
    if target is None or not await can(subject, Action.view, target, today=local_today(now)):
        raise storage.UploadNotFound()
    await storage.record_staff_read(upload=upload, staff_id=subject.id, request_id=request_id)
    return files.with_links(upload, storage.upload_view(upload))


async def attachment_intent(
    *,
    files: Files,
    subject: Subject,
    case_id: int,
    filename: str,
    content_type: str,
    size: int,
    now: datetime,
) -> dict[str, Any]:
    """A policy for a staff attachment to a case the staff member handles."""
    case = await check_staff_attachment(subject=subject, case_id=case_id, now=now)
    return await storage.create_intent(
        store=files.store,
        settings=files.settings,
        owner=storage.Owner(staff_id=subject.id),
        uploaded_by=f"s:{subject.id}",
        purpose="staff_attachment",
        item_code=case.item_code,
        material_code=None,
        case_id=case.id,
        rule=ATTACHMENT_RULE,
        filename=filename,
        content_type=content_type,
        size=size,
        now=now,
    )


async def complete_attachment(
    *, files: Files, subject: Subject, upload_id: str, now: datetime
) -> dict[str, Any]:
    """Verify the staff member's attachment and, the first time, attach it to its case with
    its timeline line, in one transaction (retry-safe)."""
    upload = await storage.get_upload(upload_id=upload_id)
    if upload.uploaded_by != f"s:{subject.id}" or upload.case_id is None:
        raise storage.UploadNotFound()
    # The case must still be one the staff member handles (a reassignment, a role removed).
    await check_staff_attachment(subject=subject, case_id=upload.case_id, now=now)
    first = upload.status != "ready"
    view = await storage.complete(
        store=files.store, settings=files.settings, upload=upload, rule=ATTACHMENT_RULE, now=now
    )
    if first:
        async with in_transaction() as conn:
            await storage.attach(upload_ids=[upload.id], case_id=upload.case_id, now=now, conn=conn)
            await note_attachment(
                subject=subject,
                case_id=upload.case_id,
                upload_id=upload.id,
                filename=upload.filename,
                now=now,
                conn=conn,
            )
    return files.with_links(await storage.get_upload(upload_id=upload_id), view)


# --------------------------------------------------------------------------------------------
# A case with its files
# --------------------------------------------------------------------------------------------


async def case_view(
    *, files: Files, case: Case, staff: bool, now: datetime, yellow_days: int
) -> dict[str, Any]:
    """The case's detail (``views.case_detail``) with short-lived links to its files."""
    view, uploads = await case_detail(case, staff=staff, now=now, yellow_days=yellow_days)
    by_id = {u.id: u for u in uploads}
    view["files"] = [files.with_links(by_id[f["id"]], f) for f in view["files"]]
    return view


async def staff_case_view(
    *,
    files: Files,
    subject: Subject,
    case_id: int,
    request_id: str,
    now: datetime,
    yellow_days: int,
) -> dict[str, Any]:
    """A submitted case of the staff member's department with its files; the reads of its files
    are recorded, as each file's own read is (``staff_file``)."""
    case = await load_for(subject, Action.view, case_id, now=now)
    view = await case_view(files=files, case=case, staff=True, now=now, yellow_days=yellow_days)
    guide = await guide_of(case)
    view["actions"] = staff_actions(
        subject, case, view["tasks"], has_identifiers=bool(guide.personal_paths)
    )
    view["personal_fields"] = [
        {"path": ".".join(path), "kind": kind} for path, kind in guide.personal_paths.items()
    ]
    if view["files"]:
        await StaffRead.bulk_create(
            [
                StaffRead(upload_id=f["id"], staff_id=subject.id, request_id=request_id)
                for f in view["files"]
            ]
        )
    return view


async def remove_draft(*, files: Files, subject: Subject, case_id: int, now: datetime) -> None:
    """Delete a draft, then its files (a draft's files are nobody else's)."""
    case = await delete_draft(subject=subject, case_id=case_id, now=now)
    await storage.delete_for_case(store=files.store, case_id=case.id, now=now)
