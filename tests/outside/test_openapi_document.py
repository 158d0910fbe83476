"""The served OpenAPI document, as a client's generator or a fuzzer reads it: a valid OpenAPI 3.1
document (``openapi-spec-validator``) that says, for every operation, who may call it, what it
answers on success, that every answer with a body is JSON, that every error is the envelope,
and how every path parameter is typed and bounded. Only the API is in it: no sandbox peer, no
control route, no object-store endpoint.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from sanic import Sanic

from api.endpoint import Audience
from api.openapi import operations

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
#: A regular expression that bounds the length of what it matches: anchored at both ends, with
#: no unbounded repetition (``*``, ``+``, ``{n,}``).
_UNBOUNDED = re.compile(r"(?<!\\)[*+]|\{\d+,\}")


@pytest.fixture(scope="module")
async def served(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/docs/openapi.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


def each_operation(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s) in the OpenAPI document:\n" + "\n".join(problems[:40])


def test_the_document_is_valid_openapi_3_1(served: dict[str, Any]) -> None:
    assert served["openapi"].startswith("3.1"), served["openapi"]
    validate(served, cls=OpenAPIV31SpecValidator)
    validate(served)  # and as the validator's own version detection reads it


def test_only_the_api_is_documented(served: dict[str, Any], app: Sanic) -> None:
    foreign = [
        path
        for path in served["paths"]
        if re.search(r"_control|^/sandbox(/|$)|^/objects(/|$)|^/__test__|^/docs(/|$)", path)
    ]
    assert not foreign, report([f"{path}: not part of the API" for path in foreign])
    assert served["paths"], "the document has no operations"
    declared = {(method, path) for method, path, _, _ in operations(app)}
    documented = {(method, path) for method, path, _ in each_operation(served)}
    assert documented == declared, documented ^ declared


def test_every_operation_declares_who_may_call_it(served: dict[str, Any], app: Sanic) -> None:
    audience = {(method, path): spec.audience for method, path, spec, _ in operations(app)}
    schemes = set(served["components"]["securitySchemes"])
    problems = []
    for method, path, operation in each_operation(served):
        where = f"{method.upper()} {path}"
        if "security" not in operation:
            problems.append(f"{where}: no security declared")
            continue
        security = operation["security"]
        who = audience[(method, path)]
        if security == [] and who is not Audience.anonymous:
            problems.append(f"{where}: no security, but its audience is {who.value}")
        if who is Audience.anonymous and security != []:
            problems.append(f"{where}: anonymous, but declares security {security}")
        if who in (Audience.citizen, Audience.staff) and security != [{"bearer": []}]:
            problems.append(f"{where}: {who.value} only, but declares security {security}")
        if who is Audience.public and ({} not in security or {"bearer": []} not in security):
            problems.append(f"{where}: public (token optional), but declares {security}")
        for requirement in security:
            unknown = set(requirement) - schemes
            if unknown:
                problems.append(f"{where}: unknown security schemes {sorted(unknown)}")
    assert not problems, report(problems)


def test_every_operation_answers_json_and_the_envelope(served: dict[str, Any]) -> None:
    problems = []
    for method, path, operation in each_operation(served):
        where = f"{method.upper()} {path}"
        responses = operation.get("responses", {})
        if not any(code.startswith("2") for code in responses):
            problems.append(f"{where}: no 2xx response")
        for code, response in responses.items():
            content = response.get("content")
            if code == "204":
                if content:
                    problems.append(f"{where} {code}: a 204 has no body, but content is declared")
                continue
            if not content:
                problems.append(f"{where} {code}: a body is sent, but no content is declared")
                continue
            if code.startswith("2") and set(content) == {"application/pdf"}:
                # a file (a receipt): binary, declared as such
                if content["application/pdf"].get("schema") != {
                    "type": "string",
                    "format": "binary",
                }:
                    problems.append(f"{where} {code}: a PDF answer without a binary schema")
                continue
            if set(content) != {"application/json"}:
                problems.append(f"{where} {code}: content {sorted(content)}, not application/json")
                continue
            schema = content["application/json"].get("schema")
            if not schema:
                problems.append(f"{where} {code}: application/json without a schema")
            if code[0] in "45" and schema != {"$ref": ENVELOPE_REF}:
                problems.append(f"{where} {code}: {schema} is not the error envelope")
    assert not problems, report(problems)


def test_the_error_envelope_is_code_message_details(served: dict[str, Any]) -> None:
    envelope = resolve(served, {"$ref": ENVELOPE_REF})
    assert envelope["required"] == ["error"], envelope
    assert envelope.get("additionalProperties") is False, envelope
    body = resolve(served, envelope["properties"]["error"])
    assert set(body["required"]) >= {"code", "message"}, body
    assert set(body["properties"]) == {"code", "message", "details"}, body
    assert body["properties"]["code"]["type"] == "string"
    assert body["properties"]["message"]["type"] == "string"
    assert body["properties"]["details"]["type"] == "object"


def _bounds_problem(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind == "integer":
        if "minimum" not in schema or "maximum" not in schema:
            return f"integer without minimum and maximum: {schema}"
        return None
    if kind == "string":
        if "maxLength" in schema or "enum" in schema:
            return None
        pattern = schema.get("pattern", "")
        if not (pattern.startswith("^") and pattern.endswith("$")) or _UNBOUNDED.search(pattern):
            return f"string without maxLength or a bounded, anchored pattern: {schema}"
        return None
    return f"no type, or a type that is neither integer nor string: {schema}"


def test_every_path_parameter_is_typed_and_bounded(served: dict[str, Any]) -> None:
    problems = []
    for method, path, operation in each_operation(served):
        where = f"{method.upper()} {path}"
        templated = re.findall(r"{([^}]+)}", path)
        params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
        if sorted(params) != sorted(templated):
            problems.append(f"{where}: path parameters {sorted(params)} != template {templated}")
        if templated and "404" not in operation["responses"]:
            # a well-formed id of nothing: the router or the use case answers 404
            problems.append(f"{where}: has path parameters, but no 404 documented")
        for name, param in params.items():
            if param.get("required") is not True:
                problems.append(f"{where}: path parameter {name} is not required")
            problem = _bounds_problem(resolve(served, param.get("schema", {})))
            if problem:
                problems.append(f"{where}: path parameter {name}: {problem}")
    assert not problems, report(problems)


def test_the_document_answers_conform_to_itself(served: dict[str, Any]) -> None:
    """Every operation has a unique operationId (generators name their functions by it) and
    every operation with a body reads JSON."""
    ids = [operation.get("operationId") for _, _, operation in each_operation(served)]
    assert all(ids), "an operation has no operationId"
    assert len(ids) == len(set(ids)), sorted({str(i) for i in ids if ids.count(i) > 1})
    for method, path, operation in each_operation(served):
        body = operation.get("requestBody")
        if body is not None:
            assert set(body["content"]) == {"application/json"}, (method, path)
