"""Public catalogue endpoints: what anyone may read before logging in."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext import openapi

from api import guards
from api.params import query
from api.schemas import (
    DepartmentOut,
    DepartmentPage,
    DepartmentQuery,
    ErrorEnvelope,
    GuideOut,
    ItemPage,
    ItemSearchQuery,
    ThemeList,
    ThemeQuery,
)
from catalog import service as catalog
from core.errors import ValidationFailed, field_error
from core.paging import page_size
from core.settings import Settings

bp = Blueprint("public", url_prefix="/api/v1")

_JSON = "application/json"
#: Guides change only when a version is published; phones may reuse them briefly.
_CACHE_CONTROL = {"Cache-Control": "public, max-age=60"}
_CODE_MAX = 64


def _error(status: int, description: str) -> openapi.definitions.Response:
    return openapi.definitions.Response(ErrorEnvelope, status, description=description)


def _limit(settings: Settings, requested: int | None) -> int:
    return page_size(requested, default=settings.page_size_default, maximum=settings.page_size_max)


def _check_code(code: str, field: str) -> None:
    if len(code) > _CODE_MAX or not code.isprintable():
        raise ValidationFailed([field_error(field, "编码格式不正确。", "invalid_code")])


@bp.get("/items")
@openapi.definition(
    summary="Search the catalogue (Chinese, full pinyin or initials) with filters",
    tag="catalogue",
    parameter=[
        openapi.definitions.Parameter(name, schema, location="query")
        for name, schema in (
            ("q", str),
            ("department", str),
            ("audience", str),
            ("theme", str),
            ("handling_mode", str),
            ("paid", bool),
            ("cursor", str),
            ("limit", int),
        )
    ],
    response=[
        openapi.definitions.Response(ItemPage, 200),
        _error(400, "bad query, cursor or page size"),
        _error(404, "unknown department or theme"),
        _error(401, "a token was sent and it is not valid"),
    ],
)
async def search_items(request: Request) -> HTTPResponse:
    await guards.optional_citizen(request)
    settings: Settings = request.app.ctx.settings
    params = query(request, ItemSearchQuery)
    filters = catalog.SearchFilters(
        query=catalog.normalise_query(params.q),
        department=params.department,
        audience=params.audience,
        theme=params.theme,
        handling_mode=params.handling_mode,
        paid=params.paid,
    )
    body = await catalog.search_items_json(
        filters=filters,
        cursor=params.cursor,
        limit=_limit(settings, params.limit),
        secret=settings.secret_key,
        cache=request.app.ctx.catalog_cache,
    )
    return raw(body, content_type=_JSON, headers=_CACHE_CONTROL)


@bp.get("/items/<code:str>")
@openapi.definition(
    summary="The whole current guide (办事指南) of an item",
    tag="catalogue",
    response=[
        openapi.definitions.Response(GuideOut, 200),
        _error(404, "unknown item"),
        _error(401, "a token was sent and it is not valid"),
    ],
)
async def get_item(request: Request, code: str) -> HTTPResponse:
    await guards.optional_citizen(request)
    _check_code(code, "code")
    body = await catalog.get_guide_json(code=code, cache=request.app.ctx.catalog_cache)
    return raw(body, content_type=_JSON, headers=_CACHE_CONTROL)


@bp.get("/departments")
@openapi.definition(
    summary="Departments, by level and parent",
    tag="catalogue",
    parameter=[
        openapi.definitions.Parameter(name, schema, location="query")
        for name, schema in (("level", str), ("parent", str), ("cursor", str), ("limit", int))
    ],
    response=[
        openapi.definitions.Response(DepartmentPage, 200),
        _error(400, "bad query"),
        _error(404, "unknown parent department"),
    ],
)
async def list_departments(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    params = query(request, DepartmentQuery)
    page = await catalog.list_departments(
        level=params.level.value if params.level else None,
        parent=params.parent,
        cursor=params.cursor,
        limit=_limit(settings, params.limit),
        secret=settings.secret_key,
    )
    return json(page, ensure_ascii=False)


@bp.get("/departments/<code:str>")
@openapi.definition(
    summary="One department",
    tag="catalogue",
    response=[openapi.definitions.Response(DepartmentOut, 200), _error(404, "unknown department")],
)
async def get_department(request: Request, code: str) -> HTTPResponse:
    _check_code(code, "code")
    return json(await catalog.get_department(code=code), ensure_ascii=False)


@bp.get("/themes")
@openapi.definition(
    summary="Themes: life events, business events and special groups",
    tag="catalogue",
    parameter=[openapi.definitions.Parameter("category", str, location="query")],
    response=[openapi.definitions.Response(ThemeList, 200), _error(400, "unknown category")],
)
async def list_themes(request: Request) -> HTTPResponse:
    params = query(request, ThemeQuery)
    return json(await catalog.list_themes(category=params.category), ensure_ascii=False)
