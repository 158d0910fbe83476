"""Every page a message links to is a page of the mini-program (its ``app.json``): a message
whose link opens nothing is a dead end on a phone, and WeChat refuses a subscribe message whose
``page`` is not one of the mini-program's (the sandbox checks it when given the pages)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from auth import notices as auth_notices
from cases import notices as case_notices

APP_JSON = Path(__file__).resolve().parents[2] / "miniprogram_stubs" / "app.json"


def test_every_linked_page_is_in_the_mini_program() -> None:
    pages = set(json.loads(APP_JSON.read_text(encoding="utf-8"))["pages"])
    linked = [*case_notices.LINKED_PAGES, *auth_notices.LINKED_PAGES]
    assert len(linked) >= 6
    for link in linked:
        assert not link.startswith("/"), link  # WeChat's page field has no leading slash
        assert link.split("?", 1)[0] in pages, link


def test_no_message_link_is_written_outside_the_lists() -> None:
    """A link written inline would escape the test above."""
    root = Path(__file__).resolve().parents[2]
    for package in ("cases", "auth", "payments", "notify"):
        for source in (root / package).rglob("*.py"):
            for line in source.read_text(encoding="utf-8").splitlines():
                if re.search(r"[\"']pages/", line):
                    assert re.match(r"^[A-Z_]+_PAGE = ", line), f"{source}: {line.strip()}"
