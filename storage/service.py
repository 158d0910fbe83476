"""Upload use cases: intent (a presigned POST policy), completion (verify and normalise), access,
deletion and the clean-up of what was never used.

A phone uploads straight to the object store; our server only signs the policy, then checks
what arrived. Nothing the phone claims (name, type, size) is trusted at completion: the type is
sniffed from the bytes, the size is the store's, and images are decoded and re-encoded, which is
what removes metadata and anything hidden in the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from core.clock import local_today
from core.db import in_transaction, serialise
from core.errors import Conflict, DomainError, NotFound, ValidationFailed, field_error
from core.settings import Settings
from storage.base import ObjectMissing, ObjectStore, ObjectTooLarge, UploadPolicy
from storage.models import StaffRead, Upload, UploadStatus
from storage.processing import Processed, ProcessingError, process, watermark_text
from storage.queries import LIVE, live_file_count

log = logging.getLogger("zhangban.storage")

#: The catalogue's file formats and the content type a phone must declare for each.
FORMAT_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "webp": "image/webp",
    "pdf": "application/pdf",
}
DEFAULT_FORMATS = ("jpg", "png", "heic", "webp", "pdf")
#: a phone may finish uploading this long after the policy expired before we give up on it.
PENDING_GRACE = timedelta(minutes=30)


class UploadNotFound(NotFound):
    code = "storage.upload_not_found"
    message = "没有找到这个文件，可能已删除或已过期，请重新上传。"


class TypeNotAllowed(DomainError):
    status = 400
    code = "storage.type_not_allowed"
    message = "该材料不接受这种文件格式，请按办事指南要求上传。"


class TooLarge(DomainError):
    status = 400
    code = "storage.too_large"
    message = "文件过大，请压缩后重新上传。"


class TooManyFiles(Conflict):
    code = "storage.too_many_files"
    message = "该材料上传的文件数已达上限，请先删除不需要的文件。"


class NotUploaded(DomainError):
    status = 400
    code = "storage.not_uploaded"
    message = "文件还没有上传完成，请稍后再试或重新上传。"


class CompletionRunning(Conflict):
    code = "storage.completion_running"
    message = "文件正在处理中，请稍候。"

    def __init__(self) -> None:
        # Not a state conflict to reload over: the same call succeeds once the check is done.
        super().__init__(headers={"Retry-After": "1"})


@dataclass(frozen=True)
class Owner:
    """Whose file it is: a person (``user_id``), a company (``company_id``), or, for a staff
    attachment to a case, the staff member who added it (``staff_id``)."""

    user_id: int | None = None
    company_id: int | None = None
    staff_id: int | None = None

    @property
    def prefix(self) -> str:
        if self.staff_id is not None:
            return f"s{self.staff_id}"
        return f"c{self.company_id}" if self.company_id is not None else f"u{self.user_id}"

    @classmethod
    def of(cls, upload: Upload) -> Owner:
        if upload.owner_user_id is None and upload.company_id is None:
            return cls(staff_id=int(upload.uploaded_by.removeprefix("s:")))
        return cls(user_id=upload.owner_user_id, company_id=upload.company_id)


@dataclass(frozen=True)
class MaterialRule:
    """What the catalogue says of one material, as far as files go."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    max_files: int = 10
    watermark: bool = False
    item_name: str = ""


def _limit(settings: Settings, content_type: str) -> int:
    if content_type == "application/pdf":
        return settings.upload_max_pdf_bytes
    return settings.upload_max_photo_bytes


def upload_view(upload: Upload) -> dict[str, Any]:
    return {
        "id": upload.id,
        "status": upload.status,
        "purpose": upload.purpose,
        "item_code": upload.item_code,
        "material_code": upload.material_code,
        "case_id": upload.case_id,
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "width": upload.width,
        "height": upload.height,
        "pages": upload.pages,
        "created_at": upload.created_at.isoformat() if upload.created_at else None,
    }


#: Links issued lately, per worker and store: object key → (link, monotonic time it was signed).
_LINKS: weakref.WeakKeyDictionary[ObjectStore, dict[str, tuple[str, float]]] = (
    weakref.WeakKeyDictionary()
)
_LINKS_MAX = 20_000


def _link(store: ObjectStore, key: str, expires_s: int) -> str:
    """A presigned GET for ``key``, reused while it has most of its life left.

    Signing costs about a quarter of a millisecond (the SDK rebuilds the whole SigV4 chain), and a
    case detail with its photos and thumbnails signs several; a screen refreshed, or opened by
    the clerk after the reviewer, may hand out the link signed a moment earlier. A reused link
    has at least four fifths of its lifetime left. Whoever gets it was allowed to read the object
    by the caller; the link names the object, not the reader."""
    now = time.monotonic()
    issued = _LINKS.setdefault(store, {})
    cached = issued.get(key)
    if cached is not None and now - cached[1] < expires_s / 5:
        return cached[0]
    if len(issued) >= _LINKS_MAX:
        issued.clear()
    url = store.presign_get(key=key, expires_s=expires_s)
    issued[key] = (url, now)
    return url


