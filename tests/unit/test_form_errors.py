"""An application form against its item's JSON Schema: formats are checked, not only annotated."""

from __future__ import annotations

from cases.filing import form_errors
from catalog.schemas import Guide
from tests import factories


def _guide() -> Guide:
    return Guide.model_validate(
        factories.guide(
            lead_department="DEPT-1",
            form_schema={
                "type": "object",
                "properties": {
                    "loss_date": {"type": "string", "format": "date", "title": "遗失日期"},
                    "reason": {"type": "string", "title": "申请原因"},
                },
                "required": ["reason"],
            },
        )
    )


def test_a_date_that_is_no_date_is_refused_with_its_title() -> None:
    guide = _guide()
    for bad in ("2026-13-45", "2026-02-30", "yesterday", "2026/12/01"):
        errors = form_errors(guide, {"reason": "丢失", "loss_date": bad}, complete=True)
        assert [(e["field"], e["code"], e["label"]) for e in errors] == [
            ("form.loss_date", "format", "遗失日期")
        ], bad
        assert "遗失日期" in errors[0]["message"]
    assert form_errors(guide, {"reason": "丢失", "loss_date": "2026-12-01"}, complete=True) == []
