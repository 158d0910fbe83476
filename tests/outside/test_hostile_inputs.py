"""Hostile inputs, generated from the served OpenAPI document (``tests.outside.hostile``): every
string and integer of every operation's path, query and JSON body, sent by a logged-in citizen
(citizen and public routes; anonymous routes without a token) and by a staff member holding every
role (staff routes), so that authenticated routes reach their validation.

The property, for each request: the answer is a 4xx error envelope in JSON (never a 5xx, never
another body) that names the hostile field in ``details.fields`` (or the whole body, path or
query string when it is refused before any field is read; a path segment the router cannot
match is its 404; a field a rule reads first, ``REFUSED_FIRST``, that rule's refusal), and
nothing was written: the row count of every table (the outbox included),
the latest ``updated_at`` of the tables that keep one and the sum of the cases' revisions are
the same before and after.

``test_each_hostile_value_in_each_field`` sends every fixed value (see the module above) to
every field; ``test_generated_hostile_values`` lets hypothesis vary them (where the character
sits, which control or surrogate, how long, how far out of range), derandomized so that CI is
reproducible. ``ZB_HOSTILE_EXAMPLES`` sets its number of examples.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanic import Sanic
from tortoise import Tortoise, connections

from api.endpoint import Audience
from api.openapi import operations
from tests.cases_flow import applicant, draft, filed, import_case_catalogue
from tests.cases_service import worker_paused
from tests.outside.hostile import (
    PLACEHOLDER,
    Document,
    Hostile,
    Target,
    envelope_problem,
    fixed_values,
    hostile_values,
    named,
)
from tests.outside.live import ALL_ROLES
from tests.people import Phone
from tests.staff import staff_member

EXAMPLES = int(os.environ.get("ZB_HOSTILE_EXAMPLES", "500"))


@dataclass
class Bench:
    app: Sanic
    http: httpx.AsyncClient
    doc: Document
    targets: list[Target]
    #: Headers by audience: the citizen's token, the staff member's, none.
    headers: dict[Audience, dict[str, str]]
    audience: dict[tuple[str, str], Audience]
    #: Real objects of the scene, by path parameter name.
    objects: dict[str, str]
    #: Real objects of the scene, by body field name.
    body_objects: dict[str, Any]
    fingerprint_sql: str


def _fingerprint_sql() -> str:
    """One statement: every table's row count, its latest ``updated_at`` (or other auto-now
    column) and, for tables that count revisions, their sum."""
    columns = []
    for model in sorted(Tortoise.apps["models"].values(), key=lambda m: m._meta.db_table):
        table = model._meta.db_table
        if table == "aerich":
            continue
        meta = model._meta
        columns.append(f'(SELECT COUNT(*) FROM "{table}")')
        for name, field in meta.fields_map.items():
            if getattr(field, "auto_now", False):
                column = meta.fields_db_projection[name]
                columns.append(f'(SELECT CAST(MAX("{column}") AS TEXT) FROM "{table}")')
        if "revision" in meta.fields_db_projection:
            column = meta.fields_db_projection["revision"]
            columns.append(f'(SELECT SUM("{column}") FROM "{table}")')
    return "SELECT " + ", ".join(f"{sql} AS c{i}" for i, sql in enumerate(columns))


async def fingerprint(bench: Bench) -> dict[str, Any]:
    rows = await connections.get("default").execute_query_dict(bench.fingerprint_sql)
    return dict(rows[0])


def _changed(before: dict[str, Any], after: dict[str, Any], sql: str) -> list[str]:
    labels = sql.removeprefix("SELECT ").split(", (")
    return [
        f"{labels[int(key[1:])].split(' AS ')[0].lstrip('(')}: {before[key]} -> {after[key]}"
        for key in before
        if before[key] != after[key]
    ]


@pytest.fixture
async def bench(
    clean: Sanic,
    client: httpx.AsyncClient,
    phone: Callable[[], Phone],
    sandbox: httpx.AsyncClient,
) -> AsyncIterator[Bench]:
    """A citizen with a submitted case and a draft, a staff member of the case's department with
    every role, a draft version of the case's item, and the document; the in-process worker
    paused (it would write on its own)."""
    async with worker_paused(clean):
        cat = await import_case_catalogue(clean)
        person = await applicant(phone())
        case_id = await filed(person, cat)
        drafted = await draft(person, cat.item)
        member = await staff_member(
            clean, client, sandbox, department_code=cat.lead, roles=ALL_ROLES.split(",")
        )
        uploads = (await person.call("GET", "/api/v1/uploads")).json()["uploads"]
        # a draft version of the item, for the routes that edit one
        versions = await member.call("GET", f"/api/v1/admin/items/{cat.item}/versions")
        assert versions.status_code == 200, versions.text
        guide = versions.json()["versions"][-1]["guide"]
        version = await member.call("POST", "/api/v1/admin/items", json=guide)
        assert version.status_code == 201, version.text
        served = await client.get("/docs/openapi.json")
        assert served.status_code == 200, served.text
        doc = Document(served.json())
        yield Bench(
            app=clean,
            http=client,
            doc=doc,
            targets=doc.targets(),
            headers={
                Audience.citizen: person.auth,
                Audience.public: person.auth,
                Audience.staff: member.auth,
                Audience.anonymous: {},
            },
            audience={(m, p): spec.audience for m, p, spec, _ in operations(clean)},
            objects={
                "case_id": str(case_id),
                "user_id": str(person.tokens["user"]["id"]),
                "staff_id": str(member.id),
                "code": cat.item,
                "upload_id": uploads[0]["id"] if uploads else "",
                "day": "2027-10-08",
                "number": str(version.json()["version"]),
            },
            body_objects={
                "item_code": cat.item,
                "material_code": cat.photo,
                "case_id": drafted["id"],
                "lead_department": cat.lead,
                "staff_id": member.id,
            },
            fingerprint_sql=_fingerprint_sql(),
        )


def _typed(value: str) -> int | str:
    return int(value) if value.isdigit() else value


#: Fields whose value a rule reads before validation does, on purpose, with the refusal it gives:
#: a guide's lead department decides whether the caller may edit the guide at all.
REFUSED_FIRST: dict[tuple[str, str], tuple[int, str]] = {
    ("body", "lead_department"): (403, "auth.forbidden"),
}


def _operation(bench: Bench, target: Target) -> dict[str, Any]:
    return dict(bench.doc.doc["paths"][target.path][target.method])


def request_for(bench: Bench, target: Target, value: Hostile) -> tuple[str, str, bytes | None]:
    """(method, URL, body) of a plausible request with ``value`` in the target's place."""
    operation = _operation(bench, target)
    url = target.path
    query: list[str] = []
    for param in operation.get("parameters", []):
        name = param["name"]
        mine = target.where == param["in"] and target.field == (name,)
        if param["in"] == "path":
            plain = bench.objects.get(name) or str(bench.doc.sample(param["schema"]))
            url = url.replace("{" + name + "}", value.url if mine else quote(plain, safe=""))
        elif param["in"] == "query" and (mine or param.get("required")):
            plain = quote(str(bench.doc.sample(param["schema"])), safe="")
            query.append(f"{quote(name)}={value.url if mine else plain}")
    if query:
        url += "?" + "&".join(query)
    content: bytes | None = None
    if "requestBody" in operation:
        # a body field named like a path parameter of the route holds the same object
        same = {
            p["name"]: _typed(bench.objects[p["name"]])
            for p in operation.get("parameters", [])
            if p["in"] == "path" and p["name"] in bench.objects
        }
        body = bench.doc.body_with(operation, target, bench.body_objects | same)
        text = json.dumps(body, ensure_ascii=True)
        if target.where == "body":
            placeholder = json.dumps(PLACEHOLDER, ensure_ascii=True)
            assert text.count(placeholder) == 1, (target, text)
            text = text.replace(placeholder, value.json)
        content = text.encode("ascii")
    return target.method.upper(), url, content


