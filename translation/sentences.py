"""Sentence splitting for translation: models are trained on sentences, chat has paragraphs.

A punctuation rule, not a trained splitter: it needs nothing at run time (Argos's own splitters
download models or load stanza/spaCy), and captions are one or two sentences anyway.
"""

from __future__ import annotations

import re

# A boundary: whitespace after . ! ? … (Latin scripts), after the ideographic full stop and the
# fullwidth ! and ? (CJK, no space needed), or newlines.
_CJK_ENDS = "\u3002\uff01\uff1f"
_BOUNDARY = re.compile(rf"((?<=[.!?…])\s+|(?<=[{_CJK_ENDS}])\s*|\s*\n\s*)")


def split(text: str) -> tuple[list[str], list[str]]:
    """``(segments, separators)``: ``text == s0 + sep0 + s1 + sep1 + ... + sN``."""
    parts = _BOUNDARY.split(text)
    return parts[0::2], parts[1::2]


def join(segments: list[str], separators: list[str]) -> str:
    out = [segments[0]]
    for separator, segment in zip(separators, segments[1:], strict=True):
        out += (separator, segment)
    return "".join(out)
