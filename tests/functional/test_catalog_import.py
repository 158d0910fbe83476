"""Catalogue import and export: every validation failure, all or nothing, versions, round trip.

The import file is validated as a whole before anything is written; each error names its field
(``items[0].materials[1].condition``), a stable ``code``, a Chinese ``message`` and, under
``items[i]``, the ``item`` code so an editor finds it in a long file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sanic import Sanic

from catalog import service as catalog
from catalog.models import Department, Item, ItemVersion, Theme
from core.clock import utcnow
from core.paging import PageRequest
from tests import factories

IMPORT_INVALID_MESSAGE = "目录文件有错误，未导入任何内容。"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class AnyOf:
    """Matches any of ``values``: for cross-field rules where more than one field is a fair name."""

    def __init__(self, *values: str) -> None:
        self.values = values

    def __eq__(self, other: object) -> bool:
        return other in self.values

    def __hash__(self) -> int:
        return hash(self.values)

    def __repr__(self) -> str:
        return f"AnyOf{self.values!r}"


class StartsWith:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(self.prefix)

    def __hash__(self) -> int:
        return hash(self.prefix)

    def __repr__(self) -> str:
        return f"StartsWith({self.prefix!r})"


class ChoiceMessage:
    """The Chinese "not one of the allowed values" message, listing every allowed value."""

    PREFIX = "取值不在允许范围内，可选："

    def __init__(self, *choices: str) -> None:
        self.choices = choices

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, str)
            and other.startswith(self.PREFIX)
            and all(f"'{choice}'" in other for choice in self.choices)
        )

    def __hash__(self) -> int:
        return hash(self.choices)

    def __repr__(self) -> str:
        return f"ChoiceMessage{self.choices!r}"


def err(field: Any, code: str, message: Any, **item: Any) -> dict[str, Any]:
    """One expected entry of ``details.fields``; pass ``item=`` for errors under ``items[i]``."""
    return {"field": field, "code": code, "message": message, **item}


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def counts() -> dict[str, int]:
    return {
        "items": await Item.all().count(),
        "versions": await ItemVersion.all().count(),
        "departments": await Department.all().count(),
        "themes": await Theme.all().count(),
    }


async def do_import(app: Sanic, document: Any, *, publish_items: bool = True) -> dict[str, Any]:
    return await catalog.import_catalog(
        document=document,
        publish_items=publish_items,
        actor="test",
        cache=app.ctx.catalog_cache,
        now=utcnow(),
    )


async def import_errors(app: Sanic, document: Any) -> list[dict[str, Any]]:
    """The error list of an import that must fail, after checking nothing was written."""
    before = await counts()
    exported = await catalog.export_catalog()
    with pytest.raises(catalog.ImportInvalid) as caught:
        await do_import(app, document)
    error = caught.value
    assert error.code == "catalog.import_invalid"
    assert error.status == 400
    assert error.message == IMPORT_INVALID_MESSAGE
    fields = error.details["fields"]
    assert fields, "an invalid import must name at least one error"
    for entry in fields:
        assert is_chinese(entry["message"]), entry
    assert await counts() == before
    assert await catalog.export_catalog() == exported
    # validate_catalog alone reports exactly the same errors
    with pytest.raises(catalog.ImportInvalid) as again:
        await catalog.validate_catalog(document)
    assert again.value.details["fields"] == fields
    return fields


async def empty_catalogue() -> None:
    await ItemVersion.all().delete()
    await Item.all().delete()
    await Department.all().delete()
    await Theme.all().delete()


async def statuses(code: str) -> list[tuple[int, str]]:
    versions = (await catalog.list_versions(code=code))["versions"]
    return [(v["version"], v["status"]) for v in versions]


# --------------------------------------------------------------------------------------------
# Every validation failure: each case builds a file with one mistake and the exact error list
# --------------------------------------------------------------------------------------------

Case = Callable[[], tuple[Any, list[dict[str, Any]]]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(build: Case) -> Case:
        CASES[name] = build
        return build

    return register


def one_item(**overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A file with one department and one item built with ``overrides``; returns (file, item)."""
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"], **overrides)
    return factories.catalog_file(departments=[dept], items=[item]), item


@case("missing_item_field")
def _() -> Any:
    doc, item = one_item()
    del doc["items"][0]["name"]
    return doc, [err("items[0].name", "missing", "此项为必填项。", item=item["code"])]


@case("missing_nested_item_field")
def _() -> Any:
    doc, item = one_item(result={})
    return doc, [err("items[0].result.name", "missing", "此项为必填项。", item=item["code"])]


@case("missing_department_field")
def _() -> Any:
    dept = factories.department()
    del dept["region_code"]
    doc = factories.catalog_file(departments=[dept])
    return doc, [err("departments[0].region_code", "missing", "此项为必填项。")]


@case("missing_theme_field")
def _() -> Any:
    theme = factories.theme()
    del theme["category"]
    doc = factories.catalog_file(themes=[theme])
    return doc, [err("themes[0].category", "missing", "此项为必填项。")]


