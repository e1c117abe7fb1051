"""VAPID keys (RFC 8292): read the configured private key, derive the public one, make new ones."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02


class InvalidVapidKey(ValueError):
    """VAPID_PRIVATE_KEY is neither a base64url P-256 scalar nor a P-256 PEM key."""


def b64url(data: bytes) -> str:
    """Unpadded base64url, the encoding of every key in the Web Push world."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """The key from its setting: PEM (PKCS#8 or SEC1), or base64url of the raw 32-byte scalar."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = b64url_decode(text)
            if len(raw) != 32:
                raise InvalidVapidKey("a raw VAPID private key is 32 bytes (base64url: 43 chars)")
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError, binascii.Error) as exc:
        if isinstance(exc, InvalidVapidKey):
            raise
        # Not the exception text: it could quote part of the key.
        raise InvalidVapidKey("VAPID_PRIVATE_KEY could not be read as a P-256 key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise InvalidVapidKey("VAPID keys are P-256 (prime256v1) EC keys")
    return key


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The browser's `applicationServerKey`: the uncompressed public point, base64url."""
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def private_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def generate() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class VapidKey:
    """The server's identity towards push services: signs one token per push request."""

    def __init__(self, value: str, subject: str) -> None:
        self.private_key = load_private_key(value)
        self.public_key = public_key_b64(self.private_key)
        self.subject = subject
        # RFC 8292's `vapid t=..., k=...` scheme (py_vapid's Vapid01 would send the old draft's).
        self.signer = Vapid02(self.private_key)
