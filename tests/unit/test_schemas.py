"""Catalogue shapes: the factory guide is valid, each cross-field rule is reported by
``consistency_errors`` on the field an editor must change (code and Chinese message),
``parse_guide`` raises them all, and ``core.validation.parse`` names each bad field with a
Chinese message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from catalog.schemas import CatalogFile, Fee, Guide, Material, consistency_errors, field_titles
from catalog.service import parse_guide
from core.errors import ValidationFailed
from core.validation import parse
from tests import factories


def guide(**overrides: Any) -> dict[str, Any]:
    return factories.guide(lead_department="D1", **overrides)


def refused_fields(parsing: Callable[[], object]) -> list[dict[str, Any]]:
    """The field errors of the 400 ``request.validation_failed`` that ``parsing()`` raises."""
    with pytest.raises(ValidationFailed) as caught:
        parsing()
    exc = caught.value
    assert exc.code == "request.validation_failed"
    assert exc.status == 400
    return exc.details["fields"]


def errors_of(model: type, data: Any) -> list[dict[str, Any]]:
    return refused_fields(lambda: parse(model, data))


def by_field(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["field"]: f for f in fields}


def rule_errors(prefix: str = "", **overrides: Any) -> list[dict[str, Any]]:
    """The cross-field errors of a guide that is valid shape-wise (the model must accept it)."""
    return consistency_errors(Guide.model_validate(guide(**overrides)), prefix)


def parse_guide_errors(data: Any, prefix: str = "") -> list[dict[str, Any]]:
    return refused_fields(lambda: parse_guide(data, prefix))


# --- valid data --------------------------------------------------------------------------------


def test_factory_guide_is_valid() -> None:
    data = guide()
    model = Guide.model_validate(data)
    assert model.code == data["code"]
    assert model.lead_department == "D1"
    assert len(model.materials) == 2
    assert [s.name for s in model.process_steps] == ["申请", "受理", "决定"]
    assert [s.role for s in model.review_steps] == ["reviewer", "approver"]
    assert consistency_errors(model) == []


def test_factory_guide_parses_through_core_validation() -> None:
    assert parse(Guide, guide()).lead_department == "D1"


def test_factory_catalog_file_is_valid() -> None:
    data = factories.catalog_file(
        departments=[factories.department(code="D1")],
        themes=[factories.theme()],
        items=[guide(), guide()],
    )
    parsed = CatalogFile.model_validate(data)
    assert len(parsed.items) == 2
    for item in parsed.items:
        assert consistency_errors(item) == []


def test_consistent_optional_features_are_accepted() -> None:
    data = guide(
        parallel_departments=["D2", "D3"],
        fee={"amount_fen": 1000, "basis": "《收费标准》"},
        online_payment=True,
        express_delivery=True,
        delivery_methods=["express", "window_pickup"],
        materials=[
            factories.material(requirement="conditional", condition="委托他人办理的"),
            factories.material(),
        ],
    )
    assert consistency_errors(Guide.model_validate(data)) == []
    assert consistency_errors(Guide.model_validate(data), "items[3].") == []
    assert parse_guide(data).parallel_departments == ["D2", "D3"]


def test_paid_item_on_site_needs_no_online_payment() -> None:
    assert (
        rule_errors(
            fee={"amount_fen": 500, "basis": "《收费标准》"},
            handling_mode="on_site",
            online_payment=False,
        )
        == []
    )


def test_equal_limits_are_accepted() -> None:
    assert rule_errors(statutory_limit_days=15, promised_limit_days=15) == []


def test_whitespace_is_stripped() -> None:
    assert Guide.model_validate(guide(name="  出生登记  ")).name == "出生登记"


# --- consistency_errors: one rule at a time ------------------------------------------------------

PAID = {"amount_fen": 100, "basis": "《收费标准》"}

#: Each cross-field rule: the overrides that break only it, and the one error it must give.
GUIDE_RULES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "promised-longer-than-statutory": (
        {"statutory_limit_days": 10, "promised_limit_days": 11},
        {
            "field": "promised_limit_days",
            "code": "exceeds_statutory",
            "message": "承诺办结时限不能长于法定办结时限。",
        },
    ),
    "duplicate-material-codes": (
        {"materials": [factories.material(code="m-1"), factories.material(code="m-1")]},
        {"field": "materials[1].code", "code": "duplicate", "message": "材料编码 m-1 重复。"},
    ),
    "conditional-material-without-condition": (
        {"materials": [factories.material(), factories.material(requirement="conditional")]},
        {
            "field": "materials[1].condition",
            "code": "missing",
            "message": "条件性材料必须说明适用情形。",
        },
    ),
    "conditional-material-with-blank-condition": (
        {"materials": [factories.material(requirement="conditional", condition="   ")]},
        {
            "field": "materials[0].condition",
            "code": "missing",
            "message": "条件性材料必须说明适用情形。",
        },
    ),
    "required-material-with-condition": (
        {"materials": [factories.material(requirement="required", condition="仅限外地户籍")]},
        {
            "field": "materials[0].condition",
            "code": "unexpected",
            "message": "必需材料不应填写适用情形。",
        },
    ),
    "paid-fee-without-basis": (
        {"fee": {"amount_fen": 100, "basis": ""}, "handling_mode": "on_site"},
        {"field": "fee.basis", "code": "missing", "message": "收费事项必须填写收费依据。"},
    ),
    "paid-fee-with-blank-basis": (
        {"fee": {"amount_fen": 1, "basis": "   "}, "handling_mode": "on_site"},
        {"field": "fee.basis", "code": "missing", "message": "收费事项必须填写收费依据。"},
    ),
    "lead-also-parallel": (
        {"parallel_departments": ["D2", "D1"]},
        {
            "field": "parallel_departments[1]",
            "code": "is_lead",
            "message": "牵头部门不应同时列为并联部门。",
        },
    ),
    "duplicate-parallel": (
        {"parallel_departments": ["D2", "D3", "D2"]},
        {"field": "parallel_departments[2]", "code": "duplicate", "message": "并联部门 D2 重复。"},
    ),
    "paid-fully-online-without-online-payment": (
        {"fee": PAID, "handling_mode": "fully_online", "online_payment": False},
        {
            "field": "online_payment",
            "code": "required",
            "message": "全程网办的收费事项必须支持网上缴费。",
        },
    ),
    "express-method-without-flag": (
        {"delivery_methods": ["express"], "express_delivery": False},
        {
            "field": "express_delivery",
            "code": "inconsistent",
            "message": "提供快递送达时此项必须为 true。",
        },
    ),
    "flag-without-express-method": (
        {"delivery_methods": ["window_pickup"], "express_delivery": True},
        {
            "field": "delivery_methods",
            "code": "inconsistent",
            "message": "支持快递送达时送达方式必须包含 express。",
        },
    ),
}


@pytest.mark.parametrize(("overrides", "expected"), GUIDE_RULES.values(), ids=GUIDE_RULES.keys())
def test_each_guide_rule_is_reported_on_its_field(
    overrides: dict[str, Any], expected: dict[str, str]
) -> None:
    # The models no longer carry the rule: the guide validates shape-wise…
    Guide.model_validate(guide(**overrides))
    parse(Guide, guide(**overrides))
    # …and the rule is reported on the field to change, with its own code and message.
    assert rule_errors(**overrides) == [expected]


@pytest.mark.parametrize(("overrides", "expected"), GUIDE_RULES.values(), ids=GUIDE_RULES.keys())
def test_each_guide_rule_message_is_a_chinese_sentence(
    overrides: dict[str, Any], expected: dict[str, str]
) -> None:
    message = expected["message"]
    assert message.endswith("。")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)


@pytest.mark.parametrize(("overrides", "expected"), GUIDE_RULES.values(), ids=GUIDE_RULES.keys())
def test_each_guide_rule_takes_the_prefix(
    overrides: dict[str, Any], expected: dict[str, str]
) -> None:
    assert rule_errors("items[3].", **overrides) == [
        {**expected, "field": "items[3]." + expected["field"]}
    ]


def test_free_item_needs_no_fee_basis_or_online_payment() -> None:
    assert rule_errors(fee={"amount_fen": 0, "basis": ""}, online_payment=False) == []


def test_several_broken_rules_give_several_separate_errors() -> None:
    errors = rule_errors(
        statutory_limit_days=20,
        promised_limit_days=30,
        materials=[
            factories.material(code="m-1"),
            factories.material(code="m-1", requirement="conditional"),
            factories.material(code="m-2", condition="仅限外地户籍"),
        ],
        fee={"amount_fen": 100, "basis": ""},
        handling_mode="fully_online",
        online_payment=False,
        parallel_departments=["D1", "D2", "D2"],
        delivery_methods=["express"],
        express_delivery=False,
    )
    assert errors == [
        {
            "field": "promised_limit_days",
            "code": "exceeds_statutory",
            "message": "承诺办结时限不能长于法定办结时限。",
        },
        {"field": "materials[1].code", "code": "duplicate", "message": "材料编码 m-1 重复。"},
        {
            "field": "materials[1].condition",
            "code": "missing",
            "message": "条件性材料必须说明适用情形。",
        },
        {
            "field": "materials[2].condition",
            "code": "unexpected",
            "message": "必需材料不应填写适用情形。",
        },
        {"field": "fee.basis", "code": "missing", "message": "收费事项必须填写收费依据。"},
        {
            "field": "parallel_departments[0]",
            "code": "is_lead",
            "message": "牵头部门不应同时列为并联部门。",
        },
        {"field": "parallel_departments[2]", "code": "duplicate", "message": "并联部门 D2 重复。"},
        {
            "field": "online_payment",
            "code": "required",
            "message": "全程网办的收费事项必须支持网上缴费。",
        },
        {
            "field": "express_delivery",
            "code": "inconsistent",
            "message": "提供快递送达时此项必须为 true。",
        },
    ]


def test_every_repeat_is_reported_on_its_own_index() -> None:
    errors = rule_errors(
        materials=[factories.material(code="m-1") for _ in range(3)],
        parallel_departments=["D1", "D1", "D2", "D2"],
    )
    assert [(e["field"], e["code"]) for e in errors] == [
        ("materials[1].code", "duplicate"),
        ("materials[2].code", "duplicate"),
        ("parallel_departments[0]", "is_lead"),
        ("parallel_departments[1]", "is_lead"),
        ("parallel_departments[3]", "duplicate"),
    ]


def test_both_delivery_directions_are_separate_rules() -> None:
    assert rule_errors(delivery_methods=["electronic"], express_delivery=True) == [
        {
            "field": "delivery_methods",
            "code": "inconsistent",
            "message": "支持快递送达时送达方式必须包含 express。",
        }
    ]
    assert rule_errors(delivery_methods=["express", "electronic"], express_delivery=True) == []


def test_prefix_is_applied_to_every_error() -> None:
    errors = rule_errors(
        "items[3].",
        promised_limit_days=30,
        statutory_limit_days=20,
        parallel_departments=["D1"],
        materials=[factories.material(requirement="conditional")],
    )
    assert errors == [
        {
            "field": "items[3].promised_limit_days",
            "code": "exceeds_statutory",
            "message": "承诺办结时限不能长于法定办结时限。",
        },
        {
            "field": "items[3].materials[0].condition",
            "code": "missing",
            "message": "条件性材料必须说明适用情形。",
        },
        {
            "field": "items[3].parallel_departments[0]",
            "code": "is_lead",
            "message": "牵头部门不应同时列为并联部门。",
        },
    ]


# --- catalog.service.parse_guide -----------------------------------------------------------------


def test_parse_guide_returns_a_consistent_guide() -> None:
    data = guide()
    parsed = parse_guide(data)
    assert isinstance(parsed, Guide)
    assert parsed.code == data["code"]


def test_parse_guide_raises_every_broken_rule() -> None:
    overrides: dict[str, Any] = {
        "promised_limit_days": 30,
        "statutory_limit_days": 20,
        "parallel_departments": ["D1", "D1"],
        "fee": {"amount_fen": 100, "basis": ""},
        "handling_mode": "on_site",
    }
    data = guide(**overrides)
    fields = parse_guide_errors(data)
    assert fields == consistency_errors(Guide.model_validate(data))
    assert [(f["field"], f["code"]) for f in fields] == [
        ("promised_limit_days", "exceeds_statutory"),
        ("fee.basis", "missing"),
        ("parallel_departments[0]", "is_lead"),
        ("parallel_departments[1]", "is_lead"),
    ]


def test_parse_guide_applies_the_prefix_to_rule_errors() -> None:
    data = guide(delivery_methods=["express"], express_delivery=False)
    assert parse_guide_errors(data, "items[0].") == [
        {
            "field": "items[0].express_delivery",
            "code": "inconsistent",
            "message": "提供快递送达时此项必须为 true。",
        }
    ]


def test_parse_guide_reports_shape_errors_before_the_rules() -> None:
    # A shape error stops there: the rules need a whole guide to be checked against.
    data = guide(promised_limit_days=30, statutory_limit_days=20, kind="bogus")
    fields = parse_guide_errors(data)
    assert [(f["field"], f["code"]) for f in fields] == [("kind", "enum")]


@pytest.mark.parametrize(("overrides", "expected"), GUIDE_RULES.values(), ids=GUIDE_RULES.keys())
def test_parse_guide_raises_each_rule(overrides: dict[str, Any], expected: dict[str, str]) -> None:
    assert parse_guide_errors(guide(**overrides)) == [expected]


# --- form_schema (still a field validator) -------------------------------------------------------


@pytest.mark.parametrize(
    ("form_schema", "message"),
    [
        ({"type": "objectx"}, "申请表单不是有效的 JSON Schema"),
        ({"type": "object", "properties": {"a": {"type": 5}}}, "申请表单不是有效的 JSON Schema"),
        ({"type": "array", "items": {"type": "string"}}, "申请表单的顶层类型必须为 object"),
        ({"properties": {}}, "申请表单的顶层类型必须为 object"),
    ],
)
def test_form_schema_must_be_an_object_json_schema(
    form_schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Guide.model_validate(guide(form_schema=form_schema))
    fields = by_field(errors_of(Guide, guide(form_schema=form_schema)))
    assert fields["form_schema"]["code"] == "value_error"
    assert fields["form_schema"]["message"].startswith(message)


def test_an_if_that_holds_on_an_empty_form_is_refused() -> None:
    """``if: {properties: {way: {const: 邮寄}}}`` holds when ``way`` is missing, so its ``then``
    makes the address required on an empty form: the importer asks for ``required`` in the
    ``if`` (found by the mini-program, on the demo catalogue)."""
    condition: dict[str, Any] = {"properties": {"way": {"const": "邮寄"}}}
    schema = {
        "type": "object",
        "properties": {"way": {"type": "string"}, "address": {"type": "string"}},
        "if": condition,
        "then": {"required": ["address"]},
    }
    with pytest.raises(ValidationError, match="way"):
        Guide.model_validate(guide(form_schema=schema))
    condition["required"] = ["way"]
    Guide.model_validate(guide(form_schema=schema))


def test_the_demo_catalogue_has_no_vacuous_condition() -> None:
    from pathlib import Path

    import yaml

    from catalog.schemas import vacuous_conditions

    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "catalog/data/demo_catalog.yaml").read_text()
    )
    assert [i["code"] for i in data["items"] if vacuous_conditions(i.get("form_schema"))] == []


# --- Material and Fee: shape only -----------------------------------------------------------------


@pytest.mark.parametrize("condition", [None, "", "   "])
def test_conditional_material_without_condition_is_valid_shape_wise(
    condition: str | None,
) -> None:
    data = factories.material(requirement="conditional", condition=condition)
    m = Material.model_validate(data)
    assert m.requirement.value == "conditional"
    assert not m.condition  # the rule is consistency_errors' (materials[i].condition/missing)


def test_required_material_with_condition_is_valid_shape_wise() -> None:
    data = factories.material(requirement="required", condition="仅限外地户籍")
    assert Material.model_validate(data).condition == "仅限外地户籍"


def test_material_defaults_are_valid() -> None:
    m = Material.model_validate({"code": "m-1", "name": "身份证"})
    assert m.requirement.value == "required"
    assert [f.value for f in m.formats] == ["jpg", "png", "pdf"]
    assert m.max_files == 1


def test_paid_fee_without_basis_is_valid_shape_wise() -> None:
    assert Fee.model_validate({"amount_fen": 1, "basis": ""}).basis == ""
    assert Fee.model_validate({"amount_fen": 1, "basis": "   "}).basis == ""


def test_free_fee_needs_no_basis() -> None:
    assert Fee.model_validate({"amount_fen": 0}).basis == ""
    assert Fee.model_validate({}).amount_fen == 0


def test_material_and_fee_rules_surface_inside_a_guide_on_their_fields() -> None:
    data = guide(
        materials=[factories.material(), factories.material(requirement="conditional")],
        fee={"amount_fen": 100, "basis": ""},
        handling_mode="on_site",
    )
    Guide.model_validate(data)  # no longer a shape error on materials[1] or fee
    assert parse_guide_errors(data) == [
        {
            "field": "materials[1].condition",
            "code": "missing",
            "message": "条件性材料必须说明适用情形。",
        },
        {"field": "fee.basis", "code": "missing", "message": "收费事项必须填写收费依据。"},
    ]


# --- core.validation.parse ---------------------------------------------------------------------


def test_parse_names_nested_fields_with_chinese_messages_and_pydantic_codes() -> None:
    data = guide()
    del data["name"]
    data["kind"] = "bogus"
    data["unexpected"] = 1
    data["enquiry_phone"] = "call me"
    data["statutory_limit_days"] = "twenty"
    data["promised_limit_days"] = 400
    data["legal_basis"] = []
    data["materials"][0]["condition"] = "x" * 201
    data["materials"][1]["formats"] = ["gif"]
    data["materials"][1]["max_files"] = 0
    data["process_steps"][2]["name"] = ""
    data["appointment"] = "maybe"

    fields = by_field(errors_of(Guide, data))
    expected = {
        "name": ("missing", "此项为必填项。"),
        "unexpected": ("extra_forbidden", "不认识的字段，请删除。"),
        "enquiry_phone": ("string_pattern_mismatch", "格式不正确。"),
        "statutory_limit_days": ("int_parsing", "应为整数。"),
        "promised_limit_days": ("less_than_equal", "不能大于 365。"),
        "legal_basis": ("too_short", "至少需要 1 项。"),
        "materials[0].condition": ("string_too_long", "最多 200 个字符。"),
        "materials[1].max_files": ("greater_than_equal", "不能小于 1。"),
        "process_steps[2].name": ("string_too_short", "至少需要 1 个字符。"),
        "appointment": ("bool_parsing", "应为是或否。"),
    }
    for path, (code, message) in expected.items():
        assert path in fields, (path, sorted(fields))
        assert fields[path]["code"] == code, path
        assert fields[path]["message"] == message, path

    assert fields["kind"]["code"] == "enum"
    assert fields["kind"]["message"].startswith("取值不在允许范围内，可选：")
    assert "administrative_licence" in fields["kind"]["message"]
    assert fields["materials[1].formats[0]"]["code"] == "enum"
    assert "pdf" in fields["materials[1].formats[0]"]["message"]


def test_parse_of_a_non_object_body() -> None:
    (field,) = errors_of(Guide, ["not", "an", "object"])
    assert field["field"] == "body"
    assert field["code"] == "model_type"
    assert field["message"] == "应为对象。"


def test_parse_wrong_types() -> None:
    data = guide(name=12, materials={"a": 1}, form_schema="{}", fee=[1])
    fields = by_field(errors_of(Guide, data))
    assert fields["name"] == {"field": "name", "code": "string_type", "message": "应为文字。"}
    assert fields["materials"]["code"] == "list_type"
    assert fields["materials"]["message"] == "应为列表。"
    assert fields["form_schema"]["code"] == "dict_type"
    assert fields["form_schema"]["message"] == "应为对象。"
    assert fields["fee"]["code"] == "model_type"


def test_every_message_is_chinese() -> None:
    data = guide(kind="x", audience="x", materials=[{"code": "!", "name": "a", "max_files": 99}])
    for field in errors_of(Guide, data):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in field["message"]), field


def test_field_titles_follow_nested_objects_arrays_and_branches() -> None:
    schema = {
        "type": "object",
        "properties": {
            "reason": {"type": "string", "title": "申请原因"},
            "untitled": {"type": "string"},
            "address": {
                "type": "object",
                "title": "地址",
                "properties": {"city": {"type": "string", "title": "城市"}},
            },
            "persons": {
                "type": "array",
                "title": "家庭成员",
                "items": {"type": "object", "properties": {"name": {"title": "姓名"}}},
            },
            "delivery": {"type": "string", "title": "领取方式"},
        },
        "allOf": [
            {
                "if": {"properties": {"delivery": {"const": "mail"}}, "required": ["delivery"]},
                "then": {"properties": {"mail_to": {"type": "string", "title": "邮寄地址"}}},
                "else": {"properties": {"reason": {"title": "另一个标题"}}},
            }
        ],
    }
    assert field_titles(schema) == {
        "reason": "申请原因",
        "address": "地址",
        "address.city": "城市",
        "persons": "家庭成员",
        "persons.*.name": "姓名",
        "delivery": "领取方式",
        "mail_to": "邮寄地址",
    }
    assert field_titles({"type": "object"}) == {} and field_titles("nonsense") == {}
