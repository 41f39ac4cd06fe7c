"""Display names people give themselves: normalized, visible, and not posing as staff.

A name is NFKC-normalized; control and format characters (NUL, zero-width spaces and joiners,
bidirectional overrides and isolates) are dropped; any run of spaces becomes one; invisible
fillers do not count as visible; at most ``MAX_MARKS`` combining marks may follow a character.
What is left must hold a letter or a digit and at most ``MAX_LENGTH`` characters. Guests may not
take a name that claims a staff role ("Counselor One") or is a staff member's name."""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 80
MAX_MARKS = 3
# characters that render as nothing (Hangul fillers, braille blank, Khmer inherent vowels, CGJ)
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f")
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
STAFF_WORDS = frozenset({
    "admin", "administrator", "counselor", "counsellor", "counseler", "host", "interpreter",
    "moderator", "staff", "support", "system", "상담사", "상담원", "통역사", "관리자",
})
_WORD = re.compile(r"\w+")


class InvalidName(ValueError):
    """The name cannot be used; the message says why, for the person who typed it."""


def _keep(char: str) -> bool:
    return unicodedata.category(char) not in DROPPED_CATEGORIES and char not in INVISIBLE


def _limit_marks(text: str) -> str:
    kept: list[str] = []
    marks = 0
    for char in text:
        marks = marks + 1 if unicodedata.category(char).startswith("M") else 0
        if marks <= MAX_MARKS:
            kept.append(char)
    return "".join(kept)


def normalize_name(raw: str) -> str:
    """The name as it will be stored and shown, or `InvalidName`."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(" " if char.isspace() else char for char in text if char.isspace()
                   or _keep(char))
    text = _limit_marks(" ".join(text.split()))
    if not any(unicodedata.category(char)[0] in "LN" for char in text):
        raise InvalidName("Enter your name.")
    if len(text) > MAX_LENGTH:
        raise InvalidName(f"A name can have at most {MAX_LENGTH} characters.")
    return text


def _key(name: str) -> str:
    return " ".join(_WORD.findall(normalize_name(name).casefold()))


def guest_name(raw: str, staff_names: list[str], own_role: str = "") -> str:
    """A normalized name for someone joining with an invitation: refused when it names a staff
    role (but their own: an invited interpreter may say so) or equals a staff member's name
    (so nobody poses as the counselor in the chat)."""
    name = normalize_name(raw)
    words = set(_key(name).split())
    if words & (STAFF_WORDS - {own_role}):
        raise InvalidName("Choose a name without a staff title (like counselor or host): "
                          "pages show everyone's role beside their name.")
    taken = set()
    for staff in staff_names:
        try:
            taken.add(_key(staff))
        except InvalidName:
            continue
    if _key(name) in taken:
        raise InvalidName("That is the name of a staff member. Enter your own name.")
    return name
