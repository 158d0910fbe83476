"""Every foreign key leads an index, in the schema the migrations built (both dialects).

PostgreSQL does not index a referencing column by itself. Without one, a lookup by that column
(the review tasks of a case, the mandates of a user, the companies a person represents) and every
cascade from the referenced row read the whole table: 250 ms for the tasks of one case among 1.8
million (bench/cases.sh's data).
"""

from __future__ import annotations

from sanic import Sanic
from tortoise import connections

from tests.conftest import PROFILE


async def _unindexed_foreign_keys() -> list[str]:
    conn = connections.get("default")
    if PROFILE == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT c.conrelid::regclass::text AS tbl, a.attname AS col FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND NOT EXISTS (SELECT 1 FROM pg_index i "
            "WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])"
        )
        return sorted(f"{r['tbl']}.{r['col']}" for r in rows)
    tables = await conn.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    missing = []
    for table in (t["name"] for t in tables):
        leading = set()
        for index in await conn.execute_query_dict(f'PRAGMA index_list("{table}")'):
            columns = await conn.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
            leading |= {c["name"] for c in columns if c["seqno"] == 0}
        for key in await conn.execute_query_dict(f'PRAGMA foreign_key_list("{table}")'):
            if key["from"] not in leading:
                missing.append(f"{table}.{key['from']}")
    return sorted(missing)


async def test_every_foreign_key_leads_an_index(clean: Sanic) -> None:
    assert await _unindexed_foreign_keys() == []