@case("extra_item_field")
def _() -> Any:
    doc, item = one_item(price=100)
    return doc, [
        err("items[0].price", "extra_forbidden", "不认识的字段，请删除。", item=item["code"])
    ]


@case("extra_material_field")
def _() -> Any:
    doc, item = one_item(materials=[factories.material(), factories.material(colour="red")])
    return doc, [
        err(
            "items[0].materials[1].colour",
            "extra_forbidden",
            "不认识的字段，请删除。",
            item=item["code"],
        )
    ]


@case("extra_top_level_field")
def _() -> Any:
    doc = factories.catalog_file(departments=[factories.department()])
    doc["version"] = 1
    return doc, [err("version", "extra_forbidden", "不认识的字段，请删除。")]


@case("bad_enum_kind")
def _() -> Any:
    doc, item = one_item(kind="licence")
    return doc, [
        err(
            "items[0].kind",
            "enum",
            ChoiceMessage(
                "administrative_licence",
                "administrative_confirmation",
                "administrative_payment",
                "administrative_registration",
                "public_service",
                "other",
            ),
            item=item["code"],
        )
    ]


@case("bad_enum_audience")
def _() -> Any:
    doc, item = one_item(audience="everyone")
    return doc, [
        err(
            "items[0].audience",
            "enum",
            ChoiceMessage("person", "company", "both"),
            item=item["code"],
        )
    ]


@case("bad_enum_handling_mode")
def _() -> Any:
    doc, item = one_item(handling_mode="by_post")
    return doc, [
        err(
            "items[0].handling_mode",
            "enum",
            ChoiceMessage("fully_online", "online_then_pickup", "on_site"),
            item=item["code"],
        )
    ]


@case("bad_enum_department_level")
def _() -> Any:
    doc = factories.catalog_file(departments=[factories.department(level="galaxy")])
    return doc, [
        err(
            "departments[0].level",
            "enum",
            ChoiceMessage("province", "city", "county", "town", "village"),
        )
    ]


@case("bad_item_code_pattern")
def _() -> Any:
    doc, _item = one_item(code="事项 1")
    return doc, [err("items[0].code", "string_pattern_mismatch", "格式不正确。", item="事项 1")]


@case("bad_department_code_pattern")
def _() -> Any:
    doc = factories.catalog_file(departments=[factories.department(code="-dept")])
    return doc, [err("departments[0].code", "string_pattern_mismatch", "格式不正确。")]


@case("bad_material_code_pattern")
def _() -> Any:
    doc, item = one_item(materials=[factories.material(code="材料")])
    return doc, [
        err(
            "items[0].materials[0].code",
            "string_pattern_mismatch",
            "格式不正确。",
            item=item["code"],
        )
    ]


@case("promised_longer_than_statutory")
def _() -> Any:
    doc, item = one_item(statutory_limit_days=10, promised_limit_days=15)
    return doc, [
        err(
            "items[0].promised_limit_days",
            "exceeds_statutory",
            "承诺办结时限不能长于法定办结时限。",
            item=item["code"],
        )
    ]


@case("paid_fee_without_basis")
def _() -> Any:
    doc, item = one_item(fee={"amount_fen": 2000, "basis": ""}, online_payment=True)
    return doc, [
        err(
            "items[0].fee.basis",
            "missing",
            "收费事项必须填写收费依据。",
            item=item["code"],
        )
    ]


@case("conditional_material_without_condition")
def _() -> Any:
    doc, item = one_item(
        materials=[factories.material(), factories.material(requirement="conditional")]
    )
    return doc, [
        err(
            "items[0].materials[1].condition",
            "missing",
            "条件性材料必须说明适用情形。",
            item=item["code"],
        )
    ]


@case("required_material_with_condition")
def _() -> Any:
    doc, item = one_item(
        materials=[factories.material(), factories.material(condition="委托他人办理的")]
    )
    return doc, [
        err(
            "items[0].materials[1].condition",
            "unexpected",
            "必需材料不应填写适用情形。",
            item=item["code"],
        )
    ]


@case("duplicate_material_codes")
def _() -> Any:
    first = factories.material()
    doc, item = one_item(materials=[first, factories.material(code=first["code"])])
    return doc, [
        err(
            "items[0].materials[1].code",
            "duplicate",
            f"材料编码 {first['code']} 重复。",
            item=item["code"],
        )
    ]


@case("form_schema_not_json_schema")
def _() -> Any:
    doc, item = one_item(form_schema={"type": "object", "properties": {"a": {"type": "text"}}})
    return doc, [
        err(
            "items[0].form_schema",
            "value_error",
            StartsWith("申请表单不是有效的 JSON Schema："),
            item=item["code"],
        )
    ]


@case("form_schema_top_level_not_object")
def _() -> Any:
    doc, item = one_item(form_schema={"type": "array", "items": {"type": "string"}})
    return doc, [
        err(
            "items[0].form_schema",
            "value_error",
            "申请表单的顶层类型必须为 object",
            item=item["code"],
        )
    ]


