"""Who is calling: bearer tokens read into a principal and a permission subject."""

from __future__ import annotations

from sanic import Request

from auth import service as auth
from auth.permissions import Subject
from auth.tokens import Principal
from core.errors import Unauthenticated


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(code="auth.token_missing", message="请先登录。")
    return token.strip()


async def citizen(request: Request) -> Principal:
    """The logged-in citizen (audience ``citizen``)."""
    principal = await request.app.ctx.auth.tokens.verify_access(
        _bearer(request), audience="citizen"
    )
    request.ctx.principal = principal
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
    principal = await citizen(request)
    return Subject(kind="user", id=principal.id)


async def staff(request: Request) -> Subject:
    """The logged-in, active staff member, with department and roles as the database had them at
    most ``revocation_check_s`` ago (the time every worker takes to see a revoked session)."""
    principal = await request.app.ctx.auth.tokens.verify_access(_bearer(request), audience="staff")
    request.ctx.principal = principal
    member = await auth.staff_standing(
        staff_id=principal.id, max_age_s=request.app.ctx.settings.revocation_check_s
    )
    if not member.active:
        raise auth.StaffInactive()
    return Subject(
        kind="staff",
        id=member.id,
        department_code=member.department_code,
        roles=frozenset(member.roles),
    )


def client_ip(request: Request) -> str:
    """The caller's address (behind a proxy, Sanic's forwarded settings decide what counts)."""
    return request.remote_addr or request.ip or "unknown"
