"""The identity-check provider (L1 real name: does this name go with this ID number?), as a peer.

Real providers of this kind are paid per call, so the peer counts every call and every billed
answer: tests use the counts to prove that the backend's daily limit and its caching keep the bill
down. ``POST /sandbox/realname/verify`` takes ``{name, id_number}`` and answers
``{"result": "match" | "mismatch"}``; while the provider is configured ``unavailable`` it answers
HTTP 503 ``{"error": "unavailable"}`` (not billed). A malformed request answers HTTP 400
``{"error": "bad_request"}`` (not billed): a body that is not a JSON object, a missing or empty
``name`` or ``id_number``, or an ``id_number`` that is not 18 characters, 17 ASCII digits and a
digit or an upper-case ``X`` (what a provider of this kind accepts: a lower-case ``x``, full-width
digits or spaces are the caller's job to normalise, and the peer refuses them so that an adapter
that forgets to is caught here rather than billed by the real provider).

Outcome of a well-formed request, first rule that applies:

1. an outcome configured for the ID number (``_control/outcome``);
2. an ID number that fails the GB 11643 check (or has an impossible birth date): ``mismatch``,
   as the authority has no such person;
3. a person registered for the ID number (``_control/person``): ``match`` only for that name;
4. otherwise ``match``, so demos work with any valid ID number.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from sandbox._http import add_state_controls, json_object, text_field
from sandbox.identifiers import is_valid_id_number

Outcome = Literal["match", "mismatch", "unavailable"]
OUTCOMES: tuple[Outcome, ...] = ("match", "mismatch", "unavailable")
#: The shape of an ID number the provider accepts at all (its check character is not checked
#: here: a well-formed number that cannot exist is a billed ``mismatch``).
ID_NUMBER_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class RealnameSandbox:
    """Configured outcomes, registered people and call counts, in process memory."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._outcomes: dict[str, Outcome] = {}
        self._people: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def set_outcome(self, id_number: str, outcome: Outcome) -> None:
        self._outcomes[id_number] = outcome

    def register_person(self, id_number: str, name: str) -> None:
        self._people[id_number] = name

    def verify(self, name: str, id_number: str) -> Outcome:
        """One billed (or failed) check; counts it."""
        self._counts["calls"] += 1
        outcome: Outcome
        if id_number in self._outcomes:
            outcome = self._outcomes[id_number]
        elif not is_valid_id_number(id_number):
            outcome = "mismatch"
        elif id_number in self._people:
            outcome = "match" if self._people[id_number] == name else "mismatch"
        else:
            outcome = "match"
        self._counts[outcome] += 1
        if outcome != "unavailable":
            self._counts["billed"] += 1
        return outcome

    def reject(self) -> None:
        """A malformed request: it reached the provider, but is not billed."""
        self._counts["calls"] += 1
        self._counts["rejected"] += 1

    def stats(self) -> dict[str, int]:
        keys = ("calls", "billed", "match", "mismatch", "unavailable", "rejected")
        return {key: self._counts[key] for key in keys}


def realname_blueprint(state: RealnameSandbox) -> Blueprint:
    """The provider's route and its control routes, served from ``state``."""
    bp = Blueprint("sandbox_realname", url_prefix="/sandbox/realname")

    def bad_request(message: str) -> HTTPResponse:
        return json({"error": "bad_request", "message": message}, status=400)

    @bp.post("/verify", name="verify")
    async def verify(request: Request) -> HTTPResponse:
        data = json_object(request)
        name = text_field(data, "name", max_length=64) if data is not None else None
        id_number = text_field(data, "id_number", max_length=32) if data is not None else None
        if name is None or not name.strip() or id_number is None:
            state.reject()
            return bad_request("name and id_number are required strings")
        if not ID_NUMBER_SHAPE.fullmatch(id_number):
            state.reject()
            return bad_request("id_number must be 17 digits and a digit or an upper-case X")
        outcome = state.verify(name, id_number)
        if outcome == "unavailable":
            return json({"error": "unavailable"}, status=503)
        return json({"result": outcome})

    @bp.post("/_control/outcome", name="control_outcome")
    async def outcome(request: Request) -> HTTPResponse:
        data = json_object(request) or {}
        id_number = text_field(data, "id_number", max_length=32)
        value = data.get("outcome")
        if id_number is None or value not in OUTCOMES:
            return bad_request("id_number and outcome (match, mismatch, unavailable) are required")
        state.set_outcome(id_number, value)
        return json({"id_number": id_number, "outcome": value})

    @bp.post("/_control/person", name="control_person")
    async def person(request: Request) -> HTTPResponse:
        data = json_object(request) or {}
        id_number = text_field(data, "id_number", max_length=32)
        name = text_field(data, "name", max_length=64)
        if id_number is None or name is None or not is_valid_id_number(id_number):
            return bad_request("a valid id_number and a name are required")
        state.register_person(id_number, name)
        return json({"id_number": id_number, "name": name})

    add_state_controls(bp, state)
    return bp
