"""Every route says once who may call it, what it reads and what it answers: ``@endpoint``.

One declaration per handler, and everything at the edge follows from it, in this order, before
the handler runs a single query:

1. **Who is calling** (``Audience``): no token, an optional citizen token, a citizen or a staff
   token. A missing, expired or revoked token is a 401 before anything is looked up, so the
   answer never depends on whether the object exists (and a stored ``Idempotency-Key`` answer is
   never replayed to a caller who is no longer logged in).
2. **May they try at all** (``action``): a staff route's action needs a role that may take it
   somewhere (``auth.permissions.may_attempt``); a clerk asking an approver's route is refused
   before any lookup. Whether they may act on *this* object is the use case's question, answered
   by the same rule (``auth.permissions.require``) once the object is loaded.
3. **Path parameters** have declared types and ranges (``PATH_PARAMS``, by name): an id beyond
   its column's range or an upload id of the wrong shape is a 400, not a database error.
4. ``Idempotency-Key`` (``idempotent=True``): replayed for the same subject only.

The same declaration builds the OpenAPI document (``api.openapi``) and drives the authorization
matrix test, which fails for a route without one. ``body``/``query`` name the models the handler
reads (``api.params.body``/``query`` refuse any other, so the document cannot drift from the
code); ``out`` is the model of the success answer.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sanic import Request
from sanic.response import HTTPResponse

from api import guards
from api.idempotency import run_once
from auth.permissions import APPLICANT_ACTIONS, Action, may_attempt, require_attempt
from core.errors import ValidationFailed
from core.validation import translate

#: PostgreSQL ``INTEGER`` (Tortoise ``IntField``) and ``BIGINT`` (``BigIntField``) ranges: an id
#: outside its column's range cannot exist, and sending it to the database would be an error.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1

#: An id of an ``IntField`` table (users, staff, companies, agents, mandates, item versions).
IntId = Annotated[int, Field(ge=1, le=MAX_INT)]
#: An id of a ``BigIntField`` table (cases, tasks, notices, evaluations, outbox events).
BigId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
#: An item, department or theme code (catalog.schemas.CODE_PATTERN).
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")]
#: An upload's id: hex, within its column's 32 characters (storage.service makes 24).
UploadId = Annotated[str, Field(pattern=r"^[0-9a-f]{8,32}$")]
#: A calendar day, ISO format.
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
#: An acceptance number: department code, date, sequence (cases.prereview).
AcceptanceNumber = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}-\d{8}-\d{5}$", max_length=64)
]


class Audience(StrEnum):
    """Who may call a route at all."""

    anonymous = "anonymous"  # no token needed, none read (login, refresh, binding)
    public = "public"  # anyone; a citizen token, when sent, must be valid
    citizen = "citizen"
    staff = "staff"


#: Every path parameter of the API, by name, with its type and range. A route with a parameter
#: not listed here fails at start-up: nothing reaches a handler unchecked.
PATH_PARAMS: dict[str, Any] = {
    "case_id": BigId,
    "task_id": BigId,
    "notice_id": BigId,
    "evaluation_id": BigId,
    "event_id": BigId,
    "payment_id": BigId,
    "discrepancy_id": BigId,
    "message_id": BigId,
    "delivery_id": BigId,
    "staff_id": IntId,
    "user_id": IntId,
    "company_id": IntId,
    "agent_id": IntId,
    "mandate_id": IntId,
    "number": IntId,
    "code": Code,
    "upload_id": UploadId,
    "day": Day,
    "acceptance_number": AcceptanceNumber,
}
_PATH_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(kind) for name, kind in PATH_PARAMS.items()
}


@dataclass(frozen=True)
class Endpoint:
    """What a route declares; see the module docstring."""

    summary: str
    tag: str
    audience: Audience
    #: The permission the route takes (several: any of them, e.g. a review task is reviewed or
    #: approved as its role says); ``target`` names what it is taken on.
    actions: tuple[Action, ...] = ()
    target: str | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    ok: int = 200
    out: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    idempotent: bool = False
    description: str = ""
    #: Response headers of the success answer worth documenting (name → description).
    headers: dict[str, str] = field(default_factory=dict)
    #: False for the routes that serve the document itself and its viewers.
    in_document: bool = True
    #: A success answer that is a file, not JSON (``application/pdf``): its media type.
    file_type: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.audience in (Audience.citizen, Audience.staff)


Handler = Callable[..., Awaitable[HTTPResponse]]
ENDPOINT_ATTR = "__endpoint__"


def spec_of(handler: Any) -> Endpoint | None:
    """The declaration of a route's handler, if it has one."""
    spec = getattr(handler, ENDPOINT_ATTR, None)
    return spec if isinstance(spec, Endpoint) else None


