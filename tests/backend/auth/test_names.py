"""Names and rooms: NFC, no invisible or reordering characters, whole-string rules, and the
UTS #39 keys that tell look-alike names apart from different ones."""

from __future__ import annotations

import string
import sys
import unicodedata

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

# Every space character but the ordinary one, from the Unicode data itself rather than a list of
# the ones someone thought of: each is a different width of blank, and a narrow one between two
# letters ("ma\u200aria") reads as no space at all.
OTHER_SPACES = [
    chr(code)
    for code in range(sys.maxunicode + 1)
    if unicodedata.category(chr(code)) == "Zs" and chr(code) != " "
]


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


@pytest.mark.parametrize("space", OTHER_SPACES, ids=lambda space: f"U+{ord(space):04X}")
def test_a_name_may_hold_no_white_space_but_the_ordinary_space(space: str) -> None:
    # The reason names the character as normalised: NFC makes U+2000/U+2001 the en/em spaces.
    shown = ord(unicodedata.normalize("NFC", space))
    with pytest.raises(InvalidName, match=f"U\\+{shown:04X}.*ordinary space"):
        display_name(f"ma{space}ria")


def test_the_other_spaces_are_every_space_a_font_may_draw_narrower_than_a_letter() -> None:
    # The hair, thin, six-per-em, punctuation, narrow no-break, medium mathematical, no-break and
    # ideographic spaces that were let in, among the rest: the rule is the category, not a list.
    for code in (0x200A, 0x2009, 0x202F, 0x2006, 0x2008, 0x205F, 0x00A0, 0x3000, 0x1680):
        assert chr(code) in OTHER_SPACES
    assert len(OTHER_SPACES) == 16


def test_two_ordinary_spaces_in_a_row_are_refused_as_they_show_as_one() -> None:
    with pytest.raises(InvalidName, match="two spaces"):
        display_name("Ana  María")


@pytest.mark.parametrize(
    "name",
    [
        "ma\u17d2ria",  # KHMER SIGN COENG after a Latin letter: nothing to stack, shows as nothing
        "maria\u17d2",  # ...at the end
        "\u17d2maria",  # ...with no letter before it
        "ma\u1039ria",  # MYANMAR SIGN VIRAMA, another stacker that draws nothing by itself
        "ma\u1a60ria",  # TAI THAM SIGN SAKOT
        "ma\u094dria",  # DEVANAGARI SIGN VIRAMA on a Latin letter
        "\u0915 \u094d",  # a Devanagari virama after a space, not after its letter
    ],
)
def test_a_virama_after_anything_but_a_letter_of_its_own_script_is_refused(name: str) -> None:
    with pytest.raises(InvalidName, match="another script"):
        display_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "Ana María",  # one ordinary space
        "Li Wei",
        "محمد علي",  # Arabic
        "अर्जुन",  # Devanagari, a virama joining two of its letters
        "क्षत्रिय",
        "श्रीमत्",  # ...and one ending the name, where it shows as a halant
        "অর্জুন",  # Bengali
        "அன்பு",  # Tamil
        "ខ្មែរ",  # Khmer, its coeng stacking a Khmer letter
        "မြန်မာ",  # Myanmar, an asat
        "พุทฺธ",  # Thai, a phinthu
        "王小明",  # CJK
        "さくら",
        "김민준",
        "Ana \u2764\ufe0f",  # emoji with their presentation selector
        "\U0001f98a Fox",
        "\U0001f44d\U0001f3fd",  # a skin-tone modifier
    ],
)
def test_names_with_one_ordinary_space_or_in_any_script_stay_welcome(name: str) -> None:
    assert display_name(name) == name


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
        ("maria", "ma ria"),  # a space is the cheapest way to be almost the same name
        ("maria", "M a r i a"),
        ("maria", "ma\u200aria"),  # the key ignores every space, not only the one names may hold
        ("maria", "ma\u3000ria"),
    ],
)
def test_look_alike_names_share_a_key_with_the_registered_one(
    registered: str, lookalike: str
) -> None:
    assert confusable_key(registered) in confusable_keys(lookalike)


def test_emoji_with_their_presentation_selector_are_welcome_and_told_apart() -> None:
    assert display_name("Ana \u2764\ufe0f") == "Ana \u2764\ufe0f"
    assert confusable_key("ana") not in confusable_keys("Ana \u2764\ufe0f")


def test_usernames_keys_hold_no_white_space_so_ignoring_it_changes_no_stored_key() -> None:
    # Stored `name_key`s are the keys of usernames (3-32 of A-Z a-z 0-9 _ . -): none of those
    # characters has a space in its key, so the keys written before white space was ignored are
    # the keys it gives now, and no migration is needed.
    assert not is_username("ma ria")
    for char in string.ascii_letters + string.digits + "_.-":
        assert not any(c.isspace() for c in confusable_key(char * 3)), char


def test_different_names_have_different_keys() -> None:
    assert confusable_key("ana") not in confusable_keys("anna")
    assert confusable_key("bob") not in confusable_keys("rob")