def links(upload: Upload, *, store: ObjectStore, settings: Settings) -> dict[str, str | None]:
    """Short-lived links to the processed object and its thumbnail."""
    if upload.status != UploadStatus.ready.value or not upload.object_key:
        return {"url": None, "thumbnail_url": None}
    expires = settings.download_expires_s
    return {
        "url": _link(store, upload.object_key, expires),
        "thumbnail_url": _link(store, upload.thumbnail_key, expires)
        if upload.thumbnail_key
        else None,
    }


# --------------------------------------------------------------------------------------------
# Intent
# --------------------------------------------------------------------------------------------


async def create_intent(
    *,
    store: ObjectStore,
    settings: Settings,
    owner: Owner,
    uploaded_by: str,
    purpose: str,
    item_code: str | None,
    material_code: str | None,
    case_id: int | None,
    rule: MaterialRule,
    filename: str,
    content_type: str,
    size: int,
    now: datetime,
    replaces: Upload | None = None,
) -> dict[str, Any]:
    """A presigned POST policy for ``wx.uploadFile``, refused up front when it cannot succeed.

    ``replaces``: a live file of the same owner, material and case that the new one takes the
    place of once it is ready (a correction's new photo): it does not count against
    ``max_files`` meanwhile, and stays until then, so a failed upload loses nothing."""
    if replaces is not None and (
        replaces.status not in LIVE
        or Owner.of(replaces).prefix != owner.prefix
        or (replaces.item_code, replaces.material_code, replaces.case_id)
        != (item_code, material_code, case_id)
    ):
        raise ValidationFailed(
            [field_error("replaces", "要替换的文件不属于这项材料，请刷新后重试。", "mismatch")]
        )
    allowed = {FORMAT_TYPES[f] for f in rule.formats if f in FORMAT_TYPES}
    if content_type not in allowed:
        raise TypeNotAllowed(details={"allowed": sorted(allowed), "formats": list(rule.formats)})
    limit = _limit(settings, content_type)
    if size < 1:
        raise ValidationFailed([field_error("size", "文件是空的，请重新选择。", "empty")])
    if size > limit:
        raise TooLarge(details={"max_bytes": limit})
    upload_id = secrets.token_hex(12)
    key = f"incoming/{owner.prefix}/{upload_id}"
    policy = store.presign_post(
        UploadPolicy(
            key=key,
            content_type=content_type,
            min_size=1,
            max_size=limit,
            expires_s=settings.upload_expires_s,
        )
    )
    async with in_transaction() as conn:
        # Count and insert under one lock per (owner, item, material, case): twenty phones (or
        # taps) asking at once get exactly max_files intents between them, not twenty.
        await serialise(conn, f"upload|{owner.prefix}|{item_code}|{material_code}|{case_id}")
        taken = await live_file_count(
            user_id=owner.user_id,
            company_id=owner.company_id,
            staff_id=owner.staff_id,
            item_code=item_code,
            material_code=material_code,
            case_id=case_id,
        )
        if replaces is not None:
            # The file being replaced leaves when this one is ready; a second replacement of it
            # still pending counts (it is live), so the same file is not replaced twice at once.
            taken -= 1
        if taken >= rule.max_files:
            raise TooManyFiles(details={"max_files": rule.max_files})
        await Upload.create(
            using_db=conn,
            id=upload_id,
            replaces=replaces.id if replaces is not None else None,
            owner_user_id=owner.user_id
            if owner.company_id is None and owner.staff_id is None
            else None,
            company_id=owner.company_id,
            uploaded_by=uploaded_by,
            purpose=purpose,
            item_code=item_code,
            material_code=material_code,
            case_id=case_id,
            filename=filename[:200],
            claimed_content_type=content_type,
            claimed_size=size,
            max_size=limit,
            incoming_key=key,
        )
    expires_at = now + timedelta(seconds=settings.upload_expires_s)
    return {
        "upload_id": upload_id,
        "url": policy.url,
        "fields": policy.fields,
        "file_field": policy.file_field,
        "max_size": limit,
        "expires_at": expires_at.isoformat(),
    }


def _owner_q(owner: Owner) -> Q:
    if owner.staff_id is not None:
        return Q(uploaded_by=f"s:{owner.staff_id}", owner_user_id=None, company_id=None)
    if owner.company_id is not None:
        return Q(company_id=owner.company_id)
    return Q(owner_user_id=owner.user_id, company_id=None)


async def get_upload(*, upload_id: str) -> Upload:
    upload = await Upload.get_or_none(id=upload_id)
    if upload is None or upload.status == UploadStatus.deleted.value:
        raise UploadNotFound()
    return upload


