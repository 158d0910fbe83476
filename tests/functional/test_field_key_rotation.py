"""Rotating the field key (personal data at rest) without a migration and without downtime.

A user is verified while the deployment encrypts with key v1; then the running application's
cipher is rebuilt with keys {1, 2} and v2 current, as a rolling restart with the new
``ZB_FIELD_KEYS`` / ``ZB_FIELD_KEY_CURRENT`` would do. Old rows stay readable, new writes use v2,
uniqueness of ID numbers holds across versions (the lookup hash does not depend on the key), and
``FieldCipher.reencrypt`` moves a row from v1 to v2, after which v1 can be dropped.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import httpx
import pytest
from sanic import Sanic

from auth.common import ID_CONTEXT, PHONE_CONTEXT, SESSION_KEY_CONTEXT, AuthDeps
from auth.models import User
from core.crypto import DecryptionError, FieldCipher
from core.keys import parse_field_keys
from core.settings import Settings
from tests.people import Phone, id_number

MOBILE = "13612345678"

Rotate = Callable[..., FieldCipher]


def fresh_id() -> str:
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(18000))
    return id_number(born=born, seq=secrets.randbelow(1000))


def masked_id(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


@pytest.fixture
def key_v1(settings: Settings) -> bytes:
    assert settings.field_key_current == 1
    return parse_field_keys(settings.field_keys)[1]


@pytest.fixture
def rotate(clean: Sanic, settings: Settings, key_v1: bytes) -> Iterator[Rotate]:
    """Installs a new cipher in the running app (``ctx.auth`` is frozen: replaced whole), and
    puts the original back afterwards."""
    original: AuthDeps = clean.ctx.auth
    assert original.cipher.current_version == 1
    key_v2 = os.urandom(16)
    lookup_key = settings.lookup_key.encode("utf-8")

    def install(*, keep_v1: bool = True) -> FieldCipher:
        keys = {1: key_v1, 2: key_v2} if keep_v1 else {2: key_v2}
        cipher = FieldCipher(keys, current=2, lookup_key=lookup_key)
        clean.ctx.auth = dataclasses.replace(original, cipher=cipher)
        return cipher

    try:
        yield install
    finally:
        clean.ctx.auth = original


@pytest.fixture(autouse=True)
async def reset_realname(sandbox: httpx.AsyncClient) -> None:
    assert (await sandbox.post("/realname/_control/reset")).status_code == 200


async def bind_phone(person: Phone, sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        "/wechat/_control/phone-code", json={"phone_number": MOBILE, "openid": person.openid}
    )
    assert response.status_code == 200, response.text
    bound = await person.call("POST", "/api/v1/me/phone", json={"code": response.json()["code"]})
    assert bound.status_code == 200, bound.text


async def verified_under_v1(
    phone: Callable[[], Phone], sandbox: httpx.AsyncClient
) -> tuple[Phone, User]:
    person = phone()
    await person.login()
    await person.verify_l1(name="张伟", number=fresh_id())
    await bind_phone(person, sandbox)
    row = await User.get(openid=person.openid)
    for value in (row.id_number_enc, row.phone_enc, row.session_key_enc):
        assert value is not None and value.startswith("v1:"), value
    return person, row


async def me(person: Phone) -> dict[str, object]:
    response = await person.call("GET", "/api/v1/me")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_rows_written_under_v1_stay_readable(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone], rotate: Rotate
) -> None:
    person, _ = await verified_under_v1(phone, sandbox)
    before = await me(person)
    assert before["id_number"] == masked_id(person.id_number)

    rotate()
    after = await me(person)
    assert after == before
    assert after["id_number"] == masked_id(person.id_number)
    assert after["phone"] == "136****5678"
    # The row itself was not touched by reading it.
    row = await User.get(openid=person.openid)
    assert row.id_number_enc is not None and row.id_number_enc.startswith("v1:")


async def test_new_writes_use_the_current_key(
    clean: Sanic,
    sandbox: httpx.AsyncClient,
    phone: Callable[[], Phone],
    rotate: Rotate,
    key_v1: bytes,
    settings: Settings,
) -> None:
    cipher = rotate()
    person = phone()
    await person.login()
    number = fresh_id()
    answer = await person.verify_l1(name="王芳", number=number)
    assert answer["id_number"] == masked_id(number)
    await bind_phone(person, sandbox)

    row = await User.get(openid=person.openid)
    assert row.id_number_enc is not None and row.id_number_enc.startswith("v2:")
    assert row.phone_enc is not None and row.phone_enc.startswith("v2:")
    assert row.session_key_enc.startswith("v2:")
    assert cipher.decrypt(row.id_number_enc, context=ID_CONTEXT) == number
    assert cipher.decrypt(row.phone_enc, context=PHONE_CONTEXT) == MOBILE
    # Really under the new key: a deployment that only has v1 cannot read it.
    only_v1 = FieldCipher({1: key_v1}, current=1, lookup_key=settings.lookup_key.encode())
    with pytest.raises(DecryptionError):
        only_v1.decrypt(row.id_number_enc, context=ID_CONTEXT)
    assert (await me(person))["phone"] == "136****5678"


async def test_id_number_uniqueness_holds_across_key_versions(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone], rotate: Rotate
) -> None:
    first, row = await verified_under_v1(phone, sandbox)
    cipher = rotate()
    assert row.id_number_hash == cipher.lookup_hash(first.id_number, context=ID_CONTEXT)
    calls_before = (await sandbox.get("/realname/_control/stats")).json()["calls"]

    second = phone()
    await second.login()
    response = await second.call(
        "POST", "/api/v1/me/realname", json={"name": "张伟", "id_number": first.id_number}
    )
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "auth.id_number_taken"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert (await sandbox.get("/realname/_control/stats")).json()["calls"] == calls_before
    assert (await me(second))["realname_level"] == 0

    # And the other way round: a number verified under v2 is found by the same hash.
    number = fresh_id()
    await second.verify_l1(name="李娜", number=number)
    third = phone()
    await third.login()
    response = await third.call(
        "POST", "/api/v1/me/realname", json={"name": "李娜", "id_number": number}
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "auth.id_number_taken"


async def test_reencrypt_moves_a_row_from_v1_to_v2(
    sandbox: httpx.AsyncClient, phone: Callable[[], Phone], rotate: Rotate
) -> None:
    person, row = await verified_under_v1(phone, sandbox)
    before = await me(person)
    cipher = rotate()
    assert row.id_number_enc is not None and row.phone_enc is not None

    moved = {}
    for column, value, context in (
        ("id_number_enc", row.id_number_enc, ID_CONTEXT),
        ("phone_enc", row.phone_enc, PHONE_CONTEXT),
        ("session_key_enc", row.session_key_enc, SESSION_KEY_CONTEXT),
    ):
        assert cipher.needs_rotation(value)
        new = cipher.reencrypt(value, context=context)
        assert new.startswith("v2:") and new != value
        assert cipher.decrypt(new, context=context) == cipher.decrypt(value, context=context)
        assert not cipher.needs_rotation(new)
        assert cipher.reencrypt(new, context=context) == new  # already current: unchanged
        moved[column] = new
    # A value is bound to its column: re-encrypting it as another column's is refused.
    with pytest.raises(DecryptionError):
        cipher.reencrypt(row.id_number_enc, context=PHONE_CONTEXT)

    await User.filter(id=row.id).update(**moved)
    stored = await User.get(id=row.id)
    assert stored.id_number_enc == moved["id_number_enc"]
    assert stored.id_number_hash == row.id_number_hash  # the lookup hash never moves
    assert await me(person) == before

    # Every row moved: v1 can be dropped from the key set and the user is still readable.
    rotate(keep_v1=False)
    assert await me(person) == before
