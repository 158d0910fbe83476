"""Catalogue use cases: search, guides, departments, themes, versions, import and export.

Published versions are immutable. Publishing is a compare-and-set (``draft`` → ``published``),
retires the previous published version for new cases only, refreshes the item's search
projection, and invalidates the guide and search caches after the transaction commits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError as PydanticValidationError
from tortoise.functions import Max
from tortoise.queryset import QuerySet

from catalog.models import Department, Item, ItemVersion, Theme, VersionStatus
from catalog.schemas import (
    Audience,
    CatalogFile,
    DepartmentIn,
    Guide,
    HandlingMode,
    ThemeCategory,
    ThemeIn,
    consistency_errors,
    has_control_characters,
)
from catalog.search import MAX_QUERY_CHARS, build_search_text, normalise
from core.cache import GenerationalCache
from core.db import in_transaction
from core.errors import Conflict, NotFound, ValidationFailed, field_error
from core.paging import Cursor, PageRequest
from core.validation import translate

#: The public catalogue's lists: the same for everyone, so bound to no one.
ITEMS_CURSOR = Cursor(list="items", scope="", fields={"after": "str"})
DEPARTMENTS_CURSOR = Cursor(list="departments", scope="", fields={"after": "str"})

log = logging.getLogger("zhangban.catalog")

CodedModel = TypeVar("CodedModel", Item, Department)

DEMO_CATALOG = Path(__file__).resolve().parent / "data" / "demo_catalog.yaml"


class ItemNotFound(NotFound):
    code = "catalog.item_not_found"
    message = "没有找到这个服务事项，可能已下线或编码有误。"


class DepartmentNotFound(NotFound):
    code = "catalog.department_not_found"
    message = "没有找到这个部门。"


class ThemeNotFound(NotFound):
    code = "catalog.theme_not_found"
    message = "没有找到这个主题。"


class VersionNotFound(NotFound):
    code = "catalog.version_not_found"
    message = "没有找到这个事项版本。"


class VersionNotDraft(Conflict):
    code = "catalog.version_not_draft"
    message = "只有草稿版本可以修改或发布，已发布的版本不能更改。"


class ImportInvalid(ValidationFailed):
    code = "catalog.import_invalid"
    message = "目录文件有错误，未导入任何内容。"


# --------------------------------------------------------------------------------------------
# Reading: search, guides, departments, themes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    query: str = ""
    department: str | None = None
    audience: Audience | None = None
    theme: str | None = None
    handling_mode: HandlingMode | None = None
    paid: bool | None = None

    def cache_key(self) -> str:
        return json.dumps(
            [
                self.query,
                self.department,
                self.audience.value if self.audience else None,
                self.theme,
                self.handling_mode.value if self.handling_mode else None,
                self.paid,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )


def normalise_query(raw: str) -> str:
    """The query as matched, or a ``ValidationFailed`` naming why it cannot be searched."""
    if len(raw) > MAX_QUERY_CHARS:
        raise ValidationFailed(
            [field_error("q", f"搜索词最多 {MAX_QUERY_CHARS} 个字。", "too_long")]
        )
    if has_control_characters(raw):
        raise ValidationFailed([field_error("q", "搜索词含有无法识别的字符。", "control_chars")])
    return normalise(raw)


async def _require_filters_exist(filters: SearchFilters) -> None:
    if filters.department and not await Department.exists(code=filters.department):
        raise DepartmentNotFound(details={"department": filters.department})
    if filters.theme and not await Theme.exists(code=filters.theme):
        raise ThemeNotFound(details={"theme": filters.theme})


def _summary(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "kind": item.kind,
        "audience": item.audience,
        "department": {"code": item.lead_department_code, "name": item.lead_department_name},
        "fee_fen": item.fee_fen,
        "promised_limit_days": item.promised_limit_days,
        "handling_mode": item.handling_mode,
        "express_delivery": item.express_delivery,
    }


async def search_items(*, filters: SearchFilters, page_request: PageRequest) -> dict[str, Any]:
    """One page of published items matching ``filters``, ordered by code (stable for cursors)."""
    await _require_filters_exist(filters)
    qs = Item.filter(is_published=True)
    if filters.query:
        qs = qs.filter(search_text__contains=filters.query)
    if filters.department:
        qs = qs.filter(department_codes__contains=f",{filters.department},")
    if filters.theme:
        qs = qs.filter(theme_codes__contains=f",{filters.theme},")
    if filters.audience is Audience.person:
        qs = qs.filter(audience__in=[Audience.person.value, Audience.both.value])
    elif filters.audience is Audience.company:
        qs = qs.filter(audience__in=[Audience.company.value, Audience.both.value])
    elif filters.audience is Audience.both:
        qs = qs.filter(audience=Audience.both.value)
    if filters.handling_mode:
        qs = qs.filter(handling_mode=filters.handling_mode.value)
    if filters.paid is True:
        qs = qs.filter(fee_fen__gt=0)
    elif filters.paid is False:
        qs = qs.filter(fee_fen=0)
    page, next_cursor = await _by_code(qs, ITEMS_CURSOR, page_request)
    return {"items": [_summary(item) for item in page], "next_cursor": next_cursor}


async def search_items_json(
    *,
    filters: SearchFilters,
    page_request: PageRequest,
    cache: GenerationalCache,
) -> bytes:
    """``search_items`` as cached JSON bytes, ready to send."""

    async def build() -> bytes:
        page = await search_items(filters=filters, page_request=page_request)
        return _dumps(page)

    key = f"search:{filters.cache_key()}:{page_request.cursor or ''}:{page_request.limit}"
    return await cache.get_or_build(key, build)


async def _by_code(
    qs: QuerySet[CodedModel], kind: Cursor, page_request: PageRequest
) -> tuple[list[CodedModel], str | None]:
    """A page of a catalogue list, ordered by code (stable for cursors)."""
    if position := page_request.position(kind):
        qs = qs.filter(code__gt=position["after"])
    rows = await qs.order_by("code").limit(page_request.limit + 1)
    return page_request.cut(rows, kind, lambda row: {"after": row.code})


def _department_dict(dept: Department) -> dict[str, Any]:
    return {
        "code": dept.code,
        "name": dept.name,
        "level": dept.level,
        "parent": dept.parent_code,
        "region_code": dept.region_code,
        "address": dept.address,
        "hours": dept.hours,
        "phone": dept.phone,
    }


async def get_guide(*, code: str) -> dict[str, Any]:
    """The whole current guide of a published item, with its departments spelt out."""
    version = await get_published_version(code=code)
    guide = dict(version.guide)
    typed = Guide.stored(guide)
    dept_codes = typed.department_codes
    depts = {d.code: d for d in await Department.filter(code__in=dept_codes)}
    theme_rows = await Theme.filter(code__in=typed.themes).values("code", "name")
    return {
        **guide,
        "version": version.number,
        "published_at": version.published_at.isoformat() if version.published_at else None,
        "departments": [
            {**_department_dict(depts[c]), "role": "lead" if i == 0 else "parallel"}
            for i, c in enumerate(dept_codes)
            if c in depts
        ],
        "themes": [{"code": t["code"], "name": t["name"]} for t in theme_rows],
    }


async def get_guide_json(*, code: str, cache: GenerationalCache) -> bytes:
    async def build() -> bytes:
        return _dumps(await get_guide(code=code))

    return await cache.get_or_build(f"guide:{code}", build)


async def get_published_version(*, code: str) -> ItemVersion:
    """The version new cases are filed under (used by the cases context)."""
    version = await ItemVersion.filter(
        item__code=code, status=VersionStatus.published.value
    ).first()
    if version is None:
        raise ItemNotFound(details={"code": code})
    return version


async def list_departments(
    *, level: str | None, parent: str | None, page_request: PageRequest
) -> dict[str, Any]:
    qs = Department.all()
    if level:
        qs = qs.filter(level=level)
    if parent:
        if not await Department.exists(code=parent):
            raise DepartmentNotFound(details={"department": parent})
        qs = qs.filter(parent_code=parent)
    page, next_cursor = await _by_code(qs, DEPARTMENTS_CURSOR, page_request)
    return {"departments": [_department_dict(d) for d in page], "next_cursor": next_cursor}


async def get_department(*, code: str) -> dict[str, Any]:
    dept = await Department.get_or_none(code=code)
    if dept is None:
        raise DepartmentNotFound(details={"department": code})
    return _department_dict(dept)


async def list_themes(*, category: ThemeCategory | None) -> dict[str, Any]:
    qs = Theme.all()
    if category:
        qs = qs.filter(category=category.value)
    rows = await qs.order_by("category", "id").values("code", "name", "category", "description")
    return {"themes": rows}


# --------------------------------------------------------------------------------------------
# Writing: versions and publishing
# --------------------------------------------------------------------------------------------


def parse_guide(data: Any, prefix: str = "") -> Guide:
    """A guide checked for shape and for the rules across its fields, every error at once."""
    try:
        guide = Guide.model_validate(data)
    except PydanticValidationError as exc:
        errors = translate(exc)
        for error in errors:
            error["field"] = f"{prefix}{error['field']}"
        raise ValidationFailed(errors) from None
    problems = consistency_errors(guide, prefix)
    if problems:
        raise ValidationFailed(problems)
    return guide


def _projection(guide: Guide, lead_name: str) -> dict[str, Any]:
    departments = guide.department_codes
    return {
        "name": guide.name,
        "kind": guide.kind.value,
        "audience": guide.audience.value,
        "handling_mode": guide.handling_mode.value,
        "fee_fen": guide.fee.amount_fen,
        "promised_limit_days": guide.promised_limit_days,
        "express_delivery": guide.express_delivery,
        "lead_department_code": guide.lead_department,
        "lead_department_name": lead_name,
        "department_codes": "," + ",".join(departments) + ",",
        "theme_codes": "," + ",".join(guide.themes) + "," if guide.themes else "",
        "search_text": build_search_text(guide.name, guide.keywords),
    }


def reference_errors(
    guide: Guide, *, prefix: str, departments: set[str], themes: set[str]
) -> list[dict[str, Any]]:
    """Each department and theme a guide names that is not among the known ones."""
    errors: list[dict[str, Any]] = []

    def missing(field: str, message: str, code: str) -> None:
        errors.append(field_error(f"{prefix}{field}", message, code))

    if guide.lead_department not in departments:
        missing("lead_department", f"部门 {guide.lead_department} 不存在。", "unknown_department")
    for position, code in enumerate(guide.parallel_departments):
        if code not in departments:
            missing(
                f"parallel_departments[{position}]", f"部门 {code} 不存在。", "unknown_department"
            )
    for position, code in enumerate(guide.themes):
        if code not in themes:
            missing(f"themes[{position}]", f"主题 {code} 不存在。", "unknown_theme")
    return errors


async def _codes(query: Any) -> set[str]:
    return {str(code) for code in await query.values_list("code", flat=True)}


async def _check_references(guide: Guide) -> list[dict[str, Any]]:
    """Departments and themes a guide names must exist."""
    dept_codes = guide.department_codes
    known = await _codes(Department.filter(code__in=dept_codes))
    known_themes = await _codes(Theme.filter(code__in=guide.themes))
    return reference_errors(guide, prefix="", departments=known, themes=known_themes)


async def create_draft(*, guide: dict[str, Any], actor: str) -> dict[str, Any]:
    """A new draft version of an item (a new item when the code is new)."""
    parsed = parse_guide(guide)
    problems = await _check_references(parsed)
    if problems:
        raise ValidationFailed(problems)
    async with in_transaction():
        item, _ = await Item.get_or_create(code=parsed.code)
        number = await _next_version_number(item)
        version = await ItemVersion.create(
            item=item, number=number, guide=parsed.model_dump(mode="json"), created_by=actor
        )
    return _version_dict(version, parsed.code)


async def update_draft(
    *, code: str, number: int, guide: dict[str, Any], actor: str
) -> dict[str, Any]:
    parsed = parse_guide(guide)
    if parsed.code != code:
        raise ValidationFailed([field_error("code", "事项编码不能修改。", "code_changed")])
    problems = await _check_references(parsed)
    if problems:
        raise ValidationFailed(problems)
    version = await _get_version(code, number)
    updated = await ItemVersion.filter(id=version.id, status=VersionStatus.draft.value).update(
        guide=parsed.model_dump(mode="json"), created_by=actor
    )
    if not updated:
        raise VersionNotDraft(details={"status": version.status})
    await version.refresh_from_db()
    return _version_dict(version, code)


async def publish(
    *, code: str, number: int, cache: GenerationalCache | None, now: datetime
) -> dict[str, Any]:
    """Publish a draft; the previous published version is retired for new cases only."""
    version = await _get_version(code, number)
    guide = parse_guide(version.guide)
    async with in_transaction():
        moved = await ItemVersion.filter(id=version.id, status=VersionStatus.draft.value).update(
            status=VersionStatus.published.value, published_at=now
        )
        if not moved:
            raise VersionNotDraft(details={"status": version.status})
        await (
            ItemVersion.filter(
                item_id=version.item_id,
                status=VersionStatus.published.value,
            )
            .exclude(id=version.id)
            .update(status=VersionStatus.retired.value, retired_at=now)
        )
        lead = await Department.get(code=guide.lead_department)
        await Item.filter(id=version.item_id).update(
            **_projection(guide, lead.name), published_version_id=version.id, is_published=True
        )
    if cache is not None:
        await cache.invalidate()
    log.info("item version published", extra={"item": code, "version": number})
    await version.refresh_from_db()
    return _version_dict(version, code)


async def retire(
    *, code: str, number: int, cache: GenerationalCache | None, now: datetime
) -> dict[str, Any]:
    """Withdraw a published version: the item leaves the catalogue for new cases."""
    version = await _get_version(code, number)
    async with in_transaction():
        moved = await ItemVersion.filter(
            id=version.id, status=VersionStatus.published.value
        ).update(status=VersionStatus.retired.value, retired_at=now)
        if not moved:
            raise Conflict(
                "只有已发布的版本可以下线。",
                code="catalog.version_not_published",
                details={"status": version.status},
            )
        await Item.filter(id=version.item_id, published_version_id=version.id).update(
            is_published=False, published_version_id=None
        )
    if cache is not None:
        await cache.invalidate()
    await version.refresh_from_db()
    return _version_dict(version, code)


async def item_exists(*, code: str) -> bool:
    return await Item.exists(code=code)


async def item_names(codes: list[str]) -> dict[str, str]:
    """The published names of these items (one query); a code without a published version is
    absent."""
    if not codes:
        return {}
    rows = await Item.filter(code__in=list(set(codes))).exclude(name="").values("code", "name")
    return {row["code"]: row["name"] for row in rows}


async def list_versions(*, code: str) -> dict[str, Any]:
    item = await Item.get_or_none(code=code)
    if item is None:
        raise ItemNotFound(details={"code": code})
    versions = await ItemVersion.filter(item=item).order_by("number")
    return {"versions": [_version_dict(v, code) for v in versions]}


async def _next_version_number(item: Item) -> int:
    row = await ItemVersion.filter(item=item).annotate(top=Max("number")).values("top")
    top = row[0]["top"] if row else None
    return int(top or 0) + 1


async def _get_version(code: str, number: int) -> ItemVersion:
    version = await ItemVersion.filter(item__code=code, number=number).first()
    if version is None:
        raise VersionNotFound(details={"code": code, "version": number})
    return version


def _version_dict(version: ItemVersion, code: str) -> dict[str, Any]:
    return {
        "code": code,
        "version": version.number,
        "status": version.status,
        "published_at": version.published_at.isoformat() if version.published_at else None,
        "retired_at": version.retired_at.isoformat() if version.retired_at else None,
        "guide": version.guide,
    }


# --------------------------------------------------------------------------------------------
# Import and export
# --------------------------------------------------------------------------------------------


def load_catalog_file(path: Path) -> Any:
    """Read a YAML or JSON catalogue file; unreadable files raise ``ImportInvalid``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportInvalid([field_error("file", f"无法读取文件：{exc}", "unreadable")]) from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ImportInvalid([field_error("file", f"文件格式错误：{exc}", "malformed")]) from None


