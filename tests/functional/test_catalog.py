"""The public catalogue over HTTP: search (Chinese, pinyin, initials), filters, paging, guides."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sanic import Sanic

from catalog import service as catalog
from core.clock import utcnow
from tests import factories
from tests.functional.test_http_edge import assert_envelope


@pytest.fixture
async def world(clean: Sanic) -> dict[str, Any]:
    """Two departments, two themes and four items of different kinds."""
    police = factories.department(name="测试市公安局")
    civil = factories.department(name="测试市民政局", level="county", parent=police["code"])
    birth = factories.theme(name="出生")
    start = factories.theme(name="开办企业", category="business_event")
    items = {
        "renew": factories.guide(
            lead_department=police["code"],
            name="居民身份证换领",
            keywords=["身份证", "换证"],
            fee={"amount_fen": 2000, "basis": "发改价格〔2003〕2322号"},
            online_payment=True,
            themes=[birth["code"]],
        ),
        "lost": factories.guide(
            lead_department=police["code"],
            name="居民身份证补领",
            audience="both",
            handling_mode="on_site",
        ),
        "marry": factories.guide(
            lead_department=civil["code"],
            name="结婚登记",
            themes=[birth["code"]],
        ),
        "company": factories.guide(
            lead_department=civil["code"],
            parallel_departments=[police["code"]],
            name="企业设立登记",
            audience="company",
            themes=[start["code"]],
            express_delivery=True,
            delivery_methods=["express", "electronic"],
        ),
    }
    await factories.imported(
        clean, departments=[police, civil], themes=[birth, start], items=list(items.values())
    )
    return {"police": police, "civil": civil, "birth": birth, "start": start, "items": items}


def names(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["name"] for item in response.json()["items"]}


@pytest.mark.parametrize("query", ["身份证", "sfz", "SFZ", "shenfenzheng", "ShenFen", "ｓｆｚ"])
async def test_search_finds_id_card_items_by_chinese_pinyin_and_initials(
    client: httpx.AsyncClient, world: dict[str, Any], query: str
) -> None:
    assert names(await client.get("/api/v1/items", params={"q": query})) == {
        "居民身份证换领",
        "居民身份证补领",
    }


async def test_search_by_keyword_and_its_initials(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    assert names(await client.get("/api/v1/items", params={"q": "hz"})) == {"居民身份证换领"}
    assert names(await client.get("/api/v1/items", params={"q": "jhdj"})) == {"结婚登记"}


async def test_search_without_match_is_empty_not_an_error(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    response = await client.get("/api/v1/items", params={"q": "火星移民"})
    assert response.json() == {"items": [], "next_cursor": None}


async def test_like_wildcards_are_literal(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    assert names(await client.get("/api/v1/items", params={"q": "%"})) == set()
    assert names(await client.get("/api/v1/items", params={"q": "_"})) == set()


async def test_filters(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    police, civil = world["police"]["code"], world["civil"]["code"]
    get = client.get
    assert names(await get("/api/v1/items", params={"department": civil})) == {
        "结婚登记",
        "企业设立登记",
    }
    # a parallel department finds the items it takes part in
    assert "企业设立登记" in names(await get("/api/v1/items", params={"department": police}))
    assert names(await get("/api/v1/items", params={"audience": "company"})) == {
        "企业设立登记",
        "居民身份证补领",
    }
    assert names(await get("/api/v1/items", params={"theme": world["birth"]["code"]})) == {
        "居民身份证换领",
        "结婚登记",
    }
    assert names(await get("/api/v1/items", params={"paid": "true"})) == {"居民身份证换领"}
    assert "居民身份证换领" not in names(await get("/api/v1/items", params={"paid": "false"}))
    assert names(await get("/api/v1/items", params={"handling_mode": "on_site"})) == {
        "居民身份证补领"
    }
    assert names(
        await get("/api/v1/items", params={"q": "sfz", "department": police, "paid": "false"})
    ) == {"居民身份证补领"}


async def test_cursor_paging_walks_every_item_once(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/items", params=params)).json()
        assert len(page["items"]) <= 3
        seen += [item["code"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(i["code"] for i in world["items"].values())
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"cursor": "garbage"}, "cursor", "invalid_cursor"),
        ({"cursor": "A" * 600}, "cursor", "string_too_long"),
        ({"limit": "0"}, "limit", "greater_than_equal"),
        ({"limit": "100000"}, "limit", "out_of_range"),
        ({"limit": "ten"}, "limit", "int_parsing"),
        ({"q": "a" * 10_000}, "q", "string_too_long"),
        ({"q": "证" * 51}, "q", "string_too_long"),
        ({"q": "sfz\x00"}, "q", "bad_text"),
        ({"q": "a\nb"}, "q", "control_chars"),
        ({"audience": "alien"}, "audience", "enum"),
        ({"paid": "maybe"}, "paid", "bool_parsing"),
    ],
)
async def test_bad_search_input_is_a_precise_400(
    client: httpx.AsyncClient, world: dict[str, Any], params: dict[str, str], field: str, code: str
) -> None:
    error = assert_envelope(
        await client.get("/api/v1/items", params=params), 400, "request.validation_failed"
    )
    assert [(f["field"], f["code"]) for f in error["details"]["fields"]] == [(field, code)]


async def test_forged_cursor_is_refused(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    page = (await client.get("/api/v1/items", params={"limit": 1})).json()
    forged = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
    error = assert_envelope(
        await client.get("/api/v1/items", params={"cursor": forged}),
        400,
        "request.validation_failed",
    )
    assert error["details"]["fields"][0]["code"] == "invalid_cursor"


async def test_unknown_department_or_theme_filter_is_404(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    assert_envelope(
        await client.get("/api/v1/items", params={"department": "NOPE"}),
        404,
        "catalog.department_not_found",
    )
    assert_envelope(
        await client.get("/api/v1/items", params={"theme": "nope"}), 404, "catalog.theme_not_found"
    )


async def test_guide_has_every_element(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    item = world["items"]["company"]
    response = await client.get(f"/api/v1/items/{item['code']}")
    assert response.status_code == 200
    guide = response.json()
    for key in (
        "code",
        "name",
        "kind",
        "legal_basis",
        "lead_department",
        "parallel_departments",
        "audience",
        "statutory_limit_days",
        "promised_limit_days",
        "result",
        "fee",
        "materials",
        "form_schema",
        "process_steps",
        "handling_mode",
        "min_realname_level",
        "appointment",
        "online_payment",
        "express_delivery",
        "delivery_methods",
        "handling_place",
        "handling_hours",
        "enquiry_phone",
        "complaint_phone",
        "version",
    ):
        assert key in guide, key
    assert guide["version"] == 1
    assert [(d["code"], d["role"]) for d in guide["departments"]] == [
        (world["civil"]["code"], "lead"),
        (world["police"]["code"], "parallel"),
    ]
    assert guide["departments"][0]["name"] == "测试市民政局"
    assert guide["themes"] == [{"code": world["start"]["code"], "name": "开办企业"}]
    assert guide["materials"][0]["code"] == item["materials"][0]["code"]


async def test_unknown_item_is_404(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    error = assert_envelope(await client.get("/api/v1/items/NOPE-1"), 404, "catalog.item_not_found")
    assert error["details"] == {"code": "NOPE-1"}


async def test_publishing_a_new_version_changes_guide_and_search_at_once(
    client: httpx.AsyncClient, world: dict[str, Any], clean: Sanic
) -> None:
    item = world["items"]["marry"]
    # warm both caches
    assert (await client.get(f"/api/v1/items/{item['code']}")).json()["name"] == "结婚登记"
    assert "结婚登记" in names(await client.get("/api/v1/items", params={"q": "jh"}))

    draft = await catalog.create_draft(guide={**item, "name": "婚姻登记（结婚）"}, actor="t")
    assert draft["version"] == 2 and draft["status"] == "draft"
    # a draft changes nothing the public sees
    assert (await client.get(f"/api/v1/items/{item['code']}")).json()["name"] == "结婚登记"

    await catalog.publish(code=item["code"], number=2, cache=clean.ctx.catalog_cache, now=utcnow())
    guide = (await client.get(f"/api/v1/items/{item['code']}")).json()
    assert (guide["name"], guide["version"]) == ("婚姻登记（结婚）", 2)
    assert "婚姻登记（结婚）" in names(await client.get("/api/v1/items", params={"q": "hydj"}))

    versions = (await catalog.list_versions(code=item["code"]))["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "retired"), (2, "published")]
    # the retired version keeps its exact guide for the cases filed under it
    assert versions[0]["guide"]["name"] == "结婚登记"


async def test_published_version_never_changes(world: dict[str, Any]) -> None:
    item = world["items"]["marry"]
    with pytest.raises(catalog.VersionNotDraft):
        await catalog.update_draft(code=item["code"], number=1, guide=item, actor="t")
    with pytest.raises(catalog.VersionNotDraft):
        await catalog.publish(code=item["code"], number=1, cache=None, now=utcnow())


async def test_retired_item_leaves_the_catalogue(
    client: httpx.AsyncClient, world: dict[str, Any], clean: Sanic
) -> None:
    item = world["items"]["marry"]
    await catalog.retire(code=item["code"], number=1, cache=clean.ctx.catalog_cache, now=utcnow())
    assert_envelope(
        await client.get(f"/api/v1/items/{item['code']}"), 404, "catalog.item_not_found"
    )
    assert "结婚登记" not in names(await client.get("/api/v1/items"))


async def test_departments_and_themes(client: httpx.AsyncClient, world: dict[str, Any]) -> None:
    all_depts = (await client.get("/api/v1/departments")).json()["departments"]
    assert {d["code"] for d in all_depts} == {world["police"]["code"], world["civil"]["code"]}
    county = (await client.get("/api/v1/departments", params={"level": "county"})).json()
    assert [d["name"] for d in county["departments"]] == ["测试市民政局"]
    children = await client.get("/api/v1/departments", params={"parent": world["police"]["code"]})
    assert [d["code"] for d in children.json()["departments"]] == [world["civil"]["code"]]
    one = (await client.get(f"/api/v1/departments/{world['civil']['code']}")).json()
    assert one["parent"] == world["police"]["code"]
    assert_envelope(
        await client.get("/api/v1/departments/NOPE"), 404, "catalog.department_not_found"
    )
    assert_envelope(
        await client.get("/api/v1/departments", params={"parent": "NOPE"}),
        404,
        "catalog.department_not_found",
    )
    assert_envelope(
        await client.get("/api/v1/departments", params={"level": "galaxy"}),
        400,
        "request.validation_failed",
    )
    themes = (await client.get("/api/v1/themes", params={"category": "business_event"})).json()
    assert [t["name"] for t in themes["themes"]] == ["开办企业"]
    assert_envelope(
        await client.get("/api/v1/themes", params={"category": "x"}),
        400,
        "request.validation_failed",
    )


async def test_search_uses_a_constant_number_of_queries(
    client: httpx.AsyncClient, clean: Sanic
) -> None:
    """Page size does not change how many queries a search runs (it is one query)."""
    dept = factories.department()
    await factories.imported(
        clean,
        departments=[dept],
        items=[factories.guide(lead_department=dept["code"]) for _ in range(30)],
    )
    counts = []
    for limit in (1, 25):
        with count_queries() as counter:
            assert (await client.get("/api/v1/items", params={"limit": limit})).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] == 1


class _Counter:
    count = 0


def count_queries() -> Any:
    """Count the SQL statements the default connection runs inside the block."""
    import contextlib

    from tortoise import connections

    @contextlib.contextmanager
    def counting() -> Any:
        conn = connections.get("default")
        counter = _Counter()
        originals = {}
        for name in ("execute_query", "execute_query_dict"):
            original = getattr(conn, name)
            originals[name] = original

            async def wrapped(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                counter.count += 1
                return await _original(*args, **kwargs)

            setattr(conn, name, wrapped)
        try:
            yield counter
        finally:
            for name, original in originals.items():
                setattr(conn, name, original)

    return counting()
