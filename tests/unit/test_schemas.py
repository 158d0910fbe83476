"""Catalogue shapes: the factory guide is valid, each cross-field rule refuses in Chinese, and
``core.validation.parse`` names each bad field with a Chinese message."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from catalog.schemas import CatalogFile, Fee, Guide, Material
from core.errors import ValidationFailed
from core.validation import parse
from tests import factories


def guide(**overrides: Any) -> dict[str, Any]:
    return factories.guide(lead_department="D1", **overrides)


def errors_of(model: type, data: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as caught:
        parse(model, data)
    exc = caught.value
    assert exc.code == "request.validation_failed"
    assert exc.status == 400
    return exc.details["fields"]


def by_field(fields: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["field"]: f for f in fields}


# --- valid data --------------------------------------------------------------------------------


def test_factory_guide_is_valid() -> None:
    data = guide()
    model = Guide.model_validate(data)
    assert model.code == data["code"]
    assert model.lead_department == "D1"
    assert len(model.materials) == 2
    assert [s.name for s in model.process_steps] == ["申请", "受理", "决定"]
    assert [s.role for s in model.review_steps] == ["reviewer", "approver"]


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
    Guide.model_validate(data)


def test_paid_item_on_site_needs_no_online_payment() -> None:
    data = guide(
        fee={"amount_fen": 500, "basis": "《收费标准》"},
        handling_mode="on_site",
        online_payment=False,
    )
    Guide.model_validate(data)


def test_whitespace_is_stripped() -> None:
    assert Guide.model_validate(guide(name="  出生登记  ")).name == "出生登记"


# --- Guide._consistent -------------------------------------------------------------------------


GUIDE_RULES: dict[str, tuple[dict[str, Any], str]] = {
    "promised-longer-than-statutory": (
        {"statutory_limit_days": 10, "promised_limit_days": 11},
        "承诺办结时限不能长于法定办结时限",
    ),
    "duplicate-material-codes": (
        {"materials": [factories.material(code="m-1"), factories.material(code="m-1")]},
        "材料编码重复",
    ),
    "lead-also-parallel": (
        {"parallel_departments": ["D2", "D1"]},
        "牵头部门不应同时列为并联部门",
    ),
    "duplicate-parallel": (
        {"parallel_departments": ["D2", "D2"]},
        "并联部门重复",
    ),
    "paid-fully-online-without-online-payment": (
        {
            "fee": {"amount_fen": 100, "basis": "《收费标准》"},
            "handling_mode": "fully_online",
            "online_payment": False,
        },
        "全程网办的收费事项必须支持网上缴费",
    ),
    "express-method-without-flag": (
        {"delivery_methods": ["express"], "express_delivery": False},
        "提供快递送达时 express_delivery 必须为 true",
    ),
    "flag-without-express-method": (
        {"delivery_methods": ["window_pickup"], "express_delivery": True},
        "express_delivery 为 true 时送达方式必须包含 express",
    ),
}


@pytest.mark.parametrize(("overrides", "message"), GUIDE_RULES.values(), ids=GUIDE_RULES.keys())
def test_each_guide_rule_refuses_with_its_chinese_message(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Guide.model_validate(guide(**overrides))
    (error,) = caught.value.errors()
    assert error["type"] == "value_error"
    assert message in error["msg"]

    (field,) = errors_of(Guide, guide(**overrides))
    assert field == {"field": "body", "code": "value_error", "message": message}


def test_several_guide_problems_are_reported_together() -> None:
    data = guide(promised_limit_days=30, statutory_limit_days=20, parallel_departments=["D1", "D1"])
    (field,) = errors_of(Guide, data)
    assert field["message"] == (
        "承诺办结时限不能长于法定办结时限；牵头部门不应同时列为并联部门；并联部门重复"
    )


def test_equal_limits_are_accepted() -> None:
    Guide.model_validate(guide(statutory_limit_days=15, promised_limit_days=15))


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


# --- Material and Fee --------------------------------------------------------------------------


@pytest.mark.parametrize("condition", [None, "", "   "])
def test_conditional_material_needs_a_condition(condition: str | None) -> None:
    data = factories.material(requirement="conditional", condition=condition)
    with pytest.raises(ValidationError, match="条件性材料必须说明适用情形"):
        Material.model_validate(data)


def test_required_material_must_not_have_a_condition() -> None:
    data = factories.material(requirement="required", condition="仅限外地户籍")
    with pytest.raises(ValidationError, match="必需材料不应填写适用情形"):
        Material.model_validate(data)


def test_material_defaults_are_valid() -> None:
    m = Material.model_validate({"code": "m-1", "name": "身份证"})
    assert m.requirement.value == "required"
    assert [f.value for f in m.formats] == ["jpg", "png", "pdf"]
    assert m.max_files == 1


def test_paid_fee_needs_a_basis() -> None:
    with pytest.raises(ValidationError, match="收费事项必须填写收费依据"):
        Fee.model_validate({"amount_fen": 1, "basis": ""})
    with pytest.raises(ValidationError, match="收费事项必须填写收费依据"):
        Fee.model_validate({"amount_fen": 1, "basis": "   "})


def test_free_fee_needs_no_basis() -> None:
    assert Fee.model_validate({"amount_fen": 0}).basis == ""
    assert Fee.model_validate({}).amount_fen == 0


def test_material_and_fee_rules_surface_inside_a_guide() -> None:
    data = guide(
        materials=[factories.material(), factories.material(requirement="conditional")],
        fee={"amount_fen": 100, "basis": ""},
        handling_mode="on_site",
    )
    fields = by_field(errors_of(Guide, data))
    assert fields["materials[1]"] == {
        "field": "materials[1]",
        "code": "value_error",
        "message": "条件性材料必须说明适用情形 (condition)",
    }
    assert fields["fee"]["message"] == "收费事项必须填写收费依据 (basis)"
    assert set(fields) == {"materials[1]", "fee"}


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