# --------------------------------------------------------------------------------------------
# Completion
# --------------------------------------------------------------------------------------------


async def complete(
    *, store: ObjectStore, settings: Settings, upload: Upload, rule: MaterialRule, now: datetime
) -> dict[str, Any]:
    """Verify and normalise what the phone uploaded. A retry gets the same answer."""
    if upload.status == UploadStatus.ready.value:
        return upload_view(upload)
    if upload.status == UploadStatus.rejected.value:
        raise ProcessingError(upload.reject_code or "storage.type_not_allowed")
    claimed = await Upload.filter(id=upload.id, status=UploadStatus.pending.value).update(
        status=UploadStatus.processing.value
    )
    if not claimed:
        current = await get_upload(upload_id=upload.id)
        if current.status == UploadStatus.processing.value:
            raise CompletionRunning()
        return await complete(store=store, settings=settings, upload=current, rule=rule, now=now)
    try:
        return await _complete_claimed(
            store=store, settings=settings, upload=upload, rule=rule, now=now
        )
    except NotUploaded:
        await Upload.filter(id=upload.id, status=UploadStatus.processing.value).update(
            status=UploadStatus.pending.value
        )
        raise
    except ProcessingError as exc:
        if exc.status >= 500:
            # Our fault (e.g. no watermark font), not the file's: keep it for a retry.
            await Upload.filter(id=upload.id, status=UploadStatus.processing.value).update(
                status=UploadStatus.pending.value
            )
            raise
        await store.delete(upload.incoming_key)
        await Upload.filter(id=upload.id).update(
            status=UploadStatus.rejected.value, reject_code=exc.code
        )
        log.info("upload rejected", extra={"upload_id": upload.id, "reason": exc.code})
        raise
    except BaseException:
        # Anything unexpected: let the phone retry the completion later.
        await Upload.filter(id=upload.id, status=UploadStatus.processing.value).update(
            status=UploadStatus.pending.value
        )
        raise


async def _complete_claimed(
    *, store: ObjectStore, settings: Settings, upload: Upload, rule: MaterialRule, now: datetime
) -> dict[str, Any]:
    info = await store.stat(upload.incoming_key)
    if info is None:
        raise NotUploaded()
    if info.size == 0:
        raise ProcessingError("storage.empty_file")
    if info.size > upload.max_size:
        raise ProcessingError("storage.file_too_large")
    try:
        data = await store.read(upload.incoming_key, max_bytes=upload.max_size)
    except ObjectMissing:
        raise NotUploaded() from None
    except ObjectTooLarge:
        raise ProcessingError("storage.file_too_large") from None
    watermark = None
    if rule.watermark:
        watermark = watermark_text(rule.item_name, local_today(now))
    # Decoding and re-encoding a photo is CPU work: off the event loop.
    processed: Processed = await asyncio.to_thread(
        process,
        data,
        settings=settings,
        watermark_text=watermark,
        allowed=frozenset(FORMAT_TYPES[f] for f in rule.formats if f in FORMAT_TYPES),
        max_bytes=upload.max_size,
    )
    # The same file (and the same watermark) from the same owner is stored once.
    digest = hashlib.sha256(
        processed.sha256_original.encode() + (watermark or "").encode()
    ).hexdigest()
    owner = Owner.of(upload)
    extension = "pdf" if processed.content_type == "application/pdf" else "jpg"
    object_key = f"materials/{owner.prefix}/{digest}.{extension}"
    thumbnail_key = f"materials/{owner.prefix}/{digest}.thumb.jpg" if processed.thumbnail else None
    # Claim the shared object first: a concurrent deletion of another copy then sees this row
    # and keeps the object. Writing is unconditional (same key, same bytes), so an object
    # removed in the instant before the claim is written again.
    await Upload.filter(id=upload.id, status=UploadStatus.processing.value).update(
        object_key=object_key, thumbnail_key=thumbnail_key
    )
    await store.put(object_key, processed.data, content_type=processed.content_type)
    if thumbnail_key and processed.thumbnail:
        await store.put(thumbnail_key, processed.thumbnail, content_type="image/jpeg")
    await store.delete(upload.incoming_key)
    finished = await Upload.filter(id=upload.id, status=UploadStatus.processing.value).update(
        status=UploadStatus.ready.value,
        content_type=processed.content_type,
        size=len(processed.data),
        sha256=processed.sha256_original,
        width=processed.width,
        height=processed.height,
        pages=processed.pages,
        completed_at=now,
    )
    if not finished:
        # The owner deleted the upload while it was being processed: honour the deletion.
        gone = await Upload.get(id=upload.id)
        await _release_objects(store, gone)
        raise UploadNotFound()
    log.info("upload ready", extra={"upload_id": upload.id, "type": processed.content_type})
    return upload_view(await get_upload(upload_id=upload.id))


