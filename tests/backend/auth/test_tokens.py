"""Tokens: only the configured algorithm and key make an identity; weak secrets refuse to start."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from backend.auth.tokens import InvalidToken, Tokens
from backend.config import Settings
from tests.support.auth import OTHER_SECRET, SECRET, sign, unsigned


def hs256() -> Tokens:
    return Tokens(Settings(jwt_secret=SECRET))


def test_an_issued_token_verifies_as_its_user_role_and_rooms() -> None:
    tokens = hs256()
    token, expires_in = tokens.issue("ana", "admin", ["b", "a"], ttl=60)
    identity = tokens.verify(token)
    assert (identity.name, identity.role, identity.rooms) == ("ana", "admin", frozenset({"a", "b"}))
    assert identity.authenticated and identity.is_admin and expires_in == 60


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda: sign("ana", secret=OTHER_SECRET), id="another secret"),
        pytest.param(lambda: unsigned("ana"), id="alg none"),
        pytest.param(lambda: sign("ana", algorithm="HS512"), id="another algorithm"),
        pytest.param(lambda: sign("ana", role="root"), id="an unknown role"),
        pytest.param(lambda: sign("ana", rooms="lobby"), id="rooms not a list"),  # type: ignore[arg-type]
        pytest.param(lambda: "not.a.token", id="garbage"),
    ],
)
def test_a_forged_or_malformed_token_is_invalid(forged: object) -> None:
    assert callable(forged)
    with pytest.raises(InvalidToken) as refused:
        hs256().verify(forged())
    assert not refused.value.expired


def test_a_token_with_a_tampered_payload_is_invalid() -> None:
    header, _, signature = sign("bob").split(".")
    claims = json.loads(base64.urlsafe_b64decode(sign("bob").split(".")[1] + "=="))
    claims["role"] = "admin"
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        hs256().verify(f"{header}.{payload}.{signature}")


def test_an_expired_token_is_refused_as_expired() -> None:
    with pytest.raises(InvalidToken) as refused:
        hs256().verify(sign("ana", expires_in=-1))
    assert refused.value.expired


def test_a_token_without_exp_is_invalid() -> None:
    token = jwt.encode({"sub": "ana", "iat": 0}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        hs256().verify(token)


@pytest.mark.parametrize("secret", ["", "change-me", "x" * 31, "a" * 36, "ab" * 30, "abc-" * 16])
def test_auth_required_refuses_a_default_short_or_repetitive_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET") as refused:
        Settings(auth_required=True, jwt_secret=secret)
    assert secret not in str(refused.value) or not secret  # the secret is not printed


def test_a_random_secret_is_accepted() -> None:
    for _ in range(20):
        Settings(auth_required=True, jwt_secret=secrets.token_hex(16))
        Settings(auth_required=True, jwt_secret=secrets.token_urlsafe(32))


def test_a_users_token_carries_its_account_id_and_version_and_a_bots_says_service() -> None:
    tokens = hs256()
    mine = tokens.verify(tokens.issue("ana", user_id="0123456789abcdef", version=4)[0])
    assert (mine.user_id, mine.token_version, mine.service) == ("0123456789abcdef", 4, False)
    bot = tokens.verify(tokens.issue("alerts-bot", "admin")[0])
    assert (bot.user_id, bot.token_version, bot.service) == (None, 0, True)
    # A service's kept name revoked twice: its new tokens carry that version.
    again = tokens.verify(tokens.issue("alerts-bot", "admin", version=2)[0])
    assert (again.user_id, again.token_version, again.service) == (None, 2, True)


@pytest.mark.parametrize(
    "claims",
    [
        {"uid": "0123456789abcdef", "ver": 0, "svc": True},  # an account's and a service's
        {"uid": 7, "ver": 0},
        {"uid": "0123456789abcdef", "ver": "1"},
        {"svc": "yes"},
    ],
)
def test_account_claims_of_the_wrong_shape_make_a_token_invalid(claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        hs256().verify(sign("ana", service=False, **claims))


def test_without_auth_a_weak_secret_is_replaced_by_a_random_one() -> None:
    weak = Tokens(Settings(jwt_secret="change-me"))
    with pytest.raises(InvalidToken):
        weak.verify(sign("ana", secret="change-me"))  # a guessable key grants nothing
    assert weak.verify(weak.issue("ana")[0]).name == "ana"


def test_rs256_verifies_its_own_tokens_and_refuses_an_hs256_swap(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "private.pem").write_bytes(private)
    (tmp_path / "public.pem").write_bytes(public)
    settings = Settings(
        auth_required=True,
        jwt_algorithm="RS256",
        jwt_private_key_file=str(tmp_path / "private.pem"),
        jwt_public_key_file=str(tmp_path / "public.pem"),
    )
    tokens = Tokens(settings)
    assert tokens.verify(tokens.issue("bot", "admin")[0]).role == "admin"
    # The classic confusion attack: HS256 "signed" with the public key as the HMAC secret.
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(b'{"sub":"x","iat":1,"exp":9999999999,"role":"admin"}')
    signing_input = header + b"." + body.rstrip(b"=")
    import hmac
    from hashlib import sha256

    mac = hmac.new(public, signing_input, sha256).digest()
    swapped = signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")
    with pytest.raises(InvalidToken):
        tokens.verify(swapped.decode())
