"""Signed tokens: purpose-bound, expiring, tamper-evident; CSRF tokens bound to one browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dailypapers import tokens

SECRET = "unit-test-secret-0123456789abcdef0123456789"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_a_token_reads_back_its_data_until_it_expires() -> None:
    token = tokens.sign_token(
        SECRET, tokens.SIGN_IN, {"email": "a@b.org"}, expires_at=NOW + timedelta(minutes=15)
    )
    claims = tokens.read_token(SECRET, tokens.SIGN_IN, token, now=NOW + timedelta(minutes=14))
    assert claims.data == {"email": "a@b.org"} and claims.nonce
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.read_token(SECRET, tokens.SIGN_IN, token, now=NOW + timedelta(minutes=15))


def test_a_token_is_refused_for_another_purpose_secret_or_after_any_change() -> None:
    token = tokens.sign_token(SECRET, tokens.SIGN_IN, {"email": "a@b.org"}, expires_at=None)
    with pytest.raises(tokens.InvalidToken):
        tokens.read_token(SECRET, tokens.EMAIL_CHANGE, token, now=NOW)
    with pytest.raises(tokens.InvalidToken, match="not genuine"):
        tokens.read_token(SECRET + "x", tokens.SIGN_IN, token, now=NOW)
    payload, _, signature = token.partition(".")
    # A character of the middle: the last one of unpadded base64 carries unused bits, and
    # replacing it with "A" changed nothing when it was "A" already (1 run in 64 passed it).
    other = "B" if signature[5] == "A" else "A"
    forged = signature[:5] + other + signature[6:]
    for changed in (payload + "A." + signature, payload + "." + forged, "x", ""):
        with pytest.raises(tokens.InvalidToken):
            tokens.read_token(SECRET, tokens.SIGN_IN, changed, now=NOW)


def test_two_tokens_for_the_same_data_differ_by_their_nonce() -> None:
    first = tokens.sign_token(SECRET, tokens.SIGN_IN, {"email": "a@b.org"}, expires_at=None)
    second = tokens.sign_token(SECRET, tokens.SIGN_IN, {"email": "a@b.org"}, expires_at=None)
    assert first != second


def test_a_csrf_token_fits_only_the_browser_it_was_made_for() -> None:
    token = tokens.csrf_token(SECRET, "session-key", expires_at=NOW + timedelta(days=1))
    assert tokens.is_valid_csrf(SECRET, "session-key", token, now=NOW)
    assert not tokens.is_valid_csrf(SECRET, "other-session", token, now=NOW)
    assert not tokens.is_valid_csrf(SECRET, "", token, now=NOW)
    assert not tokens.is_valid_csrf(SECRET, "session-key", token, now=NOW + timedelta(days=2))
    assert not tokens.is_valid_csrf(SECRET, "session-key", "", now=NOW)
