"""``zhangban demo``: the main flow walked over HTTP, as the mini-program would, one line a step.

Without ``--base-url`` it starts its own embedded server (a fresh database in a temporary folder,
migrated and seeded) and stops it afterwards, so it never touches the operator's data.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from auth.identifiers import complete_id_number
from core.settings import Settings

STEPS = (
    "browse",
    "login",
    "realname",
    "upload",
    "submit",
    "correction",
    "accept",
    "review",
    "decide",
    "pay",
    "notify",
    "dispatch",
    "deliver",
    "evaluate",
)


class StepFailed(Exception):
    pass


@dataclass
class DemoContext:
    client: httpx.Client
    state: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, headers=self._auth(), **kwargs)
        return self._json(response, path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.post(path, json=body or {}, headers=self._auth())
        if response.status_code == 204:
            return {}
        return self._json(response, path)

    def _auth(self) -> dict[str, str]:
        token = self.state.get("access_token")
        return {"authorization": f"Bearer {token}"} if token else {}

    @staticmethod
    def _json(response: httpx.Response, path: str) -> Any:
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise StepFailed(
                    f"{path}: {response.status_code} {error['code']} {error['message']}"
                )
            except (ValueError, KeyError):
                raise StepFailed(f"{path}: HTTP {response.status_code}") from None
        return response.json()


def step_browse(ctx: DemoContext) -> None:
    page = ctx.get("/api/v1/items", params={"q": "sfz"})
    names = [item["name"] for item in page["items"]]
    if not any("身份证" in name for name in names):
        raise StepFailed(f"searching 'sfz' found no ID-card item: {names}")
    code = next(item["code"] for item in page["items"] if "身份证" in item["name"])
    guide = ctx.get(f"/api/v1/items/{code}")
    if not guide.get("materials") or not guide.get("departments"):
        raise StepFailed(f"guide {code} lacks materials or departments")
    ctx.state["item_code"] = code


def step_login(ctx: DemoContext) -> None:
    """wx.login on the phone (the sandbox stands in for WeChat), then our login."""
    code = ctx.post("/sandbox/wechat/_control/login-code")["code"]
    tokens = ctx.post("/api/v1/auth/wechat/login", {"code": code})
    ctx.state["access_token"] = tokens["access_token"]
    me = ctx.get("/api/v1/me")
    if me["realname_level"] != 0:
        raise StepFailed(f"a new user should start at level 0, got {me['realname_level']}")
    refreshed = ctx.post("/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    ctx.state["access_token"] = refreshed["access_token"]


def step_realname(ctx: DemoContext) -> None:
    """Level 1 with a name and ID number, then level 2 by WeChat face verification."""
    body = f"360426{1960 + secrets.randbelow(40)}0101{secrets.randbelow(1000):03d}"
    id_number = complete_id_number(body)
    me = ctx.post("/api/v1/me/realname", {"name": "张三", "id_number": id_number})
    if me["realname_level"] != 1 or id_number in str(me):
        raise StepFailed("level 1 not reached, or the ID number came back unmasked")
    verify_id = ctx.post("/api/v1/me/face")["verify_id"]
    ctx.post("/sandbox/wechat/_control/face-complete", {"verify_id": verify_id})
    me = ctx.post("/api/v1/me/face/result", {"verify_id": verify_id})
    if me["realname_level"] != 2:
        raise StepFailed(f"face verification did not reach level 2: {me['realname_level']}")


def demo_photo() -> bytes:
    """A phone photo as phones take them: JPEG, rotated by EXIF, with a GPS position."""
    from PIL import Image

    image = Image.new("RGB", (1200, 900), (200, 180, 150))
    for x in range(0, 1200, 40):  # some texture, so it is not a flat colour
        image.paste((40 + x % 200, 90, 160), (x, 0, x + 20, 900))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "DemoPhone"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (28.0, 41.0, 0.0), 3: "E", 4: (115.0, 53.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def step_upload(ctx: DemoContext) -> None:
    """A photo with GPS EXIF, uploaded the way wx.uploadFile does, comes back stripped."""
    from PIL import Image

    code = ctx.state["item_code"]
    guide = ctx.get(f"/api/v1/items/{code}")
    material = next(m for m in guide["materials"] if "jpg" in m["formats"])
    photo = demo_photo()
    intent = ctx.post(
        "/api/v1/uploads",
        {
            "item_code": code,
            "material_code": material["code"],
            "filename": "IMG_0001.jpg",
            "content_type": "image/jpeg",
            "size": len(photo),
        },
    )
    # wx.uploadFile: multipart POST of formData plus the file under ``name``.
    sent = ctx.client.post(
        intent["url"],
        data=intent["fields"],
        files={intent["file_field"]: ("IMG_0001.jpg", photo, "image/jpeg")},
    )
    if sent.status_code not in (200, 201, 204):
        raise StepFailed(f"object store refused the upload: {sent.status_code} {sent.text[:200]}")
    done = ctx.post(f"/api/v1/uploads/{intent['upload_id']}/complete")
    if done["status"] != "ready" or not done.get("url"):
        raise StepFailed(f"upload not ready: {done['status']}")
    stored = Image.open(io.BytesIO(ctx.client.get(done["url"]).content))
    exif = stored.getexif()
    if exif.get_ifd(0x8825) or 0x8825 in exif or stored.size != (900, 1200):
        raise StepFailed("the stored photo kept its GPS position or was not turned upright")
    ctx.state.setdefault("uploads", {})[material["code"]] = intent["upload_id"]


#: The steps built so far; the others print ``not built`` and do not fail the run.
BUILT: dict[str, Callable[[DemoContext], None]] = {
    "browse": step_browse,
    "login": step_login,
    "realname": step_realname,
    "upload": step_upload,
}


def walk(client: httpx.Client, out: Callable[[str], None] = print) -> bool:
    ctx = DemoContext(client)
    ok = True
    for name in STEPS:
        step = BUILT.get(name)
        if step is None:
            out(f"step {name}: not built")
            continue
        if not ok:
            out(f"step {name}: FAILED an earlier step failed")
            continue
        try:
            step(ctx)
            out(f"step {name}: ok")
        except (StepFailed, httpx.HTTPError, KeyError, ValueError) as exc:
            out(f"step {name}: FAILED {exc}")
            ok = False
    return ok


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StepFailed(f"demo server exited with code {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=10).status_code == 200:
                return
        time.sleep(0.2)
    raise StepFailed("demo server did not become ready in time")


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    """A private embedded server on a free port, with its own database in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="zhangban-demo-") as var_dir:
        port = _free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("ZB_")} | {
            "ZB_PROFILE": "embedded",
            "ZB_VAR_DIR": var_dir,
            "ZB_PORT": str(port),
            "ZB_ACCESS_LOG": "false",
            "ZB_LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "api.cli"]
        for setup in (["migrate"], ["seed"]):
            subprocess.run([*command, *setup], env=env, check=True, stdout=subprocess.DEVNULL)
        log_path = os.path.join(var_dir, "server.log")
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [*command, "serve"], env=env, stdout=log_file, stderr=log_file
            )
            base_url = f"http://127.0.0.1:{port}"
            try:
                _wait_ready(base_url, process)
                yield base_url
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


def run_demo(settings: Settings, *, base_url: str | None) -> int:
    try:
        if base_url:
            with httpx.Client(base_url=base_url, timeout=30) as client:
                return 0 if walk(client) else 1
        with embedded_server() as url, httpx.Client(base_url=url, timeout=30) as client:
            return 0 if walk(client) else 1
    except (StepFailed, subprocess.CalledProcessError) as exc:
        print(f"demo could not start: {exc}", file=sys.stderr)
        return 1
