"""Reading request input into validated models, with the envelope's field errors on failure.

Input is refused at the edge before any model sees it when it could not be stored or shown back
safely: a JSON body must be strict JSON (``NaN``, ``Infinity`` and numbers beyond a double are
not JSON), valid UTF-8, without NUL, other control characters than tab, newline and carriage
return, bidirectional controls, or unpaired surrogates (``"\\udfff"`` is valid JSON syntax, but no
database or phone can hold it), and nested at most ``MAX_DEPTH`` deep. Paths and query strings
are checked the same way (``check_text`` in ``api.middleware``).

Handlers read their declared models only (``api.endpoint``): ``body`` and ``query`` refuse a
model other than the one the route declares, so the OpenAPI document cannot drift from the code.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic import Request

from api import endpoint
from api.schemas import PageQuery
from core.errors import UnsupportedMediaType, ValidationFailed, field_error
from core.paging import PageRequest, page_size
from core.validation import parse

M = TypeVar("M", bound=BaseModel)
MAX_DEPTH = 32
#: What no text we accept may contain: C0 controls but tab, LF, CR; DEL; unpaired surrogates;
#: bidirectional controls (LRM, RLM, ALM, embeddings, overrides, isolates), which make a file
#: name or a message read otherwise than it is stored ("IMG_\u202egpj.exe" shows as "IMG_exe.jpg").
_BAD_TEXT = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


class _NotJson(ValueError):
    pass


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are each named once: with a key twice, which value counts would be
    up to the parser (ours takes the last, a proxy or a log reader may take the first)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _DuplicateKey(next(k for i, (k, _) in enumerate(pairs) if k in dict(pairs[:i])))
    return data


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson("number out of range")
    return value


def bad_text(value: str) -> bool:
    return _BAD_TEXT.search(value) is not None


#: Field paths are cut to this in errors: a path is the client's own keys, echoed back.
MAX_PATH_CHARS = 120


def _walk(value: Any, path: str, depth: int, problems: list[dict[str, Any]]) -> None:
    """Problems named by the same paths as the schema's errors (``form.reason``, not
    ``body.form.reason``), so a client maps both to its inputs; the root is ``body``."""
    where = (path or "body")[:MAX_PATH_CHARS]
    if depth > MAX_DEPTH:
        problems.append(field_error(where, f"内容嵌套超过 {MAX_DEPTH} 层。", "too_deep"))
        return
    if isinstance(value, str):
        if bad_text(value):
            message = "含有不允许的字符（控制字符或无效编码）。"
            problems.append(field_error(where, message, "bad_text"))
    elif isinstance(value, dict):
        for key, item in value.items():
            name = key if not bad_text(key) else "?"
            child = f"{path}.{name}" if path else name
            if bad_text(key):
                problems.append(
                    field_error(child[:MAX_PATH_CHARS], "字段名含有不允许的字符。", "bad_text")
                )
            _walk(item, child, depth + 1, problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path or 'body'}[{index}]", depth + 1, problems)


def strict_json(raw: bytes) -> Any:
    """``raw`` as strict JSON, or ``request.validation_failed`` naming what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(
            [field_error("body", "请求内容不是有效的 UTF-8 文本。", "bad_encoding")],
            message="请求内容格式不正确。",
        ) from None
    try:
        data = json.loads(
            text, parse_constant=_constant, parse_float=_finite, object_pairs_hook=_unique_keys
        )
    except _DuplicateKey as exc:
        key = str(exc)[:64]
        where = "body" if bad_text(key) else key
        raise ValidationFailed(
            [field_error(where, "同一字段出现了两次。", "duplicate_key")],
            message="请求内容格式不正确。",
        ) from None
    except (ValueError, RecursionError):
        raise ValidationFailed(
            [field_error("body", "请求内容不是有效的 JSON。", "malformed_json")],
            message="请求内容格式不正确。",
        ) from None
    problems: list[dict[str, Any]] = []
    _walk(data, "", 0, problems)
    if problems:
        raise ValidationFailed(problems[:20], message="请求内容含有不允许的字符。")
    return data


def _declares_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def json_object(request: Request) -> dict[str, Any]:
    """The JSON body, which must be an object and say so (``Content-Type``); a body that is
    not JSON is named as such."""
    if request.body and not _declares_json(request):
        raise UnsupportedMediaType()
    if not request.body:
        raise ValidationFailed([field_error("body", "请求内容不能为空。", "missing")])
    data = strict_json(request.body)
    if not isinstance(data, dict):
        raise ValidationFailed([field_error("body", "请求内容应为 JSON 对象。", "not_object")])
    return data


def _declared(request: Request, model: type[BaseModel], kind: str) -> None:
    spec = endpoint.current(request)
    declared = getattr(spec, kind, None) if spec is not None else None
    if spec is not None and declared is not model:
        raise RuntimeError(f"{request.path}: reads {kind} {model.__name__}, declares {declared}")


def query(request: Request, model: type[M]) -> M:
    """Query-string parameters (first value of each) as ``model``."""
    _declared(request, model, "query")
    data: dict[str, Any] = {key: values[0] for key, values in request.args.items() if values}
    return parse(model, data)


def body(request: Request, model: type[M]) -> M:
    """The JSON body as ``model``."""
    _declared(request, model, "body")
    return parse(model, json_object(request))


def body_object(request: Request, model: type[BaseModel]) -> dict[str, Any]:
    """The JSON body as a plain object, for a use case that validates it against ``model``
    itself (the catalogue's import format, whose errors name each item and field)."""
    _declared(request, model, "body")
    return json_object(request)


def paging(request: Request, params: PageQuery) -> PageRequest:
    """The cursor a phone sent back (its list and reader are checked by ``core.paging.Cursor``
    in the use case), the page size within the deployment's bounds, and the key that signs
    cursors."""
    settings = request.app.ctx.settings
    return PageRequest(
        cursor=params.cursor,
        limit=page_size(
            params.limit, default=settings.page_size_default, maximum=settings.page_size_max
        ),
        secret=settings.secret_key,
    )
