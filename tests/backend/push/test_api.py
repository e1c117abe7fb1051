"""The /push API's rules: who may subscribe and follow what, which endpoints are accepted, and
what a server without a VAPID key answers. Also the key helpers and `python -m backend.push`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from backend.config import Settings
from backend.push.keys import InvalidVapidKey, VapidKey, generate, private_key_b64, public_key_b64
from tests.backend.push.test_delivery import push_env
from tests.support.auth import SECRET, bearer, sign
from tests.support.pushservice import Browser
from tests.support.server import ROOT, ServerFactory, ServerProcess

ANA = bearer(sign("ana"))


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(push_env()) as proc:
        yield proc


def test_subscribing_and_following_need_a_logged_in_user(server: ServerProcess) -> None:
    sub = Browser("http://127.0.0.1:9/push/x").subscription()
    assert httpx.post(server.http + "/push/subscriptions", json=sub).status_code == 401
    assert httpx.put(server.http + "/push/follows/news").status_code == 401
    assert httpx.get(server.http + "/push/follows", headers=bearer("forged")).status_code == 401


def test_follows_are_per_user_and_private_rooms_need_access(server: ServerProcess) -> None:
    base = server.http + "/push/follows"
    assert httpx.put(base + "/news", headers=ANA).status_code == 204
    assert httpx.put(base + "/news", headers=ANA).status_code == 204  # idempotent
    assert httpx.put(base + "/sports", headers=ANA).status_code == 204
    assert httpx.put(base + "/staff", headers=ANA).status_code == 403  # private: ops only
    assert httpx.put(base + "/bad%20room", headers=ANA).status_code == 422
    assert httpx.get(base, headers=ANA).json() == {"rooms": ["news", "sports"]}
    assert httpx.get(base, headers=bearer(sign("bob"))).json() == {"rooms": []}
    assert httpx.delete(base + "/news", headers=ANA).status_code == 204
    assert httpx.get(base, headers=ANA).json() == {"rooms": ["sports"]}
    assert httpx.put(base + "/staff", headers=bearer(sign("ops"))).status_code == 204


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.1/push/x",  # not an allowed push service host
        "https://127.0.0.1.evil.example/push/x",
        "file:///etc/passwd",
        "not a url",
    ],
)
def test_only_allowed_push_services_are_accepted(server: ServerProcess, endpoint: str) -> None:
    sub = Browser(endpoint).subscription()
    answer = httpx.post(server.http + "/push/subscriptions", json=sub, headers=ANA)
    assert answer.status_code == 422


def test_keys_must_be_a_p256_point_and_a_16_byte_secret(server: ServerProcess) -> None:
    sub = Browser("http://127.0.0.1:9/push/keys").subscription()
    bad_auth = {**sub, "keys": {**sub["keys"], "auth": "c2hvcnQ"}}
    bad_point = {**sub, "keys": {**sub["keys"], "p256dh": sub["keys"]["auth"]}}
    for body in (bad_auth, bad_point):
        answer = httpx.post(server.http + "/push/subscriptions", json=body, headers=ANA)
        assert answer.status_code == 422


def test_unsubscribing_removes_only_ones_own(server: ServerProcess) -> None:
    sub = Browser("http://127.0.0.1:9/push/mine").subscription()
    url = server.http + "/push/subscriptions"
    assert httpx.post(url, json=sub, headers=ANA).status_code == 201
    bob = bearer(sign("bob"))
    gone = {"endpoint": sub["endpoint"]}
    assert httpx.request("DELETE", url, json=gone, headers=bob).status_code == 404
    assert sub["endpoint"] in httpx.get(url, headers=ANA).json()["endpoints"]
    assert httpx.request("DELETE", url, json=gone, headers=ANA).status_code == 204
    assert sub["endpoint"] not in httpx.get(url, headers=ANA).json()["endpoints"]


def test_a_server_without_a_vapid_key_has_push_off(make_server: ServerFactory) -> None:
    server = make_server({"JWT_SECRET": SECRET})
    assert httpx.get(server.http + "/push/config").json() == {"enabled": False, "public_key": None}
    sub = Browser("https://fcm.googleapis.com/fcm/send/x").subscription()
    answer = httpx.post(server.http + "/push/subscriptions", json=sub, headers=ANA)
    assert answer.status_code == 404
    assert httpx.put(server.http + "/push/follows/news", headers=ANA).status_code == 404


def test_the_key_cli_prints_a_pair_the_server_reads_back() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "backend.push", "keys"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = dict(line.lstrip("# ").split("=", 1) for line in out.splitlines())
    key = VapidKey(lines["VAPID_PRIVATE_KEY"], "mailto:ops@example.com")
    assert key.public_key == lines["VAPID_PUBLIC_KEY"]


def test_raw_and_pem_keys_are_the_same_key_and_others_are_refused() -> None:
    key = generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    subject = "mailto:ops@example.com"
    assert VapidKey(pem, subject).public_key == public_key_b64(key)
    assert VapidKey(private_key_b64(key), subject).public_key == public_key_b64(key)
    for bad in ("c2hvcnQ", "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", "!!"):
        with pytest.raises(InvalidVapidKey):
            VapidKey(bad, subject)


def test_a_vapid_key_without_a_contact_subject_is_refused() -> None:
    key = private_key_b64(generate())
    with pytest.raises(ValidationError, match="VAPID_SUBJECT"):
        Settings(vapid_private_key=key, vapid_subject="ops@example.com")
    assert Settings(vapid_private_key=key, vapid_subject="mailto:ops@example.com").vapid_subject
