"""Uploads: one row per file a phone sends, from intent to a verified, normalised object."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class UploadStatus(StrEnum):
    pending = "pending"  # policy issued, the phone may be uploading
    processing = "processing"  # completion claimed by one request
    ready = "ready"  # verified and normalised under materials/
    rejected = "rejected"  # refused at completion; nothing kept
    deleted = "deleted"  # removed by its owner, with its draft, or by the clean-up job


class Upload(Model):
    id = fields.CharField(max_length=32, primary_key=True)
    #: whose file it is: a person, or a company (then ``uploaded_by`` is the agent).
    owner_user_id = fields.IntField(null=True)
    company_id = fields.IntField(null=True)
    uploaded_by = fields.CharField(max_length=32)  # "u:<id>" or "s:<id>"
    purpose = fields.CharField(max_length=32)  # material / staff_attachment
    item_code = fields.CharField(max_length=64, null=True)
    material_code = fields.CharField(max_length=64, null=True)
    case_id = fields.IntField(null=True, db_index=True)
    filename = fields.CharField(max_length=200)
    claimed_content_type = fields.CharField(max_length=100)
    claimed_size = fields.BigIntField()
    max_size = fields.BigIntField()
    incoming_key = fields.CharField(max_length=300, unique=True)
    status = fields.CharField(max_length=16, default=UploadStatus.pending.value, db_index=True)
    object_key = fields.CharField(max_length=300, null=True, db_index=True)
    thumbnail_key = fields.CharField(max_length=300, null=True)
    content_type = fields.CharField(max_length=100, null=True)
    size = fields.BigIntField(null=True)
    sha256 = fields.CharField(max_length=64, null=True)
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    pages = fields.IntField(null=True)
    reject_code = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    completed_at = fields.DatetimeField(null=True)
    attached_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    #: the upload this one replaces once it is ready (a correction's new photo of a material
    #: that takes one file): the old file stays until the new one is verified
    replaces = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "storage_upload"
        # A phone asks for an intent before every photo, and the intent counts the owner's live
        # files of that material: one index range of the owner's rows of that material, whatever
        # the table's statistics say. (With single-column indexes, a table whose statistics
        # predate its rows was counted by AND-ing the "company_id IS NULL" and "case_id IS
        # NULL" bitmaps: every row, 9 ms at 30,000 uploads.) They also serve the owner's list
        # and any lookup by owner or company alone, which had an index of their own before.
        indexes = (
            ("owner_user_id", "item_code", "material_code"),
            ("company_id", "item_code", "material_code"),
        )


class StaffRead(Model):
    """Every time a staff member opened an applicant's file."""

    id = fields.IntField(primary_key=True)
    upload_id = fields.CharField(max_length=32, db_index=True)
    staff_id = fields.IntField(db_index=True)
    request_id = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "storage_staff_read"
