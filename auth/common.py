"""What the identity use cases share: their collaborators, the contexts of the personal data
they seal, who a user is, the real-name level check, the day a daily limit counts in, and the
sessions of both audiences (refresh, logout).

The use cases themselves live by topic: ``auth.citizens`` (login, phone, real name L1 and L2,
the reveal of an identifier to staff), ``auth.companies`` (companies, their agents, family
mandates), ``auth.staff`` (accounts, binding, standing, administration). None imports another's
private name; what two of them need is here.

Every use case that reads the clock takes ``now`` from its caller (``core.clock``); the day a
limit, an age or a mandate's end is counted in is ``core.clock.local_today(now)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from auth.errors import LevelTooLow, UserNotFound
from auth.models import User
from auth.providers.base import CompanyRegistry, RealnameProvider
from auth.tokens import Principal, TokenPair, TokenService
from core.clock import CHINA
from core.crypto import FieldCipher
from core.settings import Settings
from platforms.wechat import WeChatClient

#: Contexts of the sealed fields and lookup hashes (``FieldCipher``): never change one, or the
#: rows written under it no longer open or match.
ID_CONTEXT = "auth_user.id_number"
PHONE_CONTEXT = "auth_user.phone"
SESSION_KEY_CONTEXT = "auth_user.session_key"
BIND_CODE_CONTEXT = "auth_staff.bind_code"
INVITE_CONTEXT = "auth_company_agent.invite"


@dataclass(frozen=True)
class AuthDeps:
    """What the identity use cases talk to; built once per process by the composition root
    (``api.wiring.build_resources``)."""

    settings: Settings
    redis: Redis
    wechat: WeChatClient
    tokens: TokenService
    cipher: FieldCipher
    realname: RealnameProvider
    registry: CompanyRegistry


def seconds_until_local_midnight(now: datetime) -> int:
    """A daily limit's window: it ends at midnight in China (the day ``local_today`` counts), so
    Retry-After says when."""
    local = now.astimezone(UTC) + CHINA
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(int((midnight - local).total_seconds()), 1)


async def get_user(*, user_id: int) -> User:
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise UserNotFound()
    return user


def require_realname_level(level: int, required: int) -> None:
    """The one check of an item's minimum real-name level, used wherever a case is created."""
    if level < required:
        raise LevelTooLow(details={"required": required, "current": level})


async def refresh(*, deps: AuthDeps, refresh_token: str, audience: str) -> TokenPair:
    pair = await deps.tokens.refresh(refresh_token, audience=audience)  # type: ignore[arg-type]
    return pair


async def logout(*, deps: AuthDeps, principal: Principal) -> None:
    await deps.tokens.logout(principal)
