"""Shapes of the catalogue: the import/export file format and the published guide (办事指南).

The import file and the admin API validate through these same models, so a guide that can be
imported can be published and the other way round. Field names are the public API contract.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from catalog.forms import (
    KINDS,
    MARK,
    Path,
    bad_marks,
    personal_paths,
    unmarked_identifiers,
)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$"
PHONE_PATTERN = r"^[0-9+() -]{5,32}$"

#: The validation context of a guide read back from the database (``Guide.stored``).
STORED: dict[str, bool] = {"stored": True}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AdminLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    town = "town"
    village = "village"


class Audience(StrEnum):
    person = "person"
    company = "company"
    both = "both"


class ItemKind(StrEnum):
    administrative_licence = "administrative_licence"  # 行政许可
    administrative_confirmation = "administrative_confirmation"  # 行政确认
    administrative_payment = "administrative_payment"  # 行政给付
    administrative_registration = "administrative_registration"  # 行政登记 (other powers)
    public_service = "public_service"  # 公共服务
    other = "other"


class HandlingMode(StrEnum):
    fully_online = "fully_online"  # 全程网办
    online_then_pickup = "online_then_pickup"  # 网上申请、窗口领取
    on_site = "on_site"  # 到现场办理


class DeliveryMethod(StrEnum):
    window_pickup = "window_pickup"
    express = "express"
    electronic = "electronic"


class ThemeCategory(StrEnum):
    life_event = "life_event"  # 个人生命周期
    business_event = "business_event"  # 企业生命周期
    special_group = "special_group"  # 特殊群体


class Requirement(StrEnum):
    required = "required"
    conditional = "conditional"


class MaterialForm(StrEnum):
    original = "original"
    copy = "copy"
    original_and_copy = "original_and_copy"


class FileFormat(StrEnum):
    jpg = "jpg"
    png = "png"
    heic = "heic"
    webp = "webp"
    pdf = "pdf"


class DepartmentIn(Strict):
    """A department (实施机构) as imported."""

    code: str = Field(pattern=CODE_PATTERN, description="unique department code")
    name: str = Field(min_length=2, max_length=64)
    level: AdminLevel
    parent: str | None = Field(None, description="code of the parent department, if any")
    region_code: str = Field(pattern=r"^\d{6}$", description="GB/T 2260 region code")
    address: str = Field("", max_length=200)
    hours: str = Field("", max_length=200, description="office hours as published")
    phone: str = Field("", max_length=32)


class ThemeIn(Strict):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=32)
    category: ThemeCategory
    description: str = Field("", max_length=200)


class Material(Strict):
    """One required or conditional document (申请材料)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=2, max_length=100)
    requirement: Requirement = Requirement.required
    condition: str | None = Field(
        None, max_length=200, description="when a conditional material is needed, in Chinese"
    )
    when: dict[str, str | int | bool] | None = Field(
        None,
        description="a conditional material is required when every named form field has the "
        "given value; without it the applicant decides whether it applies",
    )
    formats: list[FileFormat] = Field(
        default_factory=lambda: [FileFormat.jpg, FileFormat.png, FileFormat.pdf], min_length=1
    )
    max_files: int = Field(1, ge=1, le=20)
    form: MaterialForm = MaterialForm.original
    elicence_accepted: bool = Field(False, description="an e-licence may stand in for it")
    watermark: bool = Field(False, description="stamp '仅供办理…使用' across uploaded photos")
    notes: str = Field("", max_length=500)
    sample_url: str | None = Field(None, max_length=300)


#: The most units one fee may count (copies of a certificate, pages…): a bound on what a form
#: field can multiply a fee by.
MAX_FEE_UNITS = 1000


class Fee(Strict):
    amount_fen: int = Field(
        0,
        ge=0,
        le=10_000_000_000,
        description="integer fen; 0 = free; per unit when unit_field is set",
    )
    basis: str = Field("", max_length=500, description="legal basis of the fee")
    description: str = Field("", max_length=300)
    unit_field: str | None = Field(
        None,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="an integer property of the form holding the number of units (e.g. copies): "
        "the fee is amount_fen times that number",
    )
    unit: str = Field("", max_length=8, description="what a unit is called on the fee notice (份)")
    payment_working_days: int = Field(
        15, ge=1, le=60, description="working days the applicant has to pay once the fee is due"
    )


class ResultInfo(Strict):
    name: str = Field(min_length=2, max_length=100, description="name of the result document")
    sample_url: str | None = Field(None, max_length=300)


class ProcessStep(Strict):
    name: str = Field(min_length=1, max_length=50)
    description: str = Field("", max_length=300)


class ReviewStep(Strict):
    """A department's examination step; parallel items list one per department."""

    name: str = Field(min_length=1, max_length=50)
    role: str = Field("reviewer", pattern=r"^(reviewer|approver)$")