def _label_errors(document: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the item code to every error under ``items[i]`` so an editor finds it quickly."""
    items = document.get("items") if isinstance(document, dict) else None
    for error in errors:
        field = error["field"]
        if field.startswith("items[") and isinstance(items, list):
            index = int(field[len("items[") : field.index("]")])
            if index < len(items) and isinstance(items[index], dict):
                error["item"] = items[index].get("code")
    return errors


_TOP_LEVEL = {"format_version", "departments", "themes", "items"}


def _parse_entries(
    document: dict[str, Any], label: str, model: Any, errors: list[dict[str, Any]]
) -> list[Any]:
    """Each entry of one list parsed on its own, so one bad entry hides no other error."""
    raw = document.get(label) or []
    if not isinstance(raw, list):
        errors.append(field_error(label, "应为列表。", "list_type"))
        return []
    parsed = []
    for index, entry in enumerate(raw):
        try:
            value = model.model_validate(entry)
        except PydanticValidationError as exc:
            errors.extend(translate(exc, prefix=(label, index)))
            continue
        if isinstance(value, Guide):
            problems = consistency_errors(value, f"{label}[{index}].")
            if problems:
                errors.extend(problems)
                continue
        parsed.append((index, value))
    return parsed


async def validate_catalog(document: Any) -> CatalogFile:
    """The whole document checked, with every error reported at once, before anything is written."""
    if not isinstance(document, dict):
        raise ImportInvalid([field_error("file", "文件顶层必须是对象。", "malformed")])
    errors: list[dict[str, Any]] = []
    for key in sorted(set(document) - _TOP_LEVEL):
        errors.append(field_error(key, "不认识的字段，请删除。", "extra_forbidden"))
    if document.get("format_version", 1) != 1:
        errors.append(field_error("format_version", "目前只支持格式版本 1。", "unsupported"))
    departments = _parse_entries(document, "departments", DepartmentIn, errors)
    themes = _parse_entries(document, "themes", ThemeIn, errors)
    items = _parse_entries(document, "items", Guide, errors)

    for label, entries in (("departments", departments), ("themes", themes), ("items", items)):
        seen: set[str] = set()
        for index, entry in entries:
            if entry.code in seen:
                errors.append(
                    field_error(f"{label}[{index}].code", f"编码 {entry.code} 重复。", "duplicate")
                )
            seen.add(entry.code)

    existing_depts = await _codes(Department.all())
    existing_themes = await _codes(Theme.all())
    all_depts = existing_depts | {d.code for _, d in departments}
    all_themes = existing_themes | {t.code for _, t in themes}
    for index, dept in departments:
        if dept.parent == dept.code:
            errors.append(
                field_error(f"departments[{index}].parent", "部门不能是自己的上级。", "cycle")
            )
        elif dept.parent and dept.parent not in all_depts:
            errors.append(
                field_error(
                    f"departments[{index}].parent",
                    f"上级部门 {dept.parent} 不存在。",
                    "unknown_department",
                )
            )
    for index, item in items:
        errors.extend(
            reference_errors(
                item, prefix=f"items[{index}].", departments=all_depts, themes=all_themes
            )
        )
    if errors:
        raise ImportInvalid(_label_errors(document, errors))
    return CatalogFile(
        format_version=1,
        departments=[d for _, d in departments],
        themes=[t for _, t in themes],
        items=[i for _, i in items],
    )


async def import_catalog(
    *,
    document: Any,
    publish_items: bool,
    actor: str,
    cache: GenerationalCache | None,
    now: datetime,
) -> dict[str, Any]:
    """Import a catalogue document: all or nothing. Unchanged items are left as they are."""
    parsed = await validate_catalog(document)
    report = {
        "departments": 0,
        "themes": 0,
        "items_created": 0,
        "versions_created": 0,
        "unchanged": 0,
        "published": 0,
    }
    async with in_transaction():
        for dept in parsed.departments:
            await _upsert_department(dept)
            report["departments"] += 1
        for theme in parsed.themes:
            await _upsert_theme(theme)
            report["themes"] += 1
        dept_names = dict(await Department.all().values_list("code", "name"))
        for dept in parsed.departments:
            # a renamed department must not linger in the search projection of unchanged items
            await Item.filter(lead_department_code=dept.code).update(lead_department_name=dept.name)
        for guide in parsed.items:
            body = guide.model_dump(mode="json")
            item, created = await Item.get_or_create(code=guide.code)
            report["items_created"] += int(created)
            latest = await ItemVersion.filter(item=item).order_by("-number").first()
            if (
                latest is not None
                and latest.guide == body
                and (latest.status == VersionStatus.published.value or not publish_items)
            ):
                report["unchanged"] += 1
                continue
            if latest is not None and latest.status == VersionStatus.draft.value:
                # The file supersedes an unpublished draft rather than stacking another one.
                await ItemVersion.filter(id=latest.id).update(guide=body, created_by=actor)
                version = latest
            else:
                version = await ItemVersion.create(
                    item=item,
                    number=(latest.number + 1 if latest else 1),
                    guide=body,
                    created_by=actor,
                )
                report["versions_created"] += 1
            if publish_items:
                await ItemVersion.filter(item=item, status=VersionStatus.published.value).update(
                    status=VersionStatus.retired.value, retired_at=now
                )
                await ItemVersion.filter(id=version.id).update(
                    status=VersionStatus.published.value, published_at=now
                )
                await Item.filter(id=item.id).update(
                    **_projection(guide, dept_names[guide.lead_department]),
                    published_version_id=version.id,
                    is_published=True,
                )
                report["published"] += 1
    if cache is not None:
        await cache.invalidate()
    log.info("catalogue imported", extra={"report": report})
    return report


async def _upsert_department(dept: DepartmentIn) -> None:
    values = dept.model_dump(mode="json")
    values["parent_code"] = values.pop("parent")
    code = values.pop("code")
    if not await Department.filter(code=code).update(**values):
        await Department.create(code=code, **values)


async def _upsert_theme(theme: ThemeIn) -> None:
    values = theme.model_dump(mode="json")
    code = values.pop("code")
    if not await Theme.filter(code=code).update(**values):
        await Theme.create(code=code, **values)


async def export_catalog() -> dict[str, Any]:
    """Every department, theme and currently published guide, in the import format."""
    departments = await Department.all().order_by("code")
    themes = await Theme.all().order_by("category", "id")
    versions = await ItemVersion.filter(status=VersionStatus.published.value).order_by("item__code")
    return {
        "format_version": 1,
        "departments": [_department_dict(d) for d in departments],
        "themes": [
            {"code": t.code, "name": t.name, "category": t.category, "description": t.description}
            for t in themes
        ],
        "items": [v.guide for v in versions],
    }


async def seed_demo(*, cache: GenerationalCache | None, now: datetime) -> dict[str, Any] | None:
    """Import the demo catalogue into an empty catalogue; do nothing when items exist."""
    if await Item.exists():
        return None
    document = load_catalog_file(DEMO_CATALOG)
    return await import_catalog(
        document=document, publish_items=True, actor="seed", cache=cache, now=now
    )


async def catalog_is_empty() -> bool:
    return not await Item.exists()


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()
