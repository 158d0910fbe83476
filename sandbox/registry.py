"""The company registry (企业登记信息), as a peer: who a company is and who its legal rep is.

``GET /sandbox/registry/companies/<uscc>`` answers
``{"uscc", "name", "legal_rep_name", "legal_rep_id_number"}``, HTTP 404 ``{"error": "not_found"}``
for a code it does not know, and HTTP 400 ``{"error": "invalid_uscc"}`` for a code whose GB 32100
check character is wrong (no registry can hold it, and telling the two apart helps the user fix a
typo). It starts with ``DEMO_COMPANIES``, whose codes and legal-rep ID numbers are valid, so the
demo and the tests can bind a company without any set-up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from sandbox._http import add_state_controls, json_object, text_field
from sandbox.identifiers import is_valid_id_number, is_valid_uscc


@dataclass(frozen=True)
class CompanyRecord:
    """One registry entry, in the registry's own field names."""

    uscc: str
    name: str
    legal_rep_name: str
    legal_rep_id_number: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


#: Fictional companies with valid credit codes and valid legal-rep ID numbers (fictional people).
DEMO_COMPANIES: tuple[CompanyRecord, ...] = (
    CompanyRecord(
        uscc="91360402MA38KB0A1C",
        name="九江掌办示范科技有限公司",
        legal_rep_name="李明",
        legal_rep_id_number="360426199101010071",
    ),
    CompanyRecord(
        uscc="91110108MA01HB9C2M",
        name="北京海淀示范软件有限公司",
        legal_rep_name="王芳",
        legal_rep_id_number="360402198503150020",
    ),
    CompanyRecord(
        uscc="92440300MA5FWB7D3T",
        name="深圳市示范便利店",
        legal_rep_name="陈伟",
        legal_rep_id_number="110108197811200035",
    ),
)


class RegistrySandbox:
    """The registry's records (seeded with the demo companies) and lookup counts."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._companies: dict[str, CompanyRecord] = {c.uscc: c for c in DEMO_COMPANIES}
        self._counts: Counter[str] = Counter()

    def register(self, record: CompanyRecord) -> None:
        if not is_valid_uscc(record.uscc):
            raise ValueError("uscc fails the GB 32100 check")
        if not is_valid_id_number(record.legal_rep_id_number):
            raise ValueError("legal_rep_id_number fails the GB 11643 check")
        self._companies[record.uscc] = record

    def lookup(self, uscc: str) -> CompanyRecord | None:
        self._counts["lookups"] += 1
        record = self._companies.get(uscc)
        self._counts["found" if record else "not_found"] += 1
        return record

    def stats(self) -> dict[str, int]:
        return {key: self._counts[key] for key in ("lookups", "found", "not_found")}


def registry_blueprint(state: RegistrySandbox) -> Blueprint:
    """The registry's lookup route and its control routes, served from ``state``."""
    bp = Blueprint("sandbox_registry", url_prefix="/sandbox/registry")

    @bp.get("/companies/<uscc:str>", name="company")
    async def company(request: Request, uscc: str) -> HTTPResponse:
        if not is_valid_uscc(uscc):
            state.lookup(uscc)
            return json({"error": "invalid_uscc"}, status=400)
        record = state.lookup(uscc)
        if record is None:
            return json({"error": "not_found"}, status=404)
        return json(record.to_json(), ensure_ascii=False)

    @bp.post("/_control/company", name="control_company")
    async def add_company(request: Request) -> HTTPResponse:
        data = json_object(request) or {}
        fields = {
            key: text_field(data, key, max_length=128)
            for key in ("uscc", "name", "legal_rep_name", "legal_rep_id_number")
        }
        missing = sorted(key for key, value in fields.items() if value is None)
        if missing:
            return json(
                {"error": "bad_request", "message": "required: " + ", ".join(missing)}, status=400
            )
        record = CompanyRecord(
            uscc=str(fields["uscc"]),
            name=str(fields["name"]),
            legal_rep_name=str(fields["legal_rep_name"]),
            legal_rep_id_number=str(fields["legal_rep_id_number"]),
        )
        try:
            state.register(record)
        except ValueError as exc:
            return json({"error": "bad_request", "message": str(exc)}, status=400)
        return json(record.to_json(), ensure_ascii=False)

    add_state_controls(bp, state)
    return bp
