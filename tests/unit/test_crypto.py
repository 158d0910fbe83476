"""Field encryption (SM4-GCM), lookup hashes (HMAC-SM3), key rotation and display masks."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable

import pytest

from core.crypto import (
    DecryptionError,
    FieldCipher,
    mask_id_number,
    mask_name,
    mask_phone,
)
from core.settings import DEFAULT_FIELD_KEY, Settings

ID_NUMBER = "360426199101010071"  # valid example from PROTOCOLS.md
PHONE = "13812345678"
CTX = "auth_user.id_number"
OTHER_CTX = "auth_user.phone"
LOOKUP_KEY = b"unit-test-lookup-key-which-is-long-enough"
TOKEN_SHAPE = re.compile(r"v([0-9]+):[A-Za-z0-9_-]+")


def _key() -> bytes:
    return os.urandom(16)


def _cipher(keys: dict[int, bytes] | None = None, current: int = 1) -> FieldCipher:
    return FieldCipher(keys or {1: _key()}, current, LOOKUP_KEY)


def _version(token: str) -> int:
    match = TOKEN_SHAPE.fullmatch(token)
    assert match is not None, token
    return int(match.group(1))


def _raw(token: str) -> bytes:
    body = token.partition(":")[2]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _with_raw(token: str, raw: bytes) -> str:
    prefix = token.partition(":")[0]
    return f"{prefix}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"


# --- round trips and shape -------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [ID_NUMBER, PHONE, "张三丰", "", "a" * 500, "emoji 🙂"])
def test_round_trip(plaintext: str) -> None:
    cipher = _cipher()
    token = cipher.encrypt(plaintext, context=CTX)
    assert cipher.decrypt(token, context=CTX) == plaintext


def test_token_has_the_version_prefix_and_fits_the_column() -> None:
    token = _cipher().encrypt(ID_NUMBER, context=CTX)
    assert _version(token) == 1
    assert len(token) <= 200
    # 12-byte IV + 18 bytes of ciphertext + 16-byte tag
    assert len(_raw(token)) == 12 + len(ID_NUMBER) + 16


def test_ciphertext_never_contains_the_plaintext() -> None:
    cipher = _cipher()
    for plaintext in (ID_NUMBER, PHONE):
        token = cipher.encrypt(plaintext, context=CTX)
        assert plaintext not in token
        assert plaintext.encode() not in _raw(token)
        assert plaintext[-8:] not in token


def test_two_encryptions_of_one_value_differ() -> None:
    cipher = _cipher()
    tokens = {cipher.encrypt(ID_NUMBER, context=CTX) for _ in range(20)}
    assert len(tokens) == 20
    ivs = {_raw(t)[:12] for t in tokens}
    assert len(ivs) == 20


def test_from_settings_uses_the_configured_keys() -> None:
    other = base64.b64encode(b"fedcba9876543210").decode()
    settings = Settings(
        field_keys=f"1:{DEFAULT_FIELD_KEY},2:{other}",
        field_key_current=2,
        lookup_key="settings-lookup-key-of-sufficient-length",
    )
    cipher = FieldCipher.from_settings(settings)
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    assert _version(token) == 2
    same_keys = FieldCipher(
        {1: base64.b64decode(DEFAULT_FIELD_KEY), 2: b"fedcba9876543210"},
        2,
        b"settings-lookup-key-of-sufficient-length",
    )
    assert same_keys.decrypt(token, context=CTX) == ID_NUMBER
    assert same_keys.lookup_hash(ID_NUMBER, context=CTX) == cipher.lookup_hash(
        ID_NUMBER, context=CTX
    )


@pytest.mark.parametrize(
    ("keys", "current", "lookup_key"),
    [
        ({}, 1, LOOKUP_KEY),
        ({1: b"short"}, 1, LOOKUP_KEY),
        ({1: b"0" * 32}, 1, LOOKUP_KEY),
        ({1: b"0" * 16}, 2, LOOKUP_KEY),
        ({1: b"0" * 16}, 1, b""),
    ],
)
def test_constructor_refuses_a_bad_key_set(
    keys: dict[int, bytes], current: int, lookup_key: bytes
) -> None:
    with pytest.raises(ValueError):
        FieldCipher(keys, current, lookup_key)


def test_repr_does_not_show_keys() -> None:
    key = b"K" * 16
    cipher = FieldCipher({1: key}, 1, b"L" * 32)
    text = repr(cipher)
    assert "KKKK" not in text and "LLLL" not in text
    assert "current=1" in text


@pytest.mark.parametrize("context", ["", "a\x00b"])
def test_context_must_be_a_real_column_name(context: str) -> None:
    cipher = _cipher()
    with pytest.raises(ValueError):
        cipher.encrypt(ID_NUMBER, context=context)
    with pytest.raises(ValueError):
        cipher.lookup_hash(ID_NUMBER, context=context)


# --- rotation --------------------------------------------------------------------------------


def test_rotation_keeps_old_rows_readable_and_writes_under_the_new_key() -> None:
    k1, k2 = _key(), _key()
    before = FieldCipher({1: k1}, 1, LOOKUP_KEY)
    old = before.encrypt(ID_NUMBER, context=CTX)
    assert _version(old) == 1
    assert not before.needs_rotation(old)

    after = FieldCipher({1: k1, 2: k2}, 2, LOOKUP_KEY)
    assert after.decrypt(old, context=CTX) == ID_NUMBER
    new = after.encrypt(ID_NUMBER, context=CTX)
    assert _version(new) == 2
    assert after.needs_rotation(old)
    assert not after.needs_rotation(new)

    rotated = after.reencrypt(old, context=CTX)
    assert _version(rotated) == 2
    assert not after.needs_rotation(rotated)
    assert after.decrypt(rotated, context=CTX) == ID_NUMBER
    # once the old key is retired, the rotated row still reads and the old one does not
    retired = FieldCipher({2: k2}, 2, LOOKUP_KEY)
    assert retired.decrypt(rotated, context=CTX) == ID_NUMBER
    with pytest.raises(DecryptionError):
        retired.decrypt(old, context=CTX)


def test_reencrypt_leaves_a_current_token_alone_but_still_verifies_it() -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    assert cipher.reencrypt(token, context=CTX) == token
    with pytest.raises(DecryptionError):
        cipher.reencrypt(token, context=OTHER_CTX)


def test_reencrypt_keeps_the_context_binding() -> None:
    k1, k2 = _key(), _key()
    old = FieldCipher({1: k1}, 1, LOOKUP_KEY).encrypt(PHONE, context=OTHER_CTX)
    after = FieldCipher({1: k1, 2: k2}, 2, LOOKUP_KEY)
    rotated = after.reencrypt(old, context=OTHER_CTX)
    assert after.decrypt(rotated, context=OTHER_CTX) == PHONE
    with pytest.raises(DecryptionError):
        after.decrypt(rotated, context=CTX)


# --- failures --------------------------------------------------------------------------------


def test_wrong_context_does_not_decrypt() -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context=OTHER_CTX)


def test_unknown_version_does_not_decrypt() -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError, match="version 7"):
        cipher.decrypt("v7:" + token.partition(":")[2], context=CTX)


def test_a_different_key_under_the_same_version_does_not_decrypt() -> None:
    token = _cipher().encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError):
        _cipher().decrypt(token, context=CTX)


def test_version_swap_between_keys_does_not_decrypt() -> None:
    cipher = _cipher({1: _key(), 2: _key()}, current=2)
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError):
        cipher.decrypt("v1:" + token.partition(":")[2], context=CTX)


@pytest.mark.parametrize("part", ["iv", "ciphertext", "tag"])
def test_every_flipped_bit_is_detected(part: str) -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    raw = _raw(token)
    start, end = {"iv": (0, 12), "ciphertext": (12, len(raw) - 16), "tag": (len(raw) - 16, None)}[
        part
    ]
    for index in range(start, end if end is not None else len(raw)):
        for bit in (0x01, 0x80):
            tampered = bytearray(raw)
            tampered[index] ^= bit
            with pytest.raises(DecryptionError):
                cipher.decrypt(_with_raw(token, bytes(tampered)), context=CTX)


def test_truncated_and_extended_ciphertexts_are_refused() -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    raw = _raw(token)
    for changed in (raw[:-1], raw[:27], raw[:12], b"", raw + b"\x00"):
        with pytest.raises(DecryptionError):
            cipher.decrypt(_with_raw(token, changed), context=CTX)


@pytest.mark.parametrize(
    "token",
    [
        "",
        ID_NUMBER,
        "v1",
        "v1:",
        "1:AAAA",
        "vx:AAAA",
        "v-1:AAAA",
        "v01:AAAA",
        "v１:AAAA",  # full-width digit
        "v1:AAA=",
        "v1:AA+/AA",
        "v1:AAAA AAAA",
        "V1:AAAA",
    ],
)
def test_malformed_tokens_raise_decryption_error(token: str) -> None:
    cipher = _cipher()
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context=CTX)
    with pytest.raises(DecryptionError):
        cipher.needs_rotation(token)


def test_non_canonical_base64_text_is_refused() -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    # 46 bytes → 62 characters, the last carrying 4 unused bits; setting one gives the same bytes
    body = token.partition(":")[2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(body[-1])
    twin = body[:-1] + alphabet[last ^ 0x01]
    assert twin != body
    assert base64.urlsafe_b64decode(twin + "==") == base64.urlsafe_b64decode(body + "==")
    with pytest.raises(DecryptionError):
        cipher.decrypt("v1:" + twin, context=CTX)


def test_decryption_error_is_not_a_domain_error() -> None:
    from core.errors import DomainError

    assert not issubclass(DecryptionError, DomainError)
    assert issubclass(DecryptionError, Exception)


def test_decryption_error_does_not_carry_the_plaintext() -> None:
    cipher = _cipher()
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError) as info:
        cipher.decrypt(token, context=OTHER_CTX)
    assert ID_NUMBER not in str(info.value)


# --- lookup hashes ---------------------------------------------------------------------------


def test_lookup_hash_is_stable_hex_sm3() -> None:
    cipher = _cipher()
    digest = cipher.lookup_hash(ID_NUMBER, context=CTX)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert cipher.lookup_hash(ID_NUMBER, context=CTX) == digest
    assert ID_NUMBER not in digest


def test_lookup_hash_matches_an_independent_hmac_sm3() -> None:
    from cryptography.hazmat.primitives import hashes, hmac

    mac = hmac.HMAC(LOOKUP_KEY, hashes.SM3())
    mac.update(f"{CTX}\x00{ID_NUMBER}".encode())
    assert _cipher().lookup_hash(ID_NUMBER, context=CTX) == mac.finalize().hex()


def test_lookup_hash_survives_key_rotation() -> None:
    k1, k2 = _key(), _key()
    before = FieldCipher({1: k1}, 1, LOOKUP_KEY)
    after = FieldCipher({1: k1, 2: k2}, 2, LOOKUP_KEY)
    only_new = FieldCipher({3: _key()}, 3, LOOKUP_KEY)
    digest = before.lookup_hash(ID_NUMBER, context=CTX)
    assert after.lookup_hash(ID_NUMBER, context=CTX) == digest
    assert only_new.lookup_hash(ID_NUMBER, context=CTX) == digest


def test_lookup_hash_differs_per_context_and_per_lookup_key() -> None:
    cipher = _cipher()
    other_key = FieldCipher({1: _key()}, 1, b"another-lookup-key-entirely-different")
    digest = cipher.lookup_hash(PHONE, context=CTX)
    assert cipher.lookup_hash(PHONE, context=OTHER_CTX) != digest
    assert other_key.lookup_hash(PHONE, context=CTX) != digest
    assert cipher.lookup_hash("13812345679", context=CTX) != digest


def test_lookup_hash_context_and_value_cannot_be_shifted_into_each_other() -> None:
    cipher = _cipher()
    assert cipher.lookup_hash("b.c", context="a") != cipher.lookup_hash("c", context="a.b")


def test_lookup_hash_normalises_spellings_of_one_value() -> None:
    cipher = _cipher()
    digest = cipher.lookup_hash("11010519491231002X", context=CTX)
    for spelling in (
        "11010519491231002x",
        " 11010519491231002X\n",
        "１１０１０５１９４９１２３１００２Ｘ",
    ):
        assert cipher.lookup_hash(spelling, context=CTX) == digest


# --- masks -----------------------------------------------------------------------------------


MASKED: list[tuple[Callable[[str], str], str, str]] = [
    (mask_id_number, "360426199101010071", "3604**********0071"),
    (mask_id_number, "11010519491231002X", "1101**********002X"),
    (mask_id_number, "123456789", "1234*6789"),
    (mask_id_number, "12345678", "********"),
    (mask_id_number, "", ""),
    (mask_phone, "13812345678", "138****5678"),
    (mask_phone, "075512345678", "075*******78"),
    (mask_phone, "88886666", "888***66"),
    (mask_phone, "123456", "123*56"),
    (mask_phone, "12345", "*****"),
    (mask_phone, "", ""),
    (mask_name, "张三丰", "张**"),
    (mask_name, "张三", "张*"),
    (mask_name, "张", "张"),
    (mask_name, "欧阳娜娜", "欧***"),
    (mask_name, "", ""),
]


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    MASKED,
    ids=[f"{mask.__name__}-{value or 'empty'}" for mask, value, _ in MASKED],
)
def test_a_mask_hides_what_it_must_and_keeps_the_length(
    mask: Callable[[str], str], value: str, masked: str
) -> None:
    assert mask(value) == masked
    assert len(mask(value)) == len(value)
