"""What one reader receives of a translated message: the original, and of its translations
only the one into the reader's language (an interpreter, who checks them all, gets every one).

Captions and chat are published once, with every translation some reader of the room needs;
each socket trims them here, just before writing, so a reader's page and bandwidth carry only
their own language.
"""

from __future__ import annotations

from typing import Any

TRANSLATED = frozenset({"caption", "captions.history", "chat.message", "chat.history"})
"""The messages that carry translations (every other message is the same for every reader)."""


def reader_key(message: dict[str, Any], language: str, *, every_language: bool) -> str:
    """Equal for two readers who get ``message`` alike."""
    if every_language:
        return "*"
    return language if message.get("type") in TRANSLATED else ""


def for_reader(message: dict[str, Any], language: str, *, every_language: bool) -> dict[str, Any]:
    """The message as this reader gets it (the input is shared by every socket: never
    modified)."""
    if every_language:
        return message
    kind = message.get("type")
    if kind == "caption":
        return _trim_caption(message, language)
    if kind == "captions.history":
        return {**message, "captions": [_trim_caption(c, language) for c in message["captions"]]}
    if kind == "chat.message":
        return {**message, "message": _trim(message["message"], language)}
    if kind == "chat.history":
        return {**message, "messages": [_trim(m, language) for m in message["messages"]]}
    return message


def _trim(item: dict[str, Any], language: str) -> dict[str, Any]:
    translations = item.get("translations")
    if not translations:
        return item
    mine = translations.get(language)
    return {**item, "translations": {language: mine} if mine is not None else {}}


def _trim_caption(caption: dict[str, Any], language: str) -> dict[str, Any]:
    """A caption with the reader's translation, and of its corrections only those of what the
    reader sees: their language and the source (shown as the original)."""
    trimmed = _trim(caption, language)
    corrections = caption.get("corrections")
    if not corrections:
        return trimmed
    seen = {language, caption.get("lang")}
    return {**trimmed, "corrections": {k: v for k, v in corrections.items() if k in seen}}