@case("express_delivery_without_express_method")
def _() -> Any:
    doc, item = one_item(express_delivery=True, delivery_methods=["electronic"])
    return doc, [
        err(
            "items[0].delivery_methods",
            "inconsistent",
            "支持快递送达时送达方式必须包含 express。",
            item=item["code"],
        )
    ]


@case("express_method_without_express_delivery")
def _() -> Any:
    doc, item = one_item(express_delivery=False, delivery_methods=["express", "window_pickup"])
    return doc, [
        err(
            "items[0].express_delivery",
            "inconsistent",
            "提供快递送达时此项必须为 true。",
            item=item["code"],
        )
    ]


@case("fully_online_paid_without_online_payment")
def _() -> Any:
    doc, item = one_item(
        handling_mode="fully_online",
        online_payment=False,
        fee={"amount_fen": 1000, "basis": "发改价格〔2003〕2322号"},
    )
    return doc, [
        err(
            "items[0].online_payment",
            "required",
            "全程网办的收费事项必须支持网上缴费。",
            item=item["code"],
        )
    ]


@case("lead_department_also_parallel")
def _() -> Any:
    other = factories.department()
    dept = factories.department()
    item = factories.guide(
        lead_department=dept["code"], parallel_departments=[dept["code"], other["code"]]
    )
    doc = factories.catalog_file(departments=[dept, other], items=[item])
    return doc, [
        err(
            "items[0].parallel_departments[0]",
            "is_lead",
            "牵头部门不应同时列为并联部门。",
            item=item["code"],
        )
    ]


@case("unknown_lead_department")
def _() -> Any:
    item = factories.guide(lead_department="NOWHERE-1")
    doc = factories.catalog_file(departments=[factories.department()], items=[item])
    return doc, [
        err(
            "items[0].lead_department",
            "unknown_department",
            "部门 NOWHERE-1 不存在。",
            item=item["code"],
        )
    ]


@case("unknown_parallel_department")
def _() -> Any:
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"], parallel_departments=["NOWHERE-2"])
    doc = factories.catalog_file(departments=[dept], items=[item])
    return doc, [
        err(
            "items[0].parallel_departments[0]",
            "unknown_department",
            "部门 NOWHERE-2 不存在。",
            item=item["code"],
        )
    ]


@case("unknown_theme")
def _() -> Any:
    theme = factories.theme()
    doc, item = one_item(themes=[theme["code"], "no-such-theme"])
    doc["themes"] = [theme]
    return doc, [
        err(
            AnyOf("items[0].themes[0]", "items[0].themes[1]"),
            "unknown_theme",
            "主题 no-such-theme 不存在。",
            item=item["code"],
        )
    ]


@case("unknown_parent_department")
def _() -> Any:
    doc = factories.catalog_file(
        departments=[factories.department(), factories.department(parent="NO-PARENT")]
    )
    return doc, [err("departments[1].parent", "unknown_department", "上级部门 NO-PARENT 不存在。")]


@case("department_is_its_own_parent")
def _() -> Any:
    dept = factories.department()
    dept["parent"] = dept["code"]
    doc = factories.catalog_file(departments=[dept])
    return doc, [err("departments[0].parent", "cycle", "部门不能是自己的上级。")]


@case("duplicate_department_codes")
def _() -> Any:
    dept = factories.department()
    twin = factories.department(code=dept["code"])
    doc = factories.catalog_file(departments=[dept, factories.department(), twin])
    return doc, [err("departments[2].code", "duplicate", f"编码 {dept['code']} 重复。")]


@case("duplicate_theme_codes")
def _() -> Any:
    theme = factories.theme()
    doc = factories.catalog_file(themes=[theme, factories.theme(code=theme["code"])])
    return doc, [err("themes[1].code", "duplicate", f"编码 {theme['code']} 重复。")]


@case("duplicate_item_codes")
def _() -> Any:
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"])
    twin = factories.guide(lead_department=dept["code"], code=item["code"])
    doc = factories.catalog_file(departments=[dept], items=[item, twin])
    return doc, [
        err("items[1].code", "duplicate", f"编码 {item['code']} 重复。", item=item["code"])
    ]


@case("top_level_is_a_list")
def _() -> Any:
    return [factories.department()], [err("file", "malformed", "文件顶层必须是对象。")]


@case("top_level_is_a_string")
def _() -> Any:
    return "departments", [err("file", "malformed", "文件顶层必须是对象。")]


@case("empty_file")
def _() -> Any:
    return None, [err("file", "malformed", "文件顶层必须是对象。")]


@case("format_version_2")
def _() -> Any:
    doc = factories.catalog_file(departments=[factories.department()])
    doc["format_version"] = 2
    return doc, [err("format_version", "unsupported", "目前只支持格式版本 1。")]


