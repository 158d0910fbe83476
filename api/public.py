"""Public catalogue endpoints: what anyone may read before logging in."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from api.endpoint import Audience, endpoint
from api.params import paging, query
from api.schemas import (
    DepartmentOut,
    DepartmentPage,
    DepartmentQuery,
    GuideOut,
    ItemPage,
    ItemSearchQuery,
    ThemeList,
    ThemeQuery,
)
from catalog import service as catalog

bp = Blueprint("public", url_prefix="/api/v1")

_JSON = "application/json"
#: Guides change only when a version is published; phones may reuse them briefly.
_CACHE_CONTROL = {"Cache-Control": "public, max-age=60"}


def _public(summary: str, **kwargs: Any) -> Any:
    return endpoint(
        summary,
        tag="catalogue",
        audience=Audience.public,
        headers={"Cache-Control": "public, max-age=60"},
        **kwargs,
    )


@bp.get("/items")
@_public(
    "Search the catalogue (Chinese, full pinyin or initials) with filters",
    query=ItemSearchQuery,
    out=ItemPage,
    errors=(404,),
)
async def search_items(request: Request) -> HTTPResponse:
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
        page_request=paging(request, params),
        cache=request.app.ctx.catalog_cache,
    )
    return raw(body, content_type=_JSON, headers=_CACHE_CONTROL)


@bp.get("/items/<code:str>")
@_public("The whole current guide (办事指南) of an item", out=GuideOut, errors=(404,))
async def get_item(request: Request, code: str) -> HTTPResponse:
    body = await catalog.get_guide_json(code=code, cache=request.app.ctx.catalog_cache)
    return raw(body, content_type=_JSON, headers=_CACHE_CONTROL)


@bp.get("/departments")
@endpoint(
    "Departments, by level and parent",
    tag="catalogue",
    audience=Audience.anonymous,
    query=DepartmentQuery,
    out=DepartmentPage,
    errors=(404,),
)
async def list_departments(request: Request) -> HTTPResponse:
    params = query(request, DepartmentQuery)
    page = await catalog.list_departments(
        level=params.level.value if params.level else None,
        parent=params.parent,
        page_request=paging(request, params),
    )
    return json(page, ensure_ascii=False)


@bp.get("/departments/<code:str>")
@endpoint(
    "One department", tag="catalogue", audience=Audience.anonymous, out=DepartmentOut, errors=(404,)
)
async def get_department(request: Request, code: str) -> HTTPResponse:
    return json(await catalog.get_department(code=code), ensure_ascii=False)


@bp.get("/themes")
@endpoint(
    "Themes: life events, business events and special groups",
    tag="catalogue",
    audience=Audience.anonymous,
    query=ThemeQuery,
    out=ThemeList,
)
async def list_themes(request: Request) -> HTTPResponse:
    params = query(request, ThemeQuery)
    return json(await catalog.list_themes(category=params.category), ensure_ascii=False)
