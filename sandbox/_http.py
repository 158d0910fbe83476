"""Small request helpers shared by the peers: they never raise, so each peer decides its answer."""

from __future__ import annotations

import json
from typing import Any, Protocol

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response


def json_object(request: Request) -> dict[str, Any] | None:
    """The request body as a JSON object, or None when it is empty, not JSON or not an object.

    Parsed by hand rather than through ``request.json`` so that a bad body becomes the platform's
    own error answer instead of the host application's error envelope.
    """
    if not request.body:
        return None
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def text_field(data: dict[str, Any], key: str, *, max_length: int = 256) -> str | None:
    """A non-empty string field of at most ``max_length`` characters, else None."""
    value = data.get(key)
    if isinstance(value, str) and 0 < len(value) <= max_length:
        return value
    return None


class PeerState(Protocol):
    def stats(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def add_state_controls(bp: Blueprint, state: PeerState) -> None:
    """A peer's ``_control/stats`` (what tests count) and ``_control/reset`` (where each starts)."""

    @bp.get("/_control/stats", name="control_stats")
    async def stats(request: Request) -> HTTPResponse:
        return json_response(state.stats())

    @bp.post("/_control/reset", name="control_reset")
    async def reset(request: Request) -> HTTPResponse:
        state.reset()
        return json_response({"reset": True})