# --------------------------------------------------------------------------------------------
# Listing, deletion, attachment, clean-up
# --------------------------------------------------------------------------------------------


async def list_uploads(
    *, owner: Owner, item_code: str | None, material_code: str | None, limit: int
) -> list[Upload]:
    qs = Upload.filter(_owner_q(owner), status=UploadStatus.ready.value)
    if item_code:
        qs = qs.filter(item_code=item_code)
    if material_code:
        qs = qs.filter(material_code=material_code)
    return await qs.order_by("-created_at").limit(limit)


async def delete_upload(
    *, store: ObjectStore, upload: Upload, now: datetime, replacing: bool = False
) -> None:
    """The owner removes a file not yet part of a submitted case, or (``replacing``) one the
    department asked to have replaced in a correction notice."""
    if upload.attached_at is not None and not replacing:
        raise Conflict("该文件已随办件提交，不能删除。", code="storage.attached")
    moved = await Upload.filter(id=upload.id, status__not=UploadStatus.deleted.value).update(
        status=UploadStatus.deleted.value, deleted_at=now
    )
    if moved:
        await _release_objects(store, upload)


async def _release_objects(store: ObjectStore, upload: Upload) -> None:
    """Delete the upload's objects unless another live upload shares them (deduplication)."""
    await store.delete(upload.incoming_key)
    if (
        upload.object_key
        and not await Upload.filter(object_key=upload.object_key, status__in=LIVE)
        .exclude(id=upload.id)
        .exists()
    ):
        await store.delete(upload.object_key)
        if upload.thumbnail_key:
            await store.delete(upload.thumbnail_key)


async def delete_for_case(*, store: ObjectStore, case_id: int, now: datetime) -> int:
    """Deleting a draft deletes its files."""
    uploads = await Upload.filter(case_id=case_id, status__in=LIVE)
    for upload in uploads:
        await Upload.filter(id=upload.id).update(status=UploadStatus.deleted.value, deleted_at=now)
        await _release_objects(store, upload)
    return len(uploads)


async def attach(
    *, upload_ids: list[str], case_id: int, now: datetime, conn: BaseDBAsyncClient | None = None
) -> int:
    """Mark uploads as part of a case, so the clean-up job keeps them (in the caller's
    transaction ``conn``, with what else the arrival of the file means)."""
    return (
        await Upload.filter(id__in=upload_ids, status=UploadStatus.ready.value)
        .using_db(conn)
        .update(case_id=case_id, attached_at=now)
    )


async def cleanup(*, store: ObjectStore, settings: Settings, now: datetime) -> dict[str, int]:
    """Delete uploads never completed, completed ones never attached within the allowed hours,
    and incoming objects nobody knows about."""
    report = {"abandoned": 0, "unattached": 0, "stray_incoming": 0}
    stale_pending = now - timedelta(seconds=settings.upload_expires_s) - PENDING_GRACE
    orphan_before = now - timedelta(hours=settings.upload_orphan_hours)
    # A completion that died half-way (killed worker, deploy) leaves "processing" behind; one
    # that started before the policy expired has had the whole grace period to finish.
    abandoned = await Upload.filter(
        status__in=(
            UploadStatus.pending.value,
            UploadStatus.rejected.value,
            UploadStatus.processing.value,
        ),
        created_at__lt=stale_pending,
    )
    unattached = await Upload.filter(
        status=UploadStatus.ready.value,
        attached_at=None,
        case_id=None,  # a draft's files live as long as the draft
        created_at__lt=orphan_before,
    )
    for upload, label in [(u, "abandoned") for u in abandoned] + [
        (u, "unattached") for u in unattached
    ]:
        moved = await Upload.filter(id=upload.id, status=upload.status).update(
            status=UploadStatus.deleted.value, deleted_at=now
        )
        if moved:
            await _release_objects(store, upload)
            report[label] += 1
    # Only a file still to be completed needs its incoming object: a ready one has consumed it,
    # and a phone that posts its policy again after completion leaves an object nobody reads.
    waiting = (UploadStatus.pending.value, UploadStatus.processing.value)
    known = set(await Upload.filter(status__in=waiting).values_list("incoming_key", flat=True))
    async for info in store.list("incoming/"):
        if info.key not in known and info.last_modified < stale_pending:
            await store.delete(info.key)
            report["stray_incoming"] += 1
    if any(report.values()):
        log.info("upload clean-up", extra=report)
    return report


async def record_staff_read(*, upload: Upload, staff_id: int, request_id: str) -> None:
    await StaffRead.create(upload_id=upload.id, staff_id=staff_id, request_id=request_id)
    log.info("staff read upload", extra={"upload_id": upload.id, "staff_id": staff_id})
