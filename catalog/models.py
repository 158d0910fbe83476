"""Catalogue tables: departments, themes, items and their immutable published versions.

``Item`` is the stable identity (one code everywhere) plus a search projection of its current
published version, so that search and lists read one table. ``ItemVersion`` holds the whole
guide; once published it is never updated again (cases point at the exact version they were filed
under), only marked retired when a newer version is published.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


class Department(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=64)
    level = fields.CharField(max_length=16)
    parent_code = fields.CharField(max_length=64, null=True)
    region_code = fields.CharField(max_length=6)
    address = fields.CharField(max_length=200, default="")
    hours = fields.CharField(max_length=200, default="")
    phone = fields.CharField(max_length=32, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "catalog_department"


class Theme(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=32)
    category = fields.CharField(max_length=16)
    description = fields.CharField(max_length=200, default="")

    class Meta:
        table = "catalog_theme"


class Item(Model):
    """An item's identity and the search projection of its current published version."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=64, unique=True)
    # Projection of the published version (empty strings while only drafts exist).
    name = fields.CharField(max_length=100, default="")
    kind = fields.CharField(max_length=40, default="")
    audience = fields.CharField(max_length=16, default="")
    handling_mode = fields.CharField(max_length=32, default="")
    fee_fen = fields.BigIntField(default=0)
    promised_limit_days = fields.IntField(default=0)
    express_delivery = fields.BooleanField(default=False)
    lead_department_code = fields.CharField(max_length=64, default="")
    lead_department_name = fields.CharField(max_length=64, default="")
    #: every department taking part, as ",code1,code2," so one LIKE filter finds it.
    department_codes = fields.CharField(max_length=600, default="")
    #: every theme, as ",code1,code2,".
    theme_codes = fields.CharField(max_length=600, default="")
    #: lower-case name, keywords, full pinyin and initials, for LIKE search.
    search_text = fields.TextField(default="")
    #: id of the published ``ItemVersion``; a plain column, as a foreign key both ways would
    #: make the two tables impossible to create in order.
    published_version_id = fields.IntField(null=True)
    is_published = fields.BooleanField(default=False, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "catalog_item"


class ItemVersion(Model):
    id = fields.IntField(primary_key=True)
    item: fields.ForeignKeyRelation[Item] = fields.ForeignKeyField(
        "models.Item", related_name="versions", on_delete=fields.RESTRICT
    )
    item_id: int  # the column behind ``item``, declared for type checkers
    number = fields.IntField()
    status = fields.CharField(max_length=16, default=VersionStatus.draft.value, db_index=True)
    guide: dict[str, Any] = fields.JSONField()
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    published_at = fields.DatetimeField(null=True)
    retired_at = fields.DatetimeField(null=True)

    class Meta:
        table = "catalog_item_version"
        unique_together = (("item", "number"),)