@case("format_version_0")
def _() -> Any:
    doc = factories.catalog_file(departments=[factories.department()])
    doc["format_version"] = 0
    return doc, [err("format_version", "unsupported", "目前只支持格式版本 1。")]


@case("format_version_not_a_number")
def _() -> Any:
    doc = factories.catalog_file(departments=[factories.department()])
    doc["format_version"] = "one"
    return doc, [err("format_version", "unsupported", "目前只支持格式版本 1。")]


@pytest.mark.parametrize("name", list(CASES))
async def test_each_validation_failure_is_reported_precisely(clean: Sanic, name: str) -> None:
    document, expected = CASES[name]()
    assert await import_errors(clean, document) == expected


async def test_each_case_is_valid_once_its_mistake_is_removed(clean: Sanic) -> None:
    """The factories build valid data: each failure above comes from its one mistake only."""
    dept = factories.department()
    theme = factories.theme()
    other = factories.department(parent=dept["code"])
    item = factories.guide(
        lead_department=dept["code"],
        parallel_departments=[other["code"]],
        themes=[theme["code"]],
        materials=[
            factories.material(),
            factories.material(requirement="conditional", condition="委托他人办理的"),
        ],
        fee={"amount_fen": 1000, "basis": "发改价格〔2003〕2322号"},
        online_payment=True,
        express_delivery=True,
        delivery_methods=["express", "electronic"],
    )
    document = factories.catalog_file(departments=[dept, other], themes=[theme], items=[item])
    parsed = await catalog.validate_catalog(document)
    assert [i.code for i in parsed.items] == [item["code"]]


# --------------------------------------------------------------------------------------------
# Every error at once
# --------------------------------------------------------------------------------------------


async def test_three_broken_items_are_all_reported_with_their_codes(clean: Sanic) -> None:
    dept = factories.department()
    good = factories.guide(lead_department=dept["code"])
    no_name = factories.guide(lead_department=dept["code"])
    del no_name["name"]
    bad_kind = factories.guide(lead_department=dept["code"], kind="licence")
    bad_material = factories.guide(
        lead_department=dept["code"],
        materials=[factories.material(requirement="conditional", condition=None)],
        audience="aliens",
    )
    document = factories.catalog_file(
        departments=[dept], items=[good, no_name, bad_kind, bad_material]
    )
    errors = await import_errors(clean, document)
    assert [(e.get("item"), e["field"], e["code"]) for e in errors] == [
        (no_name["code"], "items[1].name", "missing"),
        (bad_kind["code"], "items[2].kind", "enum"),
        (bad_material["code"], "items[3].audience", "enum"),
    ]
    # rules across fields are checked once an item's shape is valid
    assert len(errors) == 3
    assert not any(e.get("item") == good["code"] for e in errors)


async def test_errors_in_departments_themes_and_items_are_reported_together(clean: Sanic) -> None:
    dept = factories.department(level="galaxy")
    theme = factories.theme(category="holiday")
    item = factories.guide(lead_department=dept["code"], statutory_limit_days=400)
    document = factories.catalog_file(departments=[dept], themes=[theme], items=[item])
    errors = await import_errors(clean, document)
    assert [(e["field"], e["code"]) for e in errors] == [
        ("departments[0].level", "enum"),
        ("themes[0].category", "enum"),
        ("items[0].statutory_limit_days", "less_than_equal"),
    ]
    assert errors[2]["message"] == "不能大于 365。"
    assert errors[2]["item"] == item["code"]


async def test_reference_errors_of_every_item_are_reported_together(clean: Sanic) -> None:
    dept = factories.department()
    first = factories.guide(lead_department="NOWHERE-A")
    second = factories.guide(lead_department=dept["code"], themes=["no-theme"])
    third = factories.guide(lead_department=dept["code"], parallel_departments=["NOWHERE-B"])
    orphan = factories.department(parent="NOWHERE-C")
    document = factories.catalog_file(
        departments=[dept, orphan], items=[first, second, third, second | {"code": first["code"]}]
    )
    errors = await import_errors(clean, document)
    assert errors == [
        err("items[3].code", "duplicate", f"编码 {first['code']} 重复。", item=first["code"]),
        err("departments[1].parent", "unknown_department", "上级部门 NOWHERE-C 不存在。"),
        err(
            "items[0].lead_department",
            "unknown_department",
            "部门 NOWHERE-A 不存在。",
            item=first["code"],
        ),
        err(
            AnyOf("items[1].themes[0]", "items[1].themes[1]"),
            "unknown_theme",
            "主题 no-theme 不存在。",
            item=second["code"],
        ),
        err(
            "items[2].parallel_departments[0]",
            "unknown_department",
            "部门 NOWHERE-B 不存在。",
            item=third["code"],
        ),
        err("items[3].themes[0]", "unknown_theme", "主题 no-theme 不存在。", item=first["code"]),
    ]


