"""A handler for tests that run a real ``zhangban worker`` process (the crash test).

The worker loads it through ``ZB_WORKER_EXTRA_HANDLERS=tests.worker_probe:register``, the
documented hook for handlers that are not part of the code base. It appends ``begin <id> <pid>``
when it starts on an event and ``end <id> <pid>`` when it finishes, to the file named by
``ZB_TEST_PROBE_LOG`` (a test-only variable the server's settings ignore), sleeping
``payload["sleep_s"]`` in between so a test can kill the worker in the middle of a delivery.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from core.worker import Registry

TOPIC = "probe.*"
HANDLER = "probe.record"


def _append(line: str) -> None:
    with open(os.environ["ZB_TEST_PROBE_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n")


async def record(event_id: int, topic: str, payload: dict[str, Any]) -> None:
    _append(f"begin {event_id} {os.getpid()}")
    await asyncio.sleep(float(payload.get("sleep_s", 0)))
    _append(f"end {event_id} {os.getpid()}")


def register(registry: Registry) -> None:
    registry.register_handler(TOPIC, HANDLER, record)
