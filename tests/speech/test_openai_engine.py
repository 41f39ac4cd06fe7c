"""openai-whisper with weights converted from the CTranslate2 model matches faster-whisper."""

from __future__ import annotations

import pytest

from media.speech import SpeechEngine
from tests.speech.conftest import Speak, words

CLIPS = [
    ("Please open the window before the meeting starts.", "en-us", "en"),
    ("I have been feeling tired and anxious for the last few weeks.", "en+f3", "en"),
    ("Buenos días. Hoy quiero hablar de mi trabajo en el hospital.", "es", "es"),
]


@pytest.mark.parametrize(("text", "voice", "language"), CLIPS)
def test_converted_checkpoint_gives_faster_whisper_words(
    openai_base_engine: SpeechEngine,
    base_engine: SpeechEngine,
    speak: Speak,
    text: str,
    voice: str,
    language: str,
) -> None:
    audio = speak(text, voice)
    openai = openai_base_engine.transcribe(audio, language, beam_size=1)
    faster = base_engine.transcribe(audio, language, beam_size=1)
    assert words(openai.text) == words(faster.text)
    assert words(openai.text) == words(text)


def test_openai_trimmed_window_gives_the_padded_text(
    openai_base_engine: SpeechEngine, speak: Speak
) -> None:
    audio = speak(CLIPS[0][0], "en-us")
    trimmed = openai_base_engine.transcribe(audio, "en", beam_size=1, trim_window=True)
    padded = openai_base_engine.transcribe(audio, "en", beam_size=1, trim_window=False)
    assert words(trimmed.text) == words(padded.text) == words(CLIPS[0][0])


def test_openai_detects_the_language(openai_base_engine: SpeechEngine, speak: Speak) -> None:
    result = openai_base_engine.transcribe(speak(CLIPS[2][0], "es"), beam_size=1)
    assert result.language == "es"
    assert {"trabajo", "hospital"} <= set(words(result.text))
