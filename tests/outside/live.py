"""A real embedded server for tools that test from outside, and callers made as ``zhangban demo``
makes them.

``embedded_server`` prepares a temporary var dir as an operator does (``zhangban migrate``,
``zhangban seed``: the demo catalogue), then runs ``zhangban serve`` on a free port with the
sandbox peers mounted. ``citizen_token`` logs a phone in through the sandbox's WeChat and raises
it to real-name L1 with a valid test identity the sandbox's real-name peer knows;
``staff_token`` creates a staff account with ``zhangban staff create`` and binds it through the
sandbox, as the demo's department admin is made.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.people import id_number, person_name
from tests.processes import ROOT, clean_env, free_port, running

#: Every staff role, so that every staff route's action is within reach of one token.
ALL_ROLES = "clerk,reviewer,approver,dispatcher,finance,supervisor,admin,catalog_admin"
#: A department of the demo catalogue (the ID-card items' lead department).
DEPARTMENT = "NC-GAJ"


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    env: dict[str, str]
    var_dir: Path

    def cli(self, *args: str) -> str:
        """``zhangban <args>`` on this server's database, as an operator at the server; stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"zhangban {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done.stdout

    @property
    def log(self) -> str:
        path = self.var_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def embedded_server(var_dir: Path, **settings: str) -> Iterator[LiveServer]:
    """``zhangban serve`` on the embedded profile, migrated and seeded, until the block ends."""
    port = free_port()
    env = clean_env(
        ZB_PROFILE="embedded",
        ZB_VAR_DIR=str(var_dir),
        ZB_PORT=str(port),
        ZB_ACCESS_LOG="false",
        ZB_LOG_LEVEL="WARNING",
        # A run lasts minutes: tokens must outlive it (no refresh mid-run).
        ZB_ACCESS_TTL_S="7200",
        ZB_STAFF_ACCESS_TTL_S="7200",
        **settings,
    )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", env=env, var_dir=var_dir)
    server.cli("migrate")
    server.cli("seed")
    with running(
        ["api.cli", "serve"],
        ready_url=f"{server.base_url}/readyz",
        log_path=var_dir / "server.log",
        env=env,
    ):
        yield server


def _ok(response: httpx.Response) -> dict:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    return dict(response.json()) if response.content else {}


def wx_login_code(client: httpx.Client) -> str:
    """``wx.login`` on a new phone: the sandbox's WeChat hands out a code for a new user."""
    return str(_ok(client.post("/sandbox/wechat/_control/login-code", json={}))["code"])


def citizen_token(server: LiveServer) -> str:
    """A citizen logged in through the sandbox and verified to real-name L1."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        tokens = _ok(client.post("/api/v1/auth/wechat/login", json={"code": wx_login_code(client)}))
        token = str(tokens["access_token"])
        name, number = person_name(), id_number(seq=secrets.randbelow(1000))
        person = {"id_number": number, "name": name}
        _ok(client.post("/sandbox/realname/_control/person", json=person))
        me = _ok(
            client.post(
                "/api/v1/me/realname",
                json={"name": name, "id_number": number},
                headers={"authorization": f"Bearer {token}"},
            )
        )
        if me.get("realname_level") != 1:
            raise RuntimeError(f"real-name L1 not reached: {me}")
        return token


def staff_token(server: LiveServer, *, username: str, roles: str = ALL_ROLES) -> str:
    """A staff account made with ``zhangban staff create``, bound to a WeChat of its own."""
    created = json.loads(
        server.cli(
            "staff",
            "create",
            "--username",
            username,
            "--name",
            "接口测试员",
            "--department",
            DEPARTMENT,
            "--roles",
            roles,
        )
    )
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        bound = _ok(
            client.post(
                "/api/v1/staff/auth/bind",
                json={"bind_code": created["bind_code"], "code": wx_login_code(client)},
            )
        )
    return str(bound["access_token"])


def _id_list(values: Iterable[Any]) -> list[Any]:
    return sorted({v for v in values if v is not None}, key=str)


def scene(server: LiveServer, *, citizen: str, staff: str) -> dict[str, list]:
    """Real objects for the fuzzers to reach past "not found", by path parameter name: the
    demo's own steps (``api.demo``) as the citizen (face verification to level 2, search, a
    photo, a case filed and submitted), the case accepted by the staff member (a clerk of its
    department), a second case left as a draft, a supervision notice; then their ids."""
    from api.demo import DemoContext, step_browse, step_submit, step_upload

    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        ctx = DemoContext(client, state={"access_token": citizen})
        # The ID-card items ask for level 2: WeChat face verification, as the demo does it.
        verify_id = ctx.post("/api/v1/me/face")["verify_id"]
        ctx.post("/sandbox/wechat/_control/face-complete", {"verify_id": verify_id})
        ctx.post("/api/v1/me/face/result", {"verify_id": verify_id})
        step_browse(ctx)
        step_upload(ctx)
        step_submit(ctx)
        filed = int(ctx.state["case_id"])
        code = str(ctx.state["item_code"])
        accepted = ctx.post(
            f"/api/v1/staff/cases/{filed}/accept", {"comment": "受理。"}, token=staff
        )
        draft = ctx.post("/api/v1/cases", {"item_code": code, "form": {}})["id"]
        notice = ctx.post(
            f"/api/v1/supervisor/cases/{filed}/notices", {"message": "请按时办结。"}, token=staff
        )
        detail = ctx.get(f"/api/v1/staff/cases/{filed}", token=staff)
        uploads = ctx.get("/api/v1/uploads")["uploads"]
        me, staff_me = ctx.get("/api/v1/me"), ctx.get("/api/v1/staff/me", token=staff)
        outbox = ctx.get("/api/v1/admin/outbox", token=staff)
    return {
        "case_id": [filed, draft],
        "task_id": _id_list(t["id"] for t in detail["tasks"]),
        "notice_id": _id_list(n["id"] for n in notice["notices"]),
        "event_id": _id_list(e["id"] for e in outbox["events"][:3]),
        "user_id": [me["id"]],
        "staff_id": [staff_me["id"]],
        "upload_id": _id_list(u["id"] for u in uploads),
        "code": [code],
        "number": [1],
        "acceptance_number": [accepted["acceptance_number"]],
        "department": [DEPARTMENT],
    }
