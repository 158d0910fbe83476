"""Who is calling: bearer tokens read into a principal and a permission subject.

``api.endpoint`` calls these before a handler runs, as its route declares; a handler that asks
again gets the same subject back without a second verification (``request.ctx.subject``).
"""

from __future__ import annotations

from sanic import Request

from auth.errors import StaffInactive
from auth.permissions import Subject
from auth.staff import staff_standing
from auth.tokens import Principal
from core.errors import Unauthenticated
from core.ratelimit import hit


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(code="auth.token_missing", message="请先登录。")
    return token.strip()


async def citizen(request: Request) -> Principal:
    """The logged-in citizen (audience ``citizen``)."""
    principal = getattr(request.ctx, "principal", None)
    if principal is not None and getattr(request.ctx, "audience", None) == "citizen":
        return principal
    principal = await request.app.ctx.auth.tokens.verify_access(
        _bearer(request), audience="citizen"
    )
    request.ctx.principal = principal
    request.ctx.audience = "citizen"
    request.ctx.subject = Subject(kind="user", id=principal.id)
    return principal


async def optional_citizen(request: Request) -> Principal | None:
    """Public pages: anonymous is fine, but a token that is sent must be valid.

    A logged-in phone sends its token with every request; checking it here tells the phone at
    once that its session ended (401 ``auth.token_expired`` → refresh) instead of later.
    """
    if "authorization" not in request.headers:
        return None
    return await citizen(request)


async def citizen_subject(request: Request) -> Subject:
    await citizen(request)
    subject: Subject = request.ctx.subject
    return subject


async def staff(request: Request) -> Subject:
    """The logged-in, active staff member, with department and roles as the database had them at
    most ``revocation_check_s`` ago (the time every worker takes to see a revoked session)."""
    if getattr(request.ctx, "audience", None) == "staff":
        known: Subject = request.ctx.subject
        return known
    principal = await request.app.ctx.auth.tokens.verify_access(_bearer(request), audience="staff")
    request.ctx.principal = principal
    member = await staff_standing(
        staff_id=principal.id, max_age_s=request.app.ctx.settings.revocation_check_s
    )
    if not member.active:
        raise StaffInactive()
    subject = member.as_subject()
    request.ctx.audience = "staff"
    request.ctx.subject = subject
    return subject


def client_ip(request: Request) -> str:
    """The caller's address (behind a proxy, Sanic's forwarded settings decide what counts)."""
    return request.remote_addr or request.ip or "unknown"


async def limit_public_lookup(request: Request, kind: str, number: str, *, per_hour: int) -> None:
    """The two limits of a look-up anyone may make by a number (a case's acceptance number, a
    receipt's): per address and minute (``ZB_PUBLIC_STATUS_LIMIT_PER_MIN``), so that nobody
    walks through numbers, and per number and hour whatever the address, so that the name or
    code that goes with one number is not guessed from many machines. 429 beyond either."""
    redis = request.app.ctx.redis
    await hit(
        redis,
        f"{kind}:{client_ip(request)}",
        limit=request.app.ctx.settings.public_status_limit_per_min,
        window_s=60,
    )
    await hit(redis, f"{kind}-number:{number}", limit=per_hour, window_s=3600)