#: A department or theme code, as the lists of a guide name them.
CatalogCode = Annotated[str, Field(pattern=CODE_PATTERN)]
#: One legal basis (a law and its articles) and one search word.
Basis = Annotated[str, Field(min_length=2, max_length=300)]
Keyword = Annotated[str, Field(min_length=1, max_length=30)]


class Guide(Strict):
    """The whole published guide of one item version (办事指南)."""

    code: str = Field(pattern=CODE_PATTERN, description="one code per item everywhere")
    name: str = Field(min_length=2, max_length=100)
    kind: ItemKind
    legal_basis: list[Basis] = Field(min_length=1, max_length=30)
    lead_department: str = Field(pattern=CODE_PATTERN)
    parallel_departments: list[CatalogCode] = Field(
        default_factory=list,
        max_length=20,
        description="other departments in parallel approval (并联审批)",
    )
    audience: Audience
    statutory_limit_days: int = Field(ge=0, le=365, description="法定办结时限, working days")
    promised_limit_days: int = Field(ge=0, le=365, description="承诺办结时限, working days")
    result: ResultInfo
    fee: Fee = Field(default_factory=Fee)
    materials: list[Material] = Field(default_factory=list, max_length=50)
    form_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema the application form is validated against",
    )
    process_steps: list[ProcessStep] = Field(min_length=1, max_length=20)
    review_steps: list[ReviewStep] = Field(
        default_factory=lambda: [ReviewStep(name="审查"), ReviewStep(name="决定", role="approver")]
    )
    handling_mode: HandlingMode
    min_realname_level: int = Field(1, ge=0, le=2, description="0 WeChat, 1 ID checked, 2 face")
    appointment: bool = False
    online_payment: bool = False
    express_delivery: bool = False
    delivery_methods: list[DeliveryMethod] = Field(min_length=1)
    handling_place: str = Field("", max_length=200)
    handling_hours: str = Field("", max_length=200)
    enquiry_phone: str = Field(pattern=PHONE_PATTERN)
    complaint_phone: str = Field(pattern=PHONE_PATTERN)
    themes: list[CatalogCode] = Field(default_factory=list, max_length=20)
    keywords: list[Keyword] = Field(
        default_factory=list, max_length=30, description="extra search words"
    )
    summary: str = Field("", max_length=500)

    @classmethod
    def stored(cls, data: dict[str, Any]) -> Guide:
        """A guide as a version holds it: its shape is read, the policy it was written under is
        not asked again (``_form_schema_is_json_schema``)."""
        return cls.model_validate(data, context=STORED)

    @cached_property
    def personal_paths(self) -> dict[Path, str]:
        """Where the form holds personal identifiers, and of which kind (``x-personal``)."""
        return personal_paths(self.form_schema)

    @cached_property
    def field_titles(self) -> dict[str, str]:
        """The form's field titles by path (``a.b``; ``*`` for an array's index), from every
        branch of the schema (``then``, ``allOf``…): a case's details name its fields as the
        version it was filed under did."""
        return field_titles(self.form_schema)

    @property
    def department_codes(self) -> list[str]:
        """The lead department first, then the parallel ones (并联审批)."""
        return [self.lead_department, *self.parallel_departments]

    def material(self, code: str) -> Material | None:
        return next((m for m in self.materials if m.code == code), None)

    @field_validator("form_schema")
    @classmethod
    def _form_schema_is_json_schema(
        cls, value: dict[str, Any], info: ValidationInfo
    ) -> dict[str, Any]:
        if info.context is STORED:
            # Checked when the version was written. A stored version is never judged again by
            # rules added since: cases filed under it must stay readable.
            return value
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"申请表单不是有效的 JSON Schema：{exc.message}") from exc
        if value.get("type") != "object":
            raise ValueError("申请表单的顶层类型必须为 object")
        unmarked = unmarked_identifiers(value)
        if unmarked:
            raise ValueError(
                "申请表单中以下字段像是身份证号码或电话号码，请标注 "
                f'"{MARK}": "id_number" 或 "phone"，以便加密保存、脱敏显示：' + "、".join(unmarked)
            )
        wrong = bad_marks(value)
        if wrong:
            kinds = "、".join(sorted(KINDS))
            raise ValueError(f'"{MARK}" 只能取 {kinds}，以下字段有误：' + "、".join(wrong))
        vacuous = vacuous_conditions(value)
        if vacuous:
            raise ValueError(
                '申请表单的条件（"if"）在以下字段未填写时也会成立，其"then"中的必填项会误报为'
                '必填：请在"if"中加上 "required": [字段名]：' + "、".join(vacuous)
            )
        return value


