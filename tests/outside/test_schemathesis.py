"""Schemathesis against a real ``zhangban serve`` process, from its own OpenAPI document.

The server runs the embedded profile on a temporary var dir, prepared as an operator prepares
one (``zhangban migrate``, ``zhangban seed``: the demo catalogue). Callers are made as
``zhangban demo`` makes them (``tests.outside.live``): a citizen logged in through the sandbox's
WeChat and verified to real-name L1, a staff member created with ``zhangban staff create`` (every
role, in the ID-card items' department) and bound through the sandbox. A scene of real objects
(the citizen at L2 by face verification, which the ID-card items ask for; a case filed and
accepted, a draft, uploads, a supervision notice) gives the fuzzer ids that exist, through a
dictionary per parameter, used half of the time.

Three runs, one per kind of caller: without a token, the operations that need none (anonymous
and public); with the citizen's token, the citizen and public operations; with the staff
member's, the staff operations. Logout is left out (it would end the run's own session). Checks:
no server error, every status and content type documented, every body matching its schema,
and schema-violating requests refused (``negative_data_rejection``). Generation is
deterministic (``--generation-deterministic``) and sent by one worker, in order: CI replays the
same requests. A failure's report says how to replay it (curl).

Once, on the embedded profile: the server is a process of its own on its own database, so the
PostgreSQL run would test the same thing again. ``ZB_SCHEMATHESIS_EXAMPLES`` sets the number of
examples per operation and phase.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic

from api.endpoint import Audience
from api.openapi import operations
from tests.conftest import PROFILE
from tests.outside.live import (
    LiveServer,
    citizen_token,
    embedded_server,
    scene,
    staff_token,
)
from tests.processes import ROOT

pytestmark = pytest.mark.skipif(
    PROFILE != "embedded", reason="once, on the embedded profile (its own server process)"
)

EXAMPLES = int(os.environ.get("ZB_SCHEMATHESIS_EXAMPLES", "30"))
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    )
)
#: Longest a run may take before it counts as hung (each takes well under a minute here).
RUN_TIMEOUT_S = 900


class Live:
    def __init__(self, server: LiveServer, tokens: dict[str, str], objects: dict[str, list]):
        self.server = server
        self.tokens = tokens
        self.objects = objects


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    var_dir = tmp_path_factory.mktemp("schemathesis-server")
    with embedded_server(var_dir) as server:
        citizen = citizen_token(server)
        staff = staff_token(server, username="schemathesis-staff")
        objects = scene(server, citizen=citizen, staff=staff)
        objects["day"] = ["2027-10-08"]
        yield Live(server, {"citizen": citizen, "staff": staff}, objects)


#: Where each real object of the scene may go, besides the path parameter of its name.
ALSO = {
    "code": ["body.item_code", "query.item_code"],
    "case_id": ["body.case_id", "query.case_id"],
    "staff_id": ["body.staff_id"],
    "department": ["body.lead_department", "query.department"],
}


def config_file(path: Path, objects: dict[str, list]) -> Path:
    """A ``schemathesis.toml``: a dictionary of real values per parameter (``ALSO``), used half
    of the time (the other half, Schemathesis's own values)."""
    lines = []
    bindings = []
    for name, values in sorted(objects.items()):
        if not values:
            continue
        rendered = ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values)
        lines += [f"[dictionaries.{name}]", f"values = [{rendered}]", ""]
        for where in [f"path.{name}", *ALSO.get(name, [])]:
            bindings.append(f'"{where}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path.write_text("\n".join([*lines, "[parameters]", *bindings, ""]), encoding="utf-8")
    return path


def operation_ids(app: Sanic, doc: dict[str, Any], who: str) -> list[str]:
    """The operationIds of one run: ``anonymous`` (no token needed), ``citizen`` or ``staff``."""
    audience = {(m, p): spec.audience for m, p, spec, _ in operations(app)}
    wanted = {
        "anonymous": {Audience.anonymous, Audience.public},
        "citizen": {Audience.citizen, Audience.public},
        "staff": {Audience.staff},
    }[who]
    return sorted(
        operation["operationId"]
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if audience.get((method, path)) in wanted and "logout" not in path
    )


def _findings(output: str) -> str:
    """The failures section of Schemathesis's report (and its summary), for the assertion."""
    start = output.find("FAILURES")
    text = output[output.rfind("\n", 0, start) + 1 :] if start >= 0 else output[-6000:]
    text = re.sub(r"\n(=+ WARNINGS =+.*?)(?=\n=+ SUMMARY)", "\n", text, flags=re.S)
    return text[:20000]


@pytest.mark.parametrize("who", ["anonymous", "citizen", "staff"])
def test_schemathesis_finds_nothing(target: Live, app: Sanic, who: str, tmp_path: Path) -> None:
    base = target.server.base_url
    doc = httpx.get(f"{base}/docs/openapi.json", timeout=30).json()
    ids = operation_ids(app, doc, who)
    assert len(ids) >= 10, f"only {len(ids)} {who} operations: {ids}"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config_file(tmp_path / "schemathesis.toml", target.objects)),
        "run",
        f"{base}/docs/openapi.json",
        "--checks",
        CHECKS,
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        # One worker: with two, Python 3.11's ast.parse (hypothesis describing a lambda in two
        # threads at once) fails now and then with "AST constructor recursion depth mismatch".
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--no-color",
        *[arg for op in ids for arg in ("--include-operation-id", op)],
    ]
    if who != "anonymous":
        command += ["--header", f"Authorization: Bearer {target.tokens[who]}"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        partial = str(exc.stdout or "")[-4000:]
        pytest.fail(f"schemathesis ({who}) still running after {RUN_TIMEOUT_S} s:\n{partial}")
    seconds = time.monotonic() - started
    output = done.stdout + done.stderr
    (tmp_path / "schemathesis.out").write_text(output, encoding="utf-8")
    tested = re.search(r"Tested:\s+(\d+)", output)
    assert tested and int(tested.group(1)) == len(ids), (
        f"schemathesis ({who}) did not test the {len(ids)} operations:\n{output[-4000:]}"
    )
    assert done.returncode == 0, (
        f"schemathesis ({who}, {len(ids)} operations, {seconds:.0f} s) found problems; full "
        f"output in {tmp_path / 'schemathesis.out'}\n{_findings(output)}\n"
        f"server log (last lines):\n{target.server.log[-3000:]}"
    )
