"""Staff roles, the workflow's steps and the timeline's roles are one vocabulary: the names an
API parameter accepts, the steps the permissions grant and the roles a timeline line records
must not drift apart (``auth.permissions.STEP_ACTIONS`` is the one mapping)."""

from __future__ import annotations

from typing import get_args

from auth.models import StaffRole, StaffRoleName
from auth.permissions import (
    HANDLING_ORDER,
    HANDLING_ROLES,
    STAFF_ACTIONS,
    STEP_ACTIONS,
    HandlingRoleName,
)
from cases.kernel import action_of
from cases.states import Role


def test_every_handling_role_takes_exactly_one_step() -> None:
    assert set(STEP_ACTIONS) == HANDLING_ROLES == set(HANDLING_ORDER)
    assert len(set(STEP_ACTIONS.values())) == len(STEP_ACTIONS)
    for role, action in STEP_ACTIONS.items():
        assert STAFF_ACTIONS[action] == {role}


def test_the_api_names_are_the_roles() -> None:
    assert set(get_args(StaffRoleName)) == {r.value for r in StaffRole}
    assert set(get_args(HandlingRoleName)) == HANDLING_ROLES


def test_a_timeline_role_of_staff_is_a_staff_role() -> None:
    staff_side = {r.value for r in Role} - {Role.applicant.value, Role.system.value}
    assert staff_side <= {r.value for r in StaffRole}
    assert {r.value for r in Role} >= HANDLING_ROLES
    for role in HANDLING_ORDER:
        assert action_of(Role(role.value)) is STEP_ACTIONS[role]
