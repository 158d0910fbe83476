"""Tokens: issue and verify, refusals with actionable codes, rotation, revocation, workers.

Runs on the real database and Redis of the profile (``clean``): SQLite + the in-process Redis,
or PostgreSQL + Redis on the second run. Time is injected (``Clock``) so expiry and the
revocation check interval are exercised without sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import jwt
import pytest
from sanic import Sanic

import auth.tokens as tokens_module
from api.errors import handle_domain_error
from auth.models import RefreshToken
from auth.tokens import (
    GENERATION_KEY,
    SESSIONS_KEY,
    SUBJECTS_KEY,
    Principal,
    RefreshInvalid,
    RefreshReused,
    TokenExpired,
    TokenInvalid,
    TokenPair,
    TokenRevoked,
    TokenService,
)
from core.errors import Unauthenticated
from core.keys import parse_jwt_keys
from core.settings import Settings

KEYS = parse_jwt_keys("k1:" + "a" * 40 + ",k2:" + "b" * 40)
TTL: dict[Any, tuple[int, int]] = {"citizen": (900, 30 * 86400), "staff": (600, 12 * 3600)}
T0 = 1_900_000_000.0  # 2030-03-17, a fixed "now"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(
    app: Sanic, clock: Clock, *, kid: str = "k1", check_s: float = 0.0, **kwargs: Any
) -> TokenService:
    keys = kwargs.pop("keys", KEYS)
    return TokenService(
        keys=keys,
        current_kid=kid,
        redis=app.ctx.redis,
        ttl=TTL,
        revocation_check_s=check_s,
        clock=clock,
        **kwargs,
    )


@pytest.fixture
def svc(clean: Sanic, clock: Clock) -> TokenService:
    return make(clean, clock)


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def refused(exc: pytest.ExceptionInfo[Unauthenticated], code: str) -> None:
    assert exc.value.status == 401
    assert exc.value.code == code


# --- issue and verify -------------------------------------------------------------------------


async def test_issue_then_verify(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:42", audience="citizen")
    assert isinstance(pair, TokenPair)
    assert pair.expires_in == 900 and pair.refresh_expires_in == 30 * 86400
    principal = await svc.verify_access(pair.access_token, audience="citizen")
    assert principal == Principal(
        subject="u:42",
        audience="citizen",
        session=pair.session,
        issued_at=T0,
        expires_at=int(T0) + 900,
    )
    assert principal.kind == "user" and principal.id == 42
    body = pair.as_dict()
    assert body == {
        "access_token": pair.access_token,
        "token_type": "Bearer",
        "expires_in": 900,
        "refresh_token": pair.refresh_token,
        "refresh_expires_in": 30 * 86400,
    }


async def test_staff_tokens_are_shorter(svc: TokenService) -> None:
    pair = await svc.issue(subject="s:7", audience="staff")
    principal = await svc.verify_access(pair.access_token, audience="staff")
    assert principal.kind == "staff" and principal.id == 7
    assert principal.expires_at == int(T0) + 600
    assert pair.expires_in == 600 and pair.refresh_expires_in == 12 * 3600


async def test_subject_must_fit_audience(svc: TokenService) -> None:
    for subject, audience in [("s:1", "citizen"), ("u:1", "staff"), ("x:1", "citizen")]:
        with pytest.raises(ValueError):
            await svc.issue(subject=subject, audience=audience)  # type: ignore[arg-type]


async def test_claims_are_minimal_and_refresh_token_stored_hashed(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:42", audience="citizen")
    assert set(claims_of(pair.access_token)) == {"sub", "aud", "iat", "exp", "sid"}
    header = jwt.get_unverified_header(pair.access_token)
    assert header["alg"] == "HS256" and header["kid"] == "k1"
    rows = await RefreshToken.all()
    assert len(rows) == 1
    row = rows[0]
    assert row.token_hash == hashlib.sha256(pair.refresh_token.encode()).hexdigest()
    assert pair.refresh_token not in {row.token_hash, row.family, row.subject}
    assert (row.family, row.subject, row.audience) == (pair.session, "u:42", "citizen")
    assert row.used_at is None and row.revoked_at is None


async def test_errors_are_401_envelopes_with_actionable_codes() -> None:
    expected = {
        TokenExpired: "auth.token_expired",
        TokenInvalid: "auth.token_invalid",
        TokenRevoked: "auth.token_revoked",
        RefreshInvalid: "auth.refresh_invalid",
        RefreshReused: "auth.refresh_reused",
    }
    for cls, code in expected.items():
        response = await handle_domain_error(None, cls())  # type: ignore[arg-type]
        assert response.status == 401
        error = json.loads(response.body)["error"]
        assert error["code"] == code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])


# --- refusals ---------------------------------------------------------------------------------


async def test_expired_token_says_refresh(svc: TokenService, clean: Sanic, clock: Clock) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    await svc.verify_access(pair.access_token, audience="citizen")  # now cached
    clock.advance(899)
    await svc.verify_access(pair.access_token, audience="citizen")
    clock.advance(1)
    with pytest.raises(TokenExpired) as exc:  # cached: still checked against the clock
        await svc.verify_access(pair.access_token, audience="citizen")
    refused(exc, "auth.token_expired")
    fresh_worker = make(clean, clock)
    with pytest.raises(TokenExpired):  # never seen: same answer
        await fresh_worker.verify_access(pair.access_token, audience="citizen")


async def test_tampered_payload_or_signature_is_invalid(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    header, payload, signature = pair.access_token.split(".")
    forged = dict(claims_of(pair.access_token), sub="u:2")
    sig = list(signature)
    sig[5] = "A" if sig[5] != "A" else "B"
    for token in [f"{header}.{b64(forged)}.{signature}", f"{header}.{payload}.{''.join(sig)}"]:
        with pytest.raises(TokenInvalid) as exc:
            await svc.verify_access(token, audience="citizen")
        refused(exc, "auth.token_invalid")
    # The genuine token still works: a refusal caches nothing.
    assert (await svc.verify_access(pair.access_token, audience="citizen")).subject == "u:1"


async def test_alg_none_is_invalid(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    claims = claims_of(pair.access_token)
    for header in [
        {"alg": "none", "typ": "JWT", "kid": "k1"},
        {"alg": "None", "typ": "JWT", "kid": "k1"},
        {"alg": "none", "typ": "JWT"},
    ]:
        token = f"{b64(header)}.{b64(claims)}."
        with pytest.raises(TokenInvalid):
            await svc.verify_access(token, audience="citizen")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_other_algorithms_are_invalid(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    claims = claims_of(pair.access_token)
    hs512 = jwt.encode(claims, KEYS["k1"], algorithm="HS512", headers={"kid": "k1"})
    _, payload, signature = hs512.split(".")
    rs256 = f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'})}.{payload}.{signature}"
    # HS256 signature under a header that claims another algorithm.
    _, _, hs_signature = pair.access_token.split(".")
    relabelled = f"{b64({'alg': 'HS384', 'typ': 'JWT', 'kid': 'k1'})}.{payload}.{hs_signature}"
    for token in [hs512, rs256, relabelled]:
        with pytest.raises(TokenInvalid):
            await svc.verify_access(token, audience="citizen")


async def test_wrong_audience_is_invalid(svc: TokenService) -> None:
    citizen = await svc.issue(subject="u:1", audience="citizen")
    staff = await svc.issue(subject="s:1", audience="staff")
    with pytest.raises(TokenInvalid):  # never seen
        await svc.verify_access(citizen.access_token, audience="staff")
    await svc.verify_access(staff.access_token, audience="staff")
    with pytest.raises(TokenInvalid):  # cached for the other audience
        await svc.verify_access(staff.access_token, audience="citizen")
    await svc.verify_access(citizen.access_token, audience="citizen")
    with pytest.raises(TokenInvalid):
        await svc.verify_access(citizen.access_token, audience="staff")


async def test_unknown_kid_and_wrong_key_are_invalid(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    claims = claims_of(pair.access_token)
    unknown = jwt.encode(claims, "c" * 40, algorithm="HS256", headers={"kid": "k9"})
    no_kid = jwt.encode(claims, KEYS["k1"], algorithm="HS256")
    mislabelled = jwt.encode(claims, KEYS["k2"], algorithm="HS256", headers={"kid": "k1"})
    for token in [unknown, no_kid, mislabelled]:
        with pytest.raises(TokenInvalid):
            await svc.verify_access(token, audience="citizen")


@pytest.mark.parametrize(
    "changes",
    [
        {"sid": None},
        {"sub": None},
        {"iat": None},
        {"exp": None},
        {"aud": None},
        {"aud": "admin"},
        {"aud": ["citizen"]},
        {"sub": "s:1"},  # a staff subject in a citizen token
        {"sub": "u:abc"},
        {"sub": 1},
        {"sid": 5},
        {"sid": ""},
        {"exp": "soon"},
        {"iat": True},
        {"iat": T0 + 3600},  # issued in the future
    ],
)
async def test_malformed_claims_are_invalid(svc: TokenService, changes: dict[str, Any]) -> None:
    claims: dict[str, Any] = {
        "sub": "u:1",
        "aud": "citizen",
        "iat": T0,
        "exp": int(T0) + 900,
        "sid": "abcdef0123456789",
    }
    for name, value in changes.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    token = jwt.encode(claims, KEYS["k1"], algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(TokenInvalid):
        await svc.verify_access(token, audience="citizen")


async def test_garbage_is_invalid(svc: TokenService) -> None:
    for token in ["", "abc", "a.b.c", "..", "x" * 5000, f"{b64(b'[1]')}.{b64(b'[]')}.x"]:
        with pytest.raises(TokenInvalid):
            await svc.verify_access(token, audience="citizen")


# --- key rotation -----------------------------------------------------------------------------


async def test_key_rotation(clean: Sanic, clock: Clock) -> None:
    before = make(clean, clock, kid="k1")
    old = await before.issue(subject="u:1", audience="citizen")
    after = make(clean, clock, kid="k2")  # the deployment that made k2 current
    assert (await after.verify_access(old.access_token, audience="citizen")).subject == "u:1"
    new = await after.issue(subject="u:1", audience="citizen")
    assert jwt.get_unverified_header(new.access_token)["kid"] == "k2"
    assert (await before.verify_access(new.access_token, audience="citizen")).subject == "u:1"
    # Once k1 is removed from the key list, its tokens stop verifying.
    retired = make(clean, clock, kid="k2", keys={"k2": KEYS["k2"]})
    with pytest.raises(TokenInvalid):
        await retired.verify_access(old.access_token, audience="citizen")
    await retired.verify_access(new.access_token, audience="citizen")
    with pytest.raises(ValueError):
        make(clean, clock, kid="k3")


# --- refresh ----------------------------------------------------------------------------------


async def test_refresh_rotates_and_reuse_revokes_the_family(
    svc: TokenService, clock: Clock
) -> None:
    first = await svc.issue(subject="u:1", audience="citizen")
    clock.advance(600)
    second = await svc.refresh(first.refresh_token, audience="citizen")
    assert second.session == first.session
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token
    principal = await svc.verify_access(second.access_token, audience="citizen")
    assert principal.session == first.session and principal.issued_at == T0 + 600
    assert principal.expires_at == int(T0) + 600 + 900
    clock.advance(60)
    third = await svc.refresh(second.refresh_token, audience="citizen")
    await svc.verify_access(third.access_token, audience="citizen")

    # The first refresh token comes back: someone copied it.
    with pytest.raises(RefreshReused) as exc:
        await svc.refresh(first.refresh_token, audience="citizen")
    refused(exc, "auth.refresh_reused")
    with pytest.raises(TokenRevoked) as revoked:  # the family's newest refresh token is dead
        await svc.refresh(third.refresh_token, audience="citizen")
    refused(revoked, "auth.token_revoked")
    for pair in (first, second, third):  # and so are its access tokens
        with pytest.raises(TokenRevoked):
            await svc.verify_access(pair.access_token, audience="citizen")
    assert await RefreshToken.filter(family=first.session, revoked_at__isnull=True).count() == 0


async def test_refresh_refusals(svc: TokenService, clock: Clock) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    for token in ["", "short", "nope-" * 10, "x" * 1000]:
        with pytest.raises(RefreshInvalid) as exc:
            await svc.refresh(token, audience="citizen")
        refused(exc, "auth.refresh_invalid")
    with pytest.raises(RefreshInvalid):
        await svc.refresh(pair.refresh_token, audience="staff")
    # A refusal for the wrong audience does not use the token up.
    clock.advance(30 * 86400 - 1)
    await svc.refresh(pair.refresh_token, audience="citizen")

    other = await svc.issue(subject="u:2", audience="citizen")
    clock.advance(30 * 86400)
    with pytest.raises(RefreshInvalid):
        await svc.refresh(other.refresh_token, audience="citizen")


async def test_concurrent_refreshes_get_one_pair(svc: TokenService) -> None:
    """Two requests that expired together refresh at once: one rotation, both get its pair, and
    the session lives on."""
    pair = await svc.issue(subject="u:1", audience="citizen")
    results = await asyncio.gather(
        svc.refresh(pair.refresh_token, audience="citizen"),
        svc.refresh(pair.refresh_token, audience="citizen"),
    )
    assert results[0] == results[1] and results[0].refresh_token != pair.refresh_token
    await svc.verify_access(results[0].access_token, audience="citizen")
    assert await RefreshToken.filter(family=pair.session).count() == 2
    await svc.refresh(results[0].refresh_token, audience="citizen")


async def test_concurrent_refreshes_on_two_workers(clean: Sanic, clock: Clock) -> None:
    a, b = make(clean, clock), make(clean, clock)
    pair = await a.issue(subject="u:1", audience="citizen")
    results = await asyncio.gather(
        a.refresh(pair.refresh_token, audience="citizen"),
        b.refresh(pair.refresh_token, audience="citizen"),
    )
    assert results[0] == results[1]


async def test_a_lost_refresh_answer_is_answered_again_within_the_grace(
    svc: TokenService, clock: Clock
) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    first = await svc.refresh(pair.refresh_token, audience="citizen")
    clock.advance(tokens_module.REFRESH_GRACE_S - 1)
    again = await svc.refresh(pair.refresh_token, audience="citizen")  # the answer was lost
    assert again == first
    await svc.verify_access(first.access_token, audience="citizen")


async def test_after_the_grace_the_old_token_is_reuse(svc: TokenService, clock: Clock) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    first = await svc.refresh(pair.refresh_token, audience="citizen")
    clock.advance(tokens_module.REFRESH_GRACE_S + 1)
    with pytest.raises(RefreshReused):
        await svc.refresh(pair.refresh_token, audience="citizen")
    with pytest.raises(TokenRevoked):
        await svc.refresh(first.refresh_token, audience="citizen")


async def test_once_the_new_pair_rotated_the_old_token_is_reuse(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    first = await svc.refresh(pair.refresh_token, audience="citizen")
    second = await svc.refresh(first.refresh_token, audience="citizen")
    with pytest.raises(RefreshReused):  # within the grace, but the pair it got was used
        await svc.refresh(pair.refresh_token, audience="citizen")
    with pytest.raises(TokenRevoked):
        await svc.verify_access(second.access_token, audience="citizen")


async def test_the_kept_pair_opens_only_with_the_old_token(svc: TokenService) -> None:
    """What Redis keeps for the grace is sealed with the old refresh token: Redis alone does not
    reveal the new pair."""
    pair = await svc.issue(subject="u:1", audience="citizen")
    first = await svc.refresh(pair.refresh_token, audience="citizen")
    key = tokens_module._grace_key(tokens_module.hash_refresh_token(pair.refresh_token))
    sealed = await svc._redis.get(key)
    assert sealed and first.refresh_token.encode() not in sealed
    assert first.access_token.encode() not in sealed


async def test_refresh_inserted_after_revocation_still_dies(svc: TokenService) -> None:
    """A row a racing refresh inserts after the revoking UPDATE is refused: revocation sticks to
    the family, not only to the rows that existed."""
    pair = await svc.issue(subject="u:1", audience="citizen")
    await RefreshToken.filter(family=pair.session).update(revoked_at=tokens_module._as_datetime(T0))
    late = "late-refresh-token-" + "x" * 30
    await RefreshToken.create(
        token_hash=tokens_module.hash_refresh_token(late),
        family=pair.session,
        subject="u:1",
        audience="citizen",
        expires_at=tokens_module._as_datetime(T0 + 3600),
        created_at=tokens_module._as_datetime(T0 + 1),
    )
    with pytest.raises(TokenRevoked):
        await svc.refresh(late, audience="citizen")


# --- logout and revocation --------------------------------------------------------------------


async def test_logout_revokes_access_and_refresh(svc: TokenService) -> None:
    pair = await svc.issue(subject="u:1", audience="citizen")
    other = await svc.issue(subject="u:1", audience="citizen")  # another device
    principal = await svc.verify_access(pair.access_token, audience="citizen")
    await svc.logout(principal)
    with pytest.raises(TokenRevoked) as exc:
        await svc.verify_access(pair.access_token, audience="citizen")
    refused(exc, "auth.token_revoked")
    with pytest.raises(TokenRevoked):
        await svc.refresh(pair.refresh_token, audience="citizen")
    # The other device's session is untouched.
    await svc.verify_access(other.access_token, audience="citizen")
    await svc.refresh(other.refresh_token, audience="citizen")


async def test_revoke_subject(svc: TokenService, clock: Clock) -> None:
    phone = await svc.issue(subject="u:1", audience="citizen")
    clock.advance(0.25)
    tablet = await svc.issue(subject="u:1", audience="citizen")
    neighbour = await svc.issue(subject="u:2", audience="citizen")
    staff_same_id = await svc.issue(subject="s:1", audience="staff")
    await svc.verify_access(phone.access_token, audience="citizen")
    # A token of a session the database does not know (a login racing the revocation): the
    # timestamp rule still refuses it.
    stray = svc._mint_access("u:1", "citizen", "feedfacefeedface", clock.now)

    await svc.revoke_subject("u:1")

    for token in (phone.access_token, tablet.access_token, stray):
        with pytest.raises(TokenRevoked):
            await svc.verify_access(token, audience="citizen")
    for refresh_token in (phone.refresh_token, tablet.refresh_token):
        with pytest.raises(TokenRevoked):
            await svc.refresh(refresh_token, audience="citizen")
    await svc.verify_access(neighbour.access_token, audience="citizen")
    await svc.verify_access(staff_same_id.access_token, audience="staff")
    await svc.refresh(neighbour.refresh_token, audience="citizen")

    # A new login right after (same second, one millisecond later) works: iat has microseconds
    # and only tokens issued at or before the revocation instant are refused.
    clock.advance(0.001)
    again = await svc.issue(subject="u:1", audience="citizen")
    assert int(clock.now) == int(T0)
    await svc.verify_access(again.access_token, audience="citizen")
    renewed = await svc.refresh(again.refresh_token, audience="citizen")
    await svc.verify_access(renewed.access_token, audience="citizen")


async def test_token_issued_at_the_revocation_instant_is_refused(
    svc: TokenService, clock: Clock
) -> None:
    await svc.revoke_subject("u:1")
    token = svc._mint_access("u:1", "citizen", "0123456789abcdef", clock.now)
    with pytest.raises(TokenRevoked):
        await svc.verify_access(token, audience="citizen")


async def test_other_worker_sees_revocation_within_check_interval(
    clean: Sanic, clock: Clock
) -> None:
    a = make(clean, clock, check_s=1.0)
    b = make(clean, clock, check_s=1.0)
    immediate = make(clean, clock, check_s=0.0)
    first = await a.issue(subject="u:1", audience="citizen")
    second = await a.issue(subject="u:2", audience="citizen")
    for worker in (a, b, immediate):
        await worker.verify_access(first.access_token, audience="citizen")
        await worker.verify_access(second.access_token, audience="citizen")

    await a.logout(await a.verify_access(first.access_token, audience="citizen"))
    await a.revoke_subject("u:2")
    for worker in (a, immediate):  # the revoking worker, and one that always checks
        for pair in (first, second):
            with pytest.raises(TokenRevoked):
                await worker.verify_access(pair.access_token, audience="citizen")
    # b checked less than a second ago: it still trusts its copy (documented window)...
    clock.advance(0.5)
    await b.verify_access(first.access_token, audience="citizen")
    await b.verify_access(second.access_token, audience="citizen")
    # ...and refuses both once the interval has passed.
    clock.advance(0.5)
    for pair in (first, second):
        with pytest.raises(TokenRevoked):
            await b.verify_access(pair.access_token, audience="citizen")
    # A refresh never trusts the copy: it reads the current state.
    c = make(clean, clock, check_s=3600.0)
    third = await c.issue(subject="u:3", audience="citizen")
    await c.verify_access(third.access_token, audience="citizen")
    await a.revoke_subject("u:3")
    await c.verify_access(third.access_token, audience="citizen")  # within its interval
    with pytest.raises(TokenRevoked):
        await c.refresh(third.refresh_token, audience="citizen")


async def test_revoking_worker_also_picks_up_others_revocations(clean: Sanic, clock: Clock) -> None:
    a = make(clean, clock, check_s=1.0)
    b = make(clean, clock, check_s=1.0)
    one = await a.issue(subject="u:1", audience="citizen")
    two = await a.issue(subject="u:2", audience="citizen")
    await a.verify_access(one.access_token, audience="citizen")
    await b.revoke_session(one.session)  # a has not seen this one yet
    await a.revoke_session(two.session)  # a applies its own at once
    with pytest.raises(TokenRevoked):
        await a.verify_access(two.access_token, audience="citizen")
    clock.advance(1.0)
    with pytest.raises(TokenRevoked):  # and b's after the interval, despite its own bump
        await a.verify_access(one.access_token, audience="citizen")


async def test_redis_revocation_data_is_bounded(
    svc: TokenService, clean: Sanic, clock: Clock
) -> None:
    redis = clean.ctx.redis
    pair = await svc.issue(subject="u:1", audience="citizen")
    await svc.revoke_session(pair.session)
    await svc.revoke_subject("u:1")
    assert await redis.zcard(SESSIONS_KEY) == 1
    assert await redis.zcard(SUBJECTS_KEY) == 1
    retention = 900 + tokens_module.RETENTION_MARGIN_S
    assert 0 < await redis.ttl(SESSIONS_KEY) <= retention
    assert 0 < await redis.ttl(SUBJECTS_KEY) <= retention
    # Past the longest access lifetime the old entries can refuse nothing: they are trimmed.
    clock.advance(retention + 1)
    await svc.revoke_session("0000000000000000")
    await svc.revoke_subject("u:9")
    assert await redis.zrange(SESSIONS_KEY, 0, -1) == [b"0000000000000000"]
    assert await redis.zrange(SUBJECTS_KEY, 0, -1) == [b"u:9"]
    assert int(await redis.get(GENERATION_KEY)) == 4
    # The old refresh token stays dead: that is the database's job.
    with pytest.raises(TokenRevoked):
        await svc.refresh(pair.refresh_token, audience="citizen")


# --- the hot path -----------------------------------------------------------------------------


class CountingRedis:
    """Passes every call through to the real client and counts them by name."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        self.calls[name] = self.calls.get(name, 0) + 1
        return getattr(self.inner, name)


