"""Room policy: private rooms by user or role, the token's allow-list, anonymous only in open."""

from __future__ import annotations

from backend.auth.rooms import Identity, RoomAccess, RoomPolicy, anonymous

POLICY = RoomPolicy({"staff": RoomAccess(users=frozenset({"ana"}), roles=frozenset({"admin"}))})


def user(name: str, role: str = "user", rooms: set[str] | None = None) -> Identity:
    allowed = frozenset(rooms) if rooms is not None else None
    return Identity(name, authenticated=True, role="admin" if role == "admin" else "user",
                    rooms=allowed)  # fmt: skip


def test_a_private_room_lets_in_its_users_and_roles_only() -> None:
    assert POLICY.allows(user("ana"), "staff")
    assert POLICY.allows(user("root", "admin"), "staff")
    assert not POLICY.allows(user("bob"), "staff")
    assert not POLICY.allows(anonymous("ana"), "staff")  # a guest may call itself anything


def test_open_rooms_are_open_to_all_unless_the_token_has_an_allow_list() -> None:
    assert POLICY.allows(anonymous("guest-1"), "lobby")
    assert POLICY.allows(user("bob"), "lobby")
    assert not POLICY.allows(user("bot", rooms={"alerts"}), "lobby")
    assert POLICY.allows(user("bot", rooms={"alerts"}), "alerts")
    assert not POLICY.allows(user("ana", rooms={"lobby"}), "staff")  # the list narrows, too


def test_a_room_named_like_a_private_one_admits_the_same_people_and_nobody_else() -> None:
    for alike in ("STAFF", "Staff", "stafF"):
        assert POLICY.is_private(alike)
        assert POLICY.allows(user("ana"), alike)
        assert POLICY.allows(user("root", "admin"), alike)
        assert not POLICY.allows(user("bob"), alike)
        assert not POLICY.allows(anonymous("mallory"), alike)
    assert not POLICY.is_private("staff-room") and POLICY.allows(user("bob"), "staff-room")
    assert RoomPolicy({}).allows(anonymous("x"), "STAFF")  # no private rooms: nothing to mimic


def test_a_capital_i_in_a_private_rooms_name_cannot_be_copied_with_a_small_l() -> None:
    policy = RoomPolicy({"Infra": RoomAccess(users=frozenset({"ana"}))})
    for alike in ("Infra", "infra", "INFRA", "lnfra", "1nfra"):
        assert policy.is_private(alike), alike
        assert not policy.allows(anonymous("mallory"), alike), alike
        assert policy.allows(user("ana"), alike), alike
