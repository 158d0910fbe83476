"""Access and refresh tokens: short-lived signed JWTs, rotating refresh tokens, revocation.

Access tokens are HS256 JWTs whose header names the signing key (``kid``) so keys can rotate:
new tokens are signed with the current kid, tokens of any other configured kid keep verifying
until they expire. Their claims are exactly ``sub`` (``u:<id>`` for citizens, ``s:<id>`` for
staff), ``aud`` (``citizen`` / ``staff``), ``iat``, ``exp`` and ``sid`` (the session family):
no personal data. ``iat`` carries microseconds (an RFC 7519 NumericDate may be fractional), see
*Revocation* below.

Refresh tokens are random strings (``secrets.token_urlsafe(32)``); only their SHA-256 is stored
(``RefreshToken``). Every refresh uses up the token and hands out a new pair in the same family;
a used token that comes back means it was copied, so the whole family is revoked and the user
must log in again (``auth.refresh_reused``). The "used" mark is a compare-and-set
(``UPDATE … WHERE id = ? AND used_at IS NULL``): of two concurrent refreshes of one token exactly
one wins.

Except within a short grace (``REFRESH_GRACE_S``): a phone on a poor connection loses the answer
of a refresh and sends it again, and two requests that expired together refresh at once. So the
winner keeps the new pair in Redis for that long, sealed with a key derived from the *old*
refresh token (only its holder can open it; Redis alone reveals nothing), and the same token
presented again within the grace, while the new pair's refresh token is still unused, gets that
same pair (a concurrent loser waits a moment for it). After the grace, or once the new pair was
rotated further, the old token coming back is reuse as above.

Verification is cheap on purpose: a token this worker has verified before is a dict lookup
(bounded LRU of token → ``Principal``) plus an expiry check against the clock, no HMAC, no JSON,
no Redis round trip.

Revocation (logout, "log out everywhere", account deactivation) is kept in Redis, bounded:

* ``auth:revoked:sessions``: sorted set of session ids, score = when revoked;
* ``auth:revoked:subjects``: sorted set of subjects, score = when revoked; access tokens of that
  subject with ``iat <= score`` are refused. ``iat`` and the score have microsecond precision, so
  a new login right after the revocation (even within the same second) is accepted; the revoking
  worker's clock is the reference, so clock skew between workers should stay well below a second;
  sessions of the subject that exist at revocation time are also revoked by id, which does not
  depend on clocks at all;
* ``auth:revocation:generation``: a counter bumped by every revocation.

Entries older than the longest access-token lifetime (plus a margin) are trimmed: by then every
access token they could refuse has expired; refresh tokens are revoked in the database.
Each worker keeps a copy of both sets and re-reads them when the generation changed, checking the
generation at most every ``revocation_check_s`` seconds (setting ``ZB_REVOCATION_CHECK_S``,
default 1 s). The worker that revokes applies the revocation at once; **other workers see it
within ``revocation_check_s``**. Refreshing always reads the current state.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio import Redis

from auth.models import RefreshToken
from core.errors import Unauthenticated
from core.keys import parse_jwt_keys
from core.settings import Settings

Audience = Literal["citizen", "staff"]
AUDIENCES: tuple[Audience, ...] = ("citizen", "staff")
#: the subject prefix each audience carries.
SUBJECT_PREFIX: dict[Audience, str] = {"citizen": "u:", "staff": "s:"}

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "sid")
#: longest string accepted as a token: anything longer is refused before any parsing.
MAX_TOKEN_CHARS = 2048
#: how far in the future an ``iat`` may lie (clock skew between workers).
IAT_SKEW_S = 60.0
#: kept in the revoked sets beyond the longest access-token lifetime, for clock skew.
RETENTION_MARGIN_S = 60

SESSIONS_KEY = "auth:revoked:sessions"
SUBJECTS_KEY = "auth:revoked:subjects"
GENERATION_KEY = "auth:revocation:generation"

_SUBJECT_RE = re.compile(r"[us]:[1-9][0-9]{0,17}")


# --- errors ---------------------------------------------------------------------------------


class TokenExpired(Unauthenticated):
    """The access token ran out: the client refreshes and retries."""

    code = "auth.token_expired"
    message = "登录已过期，正在为您刷新，请稍候。"


class TokenInvalid(Unauthenticated):
    """Tampered, malformed, wrong audience, unknown key or algorithm: the client logs in again."""

    code = "auth.token_invalid"
    message = "登录凭证无效，请重新登录。"


class TokenRevoked(Unauthenticated):
    """Logged out, logged out everywhere or account deactivated."""

    code = "auth.token_revoked"
    message = "您已退出登录或账号状态已变更，请重新登录。"


class RefreshInvalid(Unauthenticated):
    """Unknown or expired refresh token."""

    code = "auth.refresh_invalid"
    message = "登录已失效，请重新登录。"


class RefreshReused(Unauthenticated):
    """A refresh token came back after use: the whole session family is revoked."""

    code = "auth.refresh_reused"
    message = "检测到您的登录凭证被重复使用，为保障账号安全已退出该登录，请重新登录。"


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified access token speaks for."""

    subject: str  # "u:<id>" (citizen) or "s:<id>" (staff)
    audience: Audience
    session: str  # the session family id (claim ``sid``)
    issued_at: float  # seconds, with microseconds (see the module docstring)
    expires_at: int

    @property
    def kind(self) -> Literal["user", "staff"]:
        return "user" if self.subject.startswith("u:") else "staff"

    @property
    def id(self) -> int:
        return int(self.subject[2:])


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    refresh_expires_in: int  # seconds the refresh token lives
    session: str  # session family id; server-side, not part of ``as_dict``

    def as_dict(self) -> dict[str, Any]:
        """The login / refresh response body."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_expires_in": self.refresh_expires_in,
        }


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: Seconds in which a used refresh token presented again gets the pair it was exchanged for
#: (a lost answer, two refreshes at once) instead of revoking the family.
REFRESH_GRACE_S = 30
#: How long a concurrent loser waits for the winner's pair to be kept.
REFRESH_GRACE_WAIT_S = 2.0
_GRACE_NONCE = 12


def _grace_key(token_hash: str) -> str:
    return f"auth:refresh-grace:{token_hash}"


def _grace_cipher(refresh_token: str) -> AESGCM:
    """Derived from the old refresh token itself: only the phone holding it can open the pair."""
    return AESGCM(hashlib.sha256(b"zhangban refresh grace|" + refresh_token.encode()).digest())


def _as_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _number(value: object) -> float | None:
    """A JSON number as a float; None for anything else (booleans included)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