async def test_seen_token_costs_no_decode_and_no_redis(
    clean: Sanic, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis = CountingRedis(clean.ctx.redis)
    svc = TokenService(KEYS, "k1", redis, TTL, revocation_check_s=1.0, clock=clock)  # type: ignore[arg-type]
    pair = await svc.issue(subject="u:1", audience="citizen")
    decodes = 0
    real_decode = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        nonlocal decodes
        decodes += 1
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(tokens_module.jwt, "decode", counting_decode)
    await svc.verify_access(pair.access_token, audience="citizen")
    assert decodes == 1
    assert redis.calls == {"get": 1, "pipeline": 1}  # the first load of the revoked sets
    for _ in range(1000):
        await svc.verify_access(pair.access_token, audience="citizen")
    assert decodes == 1
    assert redis.calls == {"get": 1, "pipeline": 1}  # nothing more within the second
    clock.advance(1.0)
    await svc.verify_access(pair.access_token, audience="citizen")
    assert decodes == 1
    assert redis.calls == {"get": 2, "pipeline": 1}  # one generation read; unchanged


async def test_token_cache_is_bounded(clean: Sanic, clock: Clock) -> None:
    svc = make(clean, clock, max_cached_tokens=3)
    pairs = [await svc.issue(subject=f"u:{i}", audience="citizen") for i in range(1, 6)]
    for pair in pairs:
        await svc.verify_access(pair.access_token, audience="citizen")
    assert svc.cached_tokens == 3
    for pair in pairs:  # evicted tokens simply verify again
        assert (await svc.verify_access(pair.access_token, audience="citizen")).session
    assert svc.cached_tokens == 3
    clock.advance(900)
    for pair in pairs[-3:]:
        with pytest.raises(TokenExpired):
            await svc.verify_access(pair.access_token, audience="citizen")
    assert svc.cached_tokens == 0  # expired entries leave the cache


# --- housekeeping -----------------------------------------------------------------------------


async def test_from_settings(clean: Sanic, settings: Settings) -> None:
    svc = TokenService.from_settings(settings, clean.ctx.redis)
    pair = await svc.issue(subject="s:3", audience="staff")
    assert pair.expires_in == settings.staff_access_ttl_s
    assert pair.refresh_expires_in == settings.staff_refresh_ttl_s
    header = jwt.get_unverified_header(pair.access_token)
    assert header["kid"] == settings.jwt_current_kid
    assert (await svc.verify_access(pair.access_token, audience="staff")).id == 3


async def test_purge_expired(svc: TokenService, clock: Clock) -> None:
    old = await svc.issue(subject="u:1", audience="citizen")
    clock.advance(20 * 86400)
    new = await svc.issue(subject="u:2", audience="citizen")
    clock.advance(11 * 86400)
    assert await svc.purge_expired() == 1
    with pytest.raises(RefreshInvalid):
        await svc.refresh(old.refresh_token, audience="citizen")
    await svc.refresh(new.refresh_token, audience="citizen")


async def test_a_refresh_cut_off_by_the_phone_hanging_up_is_answered_again(
    svc: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The phone hangs up while the pair is being made (the server cancels the request): the
    rotation runs to its end all the same, so the retry gets the pair instead of ending the
    session (found from outside: 7 of 20 hang-ups)."""
    pair = await svc.issue(subject="u:1", audience="citizen")
    made = svc._new_pair

    async def slow_new_pair(*args: Any) -> TokenPair:
        await asyncio.sleep(0.2)
        return await made(*args)

    monkeypatch.setattr(svc, "_new_pair", slow_new_pair)
    request = asyncio.ensure_future(svc.refresh(pair.refresh_token, audience="citizen"))
    await asyncio.sleep(0.05)
    request.cancel()  # mid-rotation: the token is marked used, the pair not yet made
    with pytest.raises(asyncio.CancelledError):
        await request
    retried = await svc.refresh(pair.refresh_token, audience="citizen")
    await svc.verify_access(retried.access_token, audience="citizen")
    assert await RefreshToken.filter(family=pair.session, revoked_at__isnull=False).count() == 0


async def test_a_refresh_arriving_while_the_first_still_writes_its_pair_waits_for_it(
    svc: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second refresh reads the token already used but the pair not yet kept (PostgreSQL
    and several workers make that window real): it waits for the pair (found from outside)."""
    pair = await svc.issue(subject="u:1", audience="citizen")
    made = svc._new_pair

    async def slow_new_pair(*args: Any) -> TokenPair:
        await asyncio.sleep(0.2)
        return await made(*args)

    monkeypatch.setattr(svc, "_new_pair", slow_new_pair)
    first = asyncio.ensure_future(svc.refresh(pair.refresh_token, audience="citizen"))
    await asyncio.sleep(0.05)
    second = await svc.refresh(pair.refresh_token, audience="citizen")
    assert second == await first
    await svc.verify_access(second.access_token, audience="citizen")
