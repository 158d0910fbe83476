"""The identity-check provider peer over HTTP: outcomes, failures and the per-call bill."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

ID_NUMBER = "360426199101010071"
OTHER_ID_NUMBER = "360402198503150020"


@pytest.fixture
def realname(peer: httpx.Client) -> Iterator[httpx.Client]:
    assert peer.post("/realname/_control/reset").status_code == 200
    yield peer


def verify(http: httpx.Client, name: str, id_number: str) -> httpx.Response:
    return http.post("/realname/verify", json={"name": name, "id_number": id_number})


def test_any_valid_id_number_matches_by_default(realname: httpx.Client) -> None:
    response = verify(realname, "任何人", ID_NUMBER)
    assert response.status_code == 200 and response.json() == {"result": "match"}


def test_an_id_number_that_cannot_exist_never_matches(realname: httpx.Client) -> None:
    assert verify(realname, "李明", "360426199101010072").json() == {"result": "mismatch"}
    assert verify(realname, "李明", "360426199113010071").json() == {"result": "mismatch"}


def test_registered_person_matches_only_their_own_name(realname: httpx.Client) -> None:
    person = {"id_number": ID_NUMBER, "name": "李明"}
    added = realname.post("/realname/_control/person", json=person)
    assert added.status_code == 200
    assert verify(realname, "李明", ID_NUMBER).json() == {"result": "match"}
    assert verify(realname, "李鸣", ID_NUMBER).json() == {"result": "mismatch"}
    assert verify(realname, "李鸣", OTHER_ID_NUMBER).json() == {"result": "match"}


@pytest.mark.parametrize("outcome", ["match", "mismatch"])
def test_configured_outcome_wins(realname: httpx.Client, outcome: str) -> None:
    realname.post("/realname/_control/person", json={"id_number": ID_NUMBER, "name": "李明"})
    configured = realname.post(
        "/realname/_control/outcome", json={"id_number": ID_NUMBER, "outcome": outcome}
    )
    assert configured.status_code == 200
    assert verify(realname, "别人", ID_NUMBER).json() == {"result": outcome}
    assert verify(realname, "李明", ID_NUMBER).json() == {"result": outcome}


def test_unavailable_provider_answers_503(realname: httpx.Client) -> None:
    realname.post(
        "/realname/_control/outcome", json={"id_number": ID_NUMBER, "outcome": "unavailable"}
    )
    response = verify(realname, "李明", ID_NUMBER)
    assert response.status_code == 503 and response.json() == {"error": "unavailable"}
    assert verify(realname, "李明", OTHER_ID_NUMBER).status_code == 200


def test_malformed_requests_are_refused(realname: httpx.Client) -> None:
    assert realname.post("/realname/verify", json={"name": "李明"}).status_code == 400
    assert realname.post("/realname/verify", content=b"{oops").status_code == 400
    response = realname.post("/realname/verify", json={"name": 1, "id_number": ID_NUMBER})
    assert response.status_code == 400 and response.json()["error"] == "bad_request"


@pytest.mark.parametrize(
    "id_number",
    [
        "36042619910101007x",  # lower-case check character
        "３６０４２６１９９１０１０１００７１",  # full-width digits
        " 360426199101010071",  # not trimmed
        "36042619910101007",  # 17 characters
        "3604261991010100711",  # 19 characters
        "36042619910101X071",  # X before the last place
    ],
    ids=["lower-x", "full-width", "space", "short", "long", "x-inside"],
)
def test_an_id_number_of_the_wrong_shape_is_a_bad_request_not_billed(
    realname: httpx.Client, id_number: str
) -> None:
    """The caller normalises (upper-case X, half-width digits, no spaces); the provider refuses
    anything else without billing it, so an adapter that forgets is caught here."""
    response = verify(realname, "李明", id_number)
    assert response.status_code == 400 and response.json()["error"] == "bad_request"
    blank_name = realname.post("/realname/verify", json={"name": "  ", "id_number": ID_NUMBER})
    assert blank_name.status_code == 400
    stats = realname.get("/realname/_control/stats").json()
    assert stats["billed"] == 0 and stats["rejected"] == 2
    assert verify(realname, "李明", "11010819781120006X").json() == {"result": "match"}


def test_stats_count_every_call_and_bill_only_answers(realname: httpx.Client) -> None:
    realname.post(
        "/realname/_control/outcome", json={"id_number": OTHER_ID_NUMBER, "outcome": "unavailable"}
    )
    realname.post("/realname/_control/person", json={"id_number": ID_NUMBER, "name": "李明"})
    verify(realname, "李明", ID_NUMBER)
    verify(realname, "别人", ID_NUMBER)
    verify(realname, "李明", OTHER_ID_NUMBER)
    realname.post("/realname/verify", json={})
    stats = realname.get("/realname/_control/stats").json()
    assert stats == {
        "calls": 4,
        "billed": 2,
        "match": 1,
        "mismatch": 1,
        "unavailable": 1,
        "rejected": 1,
    }


def test_controls_refuse_bad_requests(realname: httpx.Client) -> None:
    bad_outcome = {"id_number": ID_NUMBER, "outcome": "maybe"}
    assert realname.post("/realname/_control/outcome", json=bad_outcome).status_code == 400
    bad_person = {"id_number": "360426199101010072", "name": "李明"}
    assert realname.post("/realname/_control/person", json=bad_person).status_code == 400
    no_name = {"id_number": ID_NUMBER}
    assert realname.post("/realname/_control/person", json=no_name).status_code == 400


def test_reset_forgets_configuration_and_counts(realname: httpx.Client) -> None:
    outcome = {"id_number": ID_NUMBER, "outcome": "mismatch"}
    realname.post("/realname/_control/outcome", json=outcome)
    verify(realname, "李明", ID_NUMBER)
    realname.post("/realname/_control/reset")
    assert verify(realname, "李明", ID_NUMBER).json() == {"result": "match"}
    assert realname.get("/realname/_control/stats").json()["calls"] == 1
