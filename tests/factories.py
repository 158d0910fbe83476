"""Factories for catalogue data: valid by default, each call distinct, overrides by keyword;
and ``imported``, a catalogue of them in the test application."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from sanic import Sanic

from catalog import service as catalog
from core.clock import utcnow

_seq = itertools.count(1)


def department(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {
        "code": f"DEPT-{n:04d}",
        "name": f"测试市第{n}局",
        "level": "city",
        "parent": None,
        "region_code": "360100",
        "address": f"测试市人民路{n}号",
        "hours": "周一至周五 9:00-17:00",
        "phone": "0791-88880000",
    }
    data.update(overrides)
    return data


def theme(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {"code": f"theme-{n}", "name": f"主题{n}", "category": "life_event", "description": ""}
    data.update(overrides)
    return data


def material(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {
        "code": f"mat-{n}",
        "name": f"申请材料{n}",
        "requirement": "required",
        "formats": ["jpg", "png", "pdf"],
        "max_files": 2,
        "form": "original",
        "elicence_accepted": False,
        "notes": "",
    }
    data.update(overrides)
    return data


def guide(*, lead_department: str, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data: dict[str, Any] = {
        "code": f"ITEM-{n:04d}",
        "name": f"测试事项{n}",
        "kind": "administrative_licence",
        "legal_basis": ["《中华人民共和国行政许可法》"],
        "lead_department": lead_department,
        "parallel_departments": [],
        "audience": "person",
        "statutory_limit_days": 20,
        "promised_limit_days": 10,
        "result": {"name": "测试证明"},
        "fee": {"amount_fen": 0, "basis": ""},
        "materials": [material(), material()],
        "form_schema": {
            "type": "object",
            "properties": {"reason": {"type": "string", "title": "申请原因"}},
            "required": ["reason"],
        },
        "process_steps": [{"name": "申请"}, {"name": "受理"}, {"name": "决定"}],
        "handling_mode": "fully_online",
        "min_realname_level": 1,
        "delivery_methods": ["electronic"],
        "enquiry_phone": "0791-12345678",
        "complaint_phone": "12345",
        "themes": [],
        "keywords": [],
    }
    data.update(overrides)
    return copy.deepcopy(data)


def catalog_file(
    departments: list[dict[str, Any]] | None = None,
    themes: list[dict[str, Any]] | None = None,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "format_version": 1,
        "departments": departments or [],
        "themes": themes or [],
        "items": items or [],
    }


async def imported(app: Sanic, *, publish: bool = True, **parts: Any) -> dict[str, Any]:
    """``catalog_file(**parts)`` imported into ``app`` as an operator would, its items published
    unless ``publish=False``; the import's report."""
    return await catalog.import_catalog(
        document=catalog_file(**parts),
        publish_items=publish,
        actor="test",
        cache=app.ctx.catalog_cache,
        now=utcnow(),
    )