def current(request: Request) -> Endpoint | None:
    """The declaration of the route serving ``request``."""
    spec = getattr(request.ctx, "endpoint", None)
    return spec if isinstance(spec, Endpoint) else None


def check_path(params: dict[str, Any]) -> dict[str, Any]:
    """Path parameters validated by ``PATH_PARAMS``; every bad one named in one 400."""
    checked: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    for name, value in params.items():
        try:
            checked[name] = _PATH_ADAPTERS[name].validate_python(value)
        except PydanticValidationError as exc:
            problems += translate(exc, (name,))
    if problems:
        raise ValidationFailed(problems, message="地址中的参数不正确。")
    return checked


async def authenticate(request: Request, spec: Endpoint) -> None:
    """Step 1 and 2 of the module docstring: who is calling, and may they try this at all."""
    if spec.audience is Audience.citizen:
        await guards.citizen_subject(request)
    elif spec.audience is Audience.staff:
        subject = await guards.staff(request)
        if spec.actions and not any(may_attempt(subject, a) for a in spec.actions):
            require_attempt(subject, spec.actions[0])
    elif spec.audience is Audience.public:
        await guards.optional_citizen(request)


def endpoint(
    summary: str,
    *,
    tag: str,
    audience: Audience,
    action: Action | tuple[Action, ...] | None = None,
    target: str | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    ok: int = 200,
    out: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    idempotent: bool = False,
    description: str = "",
    headers: dict[str, str] | None = None,
    in_document: bool = True,
    file_type: str | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a route (see the module docstring) and wrap its handler in the edge's checks."""
    actions = (action,) if isinstance(action, Action) else tuple(action or ())
    if audience is Audience.citizen and not all(a in APPLICANT_ACTIONS for a in actions):
        raise ValueError(f"{summary}: citizens cannot take the actions {actions}")
    if audience is Audience.staff and not actions and target != "self":
        raise ValueError(f"{summary}: a staff route names the action it takes, or target self")
    spec = Endpoint(
        summary=summary,
        tag=tag,
        audience=audience,
        actions=actions,
        target=target,
        body=body,
        query=query,
        ok=ok,
        out=out,
        errors=errors,
        idempotent=idempotent,
        description=description,
        headers=headers or {},
        in_document=in_document,
        file_type=file_type,
    )

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request, **params: Any) -> HTTPResponse:
            request.ctx.endpoint = spec
            await authenticate(request, spec)
            checked = check_path(params)
            if spec.idempotent:
                return await run_once(request, functools.partial(handler, request, **checked))
            return await handler(request, **checked)

        setattr(run, ENDPOINT_ATTR, spec)
        return run

    return decorate


#: An operators' route of the deployment (the outbox, the send ledger): staff holding
#: ``Action.operate``, under the ``admin`` tag.
operator_endpoint = functools.partial(
    endpoint, tag="admin", audience=Audience.staff, action=Action.operate, target="deployment"
)


__all__ = [
    "PATH_PARAMS",
    "AcceptanceNumber",
    "Audience",
    "BigId",
    "Code",
    "Day",
    "Endpoint",
    "IntId",
    "UploadId",
    "current",
    "endpoint",
    "may_attempt",
    "operator_endpoint",
    "spec_of",
]
