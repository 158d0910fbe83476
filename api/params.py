"""Reading request input into validated models, with the envelope's field errors on failure."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sanic import Request
from sanic.exceptions import BadRequest

from core.errors import ValidationFailed, field_error
from core.validation import parse

M = TypeVar("M", bound=BaseModel)


def query(request: Request, model: type[M]) -> M:
    """Query-string parameters (first value of each) as ``model``."""
    data: dict[str, Any] = {key: values[0] for key, values in request.args.items() if values}
    return parse(model, data)


def json_object(request: Request) -> dict[str, Any]:
    """The JSON body, which must be an object; a body that is not JSON is named as such."""
    try:
        data = request.json
    except BadRequest:
        raise ValidationFailed(
            [field_error("body", "请求内容不是有效的 JSON。", "malformed_json")],
            message="请求内容格式不正确。",
        ) from None
    if data is None:
        raise ValidationFailed([field_error("body", "请求内容不能为空。", "missing")])
    if not isinstance(data, dict):
        raise ValidationFailed([field_error("body", "请求内容应为 JSON 对象。", "not_object")])
    return data


def body(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``."""
    return parse(model, json_object(request))
