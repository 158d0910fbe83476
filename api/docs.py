"""The API contract: the OpenAPI document (``api.openapi``) and two pages that show it.

The pages load ReDoc and Swagger UI from a CDN, as the viewers of most APIs do; the document
itself is served from here and is what clients, generators and fuzzers read.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, raw

from api.endpoint import Audience, endpoint
from api.errors import json_bytes
from api.openapi import document

bp = Blueprint("docs", url_prefix="/docs")

TITLE = "Zhangban 掌办 API"
VERSION = "1.0"
DESCRIPTION = (
    "掌上办 government-services backend. Every non-2xx answer has the body "
    '`{"error": {"code", "message", "details"}}`: `code` is a stable English code, '
    "`message` Chinese text to show as is. Citizens and staff send "
    "`Authorization: Bearer <access token>`; writes a phone may retry take an `Idempotency-Key`."
)

_REDOC = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>
<redoc spec-url="/docs/openapi.json"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"></script>
</body></html>"""

_SWAGGER = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/docs/openapi.json", dom_id: "#ui"}});</script>
</body></html>"""


def _page(summary: str) -> Any:
    return endpoint(summary, tag="docs", audience=Audience.anonymous, in_document=False)


def openapi_document(request: Request) -> bytes:
    """The document as bytes, built once per worker (routes do not change while it runs)."""
    cached: bytes | None = getattr(request.app.ctx, "openapi_json", None)
    if cached is None:
        cached = json_bytes(
            document(request.app, title=TITLE, version=VERSION, description=DESCRIPTION)
        )
        request.app.ctx.openapi_json = cached
    return cached


@bp.get("/openapi.json")
@_page("The OpenAPI 3.1 document")
async def openapi_json(request: Request) -> HTTPResponse:
    return raw(openapi_document(request), content_type="application/json")


@bp.get("")
@_page("The API contract, in ReDoc")
async def redoc(request: Request) -> HTTPResponse:
    return html(_REDOC.format(title=TITLE))


@bp.get("/swagger")
@_page("The API contract, in Swagger UI")
async def swagger(request: Request) -> HTTPResponse:
    return html(_SWAGGER.format(title=TITLE))
