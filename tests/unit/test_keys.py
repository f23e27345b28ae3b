"""API key format: recognisable, checksummed, and refused without a lookup when mistyped."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.domain.keys import (
    BASE62,
    BODY_LENGTH,
    KEY_LENGTH,
    KEY_PREFIX,
    ApiKey,
    MalformedKey,
    Principal,
    Scope,
    check_format,
    generate_key,
    grants,
    key_hash,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_new_key_has_the_prefix_enough_randomness_and_a_valid_checksum() -> None:
    keys = {generate_key() for _ in range(200)}

    assert len(keys) == 200
    for key in keys:
        assert key.startswith(KEY_PREFIX) and len(key) == KEY_LENGTH
        check_format(key)
    assert BODY_LENGTH * math.log2(len(BASE62)) >= 160


@given(
    position=st.integers(min_value=len(KEY_PREFIX), max_value=KEY_LENGTH - 1),
    replacement=st.sampled_from(BASE62),
)
def test_any_single_character_typo_is_refused_before_a_lookup(
    position: int, replacement: str
) -> None:
    key = generate_key()
    typo = key[:position] + replacement + key[position + 1 :]
    if typo == key:
        return
    with pytest.raises(MalformedKey, match="checksum"):
        check_format(typo)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "starts with 'pulse_'"),
        ("ghp_" + "a" * 36, "starts with 'pulse_'"),
        ("pulse_abc", "characters long"),
        ("pulse_" + "a" * 35 + "!", "only letters and digits"),
    ],
)
def test_malformed_keys_say_why(text: str, reason: str) -> None:
    with pytest.raises(MalformedKey, match=reason):
        check_format(text)


def test_two_swapped_characters_are_refused() -> None:
    key = generate_key()
    body = list(key)
    i = len(KEY_PREFIX) + 3
    if body[i] == body[i + 1]:
        body[i + 1] = "0" if body[i] != "0" else "1"
    else:
        body[i], body[i + 1] = body[i + 1], body[i]
    with pytest.raises(MalformedKey):
        check_format("".join(body))


def test_the_hash_is_stable_and_does_not_contain_the_key() -> None:
    key = generate_key()
    assert key_hash(key) == key_hash(key) and len(key_hash(key)) == 64
    assert key[len(KEY_PREFIX) :] not in key_hash(key)


def test_admin_grants_every_scope_and_others_only_themselves() -> None:
    assert all(grants(frozenset({Scope.ADMIN}), scope) for scope in Scope)
    reader = frozenset({Scope.CAMPAIGNS_READ})
    assert grants(reader, Scope.CAMPAIGNS_READ)
    assert not grants(reader, Scope.CAMPAIGNS_WRITE)
    assert not grants(frozenset({Scope.KEYS_ADMIN}), Scope.ADMIN)
    assert Principal("k", "n", reader).may(Scope.CAMPAIGNS_READ)


def _key(**changes: object) -> ApiKey:
    fields: dict[str, object] = {
        "key_id": "key_1",
        "name": "ci",
        "scopes": frozenset({Scope.EVENTS_WRITE}),
        "last_four": "abcd",
        "created_at": NOW,
        "expires_at": None,
        "last_used_at": None,
        "revoked_at": None,
        "created_by": None,
    }
    fields.update(changes)
    return ApiKey(**fields)  # type: ignore[arg-type]


def test_revoked_and_expired_keys_are_unusable_with_a_reason() -> None:
    assert _key().usable_at(NOW) is None
    assert _key(expires_at=NOW + timedelta(seconds=1)).usable_at(NOW) is None
    assert "expired" in (_key(expires_at=NOW).usable_at(NOW) or "")
    assert "revoked" in (_key(revoked_at=NOW).usable_at(NOW) or "")
