"""Silero VAD over real speech with silence around it."""

from __future__ import annotations

import numpy as np

from media.speech import SileroVad, StreamingVad, VadConfig, VadEvent, VadEventKind
from media.speech.audio import to_float32
from tests.speech.conftest import Speak, silence

START, END = VadEventKind.SPEECH_START, VadEventKind.SPEECH_END


def run_vad(
    model: SileroVad, audio: np.ndarray, frame: int = 320, config: VadConfig | None = None
) -> list[VadEvent]:
    vad = StreamingVad(model, config)
    events: list[VadEvent] = []
    for index in range(0, audio.size, frame):
        events += vad.accept(to_float32(audio[index : index + frame]))
    return events + vad.flush()


def test_finds_speech_between_silences(vad_model: SileroVad, speak: Speak) -> None:
    first = speak("Please open the window before the meeting starts.", "en-us", 0, 0)
    second = speak("My brother works at the hospital.", "en-gb", 0, 0)
    audio = np.concatenate([silence(1.0), first, silence(1.5), second, silence(1.0)])
    events = run_vad(vad_model, audio)
    assert [e.kind for e in events] == [START, END, START, END]
    first_end = 1.0 + first.size / 16000
    second_start = first_end + 1.5
    second_end = second_start + second.size / 16000
    expected = [1.0, first_end, second_start, second_end]
    for event, time in zip(events, expected, strict=True):
        assert abs(event.time - time) < 0.4, (event, time)


def test_frame_size_does_not_matter(vad_model: SileroVad, speak: Speak) -> None:
    audio = np.concatenate([silence(0.7), speak("Can you hear me clearly now?"), silence(1.0)])
    by_20ms = run_vad(vad_model, audio, frame=320)
    by_odd = run_vad(vad_model, audio, frame=777)
    whole = run_vad(vad_model, audio, frame=audio.size)
    assert by_20ms == by_odd == whole
    assert [e.kind for e in whole] == [START, END]


def test_silence_has_no_speech(vad_model: SileroVad) -> None:
    noise = (np.random.default_rng(1).normal(0, 30, 16000 * 3)).astype(np.int16)
    assert run_vad(vad_model, np.concatenate([silence(2.0), noise])) == []


def test_flush_ends_open_speech(vad_model: SileroVad, speak: Speak) -> None:
    audio = np.concatenate([silence(0.5), speak("I am still talking and", lead=0, tail=0)])
    events = run_vad(vad_model, audio)
    assert [e.kind for e in events] == [START, END]
    assert events[-1].sample == audio.size


def test_short_blips_are_ignored(vad_model: SileroVad, speak: Speak) -> None:
    word = speak("Yes.", lead=0, tail=0)
    audio = np.concatenate([silence(0.5), word, silence(1.0)])
    config = VadConfig(min_speech_ms=word.size * 1000 // 16000 + 300)
    assert run_vad(vad_model, audio, config=config) == []


def test_long_monologue_is_cut(vad_model: SileroVad, speak: Speak) -> None:
    text = (
        "Yesterday I went to the market and bought apples, bread, and some fresh vegetables "
        "for dinner. Then I called my sister to ask about her new job at the university."
    )
    audio = np.concatenate([silence(0.5), speak(text, "en-gb"), silence(1.0)])
    config = VadConfig(split_after_s=3.0, max_speech_s=5.0)
    events = run_vad(vad_model, audio, config=config)
    kinds = [e.kind for e in events]
    assert kinds == [START, END] * (len(kinds) // 2)
    spans = [(s.time, e.time) for s, e in zip(events[::2], events[1::2], strict=True)]
    assert len(spans) >= 3
    assert all(end - start <= 5.0 + 0.05 for start, end in spans)
