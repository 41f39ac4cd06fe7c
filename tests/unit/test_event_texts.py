"""A room event reaches every socket of the room as one dict; each socket's frame is that dict
trimmed to its reader (`server/ws/reading.py`) and encoded once per reading language, not once
per socket (`server/ws/connection.py`)."""

from __future__ import annotations

import json
from typing import Any

from server.ws.connection import _EventTexts


def _chat(seq: int) -> dict[str, Any]:
    return {"type": "chat.message", "message": {
        "seq": seq, "text": "xin chào", "lang": "vi",
        "translations": {"ko": {"text": "안녕하세요", "route": "argos"},
                         "en": {"text": "hello", "route": "argos"}}}}


def test_each_reading_language_is_encoded_once_and_gets_only_its_translation() -> None:
    texts = _EventTexts()
    event = _chat(1)
    korean = texts.text(event, "ko", every_language=False)
    assert texts.text(event, "ko", every_language=False) is korean  # not encoded again
    assert json.loads(korean)["message"]["translations"] == {
        "ko": {"text": "안녕하세요", "route": "argos"}}
    assert json.loads(texts.text(event, "en", every_language=False))["message"][
        "translations"] == {"en": {"text": "hello", "route": "argos"}}
    assert json.loads(texts.text(event, "mn", every_language=False))["message"][
        "translations"] == {}
    everything = texts.text(event, "ko", every_language=True)  # an interpreter
    assert json.loads(everything) == event
    assert event == _chat(1)  # the shared dict is left as it was


def test_a_message_without_translations_is_one_text_for_every_reader() -> None:
    texts = _EventTexts()
    presence = {"type": "presence", "participants": [{"id": "p1", "reading_language": "ko"}]}
    assert texts.text(presence, "ko", every_language=False) is texts.text(
        presence, "vi", every_language=False)


def test_past_its_size_the_oldest_event_is_forgotten() -> None:
    texts = _EventTexts(size=2)
    first, second, third = _chat(1), _chat(2), _chat(3)
    kept = texts.text(first, "ko", every_language=False)
    texts.text(second, "ko", every_language=False)
    assert texts.text(first, "ko", every_language=False) is kept
    texts.text(third, "ko", every_language=False)  # first goes
    again = texts.text(first, "ko", every_language=False)
    assert again == kept and again is not kept
