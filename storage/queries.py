"""The storage context's plain SQL, and nowhere else: reads asked so often (an upload intent with
every photo a phone takes, a case's files with every look at the case) that the ORM's query
builder and model building cost more than the statement.

Table names come from the models; each statement names the ORM read it mirrors, which must answer
the same. Placeholders are PostgreSQL's ``$n`` (``core.db.fetch_rows`` rewrites them for SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.db import SqlParams, fetch_models, fetch_rows
from storage.models import Upload, UploadStatus

_UPLOAD = Upload._meta.db_table

#: A file still counts (against a material's limit, in a case's list) in these states.
LIVE = (UploadStatus.pending.value, UploadStatus.processing.value, UploadStatus.ready.value)


async def live_file_count(
    *,
    user_id: int | None,
    company_id: int | None,
    staff_id: int | None,
    item_code: str | None,
    material_code: str | None,
    case_id: int | None,
) -> int:
    """How many live files the owner has for this material, of this case or of no case.

    ORM twin: ``Upload.filter(owner_q, item_code=…, material_code=…, case_id=…,
    status__in=LIVE).count()`` with the owner filter of ``storage.service``."""
    p = SqlParams()
    if staff_id is not None:
        who = (
            f'"uploaded_by" = {p(f"s:{staff_id}")} '
            'AND "owner_user_id" IS NULL AND "company_id" IS NULL'
        )
    elif company_id is not None:
        who = f'"company_id" = {p(company_id)}'
    else:
        who = f'"owner_user_id" = {p(user_id)} AND "company_id" IS NULL'
    item = '"item_code" IS NULL' if item_code is None else f'"item_code" = {p(item_code)}'
    case = '"case_id" IS NULL' if case_id is None else f'"case_id" = {p(case_id)}'
    material = (
        '"material_code" IS NULL'
        if material_code is None
        else f'"material_code" = {p(material_code)}'
    )
    rows = await fetch_rows(
        f'SELECT count(*) AS "n" FROM "{_UPLOAD}" WHERE {who} AND {item} '
        f'AND {material} AND {case} AND "status" IN ({p.many(LIVE)})',
        p.values,
    )
    return int(rows[0]["n"])


async def live_files_of_case(case_id: int, *, fields: Sequence[str]) -> list[Upload]:
    """The live files of a case, oldest first, with only ``fields`` loaded.

    ORM twin: ``Upload.filter(case_id=…, status__in=LIVE).order_by("created_at", "id")
    .only(*fields)``."""
    return await fetch_models(
        Upload,
        '"case_id" = $1 AND "status" IN ($2, $3, $4)',
        [case_id, *LIVE],
        fields=fields,
        order_by='"created_at", "id"',
    )
