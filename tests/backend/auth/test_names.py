"""Names and rooms: NFC, no invisible or reordering characters, whole-string rules, and the
UTS #39 keys that tell look-alike names apart from different ones."""

from __future__ import annotations

import pytest

from backend.auth.names import (
    InvalidName,
    check_room,
    confusable_key,
    confusable_keys,
    display_name,
    is_room,
    is_username,
)


@pytest.mark.parametrize(
    "name",
    [
        "\u202eevil",  # RIGHT-TO-LEFT OVERRIDE: displays as "live"
        "a\u200bna",  # ZERO WIDTH SPACE: displays as "ana"
        "a\u200dna",  # ZERO WIDTH JOINER
        "an\u00ada",  # SOFT HYPHEN
        "ana\u2028",  # LINE SEPARATOR
        "ana\u2029x",  # PARAGRAPH SEPARATOR
        "ana\x85",  # C1 control (NEXT LINE)
        "ana\x1b[31m",  # ESC: a terminal colour code
        "ana\n",  # a trailing newline
        "\ue000ana",  # private use
        "ana\U000e0041",  # a TAG character (Cf)
        "\u0378x",  # unassigned
        " ana",  # white space around the name
        "a" + "\u0301" * 5,  # stacked combining marks (NFC composes the first)
        "maria\u3164",  # HANGUL FILLER: shows as nothing (Lo, not a format character)
        "maria\uffa0",  # HALFWIDTH HANGUL FILLER
        "ma\u1160ria",  # HANGUL JUNGSEONG FILLER
        "maria\u2800",  # BRAILLE PATTERN BLANK
        "maria\u17b4",  # KHMER VOWEL INHERENT AQ (deprecated, invisible)
        "\u3164\u3164",  # a name that looks empty
        "",
        "x" * 33,
    ],
)
def test_names_that_hide_reorder_or_break_lines_are_refused(name: str) -> None:
    with pytest.raises(InvalidName):
        display_name(name)


def test_names_are_nfc_normalised_and_any_script_is_welcome() -> None:
    assert display_name("Zoe\u0308") == "Zo\u00eb"  # decomposed -> composed
    for name in ("Zoë", "Анна", "李雷", "محمد", "Ana María", "o'brien"):
        assert display_name(name) == name


@pytest.mark.parametrize("room", ["staff\n", "staff\r", " staff", "st aff", "", "x" * 65, "é"])
def test_room_names_are_checked_as_a_whole_string(room: str) -> None:
    assert not is_room(room)
    with pytest.raises(InvalidName):
        check_room(room)


def test_valid_rooms_and_usernames_pass() -> None:
    assert is_room("staff") and is_room("a.b-c_1") and is_room("x" * 64)
    assert is_username("ana") and not is_username("ana\n") and not is_username("an")


@pytest.mark.parametrize(
    ("registered", "lookalike"),
    [
        ("ana", "ANA"),
        ("ana", "\u0430na"),  # Cyrillic a
        ("ana", "\u0251na"),  # Latin alpha
        ("ana", "\uff41na"),  # fullwidth a
        ("maria", "rnaria"),  # "rn" reads as "m"
        ("paypal", "paypa1"),  # "1" reads as "l"
        ("bob", "b0b"),  # "0" reads as "o"
        ("lll", "IlI"),  # a capital I reads as l
        ("maria", "\uff4d\uff41\uff52\uff49\uff41"),  # fullwidth, every letter (NFKC)
        ("maria", "mar\u034fia"),  # COMBINING GRAPHEME JOINER: shows as nothing
        ("maria", "maria\ufe0f"),  # a variation selector
        ("maria", "mar\U000e0100ia"),  # a variation selector from the supplement
        ("maria", "maria\u180b"),  # a Mongolian free variation selector
        ("maria", "\u1d0d\u1d00\u0280\u026a\u1d00"),  # small capitals
        ("admin", "admi\u0307n"),  # a dot above the i's own dot
    ],
)
def test_look_alike_names_share_a_key_with_the_registered_one(
    registered: str, lookalike: str
) -> None:
    assert confusable_key(registered) in confusable_keys(lookalike)


def test_emoji_with_their_presentation_selector_are_welcome_and_told_apart() -> None:
    assert display_name("Ana \u2764\ufe0f") == "Ana \u2764\ufe0f"
    assert confusable_key("ana") not in confusable_keys("Ana \u2764\ufe0f")


def test_different_names_have_different_keys() -> None:
    assert confusable_key("ana") not in confusable_keys("anna")
    assert confusable_key("bob") not in confusable_keys("rob")
