"""The HTTP edge: error envelope for every non-2xx, request ids, health and readiness, OpenAPI."""

from __future__ import annotations

import httpx
import pytest
from sanic import Sanic


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    # Messages are for citizens: Chinese text, never an English framework message.
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error["message"]
    assert isinstance(error["details"], dict)
    return error


async def test_unknown_route_is_404_envelope(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/no/such/thing"), 404, "http.not_found")


async def test_wrong_method_is_405_envelope(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/items")
    assert_envelope(response, 405, "http.method_not_allowed")


async def test_malformed_json_is_400_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/__test__/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    error = assert_envelope(response, 400, "request.validation_failed")
    assert error["details"]["fields"][0]["code"] == "malformed_json"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/xml",
        None,
    ],
)
async def test_a_body_not_declared_as_json_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    """A body is read as what it says it is: JSON under another media type is refused, not
    guessed at (a form post from another site cannot pass for the phone's request)."""
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post(
        "/__test__/echo", content=b'{"name": "\u5f20\u4e09", "count": 2}', headers=headers
    )
    assert_envelope(response, 415, "request.unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.x+json"]
)
async def test_json_media_types_pass(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(
        "/__test__/echo",
        content=b'{"name": "\u5f20\u4e09", "count": 2}',
        headers={"content-type": content_type},
    )
    assert response.status_code == 200, response.text


async def test_a_key_named_twice_is_refused(client: httpx.AsyncClient) -> None:
    """Which of two values counts would be up to the parser: neither is taken."""
    response = await client.post(
        "/__test__/echo",
        content=b'{"name": "\u5f20\u4e09", "count": 2, "count": 3}',
        headers={"content-type": "application/json"},
    )
    error = assert_envelope(response, 400, "request.validation_failed")
    assert error["details"]["fields"] == [
        {"field": "count", "code": "duplicate_key", "message": "同一字段出现了两次。"}
    ]


async def test_a_bad_character_is_named_by_the_path_the_schema_uses(
    client: httpx.AsyncClient,
) -> None:
    """``form.reason``, as a schema error names it, not ``body.form.reason``: a phone maps both
    to the same input (found from outside). A deep body's path, the client's own keys echoed
    back, is cut."""
    bad = await client.post("/__test__/echo", json={"form": {"reason": "a\u0000b"}, "count": 1})
    fields = assert_envelope(bad, 400, "request.validation_failed")["details"]["fields"]
    assert [(f["field"], f["code"]) for f in fields] == [("form.reason", "bad_text")]
    listed = await client.post("/__test__/echo", json={"items": ["ok", "\u0007"]})
    fields = assert_envelope(listed, 400, "request.validation_failed")["details"]["fields"]
    assert [f["field"] for f in fields] == ["items[1]"]
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["k" * 50] = {}
        node = node["k" * 50]
    answer = await client.post("/__test__/echo", json=deep)
    fields = assert_envelope(answer, 400, "request.validation_failed")["details"]["fields"]
    assert fields[0]["code"] == "too_deep" and len(fields[0]["field"]) <= 120
    assert len(answer.content) < 2000


async def test_validation_failure_names_every_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/__test__/echo", json={"name": "x", "count": 9, "extra": 1})
    error = assert_envelope(response, 400, "request.validation_failed")
    fields = {f["field"]: f for f in error["details"]["fields"]}
    assert set(fields) == {"name", "count"}
    assert fields["name"]["message"] == "至少需要 2 个字符。"
    assert fields["count"]["message"] == "不能大于 5。"


async def test_valid_body_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/__test__/echo", json={"name": "张三", "count": 2})
    assert response.status_code == 200
    assert response.json() == {"name": "张三", "count": 2}


async def test_unexpected_error_hides_internals_and_gives_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/__test__/boom")
    error = assert_envelope(response, 500, "server.internal_error")
    assert "passwd" not in response.text and "Traceback" not in response.text
    assert error["details"]["request_id"] == response.headers["x-request-id"]


async def test_request_id_on_every_response(client: httpx.AsyncClient) -> None:
    ok = await client.get("/healthz")
    missing = await client.get("/nowhere")
    ids = {ok.headers["x-request-id"], missing.headers["x-request-id"]}
    assert len(ids) == 2 and all(len(i) >= 8 for i in ids)


async def test_inbound_request_id_is_kept_when_well_formed(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "gateway-abc12345"})
    assert kept.headers["x-request-id"] == "gateway-abc12345"
    odd = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert odd.headers["x-request-id"] != "bad id\twith spaces"


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "object_store": "ok"}


async def test_readyz_names_the_failing_dependency(client: httpx.AsyncClient, clean) -> None:
    real = clean.ctx.redis

    class BrokenRedis:
        async def ping(self) -> None:
            raise ConnectionError("redis is down")

    clean.ctx.redis = BrokenRedis()
    try:
        response = await client.get("/readyz")
    finally:
        clean.ctx.redis = real
    error = assert_envelope(response, 503, "service.not_ready")
    assert error["details"]["failed"] == ["redis"]
    assert error["details"]["checks"]["database"] == "ok"


async def test_openapi_describes_every_public_endpoint(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/docs/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/items",
        "/api/v1/items/{code}",
        "/api/v1/departments",
        "/api/v1/departments/{code}",
        "/api/v1/themes",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
        operation = paths[path]["get"]
        assert "200" in operation["responses"], path
    search = paths["/api/v1/items"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"q", "cursor", "limit", "theme"}
    assert "404" in paths["/api/v1/items/{code}"]["get"]["responses"]
    docs = await client.get("/docs")
    assert docs.status_code == 200


async def test_a_client_that_hangs_up_is_not_a_server_error(app: Sanic) -> None:
    """Sanic cancels the handler of a request whose client closed the connection: that is
    recorded as 499 at info, not as a 500 with a traceback (found from outside: every dropped
    request showed up as a server error)."""
    from sanic.exceptions import RequestCancelled

    handler = app.error_handler.lookup(RequestCancelled(), None)
    assert handler is not None
    request = type("Req", (), {"path": "/api/v1/x", "ctx": type("C", (), {})()})()
    response = await handler(request, RequestCancelled())
    assert response.status == 499
    assert b"http.client_closed" in response.body


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "5.0"}, "limit"),
        ({"limit": "1e1"}, "limit"),
        ({"limit": "true"}, "limit"),
        ({"paid": "yes"}, "paid"),
        ({"paid": "1"}, "paid"),
        ({"paid": "on"}, "paid"),
    ],
)
async def test_a_query_string_is_read_as_written(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    """A number in digits, a boolean as true or false: found from outside, ``limit=5.0`` was 5
    and ``unread=yes`` was true."""
    error = assert_envelope(
        await client.get("/api/v1/items", params=params), 400, "request.validation_failed"
    )
    assert [f["field"] for f in error["details"]["fields"]] == [field]


async def test_a_query_string_as_the_document_says_passes(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/items", params={"limit": " 5 ", "paid": "false"})
    assert answer.status_code == 200, answer.text