def field_titles(schema: Any, prefix: str = "") -> dict[str, str]:
    """See ``Guide.field_titles``. The first title found for a path holds."""
    found: dict[str, str] = {}
    if not isinstance(schema, dict):
        return found

    def take(node: Any, at: str) -> None:
        for key, title in field_titles(node, at).items():
            found.setdefault(key, title)

    properties = schema.get("properties")
    for name, node in properties.items() if isinstance(properties, dict) else ():
        if not isinstance(node, dict):
            continue
        path = f"{prefix}{name}"
        if isinstance(node.get("title"), str) and node["title"]:
            found.setdefault(path, node["title"])
        take(node, f"{path}.")
        take(node.get("items"), f"{path}.*.")
    for one in ("then", "else"):
        take(schema.get(one), prefix)
    for many in ("allOf", "anyOf", "oneOf"):
        for node in schema.get(many) or ():
            take(node, prefix)
    return found


def vacuous_conditions(schema: Any) -> list[str]:
    """Fields an ``if`` tests through ``properties`` without requiring them: JSON Schema holds
    such an ``if`` true when the field is missing, so its ``then`` fires on an empty form (a
    citizen who has not chosen a delivery method is told the mailing address is required)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            condition = node.get("if")
            if isinstance(condition, dict) and isinstance(condition.get("properties"), dict):
                required = set(condition.get("required") or [])
                found.extend(k for k in condition["properties"] if k not in required)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(schema)
    return sorted(set(found))


class CatalogFile(Strict):
    """The import/export document: departments, themes and item guides (YAML or JSON)."""

    format_version: int = Field(1, ge=1, le=1)
    departments: list[DepartmentIn] = Field(default_factory=list)
    themes: list[ThemeIn] = Field(default_factory=list)
    items: list[Guide] = Field(default_factory=list)


def consistency_errors(guide: Guide, prefix: str = "") -> list[dict[str, Any]]:
    """Rules across fields, each reported on the field an editor must change.

    Kept out of the models' validators, which could only report them on the whole object.
    """
    errors: list[dict[str, Any]] = []

    def add(field: str, message: str, code: str) -> None:
        errors.append({"field": f"{prefix}{field}", "code": code, "message": message})

    if guide.promised_limit_days > guide.statutory_limit_days:
        add("promised_limit_days", "承诺办结时限不能长于法定办结时限。", "exceeds_statutory")
    seen: set[str] = set()
    for index, material in enumerate(guide.materials):
        if material.code in seen:
            add(f"materials[{index}].code", f"材料编码 {material.code} 重复。", "duplicate")
        seen.add(material.code)
        if material.requirement is Requirement.conditional and not material.condition:
            add(f"materials[{index}].condition", "条件性材料必须说明适用情形。", "missing")
        if material.requirement is Requirement.required and material.condition:
            add(f"materials[{index}].condition", "必需材料不应填写适用情形。", "unexpected")
    if guide.fee.amount_fen > 0 and not guide.fee.basis:
        add("fee.basis", "收费事项必须填写收费依据。", "missing")
    if guide.fee.unit_field:
        unit_property = guide.form_schema.get("properties", {}).get(guide.fee.unit_field, {})
        bounded = (
            isinstance(unit_property, dict)
            and unit_property.get("type") == "integer"
            and isinstance(unit_property.get("minimum"), int)
            and unit_property["minimum"] >= 1
            and isinstance(unit_property.get("maximum"), int)
            and unit_property["maximum"] <= MAX_FEE_UNITS
        )
        if not bounded or guide.fee.unit_field not in guide.form_schema.get("required", []):
            add(
                "fee.unit_field",
                f"按数量收费时，数量须为申请表的必填整数项，取值 1 到 {MAX_FEE_UNITS}。",
                "invalid",
            )
    for index, code in enumerate(guide.parallel_departments):
        if code == guide.lead_department:
            add(f"parallel_departments[{index}]", "牵头部门不应同时列为并联部门。", "is_lead")
        elif code in guide.parallel_departments[:index]:
            add(f"parallel_departments[{index}]", f"并联部门 {code} 重复。", "duplicate")
    if (
        guide.fee.amount_fen > 0
        and guide.handling_mode is HandlingMode.fully_online
        and not guide.online_payment
    ):
        add("online_payment", "全程网办的收费事项必须支持网上缴费。", "required")
    if DeliveryMethod.express in guide.delivery_methods and not guide.express_delivery:
        add("express_delivery", "提供快递送达时此项必须为 true。", "inconsistent")
    if guide.express_delivery and DeliveryMethod.express not in guide.delivery_methods:
        add("delivery_methods", "支持快递送达时送达方式必须包含 express。", "inconsistent")
    return errors


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    return bool(_CONTROL.search(text))
