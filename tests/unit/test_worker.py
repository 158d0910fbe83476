"""The outbox worker's pure parts: retry timing, topic patterns, the registry, job state files."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.worker import (
    FileJobState,
    Registry,
    backoff_ceiling_s,
    backoff_s,
    topic_matches,
)


async def _noop(event_id: int, topic: str, payload: dict[str, object]) -> None:
    return None


async def _job() -> None:
    return None


# -- backoff ---------------------------------------------------------------------------------


def test_ceiling_doubles_from_the_base_until_the_cap() -> None:
    ceilings = [backoff_ceiling_s(n, base_s=5, cap_s=100) for n in range(1, 8)]
    assert ceilings == [5, 10, 20, 40, 80, 100, 100]


def test_ceiling_of_a_huge_attempt_number_is_the_cap_not_an_overflow() -> None:
    assert backoff_ceiling_s(10_000, base_s=5, cap_s=3600) == 3600


@given(
    attempt=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.0, max_value=100.0),
    cap=st.floats(min_value=100.0, max_value=10_000.0),
    seed=st.integers(),
)
def test_full_jitter_stays_between_zero_and_the_ceiling(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    delay = backoff_s(attempt, base_s=base, cap_s=cap, rng=random.Random(seed))
    assert 0.0 <= delay <= min(cap, base * 2 ** (attempt - 1))


def test_full_jitter_spreads_over_the_whole_range() -> None:
    """Events that failed together must not come back together: the delays of one attempt
    cover the range from near zero to near the ceiling, not one point."""
    rng = random.Random(7)
    delays = [backoff_s(4, base_s=5, cap_s=3600, rng=rng) for _ in range(2000)]
    assert min(delays) < 2 and max(delays) > 38  # ceiling 40
    assert 17 < sum(delays) / len(delays) < 23  # uniform: mean about half the ceiling


# -- topics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("case.submitted", "case.submitted", True),
        ("case.submitted", "case.submitted.late", False),
        ("case.submitted", "case", False),
        ("case.*", "case.submitted", True),
        ("case.*", "case.review.done", True),
        ("case.*", "case", False),
        ("case.*", "case.", False),
        ("case.*", "cases.submitted", False),
        ("case*", "case", True),
        ("case*", "cases.submitted", True),
        ("case*", "cas", False),
        ("*", "anything.at.all", True),
    ],
)
def test_topic_patterns(pattern: str, topic: str, expected: bool) -> None:
    assert topic_matches(pattern, topic) is expected


def test_handlers_of_a_topic_come_in_registration_order() -> None:
    registry = Registry()
    registry.register_handler("case.*", "notify.wechat", _noop)
    registry.register_handler("payment.*", "payments.ledger", _noop)
    registry.register_handler("*", "audit", _noop)
    registry.register_handler("case.decided", "delivery.prepare", _noop)
    names = [h.name for h in registry.handlers_for("case.decided")]
    assert names == ["notify.wechat", "audit", "delivery.prepare"]
    assert [h.name for h in registry.handlers_for("nobody.listens")] == ["audit"]


@pytest.mark.parametrize("pattern", ["", "case.*.x", "*.done", "CASE.x", "case .x", "ca*se"])
def test_malformed_topic_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError):
        Registry().register_handler(pattern, "h", _noop)


def test_handler_names_are_unique_because_done_handlers_records_them() -> None:
    registry = Registry()
    registry.register_handler("a.*", "same", _noop)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_handler("b.*", "same", _noop)
    with pytest.raises(ValueError):
        registry.register_handler("b.*", "Bad Name", _noop)


def test_jobs_need_a_unique_name_and_a_positive_interval() -> None:
    registry = Registry()
    registry.register_job("cleanup", 3600, _job)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_job("cleanup", 60, _job)
    with pytest.raises(ValueError):
        registry.register_job("other", 0, _job)
    assert [(j.name, j.interval_s) for j in registry.jobs] == [("cleanup", 3600.0)]


# -- job state -------------------------------------------------------------------------------


async def test_file_job_state_survives_a_new_object_and_initialises_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "jobs.json"
    state = FileJobState(path)
    assert await state.last_run("cleanup") is None
    assert await state.init_last_run("cleanup", 100.0) == 100.0
    assert await state.init_last_run("cleanup", 200.0) == 100.0  # already recorded
    await state.set_last_run("cleanup", 300.5)
    again = FileJobState(path)  # a restarted process
    assert await again.last_run("cleanup") == 300.5
    assert await again.last_run("other") is None


async def test_file_job_state_treats_a_garbled_file_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text("{not json", encoding="utf-8")
    state = FileJobState(path)
    assert await state.last_run("cleanup") is None
    await state.set_last_run("cleanup", 1.0)
    assert await FileJobState(path).last_run("cleanup") == 1.0
