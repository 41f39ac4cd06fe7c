"""StreamingRecognizer on real speech fed as 20-ms frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import numpy as np
import pytest

from media.speech import (
    CaptionEvent,
    CaptionKind,
    SileroVad,
    SpeechEngine,
    StreamingConfig,
    StreamingRecognizer,
    VadConfig,
)
from tests.speech.conftest import Speak, Speech, frames_of, silence, words

FIRST = "Please open the window before the meeting starts."
SECOND = "My brother works at the hospital in the city center."


async def collect(
    recognizer: StreamingRecognizer, frames: AsyncIterator[Speech]
) -> list[CaptionEvent]:
    async with aclosing(recognizer.captions(frames)) as captions:
        return [event async for event in captions]


@pytest.fixture
def two_sentences(speak: Speak) -> tuple[Speech, float, float]:
    first = speak(FIRST, "en-us", 0, 0)
    second = speak(SECOND, "en-gb", 0, 0)
    audio = np.concatenate([silence(0.5), first, silence(1.0), second, silence(1.0)])
    return audio, 0.5 + first.size / 16000, 1.5 + first.size / 16000


async def test_partials_then_finals_for_two_sentences(
    base_engine: SpeechEngine, vad_model: SileroVad, two_sentences: tuple[Speech, float, float]
) -> None:
    audio, first_end, second_start = two_sentences
    clock = 754.25  # the stream began this far into the session
    recognizer = StreamingRecognizer(
        base_engine, vad_model, room_id="room-1", speaker_id="alice", language="en",
        clock_start_s=clock,
    )
    events = await collect(recognizer, frames_of(audio, speed=2.0))

    assert {(e.room_id, e.speaker_id, e.language) for e in events} == {("room-1", "alice", "en")}
    finals = [e for e in events if e.kind is CaptionKind.FINAL]
    assert [f.utterance for f in finals] == [0, 1]
    assert words(finals[0].text) == words(FIRST)
    assert {"brother", "hospital", "city"} <= set(words(finals[1].text))
    # one id per utterance, from its first partial to its final; revisions 1, 2, 3, ...
    assert len({f.utterance_id for f in finals}) == 2 and all(f.utterance_id for f in finals)
    for final in finals:
        mine = [e for e in events if e.utterance_id == final.utterance_id]
        assert mine[-1] is final and {e.utterance for e in mine} == {final.utterance}
        assert len(mine) > 1 and all(e.kind is CaptionKind.PARTIAL for e in mine[:-1])
        assert [e.rev for e in mine] == list(range(1, len(mine) + 1))
        assert all(p.t_start == final.t_start for p in mine)
    assert abs(finals[0].t_start - clock - 0.5) < 0.3
    assert abs(finals[0].t_end - clock - first_end) < 0.4
    assert abs(finals[1].t_start - clock - second_start) < 0.3
    assert finals[0].t_end < finals[1].t_start < finals[1].t_end <= clock + audio.size / 16000


async def test_each_stream_names_its_utterances_anew(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    """A speaker's second stream (a reconnect) never reuses the first one's utterance ids."""
    audio = np.concatenate([silence(0.4), speak(FIRST, "en-us", 0, 0), silence(0.8)])
    ids: list[set[str]] = []
    for clock in (10.0, 30.0):
        recognizer = StreamingRecognizer(tiny_engine, vad_model, room_id="r", speaker_id="s",
                                         clock_start_s=clock)
        events = await collect(recognizer, frames_of(audio, speed=4.0))
        assert events[-1].is_final and events[-1].t_start > clock
        ids.append({e.utterance_id for e in events})
    assert len(ids[0]) == len(ids[1]) == 1 and not ids[0] & ids[1]


async def test_partials_come_about_every_half_second(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    speech = speak(FIRST + " " + SECOND, "en-us")
    audio = np.concatenate([silence(0.5), speech, silence(1.0)])
    recognizer = StreamingRecognizer(tiny_engine, vad_model, room_id="r", speaker_id="s")
    events = await collect(recognizer, frames_of(audio, speed=1.0))
    partial_ends = [e.t_end for e in events if e.kind is CaptionKind.PARTIAL]
    assert len(partial_ends) >= speech.size / 16000 / 0.5 - 3
    assert max(np.diff(partial_ends)) < 1.1
    assert events[-1].kind is CaptionKind.FINAL
    assert recognizer.language == "en"


async def test_language_is_detected_once_and_kept(
    base_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    spanish = speak("Buenos días. Hoy quiero hablar de mi trabajo en el hospital.", "es")
    audio = np.concatenate([spanish, silence(1.0), spanish, silence(0.5)])
    recognizer = StreamingRecognizer(base_engine, vad_model, room_id="r", speaker_id="s")
    events = await collect(recognizer, frames_of(audio))
    finals = [e for e in events if e.is_final]
    assert recognizer.language == "es"
    assert [f.language for f in finals] == ["es", "es"]
    assert all({"trabajo", "hospital"} <= set(words(f.text)) for f in finals)


async def test_end_of_stream_flushes_the_open_utterance(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    audio = np.concatenate([silence(0.5), speak(FIRST, "en-us", 0, 0)])
    recognizer = StreamingRecognizer(tiny_engine, vad_model, room_id="r", speaker_id="s")
    events = await collect(recognizer, frames_of(audio))
    assert events[-1].is_final
    assert {"window", "meeting"} <= set(words(events[-1].text))
    assert events[-1].t_end == pytest.approx(audio.size / 16000, abs=0.01)
    assert {e.utterance_id for e in events} == {events[-1].utterance_id}


async def test_a_long_monologue_keeps_giving_finals(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    text = (
        "Yesterday I went to the market and bought apples, bread, and some fresh vegetables "
        "for dinner. Then I called my sister to ask about her new job at the university, and "
        "she said everything was going well. We plan to meet next weekend at the park."
    )
    audio = np.concatenate([speak(text, "en-gb"), silence(0.6)])
    config = StreamingConfig(vad=VadConfig(split_after_s=4.0, max_speech_s=8.0))
    recognizer = StreamingRecognizer(
        tiny_engine, vad_model, room_id="r", speaker_id="s", language="en", config=config
    )
    finals = [e for e in await collect(recognizer, frames_of(audio)) if e.is_final]
    assert len(finals) >= 3
    assert all(f.t_end - f.t_start <= 8.05 for f in finals)
    heard = set(words(" ".join(f.text for f in finals)))
    assert {"market", "sister", "university", "weekend", "park"} <= heard


async def test_int16_and_float32_frames_of_any_size(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    audio = np.concatenate([silence(0.4), speak(FIRST, "en-us"), silence(0.8)])

    async def odd_float_frames() -> AsyncIterator[np.ndarray]:
        sizes = [100, 333, 1024, 4000]
        index = 0
        while index < audio.size:
            size = sizes[index % len(sizes)]
            yield audio[index : index + size].astype(np.float32) / 32768
            index += size
            await asyncio.sleep(0)

    recognizer = StreamingRecognizer(tiny_engine, vad_model, room_id="r", speaker_id="s")
    finals = [e for e in await collect(recognizer, odd_float_frames()) if e.is_final]
    assert len(finals) == 1 and {"window", "meeting"} <= set(words(finals[0].text))


async def test_cancellation_stops_reading_and_leaves_no_task(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    audio = np.concatenate([silence(0.3), speak(FIRST + " " + SECOND, "en-us")])
    source_closed = asyncio.Event()
    first_caption = asyncio.Event()

    async def source() -> AsyncIterator[Speech]:
        try:
            async for frame in frames_of(audio, speed=2.0):
                yield frame
        finally:
            source_closed.set()

    async def consume() -> None:
        recognizer = StreamingRecognizer(tiny_engine, vad_model, room_id="r", speaker_id="s")
        async with aclosing(recognizer.captions(source())) as captions:
            async for _ in captions:
                first_caption.set()

    before = asyncio.all_tasks()
    consumer = asyncio.create_task(consume())
    await first_caption.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert source_closed.is_set()
    assert asyncio.all_tasks() == before


async def test_a_failing_source_raises_after_the_captions(
    tiny_engine: SpeechEngine, vad_model: SileroVad, speak: Speak
) -> None:
    audio = np.concatenate([silence(0.3), speak(FIRST, "en-us"), silence(0.8)])

    async def broken() -> AsyncIterator[Speech]:
        async for frame in frames_of(audio):
            yield frame
        raise ConnectionError("track ended badly")

    recognizer = StreamingRecognizer(tiny_engine, vad_model, room_id="r", speaker_id="s")
    seen: list[CaptionEvent] = []
    with pytest.raises(ConnectionError):
        async with aclosing(recognizer.captions(broken())) as captions:
            async for event in captions:
                seen.append(event)
    assert any(e.is_final and "window" in words(e.text) for e in seen)
