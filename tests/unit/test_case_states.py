"""The case state machine as data (``cases.states``): every state reachable from a draft, no
exit from a final state, no dead end elsewhere, every transition takeable by someone, every
state labelled for the phone."""

from __future__ import annotations

import pytest

from cases.states import (
    CLOCK_PAUSED,
    CLOCK_RUNNING,
    EDITABLE,
    FINAL_STATES,
    RATEABLE,
    STATUS_LABELS,
    TRANSITIONS,
    CaseStatus,
    Role,
    exits,
    reachable_from,
)

STATES = list(CaseStatus)


def test_every_state_is_reachable_from_a_draft() -> None:
    assert reachable_from(CaseStatus.draft) == set(CaseStatus)


@pytest.mark.parametrize("state", sorted(FINAL_STATES), ids=str)
def test_a_final_state_has_no_exit(state: CaseStatus) -> None:
    assert exits(state) == []
    assert reachable_from(state) == {state}


@pytest.mark.parametrize("state", [s for s in STATES if s not in FINAL_STATES], ids=str)
def test_every_other_state_leads_on_and_can_still_end(state: CaseStatus) -> None:
    assert exits(state), f"{state} is a dead end but not final"
    assert reachable_from(state) & FINAL_STATES, f"{state} can never finish"


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_every_transition_is_well_formed(name: str) -> None:
    transition = TRANSITIONS[name]
    assert transition.name == name
    assert transition.roles, "nobody may take it"
    assert transition.roles <= set(Role)
    assert transition.from_states, "it leaves from nowhere"
    assert transition.to not in transition.from_states, "a transition moves the case"
    assert not transition.from_states & FINAL_STATES, "it leaves a final state"
    assert transition.label.strip()


def test_the_applicant_never_decides_and_staff_never_apply() -> None:
    applicant = {t.name for t in TRANSITIONS.values() if Role.applicant in t.roles}
    assert applicant == {"submit", "resubmit", "resubmit_in_review", "withdraw"}
    for transition in TRANSITIONS.values():
        if Role.applicant in transition.roles:
            assert transition.roles == {Role.applicant}, transition.name
    # The supervisor reads and urges; it moves no case.
    assert all(Role.supervisor not in t.roles for t in TRANSITIONS.values())


def test_only_the_system_accepts_by_article_32_and_records_the_fee() -> None:
    for name in ("auto_accept", "require_fee", "await_result", "fee_paid", "lapse"):
        assert TRANSITIONS[name].roles == {Role.system}, name


def test_every_state_has_a_chinese_label() -> None:
    assert set(STATUS_LABELS) == set(CaseStatus)
    for state, label in STATUS_LABELS.items():
        assert label.strip(), state
        assert any("\u4e00" <= c <= "\u9fff" for c in label), (state, label)
    assert len(set(STATUS_LABELS.values())) == len(STATUS_LABELS), "two states look the same"


def test_the_state_groups_are_consistent() -> None:
    assert RATEABLE <= FINAL_STATES
    assert not EDITABLE & FINAL_STATES
    assert not (CLOCK_RUNNING | CLOCK_PAUSED) & FINAL_STATES
    assert not CLOCK_RUNNING & CLOCK_PAUSED
    # Withdrawal is possible until the decision, and while a granted case's fee is unpaid.
    assert TRANSITIONS["withdraw"].from_states == {
        CaseStatus.submitted,
        CaseStatus.correction_requested,
        CaseStatus.accepted,
        CaseStatus.in_review,
        CaseStatus.suspended,
        CaseStatus.fee_due,
    }


def test_the_documented_statuses_are_the_states() -> None:
    from typing import get_args

    from api.schemas import CaseStatusName

    assert set(get_args(CaseStatusName)) == {s.value for s in CaseStatus}
