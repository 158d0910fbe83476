"""The real ``zhangban worker`` and ``zhangban outbox`` commands, as processes.

The crash test: a real ``zhangban worker`` process is killed (SIGKILL) while it delivers, and
every event is delivered once a worker runs again.

The worker runs against the test run's own database (SQLite file, or PostgreSQL and Redis) with
``tests.worker_probe`` installed through ``ZB_WORKER_EXTRA_HANDLERS``: the probe writes
``begin``/``end`` lines around a short sleep, so the test can see an event in flight and kill
the worker right then. The contract checked is at-least-once delivery, effectively once per
handler: every event ends ``delivered``; the only event whose handler ran twice is the one that
was in flight at the kill (its success was never recorded), and no finished handler ran again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sanic import Sanic

from core.models import OutboxEvent
from core.outbox import emit
from tests import worker_probe
from tests.processes import ROOT, clean_env, zhangban

EVENTS = 12
SLEEP_S = 0.25
LEASE_S = 2


@pytest.fixture
async def paused(clean: Sanic) -> AsyncIterator[Sanic]:
    """The application's in-process worker stopped: the processes started here do the work."""
    await clean.ctx.worker.stop()
    yield clean
    if clean.ctx.settings.worker_runs_in_process:
        clean.ctx.worker.start()


def worker_env(app: Sanic, var_dir: Path, probe_log: Path) -> dict[str, str]:
    settings = app.ctx.settings
    return clean_env(
        ZB_DATABASE_URL=settings.database_url,
        ZB_REDIS_URL=settings.redis_url,
        ZB_VAR_DIR=str(var_dir),
        ZB_SECRET_KEY=settings.secret_key,
        ZB_LOG_LEVEL="INFO",
        ZB_WORKER_IN_PROCESS="false",
        ZB_WORKER_EXTRA_HANDLERS="tests.worker_probe:register",
        ZB_WORKER_LEASE_S=str(LEASE_S),
        ZB_WORKER_POLL_S="0.1",
        ZB_WORKER_BATCH_SIZE="4",
        ZB_TEST_PROBE_LOG=str(probe_log),
    )


@contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def probe_lines(path: Path) -> list[tuple[str, int, int]]:
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        kind, event_id, pid = line.split()
        lines.append((kind, int(event_id), int(pid)))
    return lines


def wait_for(
    condition: Callable[[], bool], what: str, log_path: Path, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n" + log_path.read_text(errors="replace"))
        time.sleep(0.02)


async def test_every_event_is_delivered_after_a_worker_is_killed_mid_delivery(
    paused: Sanic, tmp_path: Path
) -> None:
    ids = [(await emit("probe.crash", {"n": n, "sleep_s": SLEEP_S})).id for n in range(EVENTS)]
    probe_log = tmp_path / "probe.log"
    log_path = tmp_path / "worker.log"
    env = worker_env(paused, tmp_path / "var", probe_log)

    def in_flight() -> int | None:
        """An event whose handler began and has not ended, after a few finished ones."""
        lines = probe_lines(probe_log)
        ended = {i for kind, i, _ in lines if kind == "end"}
        begun = [i for kind, i, _ in lines if kind == "begin" and i not in ended]
        return begun[0] if len(ended) >= 3 and begun else None

    with worker_process(env, log_path) as first:
        wait_for(lambda: in_flight() is not None, "an event in flight", log_path)
        victim = in_flight()
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert victim is not None

    # The killed worker still holds its claim: nothing was settled behind its back.
    held = await OutboxEvent.get(id=victim)
    assert held.status == "pending" and held.locked_by != "" and held.locked_until is not None
    assert worker_probe.HANDLER not in held.done_handlers
    delivered_before = await OutboxEvent.filter(status="delivered").count()
    assert 3 <= delivered_before < EVENTS

    with worker_process(env, log_path) as second:

        def all_delivered() -> bool:
            ended = {i for kind, i, _ in probe_lines(probe_log) if kind == "end"}
            return ended >= set(ids)

        wait_for(all_delivered, "every event delivered after the restart", log_path)
        second.send_signal(signal.SIGTERM)  # a graceful stop this time
        assert second.wait(timeout=30) == 0
    assert "outbox worker stopped" in log_path.read_text(errors="replace")

    rows = {e.id: e for e in await OutboxEvent.filter(id__in=ids)}
    assert {e.status for e in rows.values()} == {"delivered"}
    assert all(e.done_handlers == [worker_probe.HANDLER] for e in rows.values())
    assert all(e.locked_by == "" for e in rows.values())

    lines = probe_lines(probe_log)
    ends = Counter(i for kind, i, _ in lines if kind == "end")
    begins = Counter(i for kind, i, _ in lines if kind == "begin")
    assert set(ends) == set(ids)
    # Effectively once: a finished handler never ran again; only the victim began twice.
    assert max(ends.values()) == 1, ends
    assert {i for i, n in begins.items() if n > 1} == {victim}
    pids = {pid for _, i, pid in lines if i == victim}
    assert len(pids) == 2  # begun by the killed worker, finished by its successor
    assert os.getpid() not in {pid for _, _, pid in lines}


async def test_dead_letters_from_the_command_line(paused: Sanic, tmp_path: Path) -> None:
    dead = (await emit("probe.cli", {"n": 1})).id
    await OutboxEvent.filter(id=dead).update(
        status="dead", attempts=10, done_handlers=["other.handler"], last_error="x: boom"
    )
    env = worker_env(paused, tmp_path / "var", tmp_path / "probe.log")

    listed = zhangban(env, "outbox", "dead")
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert [(e["id"], e["status"], e["last_error"]) for e in page["events"]] == [
        (dead, "dead", "x: boom")
    ]

    replayed = zhangban(env, "outbox", "replay", str(dead))
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["status"] == "pending"
    again = zhangban(env, "outbox", "replay", str(dead))
    assert again.returncode == 1
    assert json.loads(again.stderr)["error"]["code"] == "outbox.event_not_dead"

    once = zhangban(env, "worker", "--once")
    assert once.returncode == 0, once.stderr
    assert json.loads(once.stdout) == {
        "events_settled": 1,
        "jobs_run": [],
    }
    event = await OutboxEvent.get(id=dead)
    assert event.status == "delivered"
    assert event.done_handlers == ["other.handler", worker_probe.HANDLER]
    assert [kind for kind, _, _ in probe_lines(tmp_path / "probe.log")] == ["begin", "end"]