async def test_shape_errors_and_reference_errors_are_reported_at_once(clean: Sanic) -> None:
    """One pass must report every error: a bad enum in one item does not hide an unknown
    department in another (otherwise an editor fixes, re-runs and discovers more errors)."""
    dept = factories.department()
    bad_kind = factories.guide(lead_department=dept["code"], kind="licence")
    unknown_dept = factories.guide(lead_department="NOWHERE-X")
    document = factories.catalog_file(departments=[dept], items=[bad_kind, unknown_dept])
    errors = await import_errors(clean, document)
    assert {(e["field"], e["code"], e.get("item")) for e in errors} == {
        ("items[0].kind", "enum", bad_kind["code"]),
        ("items[1].lead_department", "unknown_department", unknown_dept["code"]),
    }


async def test_several_rule_violations_in_one_item_are_separate_errors(clean: Sanic) -> None:
    """Each broken rule names its own field, rather than one message for the whole item."""
    dept = factories.department()
    other = factories.department()
    item = factories.guide(
        lead_department=dept["code"],
        parallel_departments=[dept["code"], other["code"]],
        statutory_limit_days=5,
        promised_limit_days=6,
    )
    document = factories.catalog_file(departments=[dept, other], items=[item])
    errors = await import_errors(clean, document)
    assert len(errors) == 2, errors
    assert {e["message"] for e in errors} == {
        "承诺办结时限不能长于法定办结时限。",
        "牵头部门不应同时列为并联部门。",
    }
    assert all(e["field"] != "items[0]" for e in errors), errors


# --------------------------------------------------------------------------------------------
# All or nothing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mistake", ["unknown_department", "bad_enum"])
async def test_five_good_items_and_one_bad_write_nothing(clean: Sanic, mistake: str) -> None:
    # something already published, so "nothing written" also means "nothing changed"
    existing = factories.department()
    kept = factories.guide(lead_department=existing["code"])
    await do_import(clean, factories.catalog_file(departments=[existing], items=[kept]))
    before = await counts()
    assert before == {"items": 1, "versions": 1, "departments": 1, "themes": 0}
    exported = await catalog.export_catalog()

    dept = factories.department()
    theme = factories.theme()
    good = [factories.guide(lead_department=dept["code"], themes=[theme["code"]]) for _ in range(5)]
    changed_kept = kept | {"name": "已修改的事项名称"}
    bad = (
        factories.guide(lead_department="NOWHERE-9")
        if mistake == "unknown_department"
        else factories.guide(lead_department=dept["code"], handling_mode="by_pigeon")
    )
    document = factories.catalog_file(
        departments=[dept, existing | {"name": "改名后的部门"}],
        themes=[theme],
        items=[*good[:3], changed_kept, bad, *good[3:]],
    )
    errors = await import_errors(clean, document)
    assert [e["item"] for e in errors] == [bad["code"]]
    assert await counts() == before
    assert await catalog.export_catalog() == exported
    assert (await catalog.get_guide(code=kept["code"]))["name"] == kept["name"]


