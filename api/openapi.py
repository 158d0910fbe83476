"""The OpenAPI 3.1 document, built from the routes' declarations (``api.endpoint``).

Nothing here is written by hand per route: every operation of the document is a route of the
application with its ``@endpoint`` declaration, its schemas are the pydantic models the handler
reads and answers (JSON Schema 2020-12, which OpenAPI 3.1 uses as it is), and its statuses are
those the edge can answer for that declaration (``statuses``) plus the ones the route names. The
sandbox peers and the local object store's S3 endpoints are not part of the API and are left out.

``conformance_problems`` checks one answer against its route's declaration; the test suite runs
it on every answer the server gives in every test (``tests/conftest.py``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from sanic import Sanic

from api.endpoint import PATH_PARAMS, Audience, Endpoint, spec_of
from api.schemas import ErrorEnvelope

OPENAPI_VERSION = "3.1.0"
_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>")
_DOC_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")

#: What each status means when the edge answers it (the envelope's ``code`` says more).
STATUS_TEXT = {
    400: "bad input: validation errors name each field (details.fields)",
    401: "no token, or an expired or revoked one (auth.token_*): refresh, or log in again",
    403: "the caller may not do this (role, department, scope)",
    404: "no such object, or none the caller may see",
    409: "conflicts with the object's current state, or with a request that used the same "
    "Idempotency-Key",
    413: "request too large: body, headers or query string",
    415: "the body is not declared as JSON (Content-Type: application/json)",
    422: "the uploaded file was refused (its type, size, content); details say why",
    429: "too many requests: wait Retry-After seconds",
    503: "a dependency (database, Redis, a platform) is unavailable: retry later",
}


def statuses(spec: Endpoint, path: str) -> list[int]:
    """Every status the route can answer: its success, what the edge answers for its
    declaration, and what it names itself."""
    # Every route: its query string and path are checked (400), its request line and headers
    # bounded by the server (413), and it depends on the database and Redis (503).
    found = {spec.ok, 400, 413, 503}
    if spec.audience is not Audience.anonymous:
        found.add(401)
    if spec.audience is Audience.staff:
        found.add(403)
    if spec.idempotent:
        found.add(409)
    if spec.body is not None:
        found.add(415)
    if _PARAM.search(path) or _DOC_PARAM.search(path):  # a route's <name:type>, or {name}
        found.add(404)
    return sorted(found | set(spec.errors))


def operations(app: Sanic) -> list[tuple[str, str, Endpoint, str]]:
    """(method, OpenAPI path, declaration, route name) of every declared API route."""
    found = []
    for route in app.router.routes:
        spec = spec_of(route.handler)
        if spec is None or not spec.in_document:
            continue
        path = "/" + route.path.lstrip("/")
        for method in sorted(route.methods):
            if method in ("HEAD", "OPTIONS"):
                continue
            found.append((method.lower(), _PARAM.sub(r"{\1}", path), spec, route.name))
    return sorted(found, key=lambda op: (op[1], op[0]))


def _schemas(models: set[type[BaseModel]]) -> tuple[dict[Any, Any], dict[str, Any]]:
    modes: tuple[JsonSchemaMode, ...] = ("validation", "serialization")
    keyed = [(model, mode) for model in sorted(models, key=lambda m: m.__name__) for mode in modes]
    refs, document = models_json_schema(keyed, ref_template=_REF)
    return refs, document.get("$defs", {})


def _parameters(spec: Endpoint, path: str, refs: dict[Any, Any], defs: dict[str, Any]) -> list:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": TypeAdapter(PATH_PARAMS[name]).json_schema(),
        }
        for name in re.findall(r"{([A-Za-z_][A-Za-z0-9_]*)}", path)
    ]
    if spec.query is not None:
        ref = refs[(spec.query, "validation")]["$ref"].rsplit("/", 1)[1]
        schema = defs[ref]
        required = set(schema.get("required", []))
        for name, field_schema in schema.get("properties", {}).items():
            entry: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in field_schema.items() if k != "title"},
            }
            if "description" in field_schema:
                entry["description"] = field_schema["description"]
            if name not in required:
                entry["allowEmptyValue"] = True  # ``?name=`` is read as absent (api.params.query)
            params.append(entry)
    if spec.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "retrying with the same key and body replays the first answer "
                "(header Idempotent-Replayed: true); for the same caller only",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,128}$"},
            }
        )
    return params


def _security(spec: Endpoint) -> list[dict[str, list[str]]]:
    if spec.audience in (Audience.citizen, Audience.staff):
        return [{"bearer": []}]
    if spec.audience is Audience.public:
        return [{}, {"bearer": []}]  # anonymous, or a citizen token that must then be valid
    return []


def _operation(
    method: str, path: str, spec: Endpoint, name: str, refs: dict[Any, Any], defs: dict[str, Any]
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    error = {"application/json": {"schema": refs[(ErrorEnvelope, "serialization")]}}
    for status in statuses(spec, path):
        if status == spec.ok:
            answer: dict[str, Any] = {"description": "success"}
            if spec.out is not None:
                answer["content"] = {
                    "application/json": {"schema": refs[(spec.out, "serialization")]}
                }
            elif spec.file_type is not None:
                answer["content"] = {
                    spec.file_type: {"schema": {"type": "string", "format": "binary"}}
                }
            if spec.headers:
                answer["headers"] = {
                    header: {"schema": {"type": "string"}, "description": text}
                    for header, text in spec.headers.items()
                }
            responses[str(status)] = answer
        else:
            responses[str(status)] = {
                "description": STATUS_TEXT.get(status, "error"),
                "content": error,
            }
    operation: dict[str, Any] = {
        "operationId": name.split(".", 1)[-1],
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": _security(spec),
        "parameters": _parameters(spec, path, refs, defs),
        "responses": responses,
    }
    if spec.description:
        operation["description"] = spec.description
    if spec.actions or spec.target:
        operation["x-permission"] = {
            "actions": [a.value for a in spec.actions],
            "target": spec.target,
        }
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    return operation


def document(app: Sanic, *, title: str, version: str, description: str) -> dict[str, Any]:
    ops = operations(app)
    models: set[type[BaseModel]] = {ErrorEnvelope}
    for _, _, spec, _ in ops:
        models |= {m for m in (spec.body, spec.query, spec.out) if m is not None}
    refs, defs = _schemas(models)
    paths: dict[str, dict[str, Any]] = {}
    for method, path, spec, name in ops:
        paths.setdefault(path, {})[method] = _operation(method, path, spec, name, refs, defs)
    tags = sorted({spec.tag for _, _, spec, _ in ops})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "access token from a login (citizen) or a staff login",
                }
            },
        },
    }


def conformance_problems(spec: Endpoint, path: str, status: int, body: bytes) -> list[str]:
    """What is wrong with one answer of the route declared by ``spec``, if anything: a status
    it does not document, or a body that is not its declared model (or the envelope)."""
    if status not in statuses(spec, path):
        return [f"status {status} is not documented (documented: {statuses(spec, path)})"]
    if status == spec.ok and spec.file_type is not None:
        return [] if body else [f"status {status} documents a {spec.file_type} file, got none"]
    model = spec.out if status == spec.ok else ErrorEnvelope
    if model is None:
        return [] if not body else [f"status {status} documents no body, got {body[:80]!r}"]
    try:
        model.model_validate_json(body)
    except PydanticValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors()[:5])
        return [f"status {status}: body is not {model.__name__}: {errors}"]
    return []