async def attack(bench: Bench, target: Target, value: Hostile) -> str | None:
    """Send one hostile request; what is wrong with the outcome, if anything."""
    redis = bench.app.ctx.redis
    limits = [key async for key in redis.scan_iter(match="ratelimit:*")]
    if limits:  # a route's rate limit must not stand in for its validation
        await redis.delete(*limits)
    method, url, content = request_for(bench, target, value)
    headers = dict(bench.headers[bench.audience[(target.method, target.path)]])
    if content is not None:
        headers["content-type"] = "application/json"
    before = await fingerprint(bench)
    response = await bench.http.request(method, url, content=content, headers=headers)
    after = await fingerprint(bench)
    problems = []
    answer = envelope_problem(
        response.status_code, response.headers.get("content-type", ""), response.content
    )
    if answer:
        problems.append(answer)
    else:
        error = response.json()["error"]
        router_refused = (
            target.where == "path"
            and target.kind == "integer"
            and response.status_code == 404
            and error["code"] == "http.not_found"
        )
        first = REFUSED_FIRST.get((target.where, target.name))
        refused_first = first == (response.status_code, error["code"])
        validated = response.status_code == 400 and named(error, target, value)
        if not (router_refused or refused_first or validated):
            problems.append(
                f"{response.status_code} {error['code']} does not refuse the field: "
                f"{response.text[:300]}"
            )
    if before != after:
        problems.append("wrote: " + "; ".join(_changed(before, after, bench.fingerprint_sql)))
    if not problems:
        return None
    return f"{target} <- {value.label}: " + " | ".join(problems)


async def sweep(bench: Bench, targets: list[Target]) -> tuple[int, list[str]]:
    """Every fixed hostile value in every target; (requests sent, failures)."""
    sent, failures = 0, []
    for target in targets:
        for value in fixed_values(target):
            sent += 1
            failure = await attack(bench, target, value)
            if failure:
                failures.append(failure)
    return sent, failures


def _report(failures: list[str], sent: int, fields: int, seconds: float) -> str:
    shown = int(os.environ.get("ZB_HOSTILE_REPORT", "60"))
    return (
        f"{len(failures)} of {sent} hostile requests were not refused cleanly "
        f"({fields} fields, {seconds:.1f} s):\n" + "\n".join(failures[:shown])
    )


async def test_each_hostile_value_in_each_field(bench: Bench) -> None:
    started = time.monotonic()
    assert len(bench.targets) > 100, f"only {len(bench.targets)} targets in the document"
    kinds = {(t.where, t.kind) for t in bench.targets}
    assert kinds >= {("path", "integer"), ("query", "string"), ("body", "string")}, kinds
    targets = bench.targets
    sent, failures = await sweep(bench, targets)
    seconds = time.monotonic() - started
    assert not failures, _report(failures, sent, len(targets), seconds)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_hostile_values(bench: Bench, data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(bench.targets), label="target")
    value = data.draw(hostile_values(target), label="value")
    failure = await attack(bench, target, value)
    assert failure is None, failure
