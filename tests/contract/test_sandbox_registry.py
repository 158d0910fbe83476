"""The company registry peer over HTTP, and the validity of its demo records."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.identifiers import (
    id_number_check_char,
    is_valid_id_number,
    is_valid_uscc,
    uscc_check_char,
)
from sandbox.registry import DEMO_COMPANIES, CompanyRecord

NEW_COMPANY = {
    "uscc": "91110000600037341L",
    "name": "示例新设有限公司",
    "legal_rep_name": "赵强",
    "legal_rep_id_number": "440305199006060049",
}


@pytest.fixture
def registry(peer: httpx.Client) -> Iterator[httpx.Client]:
    assert peer.post("/registry/_control/reset").status_code == 200
    yield peer


def test_identifier_check_characters_agree_with_the_standards() -> None:
    assert uscc_check_char("91110000600037341") == "L"
    assert id_number_check_char("36042619910101007") == "1"
    assert is_valid_uscc("91110000600037341L")
    assert not is_valid_uscc("91110000600037341M")
    assert not is_valid_uscc("91110000600037341I")  # I is not in the alphabet
    assert is_valid_id_number("360426199101010071")
    assert not is_valid_id_number("360426199102300071")  # 30 February


def test_demo_companies_are_valid_and_distinct() -> None:
    assert len(DEMO_COMPANIES) == 3
    assert len({c.uscc for c in DEMO_COMPANIES}) == 3
    for company in DEMO_COMPANIES:
        assert is_valid_uscc(company.uscc), company
        assert is_valid_id_number(company.legal_rep_id_number), company
        assert company.name and company.legal_rep_name


@pytest.mark.parametrize("company", DEMO_COMPANIES, ids=lambda c: c.uscc)
def test_demo_companies_are_served(registry: httpx.Client, company: CompanyRecord) -> None:
    response = registry.get(f"/registry/companies/{company.uscc}")
    assert response.status_code == 200
    assert response.json() == company.to_json()
    assert set(response.json()) == {"uscc", "name", "legal_rep_name", "legal_rep_id_number"}


def test_unknown_company_is_not_found(registry: httpx.Client) -> None:
    response = registry.get(f"/registry/companies/{NEW_COMPANY['uscc']}")
    assert response.status_code == 404 and response.json() == {"error": "not_found"}


def test_code_with_a_wrong_check_character_is_refused(registry: httpx.Client) -> None:
    response = registry.get("/registry/companies/91110000600037341M")
    assert response.status_code == 400 and response.json() == {"error": "invalid_uscc"}


def test_control_adds_a_company(registry: httpx.Client) -> None:
    added = registry.post("/registry/_control/company", json=NEW_COMPANY)
    assert added.status_code == 200
    response = registry.get(f"/registry/companies/{NEW_COMPANY['uscc']}")
    assert response.status_code == 200 and response.json() == NEW_COMPANY
    assert registry.get("/registry/_control/stats").json() == {
        "lookups": 1,
        "found": 1,
        "not_found": 0,
    }
    # Reset goes back to the demo companies only.
    registry.post("/registry/_control/reset")
    assert registry.get(f"/registry/companies/{NEW_COMPANY['uscc']}").status_code == 404


def test_control_refuses_invalid_records(registry: httpx.Client) -> None:
    bad_code = {**NEW_COMPANY, "uscc": "91110000600037341M"}
    assert registry.post("/registry/_control/company", json=bad_code).status_code == 400
    bad_id = {**NEW_COMPANY, "legal_rep_id_number": "440305199006060048"}
    assert registry.post("/registry/_control/company", json=bad_id).status_code == 400
    missing = {k: v for k, v in NEW_COMPANY.items() if k != "name"}
    response = registry.post("/registry/_control/company", json=missing)
    assert response.status_code == 400 and "name" in response.json()["message"]