# --- the service ----------------------------------------------------------------------------


class TokenService:
    """Issues, verifies, refreshes and revokes tokens. One instance per worker."""

    def __init__(
        self,
        keys: dict[str, bytes],
        current_kid: str,
        redis: Redis,
        ttl: dict[Audience, tuple[int, int]],
        revocation_check_s: float,
        clock: Callable[[], float] = time.time,
        *,
        max_cached_tokens: int = 10_000,
    ) -> None:
        if current_kid not in keys:
            raise ValueError(f"current kid {current_kid!r} is not one of the keys")
        missing = [aud for aud in AUDIENCES if aud not in ttl]
        if missing:
            raise ValueError(f"no token lifetimes for {missing}")
        self._keys = dict(keys)
        self._current_kid = current_kid
        self._redis = redis
        self._ttl = dict(ttl)
        self._check_s = revocation_check_s
        self._clock = clock
        self._max_cached = max_cached_tokens
        self._retention_s = max(access for access, _ in ttl.values()) + RETENTION_MARGIN_S
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        #: rotations running on after their request was cancelled (held so they finish)
        self._rotations: set[asyncio.Future[TokenPair | None]] = set()
        self._revoked_sessions: dict[str, float] = {}
        self._revoked_subjects: dict[str, float] = {}
        self._generation: int | None = None
        #: this worker's own revocations, kept until a read of Redis includes them (a read that
        #: was already in flight when they were published must not drop them).
        self._own: tuple[int, dict[str, float], dict[str, float]] = (0, {}, {})
        #: when the generation was last checked, and when it is next due (not yet: always due).
        self._synced_at = 0.0
        self._sync_due = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis) -> TokenService:
        return cls(
            keys=parse_jwt_keys(settings.jwt_keys),
            current_kid=settings.jwt_current_kid,
            redis=redis,
            ttl={
                "citizen": (settings.access_ttl_s, settings.refresh_ttl_s),
                "staff": (settings.staff_access_ttl_s, settings.staff_refresh_ttl_s),
            },
            revocation_check_s=settings.revocation_check_s,
        )

    @property
    def cached_tokens(self) -> int:
        """How many verified access tokens this worker remembers (bounded)."""
        return len(self._cache)

    # --- issuing ---------------------------------------------------------------------------

    async def issue(self, *, subject: str, audience: Audience) -> TokenPair:
        """A new session family (a login) for ``subject`` on ``audience``."""
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience!r}")
        if not _SUBJECT_RE.fullmatch(subject) or not subject.startswith(SUBJECT_PREFIX[audience]):
            raise ValueError(f"subject {subject!r} does not fit audience {audience!r}")
        return await self._new_pair(subject, audience, secrets.token_hex(8), self._clock())

    async def _new_pair(
        self, subject: str, audience: Audience, session: str, now: float
    ) -> TokenPair:
        access_ttl, refresh_ttl = self._ttl[audience]
        refresh_token = secrets.token_urlsafe(32)
        await RefreshToken.create(
            token_hash=hash_refresh_token(refresh_token),
            family=session,
            subject=subject,
            audience=audience,
            expires_at=_as_datetime(now + refresh_ttl),
            created_at=_as_datetime(now),
        )
        return TokenPair(
            access_token=self._mint_access(subject, audience, session, now),
            refresh_token=refresh_token,
            expires_in=access_ttl,
            refresh_expires_in=refresh_ttl,
            session=session,
        )

    def _mint_access(self, subject: str, audience: Audience, session: str, now: float) -> str:
        claims = {
            "sub": subject,
            "aud": audience,
            "iat": round(now, 6),
            "exp": int(now) + self._ttl[audience][0],
            "sid": session,
        }
        return jwt.encode(
            claims,
            self._keys[self._current_kid],
            algorithm=ALGORITHM,
            headers={"kid": self._current_kid},
        )

    # --- verifying -------------------------------------------------------------------------

    async def verify_access(self, token: str, *, audience: Audience) -> Principal:
        """The principal of a valid access token for ``audience``; raises a ``Token*`` error."""
        now = self._clock()
        principal = self._cache.get(token)
        if principal is None:
            principal = self._decode(token, now)
            self._cache[token] = principal
            if len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(token)
        if principal.audience != audience:
            raise TokenInvalid()
        if principal.expires_at <= now:
            self._cache.pop(token, None)
            raise TokenExpired()
        if not self._synced_at <= now < self._sync_due:  # also when the clock went back
            await self._sync(now)
        if principal.session in self._revoked_sessions or (
            principal.issued_at <= self._revoked_subjects.get(principal.subject, -1.0)
        ):
            self._cache.pop(token, None)
            raise TokenRevoked()
        return principal

    def _decode(self, token: str, now: float) -> Principal:
        """Full verification: header, signature, claims. Expiry is left to the caller."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenInvalid()
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if header.get("alg") != ALGORITHM or not isinstance(kid, str) or kid not in self._keys:
                raise TokenInvalid()
            claims = jwt.decode(
                token,
                self._keys[kid],
                algorithms=[ALGORITHM],
                options={
                    "require": list(REQUIRED_CLAIMS),
                    # checked here against the injected clock, not PyJWT's:
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise TokenInvalid() from None
        sub, aud, sid = claims.get("sub"), claims.get("aud"), claims.get("sid")
        iat, exp = _number(claims.get("iat")), _number(claims.get("exp"))
        if (
            not isinstance(sub, str)
            or aud not in AUDIENCES
            or not sub.startswith(SUBJECT_PREFIX[aud])
            or not _SUBJECT_RE.fullmatch(sub)
            or not isinstance(sid, str)
            or not sid
            or iat is None
            or exp is None
            or iat > now + IAT_SKEW_S
        ):
            raise TokenInvalid()
        return Principal(subject=sub, audience=aud, session=sid, issued_at=iat, expires_at=int(exp))

    # --- revocation state ------------------------------------------------------------------

    async def _sync(self, now: float, *, force: bool = False) -> None:
        """Re-read the revoked sets if the generation moved (at most every check interval)."""
        previous = self._synced_at, self._sync_due
        # Concurrent requests keep using the current copy meanwhile.
        self._synced_at, self._sync_due = now, now + self._check_s
        try:
            raw = await self._redis.get(GENERATION_KEY)
            generation = int(raw) if raw else 0
            if generation == self._generation and not force:
                return
            floor = now - self._retention_s
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(GENERATION_KEY)
                pipe.zrangebyscore(SESSIONS_KEY, floor, "+inf", withscores=True)
                pipe.zrangebyscore(SUBJECTS_KEY, floor, "+inf", withscores=True)
                raw, sessions, subjects = await pipe.execute()
        except BaseException:
            self._synced_at, self._sync_due = previous  # the next request tries again
            raise
        revoked_sessions = {_text(member): float(score) for member, score in sessions}
        revoked_subjects = {_text(member): float(score) for member, score in subjects}
        generation = int(raw) if raw else 0
        own_generation, own_sessions, own_subjects = self._own
        if own_generation and generation >= own_generation:
            self._own = (0, {}, {})
        else:
            _merge(revoked_sessions, {m: t for m, t in own_sessions.items() if t >= floor})
            _merge(revoked_subjects, {m: t for m, t in own_subjects.items() if t >= floor})
        self._revoked_sessions, self._revoked_subjects = revoked_sessions, revoked_subjects
        self._generation = generation

    async def _publish(
        self, now: float, *, sessions: dict[str, float], subjects: dict[str, float]
    ) -> None:
        """Add revocations to Redis, trim what can no longer matter, bump the generation once."""
        floor = now - self._retention_s
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, members in ((SESSIONS_KEY, sessions), (SUBJECTS_KEY, subjects)):
                if members:
                    pipe.zadd(key, dict(members), gt=True)
                    pipe.zremrangebyscore(key, "-inf", floor)
                    pipe.expire(key, self._retention_s)
            pipe.incr(GENERATION_KEY)
            generation = int((await pipe.execute())[-1])
        # This worker sees it at once; its generation stays behind, so the next check re-reads
        # everything (including revocations other workers made meanwhile).
        _merge(self._revoked_sessions, sessions)
        _merge(self._revoked_subjects, subjects)
        _, own_sessions, own_subjects = self._own
        _merge(own_sessions, sessions)
        _merge(own_subjects, subjects)
        self._own = (generation, own_sessions, own_subjects)

    async def revoke_session(self, session: str) -> None:
        """Log one session family out: its access and refresh tokens stop working."""
        now = round(self._clock(), 6)
        await self._publish(now, sessions={session: now}, subjects={})
        await RefreshToken.filter(family=session, revoked_at__isnull=True).update(
            revoked_at=_as_datetime(now)
        )

    async def revoke_subject(self, subject: str) -> None:
        """Log a subject out everywhere (deactivation): every token issued up to now dies.

        A login after this call works again (``iat`` is compared with microsecond precision);
        refusing new logins of a deactivated account is the login's job.
        """
        now = round(self._clock(), 6)
        families = await (
            RefreshToken.filter(subject=subject, expires_at__gt=_as_datetime(now))
            .distinct()
            .values_list("family", flat=True)
        )
        await self._publish(
            now, sessions={str(family): now for family in families}, subjects={subject: now}
        )
        await RefreshToken.filter(subject=subject, revoked_at__isnull=True).update(
            revoked_at=_as_datetime(now)
        )

    async def logout(self, principal: Principal) -> None:
        await self.revoke_session(principal.session)

    # --- refreshing ------------------------------------------------------------------------

    async def refresh(self, refresh_token: str, *, audience: Audience) -> TokenPair:
        """Use up ``refresh_token`` and hand out a new pair in the same session family."""
        if not isinstance(refresh_token, str) or not 16 <= len(refresh_token) <= 256:
            raise RefreshInvalid()
        now = self._clock()
        row = await RefreshToken.get_or_none(token_hash=hash_refresh_token(refresh_token))
        if row is None or row.audience != audience:
            raise RefreshInvalid()
        session, subject = row.family, row.subject
        if row.revoked_at is not None or await self._family_revoked(session):
            raise TokenRevoked()
        if row.expires_at.timestamp() <= now:
            raise RefreshInvalid()
        await self._sync(now, force=True)
        revoked_at = self._revoked_subjects.get(subject)
        if session in self._revoked_sessions or (
            revoked_at is not None and row.created_at.timestamp() <= revoked_at
        ):
            raise TokenRevoked()
        if row.used_at is not None:
            # Used a moment ago by a refresh that may still be writing its pair: wait for it.
            again = await self._pair_again(
                refresh_token, used_at=row.used_at.timestamp(), now=now, wait=True
            )
            if again is not None:
                return again
            await self.revoke_session(session)
            raise RefreshReused()
        # Marking the token used, minting the pair and keeping it for the grace run to the end
        # even when the phone hangs up (Sanic cancels the request): cut between the mark and
        # the keeping, the retry would find the token used and nothing kept, and end the
        # session the grace is there to save.
        rotation = asyncio.ensure_future(
            self._rotate(row.id, refresh_token, subject, audience, session, now)
        )
        self._rotations.add(rotation)
        rotation.add_done_callback(self._rotations.discard)
        pair = await asyncio.shield(rotation)
        if pair is not None:
            return pair
        # A concurrent refresh (or a revocation) got there first.
        again = await self._pair_again(refresh_token, used_at=now, now=now, wait=True)
        if again is not None:
            return again
        await self.revoke_session(session)
        raise RefreshReused()

    async def _rotate(
        self,
        row_id: int,
        refresh_token: str,
        subject: str,
        audience: Audience,
        session: str,
        now: float,
    ) -> TokenPair | None:
        """Use the token up and hand out its successor, kept for the grace; ``None`` when
        another refresh or a revocation used it first."""
        won = await RefreshToken.filter(
            id=row_id, used_at__isnull=True, revoked_at__isnull=True
        ).update(used_at=_as_datetime(now))
        if not won:
            return None
        pair = await self._new_pair(subject, audience, session, now)
        await self._keep_for_grace(refresh_token, pair)
        return pair

    async def _keep_for_grace(self, refresh_token: str, pair: TokenPair) -> None:
        nonce = secrets.token_bytes(_GRACE_NONCE)
        body = json.dumps(
            {
                "access_token": pair.access_token,
                "refresh_token": pair.refresh_token,
                "expires_in": pair.expires_in,
                "refresh_expires_in": pair.refresh_expires_in,
                "session": pair.session,
            }
        ).encode()
        sealed = nonce + _grace_cipher(refresh_token).encrypt(nonce, body, None)
        await self._redis.set(
            _grace_key(hash_refresh_token(refresh_token)), sealed, ex=REFRESH_GRACE_S
        )

    async def _pair_again(
        self, refresh_token: str, *, used_at: float, now: float, wait: bool = False
    ) -> TokenPair | None:
        """The pair ``refresh_token`` was exchanged for, if it is asked again within the grace
        and that pair's refresh token is still unused; else ``None`` (reuse)."""
        if now - used_at > REFRESH_GRACE_S:
            return None
        key = _grace_key(hash_refresh_token(refresh_token))
        deadline = time.monotonic() + (REFRESH_GRACE_WAIT_S if wait else 0.0)
        sealed = await self._redis.get(key)
        while not sealed and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            sealed = await self._redis.get(key)
        if not sealed:
            return None
        raw = sealed if isinstance(sealed, bytes) else sealed.encode("latin-1")
        try:
            body = _grace_cipher(refresh_token).decrypt(
                raw[:_GRACE_NONCE], raw[_GRACE_NONCE:], None
            )
        except (InvalidTag, ValueError):
            return None
        pair = TokenPair(**json.loads(body))
        still_fresh = await RefreshToken.filter(
            token_hash=hash_refresh_token(pair.refresh_token),
            used_at__isnull=True,
            revoked_at__isnull=True,
        ).exists()
        return pair if still_fresh else None

    async def _family_revoked(self, session: str) -> bool:
        """Whether any token of the family was revoked: revocation sticks to the family, even
        for a token a concurrent refresh inserted just after the revoking UPDATE."""
        return await RefreshToken.filter(family=session, revoked_at__isnull=False).exists()

    async def purge_expired(self, older_than_s: float = 0) -> int:
        """Delete refresh tokens expired more than ``older_than_s`` ago; returns how many.

        Safe at any time: an expired token is refused whether or not its row exists.
        """
        cutoff = _as_datetime(self._clock() - older_than_s)
        return await RefreshToken.filter(expires_at__lt=cutoff).delete()


def _merge(into: dict[str, float], revocations: dict[str, float]) -> None:
    for member, score in revocations.items():
        into[member] = max(score, into.get(member, score))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
