"""Streaming recognition of one speaker: audio frames in, partial and final captions out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from media.speech.audio import FloatAudio, samples_of, seconds, to_float32
from media.speech.errors import EngineClosedError, SpeechError
from media.speech.events import CaptionEvent, CaptionKind
from media.speech.recognizer import AsyncRecognizer
from media.speech.transcript import Transcript
from media.speech.utterances import Utterance, UtteranceTracker
from media.speech.vad import SileroVad, StreamingVad, VadConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamingConfig:
    """When partial and final recognitions run.

    A partial is recognized once the open utterance holds ``first_partial_s`` of audio, then
    whenever it has grown ``partial_interval_s`` since the last one, while the speaker is not
    pausing and the engine has nothing queued; ``partial_beam_size`` None uses the engine's
    beam size.

    With ``early_final``, once a pause has lasted the VAD's end padding (``speech_pad_ms``) the
    utterance is recognized as if it ended there, with the final's settings, when the engine
    has nothing queued; the text goes out as a partial at once. If the VAD then ends the
    utterance where that pause began, the result is the final: it is sent the moment the end
    is confirmed, with no recognition left to wait for. If the speaker goes on, the result only
    served as a partial.
    """

    partial_interval_s: float = 0.5
    first_partial_s: float = 0.35
    partial_beam_size: int | None = 1
    early_final: bool = True
    vad: VadConfig = field(default_factory=VadConfig)


@dataclass(frozen=True, slots=True)
class _EarlyFinal:
    """The recognition of utterance ``utterance`` as if its speech ended at ``end`` (None
    while it runs, or if it failed: either way it is not tried again for that pause)."""

    utterance: int
    end: int
    result: Transcript | None


class StreamingRecognizer:
    """Captions of one speaker of a room.

    ``captions(frames)`` reads 16 kHz mono frames (int16 or float32, any size) from an async
    iterable and yields partial captions while an utterance grows and a final one at its end,
    in order; at the end of the frames the open utterance is finalized and the iterator ends.
    The language is the one given, or the first one detected in a final caption, kept after.
    Each utterance has its own id, made when the VAD opens it, and its captions a growing
    ``rev``; times are ``clock_start_s`` (where the stream's first sample lies on the caller's
    clock, e.g. the session's) plus the seconds of audio read before.
    ``engine`` is a local ``SpeechEngine`` or an ``AsrPoolClient`` (the worker pool).
    A recognition that fails with a ``SpeechError`` (the pool's Redis went away, no worker
    answered) loses that one caption and the stream goes on (``failures`` counts them; a
    final's failure is logged); only a closed engine ends the stream with its error.
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
        clock_start_s: float = 0.0,
    ) -> None:
        self._engine = engine
        self._vad_model = vad_model
        self.room_id = room_id
        self.speaker_id = speaker_id
        self.language = language
        self.config = config or StreamingConfig()
        self.clock_start_s = clock_start_s
        self.failures = 0
        self._early: _EarlyFinal | None = None

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
                tracker.set_pause(vad.pause_start)
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
        if current is not None and self._early_final_due(tracker, current):
            return await self._early_final(tracker, current)
        if current is not None and self._partial_due(current, tracker.buffer.end):
            return await self._partial(tracker, current)
        if not tracker.done:
            tracker.changed.clear()
            await tracker.changed.wait()
        return None

    def _partial_due(self, utterance: Utterance, audio_end: int) -> bool:
        if utterance.pause_from is not None:  # nothing new to read while the speaker pauses
            return False
        if utterance.recognized_to <= utterance.start:
            grown = audio_end - utterance.start >= samples_of(self.config.first_partial_s)
        else:
            grown = audio_end - utterance.recognized_to >= samples_of(
                self.config.partial_interval_s)
        return grown and self._engine.pending == 0

    def _early_final_due(self, tracker: UtteranceTracker, utterance: Utterance) -> bool:
        pause = utterance.pause_from
        if not self.config.early_final or pause is None:
            return False
        if tracker.buffer.end < pause + tracker.pad:  # the final's end padding is not in yet
            return False
        early = self._early
        if early is not None and (early.utterance, early.end) == (utterance.index, pause):
            return False
        return self._engine.pending == 0

    async def _early_final(
        self, tracker: UtteranceTracker, utterance: Utterance
    ) -> CaptionEvent | None:
        pause = utterance.pause_from
        assert pause is not None
        utterance.recognized_to = tracker.buffer.end
        audio = tracker.audio_of(utterance, end=pause)
        self._early = _EarlyFinal(utterance.index, pause, None)
        result = await self._recognize(audio)
        self._early = _EarlyFinal(utterance.index, pause, result)
        if result is None or not result.text or utterance.end is not None:
            return None  # an utterance that ended meanwhile gets its final next
        utterance.partials += 1
        return self._event(CaptionKind.PARTIAL, utterance, result.language, result.text, end=pause)

    async def _partial(
        self, tracker: UtteranceTracker, utterance: Utterance
    ) -> CaptionEvent | None:
        utterance.recognized_to = tracker.buffer.end
        audio = tracker.audio_of(utterance)
        result = await self._recognize(audio, beam_size=self.config.partial_beam_size)
        if result is None or not result.text:
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
        early, self._early = self._early, None
        audio = np.array(tracker.audio_of(utterance), copy=True)  # kept with the final
        result: Transcript | None
        if (
            early is not None
            and early.result is not None
            and (early.utterance, early.end) == (utterance.index, utterance.end)
        ):
            result = early.result
        else:
            result = await self._recognize(audio, final=True)
        tracker.forget_old_audio()
        text, language = (result.text, result.language) if result else ("", "")
        if text and self.language is None:
            self.language = language
        if not text and not utterance.partials:  # an empty final replaces the partials shown
            return None
        event = self._event(CaptionKind.FINAL, utterance, language, text, end=utterance.end)
        return dataclasses.replace(event, audio=audio)

    async def _recognize(
        self, audio: FloatAudio, *, beam_size: int | None = None, final: bool = False
    ) -> Transcript | None:
        """The recognizer's result, or None when this recognition failed."""
        try:
            return await self._engine.transcribe_async(audio, self.language, beam_size=beam_size)
        except EngineClosedError:
            raise
        except SpeechError as error:
            self.failures += 1
            log.log(
                logging.WARNING if final else logging.DEBUG,
                "%s caption of %s in room %s lost: %s",
                "final" if final else "partial", self.speaker_id, self.room_id, error,
            )
            return None

    def _event(
        self, kind: CaptionKind, utterance: Utterance, language: str, text: str, *, end: int
    ) -> CaptionEvent:
        utterance.rev += 1
        return CaptionEvent(
            room_id=self.room_id,
            speaker_id=self.speaker_id,
            utterance_id=utterance.id,
            rev=utterance.rev,
            utterance=utterance.index,
            language=self.language or language,
            text=text,
            kind=kind,
            t_start=round(self.clock_start_s + seconds(utterance.start), 3),
            t_end=round(self.clock_start_s + seconds(end), 3),
        )