async def test_a_failure_while_writing_rolls_everything_back(
    clean: Sanic, monkeypatch: pytest.MonkeyPatch
) -> None:
    dept = factories.department()
    theme = factories.theme()
    document = factories.catalog_file(
        departments=[dept],
        themes=[theme],
        items=[factories.guide(lead_department=dept["code"], themes=[theme["code"]])],
    )

    async def broken(theme: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(catalog, "_upsert_theme", broken)
    with pytest.raises(RuntimeError):
        await do_import(clean, document)
    assert await counts() == {"items": 0, "versions": 0, "departments": 0, "themes": 0}


# --------------------------------------------------------------------------------------------
# Versions: idempotent re-import, new versions, drafts
# --------------------------------------------------------------------------------------------


def small_catalogue() -> dict[str, Any]:
    police = factories.department(level="province")
    civil = factories.department(parent=police["code"])
    birth = factories.theme()
    items = [
        factories.guide(lead_department=police["code"], themes=[birth["code"]]),
        factories.guide(lead_department=civil["code"], parallel_departments=[police["code"]]),
        factories.guide(
            lead_department=civil["code"],
            audience="company",
            fee={"amount_fen": 5000, "basis": "发改价格〔2003〕2322号"},
            online_payment=True,
        ),
    ]
    return factories.catalog_file(departments=[police, civil], themes=[birth], items=items)


async def test_first_import_reports_what_it_wrote(clean: Sanic) -> None:
    document = small_catalogue()
    report = await do_import(clean, document)
    assert report == {
        "departments": 2,
        "themes": 1,
        "items_created": 3,
        "versions_created": 3,
        "unchanged": 0,
        "published": 3,
    }
    assert await counts() == {"items": 3, "versions": 3, "departments": 2, "themes": 1}
    for item in document["items"]:
        assert await statuses(item["code"]) == [(1, "published")]
        assert (await catalog.get_guide(code=item["code"]))["name"] == item["name"]


async def test_reimporting_the_same_file_changes_nothing(clean: Sanic) -> None:
    document = small_catalogue()
    await do_import(clean, document)
    before = await counts()
    exported = await catalog.export_catalog()

    report = await do_import(clean, copy.deepcopy(document))
    assert report == {
        "departments": 2,
        "themes": 1,
        "items_created": 0,
        "versions_created": 0,
        "unchanged": 3,
        "published": 0,
    }
    assert await counts() == before
    assert await catalog.export_catalog() == exported
    for item in document["items"]:
        assert await statuses(item["code"]) == [(1, "published")]


async def test_a_changed_guide_becomes_version_2_and_retires_version_1(clean: Sanic) -> None:
    document = small_catalogue()
    await do_import(clean, document)
    target = document["items"][1]
    changed = copy.deepcopy(document)
    changed["items"][1]["name"] = "婚姻登记（结婚）"
    changed["items"][1]["promised_limit_days"] = 1

    report = await do_import(clean, changed)
    assert report == {
        "departments": 2,
        "themes": 1,
        "items_created": 0,
        "versions_created": 1,
        "unchanged": 2,
        "published": 1,
    }
    assert await statuses(target["code"]) == [(1, "retired"), (2, "published")]
    guide = await catalog.get_guide(code=target["code"])
    assert (guide["name"], guide["version"], guide["promised_limit_days"]) == (
        "婚姻登记（结婚）",
        2,
        1,
    )
    versions = (await catalog.list_versions(code=target["code"]))["versions"]
    assert versions[0]["guide"]["name"] == target["name"]  # the retired version is kept as it was
    assert versions[0]["retired_at"] is not None
    # the search projection follows the published version
    item = await Item.get(code=target["code"])
    assert (item.name, item.promised_limit_days, item.published_version_id) == (
        "婚姻登记（结婚）",
        1,
        (await ItemVersion.get(item=item, number=2)).id,
    )
    # the other items are untouched
    for other in (document["items"][0], document["items"][2]):
        assert await statuses(other["code"]) == [(1, "published")]


async def test_draft_import_leaves_the_published_guide_and_is_overwritten_not_stacked(
    clean: Sanic,
) -> None:
    document = small_catalogue()
    await do_import(clean, document)
    target = document["items"][0]
    published_export = await catalog.export_catalog()

    first_draft = copy.deepcopy(document)
    first_draft["items"][0]["name"] = "草稿名称一"
    report = await do_import(clean, first_draft, publish_items=False)
    assert (report["versions_created"], report["published"], report["unchanged"]) == (1, 0, 2)
    assert await statuses(target["code"]) == [(1, "published"), (2, "draft")]
    assert (await catalog.get_guide(code=target["code"]))["name"] == target["name"]
    assert (await Item.get(code=target["code"])).name == target["name"]
    assert await catalog.export_catalog() == published_export

    second_draft = copy.deepcopy(document)
    second_draft["items"][0]["name"] = "草稿名称二"
    report = await do_import(clean, second_draft, publish_items=False)
    assert (report["versions_created"], report["published"]) == (0, 0)
    assert await statuses(target["code"]) == [(1, "published"), (2, "draft")]
    versions = (await catalog.list_versions(code=target["code"]))["versions"]
    assert versions[1]["guide"]["name"] == "草稿名称二"
    assert (await catalog.get_guide(code=target["code"]))["name"] == target["name"]

    # the same draft again is unchanged
    report = await do_import(clean, copy.deepcopy(second_draft), publish_items=False)
    assert (report["versions_created"], report["unchanged"]) == (0, 3)

    # importing the same content with publishing publishes that draft, without a third version
    report = await do_import(clean, second_draft)
    assert (report["versions_created"], report["published"]) == (0, 1)
    assert await statuses(target["code"]) == [(1, "retired"), (2, "published")]
    assert (await catalog.get_guide(code=target["code"]))["name"] == "草稿名称二"


async def test_draft_import_of_a_new_item_publishes_nothing(clean: Sanic) -> None:
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"])
    report = await do_import(
        clean, factories.catalog_file(departments=[dept], items=[item]), publish_items=False
    )
    assert (report["items_created"], report["versions_created"], report["published"]) == (1, 1, 0)
    assert await statuses(item["code"]) == [(1, "draft")]
    with pytest.raises(catalog.ItemNotFound):
        await catalog.get_guide(code=item["code"])
    assert (await catalog.export_catalog())["items"] == []


async def test_items_may_refer_to_departments_and_themes_already_in_the_catalogue(
    clean: Sanic,
) -> None:
    dept = factories.department()
    theme = factories.theme()
    await do_import(clean, factories.catalog_file(departments=[dept], themes=[theme]))
    item = factories.guide(lead_department=dept["code"], themes=[theme["code"]])
    child = factories.department(parent=dept["code"])
    report = await do_import(clean, factories.catalog_file(departments=[child], items=[item]))
    assert (report["departments"], report["published"]) == (1, 1)
    assert (await catalog.get_guide(code=item["code"]))["themes"] == [
        {"code": theme["code"], "name": theme["name"]}
    ]


async def test_import_updates_departments_and_themes_in_place(clean: Sanic) -> None:
    dept = factories.department()
    theme = factories.theme()
    await do_import(clean, factories.catalog_file(departments=[dept], themes=[theme]))
    await do_import(
        clean,
        factories.catalog_file(
            departments=[dept | {"name": "改名后的部门", "phone": "0791-99990000"}],
            themes=[theme | {"name": "新主题名"}],
        ),
    )
    assert await counts() == {"items": 0, "versions": 0, "departments": 1, "themes": 1}
    one = await catalog.get_department(code=dept["code"])
    assert (one["name"], one["phone"]) == ("改名后的部门", "0791-99990000")
    assert (await Theme.get(code=theme["code"])).name == "新主题名"


# --------------------------------------------------------------------------------------------
# Export and round trip
# --------------------------------------------------------------------------------------------


async def test_export_is_in_the_import_format(clean: Sanic) -> None:
    document = small_catalogue()
    await do_import(clean, document)
    exported = await catalog.export_catalog()
    assert exported["format_version"] == 1
    assert set(exported) == {"format_version", "departments", "themes", "items"}
    assert sorted(d["code"] for d in exported["departments"]) == sorted(
        d["code"] for d in document["departments"]
    )
    assert {d["code"]: d["parent"] for d in exported["departments"]} == {
        d["code"]: d["parent"] for d in document["departments"]
    }
    assert sorted(i["code"] for i in exported["items"]) == sorted(
        i["code"] for i in document["items"]
    )
    await catalog.validate_catalog(exported)  # the export itself is a valid import file


@pytest.mark.parametrize("suffix", ["yaml", "json"])
async def test_export_then_import_on_an_empty_catalogue_round_trips(
    clean: Sanic, tmp_path: Path, suffix: str
) -> None:
    document = small_catalogue()
    # one item with a second published version and one with a pending draft
    await do_import(clean, document)
    changed = copy.deepcopy(document)
    changed["items"][0]["summary"] = "第二版"
    await do_import(clean, changed)
    drafted = copy.deepcopy(changed)
    drafted["items"][1]["name"] = "还没发布的名称"
    await do_import(clean, drafted, publish_items=False)
    first = await catalog.export_catalog()
    assert [i["name"] for i in first["items"] if i["code"] == document["items"][1]["code"]] == [
        document["items"][1]["name"]
    ]

    path = tmp_path / f"catalogue.{suffix}"
    if suffix == "json":
        path.write_text(json.dumps(first, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(first, allow_unicode=True, sort_keys=False), "utf-8")

    await empty_catalogue()
    assert await counts() == {"items": 0, "versions": 0, "departments": 0, "themes": 0}
    report = await do_import(clean, catalog.load_catalog_file(path))
    assert report["published"] == report["items_created"] == len(document["items"])
    assert await catalog.export_catalog() == first
    for item in first["items"]:
        guide = await catalog.get_guide(code=item["code"])
        assert guide["version"] == 1
        assert {k: guide[k] for k in item} | {"themes": item["themes"]} == item


# --------------------------------------------------------------------------------------------
# The shipped demo catalogue
# --------------------------------------------------------------------------------------------


async def test_demo_catalogue_validates(clean: Sanic) -> None:
    document = catalog.load_catalog_file(catalog.DEMO_CATALOG)
    assert document["format_version"] == 1
    parsed = await catalog.validate_catalog(document)
    assert len(parsed.items) >= 12


async def test_demo_catalogue_imports_and_covers_the_main_cases(clean: Sanic) -> None:
    report = await catalog.seed_demo(cache=clean.ctx.catalog_cache, now=utcnow())
    assert report is not None
    exported = await catalog.export_catalog()
    items = exported["items"]
    departments = exported["departments"]
    assert report["published"] == report["items_created"] == len(items) >= 12
    assert report["departments"] == len(departments) >= 5
    assert len({d["level"] for d in departments}) >= 3
    assert any(d["parent"] for d in departments)
    assert exported["themes"]
    assert any(i["parallel_departments"] for i in items), "a parallel (并联) item"
    assert any(i["min_realname_level"] == 2 for i in items), "an item needing face check"
    assert any(i["fee"]["amount_fen"] > 0 for i in items), "a paid item"
    assert any(i["fee"]["amount_fen"] == 0 for i in items), "a free item"
    audiences = {i["audience"] for i in items}
    assert "person" in audiences and "company" in audiences
    assert any(i["express_delivery"] for i in items), "an item delivered by express"
    assert any(m["requirement"] == "conditional" for i in items for m in i["materials"]), (
        "a conditional material"
    )
    assert await counts() == {
        "items": len(items),
        "versions": len(items),
        "departments": len(departments),
        "themes": len(exported["themes"]),
    }
    # every demo item can be read as a guide with its departments spelt out
    for item in items:
        guide = await catalog.get_guide(code=item["code"])
        assert guide["departments"][0]["role"] == "lead"
        assert len(guide["departments"]) == 1 + len(item["parallel_departments"])


async def test_seed_demo_twice_does_nothing_the_second_time(clean: Sanic) -> None:
    assert await catalog.seed_demo(cache=None, now=utcnow()) is not None
    before = await counts()
    exported = await catalog.export_catalog()
    assert await catalog.seed_demo(cache=None, now=utcnow()) is None
    assert await counts() == before
    assert await catalog.export_catalog() == exported


async def test_seed_demo_leaves_a_non_empty_catalogue_alone(clean: Sanic) -> None:
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"])
    await do_import(clean, factories.catalog_file(departments=[dept], items=[item]))
    assert not await catalog.catalog_is_empty()
    assert await catalog.seed_demo(cache=None, now=utcnow()) is None
    assert await counts() == {"items": 1, "versions": 1, "departments": 1, "themes": 0}


# --------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "content", "code", "prefix"),
    [
        ("broken.yaml", "departments: [\n  - code: A\n", "malformed", "文件格式错误："),
        ("tabs.yml", "items:\n\t- code: x\n", "malformed", "文件格式错误："),
        ("broken.json", '{"departments": [}', "malformed", "文件格式错误："),
        ("trailing.json", '{"format_version": 1,}', "malformed", "文件格式错误："),
        (
            "gbk.yaml",
            "departments:\n  - name: 测试市公安局\n".encode("gbk"),
            "unreadable",
            "无法读取文件：",
        ),
        ("latin1.json", b'{"name": "\xe9t\xe9"}', "unreadable", "无法读取文件："),
    ],
)
def test_unreadable_or_malformed_files_are_refused(
    tmp_path: Path, name: str, content: str | bytes, code: str, prefix: str
) -> None:
    path = write(tmp_path / name, content)
    with pytest.raises(catalog.ImportInvalid) as caught:
        catalog.load_catalog_file(path)
    error = caught.value
    assert error.code == "catalog.import_invalid"
    assert error.message == IMPORT_INVALID_MESSAGE
    fields = error.details["fields"]
    assert len(fields) == 1
    assert (fields[0]["field"], fields[0]["code"]) == ("file", code)
    assert fields[0]["message"].startswith(prefix)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(catalog.ImportInvalid) as caught:
        catalog.load_catalog_file(tmp_path / "no-such-file.yaml")
    [field] = caught.value.details["fields"]
    assert (field["field"], field["code"]) == ("file", "unreadable")
    assert field["message"].startswith("无法读取文件：")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(catalog.ImportInvalid) as caught:
        catalog.load_catalog_file(tmp_path)
    assert caught.value.details["fields"][0]["code"] == "unreadable"


async def test_yaml_and_json_files_both_import(clean: Sanic, tmp_path: Path) -> None:
    dept = factories.department()
    yaml_item = factories.guide(lead_department=dept["code"])
    json_item = factories.guide(lead_department=dept["code"])
    yaml_path = write(
        tmp_path / "a.yaml",
        yaml.safe_dump(
            factories.catalog_file(departments=[dept], items=[yaml_item]), allow_unicode=True
        ),
    )
    json_path = write(
        tmp_path / "b.JSON",
        json.dumps(factories.catalog_file(items=[json_item]), ensure_ascii=False),
    )
    await do_import(clean, catalog.load_catalog_file(yaml_path))
    await do_import(clean, catalog.load_catalog_file(json_path))
    assert {i["code"] for i in (await catalog.export_catalog())["items"]} == {
        yaml_item["code"],
        json_item["code"],
    }


async def test_a_yaml_file_with_a_validation_error_names_the_item(
    clean: Sanic, tmp_path: Path
) -> None:
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"], promised_limit_days=30)
    path = write(
        tmp_path / "c.yaml",
        yaml.safe_dump(
            factories.catalog_file(departments=[dept], items=[item]), allow_unicode=True
        ),
    )
    errors = await import_errors(clean, catalog.load_catalog_file(path))
    assert [(e["item"], e["message"]) for e in errors] == [
        (item["code"], "承诺办结时限不能长于法定办结时限。")
    ]


async def test_renaming_a_department_by_import_updates_search_results(clean: Sanic) -> None:
    """The search listing names the lead department; a renamed department must show there too,
    even though the item's own guide did not change."""
    dept = factories.department()
    item = factories.guide(lead_department=dept["code"])
    await do_import(clean, factories.catalog_file(departments=[dept], items=[item]))
    renamed = dept | {"name": "改名后的部门"}
    await do_import(clean, factories.catalog_file(departments=[renamed], items=[item]))
    assert (await catalog.get_guide(code=item["code"]))["departments"][0]["name"] == "改名后的部门"
    page = await catalog.search_items(
        filters=catalog.SearchFilters(),
        page_request=PageRequest(cursor=None, limit=10, secret="test-secret"),
    )
    assert [i["department"] for i in page["items"]] == [
        {"code": dept["code"], "name": "改名后的部门"}
    ]
