"""Streaming recognition of one speaker: audio frames in, partial and final captions out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media.speech.audio import samples_of, seconds, to_float32
from media.speech.events import CaptionEvent, CaptionKind
from media.speech.recognizer import AsyncRecognizer
from media.speech.utterances import Utterance, UtteranceTracker
from media.speech.vad import SileroVad, StreamingVad, VadConfig


@dataclass(frozen=True, slots=True)
class StreamingConfig:
    """A partial is recognized whenever the open utterance has grown ``partial_interval_s``
    since the last one and the engine has nothing queued; ``partial_beam_size`` None uses the
    engine's beam size."""

    partial_interval_s: float = 0.5
    partial_beam_size: int | None = 1
    vad: VadConfig = field(default_factory=VadConfig)


class StreamingRecognizer:
    """Captions of one speaker of a room.

    ``captions(frames)`` reads 16 kHz mono frames (int16 or float32, any size) from an async
    iterable and yields partial captions while an utterance grows and a final one at its end,
    in order; at the end of the frames the open utterance is finalized and the iterator ends.
    The language is the one given, or the first one detected in a final caption, kept after.
    ``engine`` is a local ``SpeechEngine`` or an ``AsrPoolClient`` (the worker pool).
    Use ``contextlib.aclosing`` when leaving the iteration early.
    """

    def __init__(
        self,
        engine: AsyncRecognizer,
        vad_model: SileroVad,
        *,
        room_id: str,
        speaker_id: str,
        language: str | None = None,
        config: StreamingConfig | None = None,
    ) -> None:
        self._engine = engine
        self._vad_model = vad_model
        self.room_id = room_id
        self.speaker_id = speaker_id
        self.language = language
        self.config = config or StreamingConfig()
        self._seq = 0

    async def captions(
        self, frames: AsyncIterable[npt.NDArray[np.generic]]
    ) -> AsyncIterator[CaptionEvent]:
        tracker = UtteranceTracker(self.config.vad)
        reader = asyncio.create_task(self._read(frames, tracker))
        try:
            while not tracker.done:
                event = await self._next_job(tracker)
                if event is not None:
                    yield event
            await reader
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(
        self, frames: AsyncIterable[npt.NDArray[np.generic]], tracker: UtteranceTracker
    ) -> None:
        vad = StreamingVad(self._vad_model, self.config.vad)
        try:
            async for frame in frames:
                samples = to_float32(frame)
                tracker.add_audio(samples)
                for event in vad.accept(samples):
                    tracker.apply(event)
                tracker.forget_old_audio()
                tracker.changed.set()
            for event in vad.flush():
                tracker.apply(event)
        finally:
            tracker.close()

    async def _next_job(self, tracker: UtteranceTracker) -> CaptionEvent | None:
        """Recognize the oldest finished utterance, else a due partial, else wait for audio."""
        if tracker.finished:
            return await self._final(tracker, tracker.finished.popleft())
        current = tracker.current
        if current is not None and self._partial_due(current, tracker.buffer.end):
            return await self._partial(tracker, current)
        if not tracker.done:
            tracker.changed.clear()
            await tracker.changed.wait()
        return None

    def _partial_due(self, utterance: Utterance, audio_end: int) -> bool:
        since = max(utterance.start, utterance.recognized_to)
        grown = audio_end - since >= samples_of(self.config.partial_interval_s)
        return grown and self._engine.pending == 0

    async def _partial(
        self, tracker: UtteranceTracker, utterance: Utterance
    ) -> CaptionEvent | None:
        utterance.recognized_to = tracker.buffer.end
        audio = tracker.audio_of(utterance)
        result = await self._engine.transcribe_async(
            audio, self.language, beam_size=self.config.partial_beam_size
        )
        if not result.text:
            return None
        utterance.partials += 1
        return self._event(
            CaptionKind.PARTIAL,
            utterance,
            result.language,
            result.text,
            end=utterance.recognized_to,
        )

    async def _final(self, tracker: UtteranceTracker, utterance: Utterance) -> CaptionEvent | None:
        assert utterance.end is not None
        result = await self._engine.transcribe_async(tracker.audio_of(utterance), self.language)
        tracker.forget_old_audio()
        if result.text and self.language is None:
            self.language = result.language
        if not result.text and not utterance.partials:
            return None
        return self._event(
            CaptionKind.FINAL, utterance, result.language, result.text, end=utterance.end
        )

    def _event(
        self, kind: CaptionKind, utterance: Utterance, language: str, text: str, *, end: int
    ) -> CaptionEvent:
        self._seq += 1
        return CaptionEvent(
            room_id=self.room_id,
            speaker_id=self.speaker_id,
            seq=self._seq,
            utterance=utterance.index,
            language=self.language or language,
            text=text,
            kind=kind,
            t_start=round(seconds(utterance.start), 3),
            t_end=round(seconds(end), 3),
        )
