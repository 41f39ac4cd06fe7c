"""Both Whisper engines on real espeak-ng speech."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from media.speech import EngineClosedError, EngineConfig, SpeechEngine, load_engine
from media.speech.engines.window import window_frames
from tests.speech.conftest import Speak, words

ENGLISH = "Please open the window before the meeting starts."
ENGLISH_2 = "My brother works at the hospital in the city center."
ENGLISH_3 = "I have been feeling tired and anxious for the last few weeks."
SPANISH = "Buenos días. Hoy quiero hablar de mi trabajo en el hospital."


def test_tiny_en_recognizes_english(tiny_engine: SpeechEngine, speak: Speak) -> None:
    result = tiny_engine.transcribe(speak(ENGLISH, "en-us"))
    assert {"open", "window", "meeting"} <= set(words(result.text))
    assert result.language == "en"
    assert result.segments and result.segments[0].start >= 0.0


@pytest.mark.parametrize("text", [ENGLISH, ENGLISH_2])
def test_base_recognizes_english(base_engine: SpeechEngine, speak: Speak, text: str) -> None:
    result = base_engine.transcribe(speak(text, "en-gb"), "en")
    assert words(result.text) == words(text)


def test_base_recognizes_spanish(base_engine: SpeechEngine, speak: Speak) -> None:
    result = base_engine.transcribe(speak(SPANISH, "es"), language="es")
    assert {"buenos", "días", "trabajo", "hospital"} <= set(words(result.text))
    assert result.language == "es"


def test_base_detects_spanish(base_engine: SpeechEngine, speak: Speak) -> None:
    result = base_engine.transcribe(speak(SPANISH, "es"))
    assert result.language == "es"
    assert result.language_probability > 0.5


@pytest.mark.parametrize(
    ("text", "voice", "language"),
    [(ENGLISH, "en-us", "en"), (ENGLISH_3, "en+f3", "en"), (SPANISH, "es", "es")],
)
def test_trimmed_window_gives_the_padded_text(
    base_engine: SpeechEngine, speak: Speak, text: str, voice: str, language: str
) -> None:
    audio = speak(text, voice)
    trimmed = base_engine.transcribe(audio, language, trim_window=True)
    padded = base_engine.transcribe(audio, language, trim_window=False)
    assert words(trimmed.text) == words(padded.text)
    assert words(trimmed.text)


def test_window_follows_the_speech_length() -> None:
    assert window_frames(4.2, margin_s=3.0, max_trimmed_s=28.0) == 800
    assert window_frames(26.5, margin_s=3.0, max_trimmed_s=28.0) == 3000
    assert window_frames(29.0, margin_s=3.0, max_trimmed_s=28.0) is None


def test_long_audio_takes_the_normal_path(base_engine: SpeechEngine, speak: Speak) -> None:
    text = " ".join([ENGLISH, ENGLISH_2, "I will call you again tomorrow morning."] * 3)
    audio = speak(text, "en-gb")
    assert audio.size / 16000 > base_engine.config.max_trimmed_s
    result = base_engine.transcribe(audio, "en")
    assert {"window", "brother", "hospital", "tomorrow"} <= set(words(result.text))
    assert result.segments[-1].end > 25.0


def test_empty_audio_gives_empty_transcript(base_engine: SpeechEngine) -> None:
    result = base_engine.transcribe(np.zeros(0, np.int16), "en")
    assert result.text == ""
    assert result.segments == ()


async def test_async_inference_runs_on_the_engine_thread(
    tiny_engine: SpeechEngine, speak: Speak
) -> None:
    audio = speak(ENGLISH, "en-us")
    threads: list[str] = []
    original = tiny_engine._transcribe

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    tiny_engine._transcribe = spy  # type: ignore[method-assign]
    try:
        jobs = [asyncio.ensure_future(tiny_engine.transcribe_async(audio)) for _ in range(2)]
        await asyncio.sleep(0)
        assert tiny_engine.pending == 2
        results = await asyncio.gather(*jobs)
    finally:
        del tiny_engine._transcribe
    assert tiny_engine.pending == 0
    assert all("window" in words(r.text) for r in results)
    assert threads and all(t.startswith("asr-faster-whisper") for t in threads)


async def test_closed_engine_refuses_work(tiny_en_dir: object, speak: Speak) -> None:
    engine = load_engine(EngineConfig(model=str(tiny_en_dir)))
    engine.close()
    with pytest.raises(EngineClosedError):
        await engine.transcribe_async(speak(ENGLISH))


@pytest.mark.parametrize(("voice", "text", "expected"), [
    ("es", "Hoy quiero hablar de mi trabajo en el hospital de la ciudad.",
     {"today", "talk", "work", "hospital"}),
    ("de", "Guten Morgen, ich habe eine Frage.", {"good", "morning", "question"}),
])
def test_base_translates_speech_into_english(base_engine: SpeechEngine, speak: Speak,
                                             voice: str, text: str, expected: set[str]) -> None:
    """Whisper's own speech-to-English route (`task="translate"`): what English readers of a
    speaker get when no text model translates the speaker's language."""
    result = base_engine.transcribe(speak(text, voice), voice, task="translate")
    assert expected <= set(words(result.text)), result.text
