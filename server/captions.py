"""Live captions: each consenting speaker's audio tap → Whisper → `caption` messages + transcript.

The media router announces every speaker's audio tap (`MediaRooms.on_audio_tap`); for a
participant whose `transcription_consent` is True this service runs one `StreamingRecognizer`
task, publishes its partial and final captions to everyone admitted, and stores the finals in
the room's transcript. Anyone else's tap is never iterated: an unread tap decodes nothing and
keeps only its last few frames, so nothing waits on it. Consent given in the room starts the
speaker's task on the tap they already have; consent withdrawn stops it and releases the tap.

Recognition runs where `server.speech_backend` says: a Whisper engine loaded once per process,
on first use, in a worker thread (a model that is not installed switches captions off with one
log line), or the ASR worker pool, whose client this service holds until `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from media.rtc import AudioTap
from media.speech import CaptionEvent, StreamingRecognizer
from rooms import transcripts
from rooms.models import Admission, Participant
from server.events import ADMITTED, RoomEvents
from server.settings import Settings
from server.speech_backend import SpeechModels, SpeechUnavailable, missing_model, open_speech
from server.ws import protocol as p

log = logging.getLogger(__name__)

TAP_SAMPLE_RATE = 16_000


class PcmLike(Protocol):
    """What the media router's `PcmFrame` offers (16-bit little-endian mono PCM)."""

    @property
    def pcm(self) -> bytes: ...

    @property
    def sample_rate(self) -> int: ...


async def pcm_samples(frames: AsyncIterable[PcmLike]) -> AsyncIterator[npt.NDArray[np.int16]]:
    """The tap's frames as int16 sample arrays for the recognizer."""
    async for frame in frames:
        if frame.sample_rate != TAP_SAMPLE_RATE:
            raise ValueError(f"captions need {TAP_SAMPLE_RATE} Hz audio, got {frame.sample_rate}")
        yield np.frombuffer(frame.pcm, dtype="<i2").astype(np.int16, copy=False)


@dataclass(frozen=True, slots=True)
class Speaker:
    room_id: str
    participant_id: str
    name: str
    language: str


