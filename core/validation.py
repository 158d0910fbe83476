"""Pydantic validation with Chinese messages: one translation for request bodies and imports."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from core.errors import ValidationFailed, field_error

M = TypeVar("M", bound=BaseModel)

_MESSAGES: dict[str, str] = {
    "missing": "此项为必填项。",
    "extra_forbidden": "不认识的字段，请删除。",
    "string_type": "应为文字。",
    "int_type": "应为整数。",
    "int_parsing": "应为整数。",
    "bool_type": "应为是或否。",
    "bool_parsing": "应为是或否。",
    "float_type": "应为数字。",
    "list_type": "应为列表。",
    "dict_type": "应为对象。",
    "model_type": "应为对象。",
    "enum": "取值不在允许范围内。",
    "literal_error": "取值不在允许范围内。",
    "string_pattern_mismatch": "格式不正确。",
    "json_invalid": "不是有效的 JSON。",
    "identifier_not_allowed": "此栏不能填写身份证号码或手机号码。",
}


#: A field path is named back to the caller; a key it sent may be of any length, its echo is not.
LOCATION_MAX = 120


def _location(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)[:LOCATION_MAX]
    return (path or "body")[:LOCATION_MAX]


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        if kind == "enum" and "expected" in ctx:
            options = str(ctx["expected"]).replace(" or ", ", ")
            return f"取值不在允许范围内，可选：{options}。"
        return _MESSAGES[kind]
    if kind == "string_too_short":
        return f"至少需要 {ctx.get('min_length')} 个字符。"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字符。"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length')} 项。"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项。"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}。"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}。"
    if kind == "value_error":
        # Our own validators raise ValueError with a Chinese message already.
        return str(ctx.get("error", error.get("msg", "取值无效。")))
    return "取值无效。"


def translate(exc: PydanticValidationError, prefix: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Each pydantic error as ``{"field", "code", "message"}`` with a Chinese message."""
    return [
        field_error(_location(prefix + tuple(err["loc"])), _message(err), err["type"])
        for err in exc.errors(include_url=False)
    ]


def parse(model: type[M], data: Any) -> M:
    """Validate ``data`` into ``model`` or raise ``ValidationFailed`` naming every bad field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed(translate(exc)) from None