class CaptionService:
    """Captions of every consenting speaker on this node: one task per (room, speaker)."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        events: RoomEvents,
        *,
        models: SpeechModels | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._events = events
        self._models = models
        self._load_lock = asyncio.Lock()
        self._resources = contextlib.AsyncExitStack()
        self._tasks: dict[tuple[str, str], asyncio.Task[int]] = {}
        self._taps: dict[tuple[str, str], AudioTap] = {}  # every speaker's latest tap
        self.enabled = settings.captions_enabled
        self.disabled_reason: str | None = None if self.enabled else "captions_enabled is off"
        if self.enabled and models is None and (reason := missing_model(settings)):
            self._disable(reason)  # known now, so pages can say so before anyone speaks

    # -- the media router's hook ---------------------------------------------------------------

    def on_audio_tap(self, room_id: str, participant_id: str, tap: AudioTap) -> None:
        """A speaker's audio tap opened (synchronous: schedules the speaker's task). A newer
        tap of the same speaker replaces the task of the older one."""
        if not self.enabled:
            return
        for key in [k for k, old in self._taps.items() if old.closed]:
            del self._taps[key]
        self._taps[(room_id, participant_id)] = tap
        self._start(room_id, participant_id, tap)

    def _start(self, room_id: str, participant_id: str, tap: AudioTap) -> None:
        key = (room_id, participant_id)
        previous = self._tasks.pop(key, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(
            self.transcribe(room_id, participant_id, tap), name=f"captions:{participant_id}"
        )
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._finished(key, t))

    async def consent_changed(self, room_id: str, participant_id: str, consent: bool) -> None:
        """The participant's consent was just stored: with it, caption the tap they have on
        this node (from now on); without it, stop at once and stop decoding their audio."""
        key = (room_id, participant_id)
        tap = self._taps.get(key)
        if consent:
            if self.enabled and tap is not None and not tap.closed:
                self._start(room_id, participant_id, tap)
            return
        task = self._tasks.pop(key, None)
        if task is not None:
            await self._cancel([task])
        if tap is not None:
            tap.release()

    def _finished(self, key: tuple[str, str], task: asyncio.Task[int]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("captions of %s in room %s failed", key[1], key[0], exc_info=error)

    @property
    def active(self) -> tuple[tuple[str, str], ...]:
        """(room_id, participant_id) of the speakers being transcribed now."""
        return tuple(self._tasks)

    # -- one speaker -------------------------------------------------------------------------

    async def transcribe(
        self, room_id: str, participant_id: str, frames: AsyncIterable[PcmLike]
    ) -> int:
        """Caption one speaker's frames until they end; returns how many captions were sent
        (0 for a speaker who has not consented: their frames are not read at all)."""
        speaker = await self._consenting_speaker(room_id, participant_id)
        if speaker is None:
            return 0
        models = await self.models()
        if models is None:
            return 0
        language = speaker.language if models.multilingual and speaker.language else None
        if not models.multilingual:
            language = "en"
        recognizer = StreamingRecognizer(
            models.engine, models.vad, room_id=room_id, speaker_id=participant_id,
            language=language,
        )
        sent = 0
        stream = cast(
            "AsyncGenerator[CaptionEvent, None]", recognizer.captions(pcm_samples(frames))
        )
        async with contextlib.aclosing(stream) as captions:
            async for event in captions:
                await self._publish(speaker, event)
                sent += 1
        return sent

    async def _consenting_speaker(self, room_id: str, participant_id: str) -> Speaker | None:
        async with self._sessions() as session:
            participant = await session.get(Participant, participant_id)
        if participant is None or participant.room_id != room_id:
            return None
        if participant.transcription_consent is not True:
            log.info("not transcribing %s in room %s: no consent", participant_id, room_id)
            return None
        if participant.admission is not Admission.ADMITTED:
            return None
        return Speaker(room_id, participant_id, participant.display_name, participant.language)

    async def _publish(self, speaker: Speaker, event: CaptionEvent) -> None:
        message = p.Caption(
            speaker_id=speaker.participant_id, speaker_name=speaker.name, seq=event.seq,
            lang=event.language, text=event.text, final=event.is_final,
            t_start=event.t_start, t_end=event.t_end,
        )
        await self._events.send(speaker.room_id, ADMITTED, message)
        if event.is_final and event.text:
            try:
                async with self._sessions() as session, session.begin():
                    await transcripts.add_entry(
                        session, room_id=speaker.room_id, speaker_id=speaker.participant_id,
                        speaker_name=speaker.name, language=event.language, text=event.text,
                        t_start=event.t_start, t_end=event.t_end,
                    )
            except Exception:
                log.exception("could not store a transcript entry of room %s", speaker.room_id)

    # -- models ------------------------------------------------------------------------------

    async def models(self) -> SpeechModels | None:
        """The recognizer and VAD, opened on first use; None when captions are off or the
        model cannot be loaded (logged once)."""
        if self._models is not None or not self.enabled:
            return self._models
        async with self._load_lock:
            if self._models is None and self.enabled:
                self._models = await self._load()
        return self._models

    async def _load(self) -> SpeechModels | None:
        try:
            return await open_speech(self._settings, self._resources)
        except SpeechUnavailable as error:
            self._disable(str(error))
            return None

    def _disable(self, reason: str) -> None:
        self.enabled = False
        self.disabled_reason = reason
        log.warning("live captions are disabled: %s", reason)

    # -- ending ------------------------------------------------------------------------------

    async def end_room(self, room_id: str) -> None:
        """Stop every caption task of the room (it ended)."""
        await self._cancel([t for k, t in self._tasks.items() if k[0] == room_id])
        for key in [k for k in self._taps if k[0] == room_id]:
            del self._taps[key]

    async def close(self) -> None:
        await self._cancel(list(self._tasks.values()))
        self._taps.clear()
        await self._resources.aclose()

    async def _cancel(self, tasks: list[asyncio.Task[int]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
