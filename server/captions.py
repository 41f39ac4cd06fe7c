"""Live captions: each consenting speaker's audio tap → Whisper → `caption` messages + transcript.

The media router announces every speaker's audio tap (`MediaRooms.on_audio_tap`); for a
participant whose `transcription_consent` is True this service runs one `StreamingRecognizer`
task per tap, publishes its partial and final captions to everyone admitted, and stores the
finals in the room's transcript. Anyone else's tap is never iterated: an unread tap decodes
nothing and keeps only its last few frames, so nothing waits on it. Consent given in the room
starts the speaker's task on the tap they already have; consent withdrawn stops it at once,
releases the tap and abandons the sentence it was in (pages remove its partial).

Every caption names its utterance (an id made when the VAD opens it) and a revision, and its
times are on the session's clock (seconds from the room's opening), so a speaker's captions
stay in order across reconnects, peer restarts and consent toggles. A tap that ends (its peer
closed or was replaced) is read to its end: the utterance it was in is finalised from what
was heard, while a newer tap of the same speaker gets a task of its own.

Recognition runs where `server.speech_backend` says: a Whisper engine loaded once per process,
or the ASR worker pool, whose client this service holds until `close()`. `start()` loads it in
the background when the server starts (`state` is "starting" until then, and listeners hear
when it becomes "ready" or "unavailable"); a speaker's tap is read into a buffer from the first
frame, so what they say while the model loads is captioned once it is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from media.rtc import AudioTap
from media.speech import CaptionEvent, CaptionKind, StreamingRecognizer
from rooms import transcripts
from rooms.models import Admission, Participant, Room
from server.events import ADMITTED, RoomEvents
from server.settings import Settings
from server.speech_backend import SpeechModels, SpeechUnavailable, missing_model, open_speech
from server.translations import RoomTranslations, Translated
from server.ws import protocol as p

log = logging.getLogger(__name__)

TAP_SAMPLE_RATE = 16_000


class PcmLike(Protocol):
    """What the media router's `PcmFrame` offers (16-bit little-endian mono PCM)."""

    @property
    def pcm(self) -> bytes: ...

    @property
    def sample_rate(self) -> int: ...


async def pcm_samples(
    frames: AsyncIterable[PcmLike],
) -> AsyncGenerator[npt.NDArray[np.int16], None]:
    """The tap's frames as int16 sample arrays for the recognizer."""
    async for frame in frames:
        if frame.sample_rate != TAP_SAMPLE_RATE:
            raise ValueError(f"captions need {TAP_SAMPLE_RATE} Hz audio, got {frame.sample_rate}")
        yield np.frombuffer(frame.pcm, dtype="<i2").astype(np.int16, copy=False)


class FrameBuffer:
    """A speaker's tap read from the moment their captions start, into memory, until the
    recognizer takes the frames: speech said while the model loads is kept (an unread tap
    decodes nothing) and captioned once the model is there. The frames end when the tap's do;
    an error of the tap is raised after the frames that came before it."""

    def __init__(self, frames: AsyncIterable[PcmLike]) -> None:
        self.first_frame_at: float | None = None
        """Wall-clock time (`time.time()`) of the first frame's first sample."""
        self._frames: deque[npt.NDArray[np.int16]] = deque()
        self._changed = asyncio.Event()
        self._ended = False
        self._error: Exception | None = None
        self._pump = asyncio.get_running_loop().create_task(self._read(frames), name="tap-read")

    async def _read(self, frames: AsyncIterable[PcmLike]) -> None:
        try:
            async with contextlib.aclosing(pcm_samples(frames)) as samples_of_frames:
                async for samples in samples_of_frames:
                    self._add(samples)
        except Exception as error:
            self._error = error
        finally:
            self._ended = True
            self._changed.set()

    def _add(self, samples: npt.NDArray[np.int16]) -> None:
        if self.first_frame_at is None:
            self.first_frame_at = time.time() - samples.size / TAP_SAMPLE_RATE
        self._frames.append(samples)
        self._changed.set()

    async def started(self) -> bool:
        """Wait for the first frame; False when the frames ended before any came."""
        while self.first_frame_at is None and not self._ended:
            await self._wait()
        return self.first_frame_at is not None

    def __aiter__(self) -> FrameBuffer:
        return self

    async def __anext__(self) -> npt.NDArray[np.int16]:
        while not self._frames:
            if self._ended:
                error, self._error = self._error, None
                if error is not None:
                    raise error
                raise StopAsyncIteration
            await self._wait()
        return self._frames.popleft()

    async def _wait(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    async def aclose(self) -> None:
        """Stop reading the tap (the frames already read stay readable)."""
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump


@dataclass(frozen=True, slots=True)
class Speaker:
    room_id: str
    participant_id: str
    name: str
    language: str
    opened_at: datetime | None = None
    """When the room opened: zero of the session's clock."""

    def session_time(self, wall_clock: float) -> float:
        """A `time.time()` instant in seconds on the session's clock."""
        return wall_clock - self.opened_at.timestamp() if self.opened_at else 0.0


@dataclass(frozen=True, slots=True)
class _Stream:
    """What one caption task reads."""

    room_id: str
    participant_id: str
    tap: AudioTap


StateListener = Callable[[p.CaptionsState], None]
"""Told the service's new state ("ready" once the model loaded, or "unavailable")."""


class CaptionService:
    """Captions of every consenting speaker on this node: one task per speaker's tap."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        events: RoomEvents,
        *,
        models: SpeechModels | None = None,
        translations: RoomTranslations | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._events = events
        self._models = models
        self._loading: asyncio.Task[SpeechModels | None] | None = None
        self._listeners: list[StateListener] = []
        self._resources = contextlib.AsyncExitStack()
        self._tasks: dict[asyncio.Task[int], _Stream] = {}
        self._taps: dict[tuple[str, str], AudioTap] = {}  # every speaker's latest tap
        self._unfinished: dict[str, tuple[Speaker, CaptionEvent]] = {}  # by utterance id
        self._translations = translations
        self._follow_ups: set[asyncio.Task[None]] = set()
        self.enabled = settings.captions_enabled
        self.disabled_reason: str | None = None if self.enabled else "captions_enabled is off"
        self.observe_final_latency: Callable[[float], None] = lambda seconds: None  # metrics
        if self.enabled and models is None and (reason := missing_model(settings)):
            self._disable(reason)  # known now, so pages can say so before anyone speaks

    # -- starting ----------------------------------------------------------------------------

    def start(self, on_state: StateListener | None = None) -> None:
        """Begin loading the speech models in the background (the server is starting);
        `on_state` hears when captions become "ready" or "unavailable"."""
        if on_state is not None:
            self._listeners.append(on_state)
        self._load_in_background()

    @property
    def languages(self) -> list[str] | None:
        """The spoken languages this node captions: None for any (a multilingual model),
        else the English-only model's one."""
        multilingual = (self._models.multilingual if self._models is not None
                        else self._settings.speech_multilingual)
        return None if multilingual else ["en"]

    def can_caption(self, language: str) -> bool:
        """Whether speech in ``language`` ("" = not said) gets captions on this node."""
        languages = self.languages
        return languages is None or not language or language in languages

    @property
    def state(self) -> p.CaptionsState:
        if not self.enabled:
            return "unavailable"
        return "ready" if self._models is not None else "starting"

    # -- the media router's hook ---------------------------------------------------------------

    def on_audio_tap(self, room_id: str, participant_id: str, tap: AudioTap) -> None:
        """A speaker's audio tap opened (synchronous: schedules a task that reads it). A task
        on an older tap of the speaker goes on until that tap ends (the router closes the tap
        of a peer it replaces), so the sentence it was in gets its final."""
        if not self.enabled:
            return
        for key in [k for k, old in self._taps.items() if old.closed]:
            del self._taps[key]
        self._taps[(room_id, participant_id)] = tap
        self._start(_Stream(room_id, participant_id, tap))

    def _start(self, stream: _Stream) -> None:
        if any(running.tap is stream.tap for running in self._tasks.values()):
            return
        task = asyncio.get_running_loop().create_task(
            self.transcribe(stream.room_id, stream.participant_id, stream.tap),
            name=f"captions:{stream.participant_id}",
        )
        self._tasks[task] = stream
        task.add_done_callback(self._finished)

    async def consent_changed(self, room_id: str, participant_id: str, consent: bool) -> None:
        """The participant's consent was just stored: with it, caption the tap they have on
        this node (from now on); without it, stop at once, stop decoding their audio and
        abandon the sentence they were in."""
        key = (room_id, participant_id)
        tap = self._taps.get(key)
        streams = {t: s for t, s in self._tasks.items() if (s.room_id, s.participant_id) == key}
        if consent:
            if self.enabled and tap is not None and not tap.closed:
                # a task already on this tap began without consent (it read none, or is reading
                # it now, and would end without a caption): a fresh one reads the tap instead
                stale = [t for t, s in streams.items() if s.tap is tap]
                for task in stale:
                    del self._tasks[task]
                await self._cancel(stale)
                self._start(_Stream(room_id, participant_id, tap))
            return
        for task in streams:
            del self._tasks[task]
        await self._cancel(list(streams))
        for stream in streams.values():
            stream.tap.release()
        if tap is not None:
            tap.release()
        await self._abandon(lambda e: (e.room_id, e.speaker_id) == key)

    def _finished(self, task: asyncio.Task[int]) -> None:
        stream = self._tasks.pop(task, None)
        if stream is None:
            return
        if not any(other.tap is stream.tap for other in self._tasks.values()):
            stream.tap.release()  # nobody reads it now (no consent, no model): decode nothing
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("captions of %s in room %s failed", stream.participant_id,
                      stream.room_id, exc_info=error)

    @property
    def pending(self) -> int:
        """Recognitions submitted and not finished (this node's ASR queue)."""
        return self._models.engine.pending if self._models is not None else 0

    @property
    def active(self) -> tuple[tuple[str, str], ...]:
        """(room_id, participant_id) of the speakers being transcribed now."""
        return tuple(dict.fromkeys((s.room_id, s.participant_id) for s in self._tasks.values()))

    # -- one speaker -------------------------------------------------------------------------

    async def transcribe(
        self, room_id: str, participant_id: str, frames: AsyncIterable[PcmLike]
    ) -> int:
        """Caption one speaker's frames until they end; returns how many captions were sent
        (0 for a speaker who has not consented: their frames are not read at all)."""
        speaker = await self._consenting_speaker(room_id, participant_id)
        if speaker is None:
            return 0
        buffered = FrameBuffer(frames)  # from now on: nothing is lost while the model loads
        try:
            return await self._caption(speaker, buffered)
        finally:
            await buffered.aclose()

    async def _caption(self, speaker: Speaker, frames: FrameBuffer) -> int:
        models = await self.models()
        if models is None or not await frames.started():
            return 0
        if not self.can_caption(speaker.language):
            log.info("not transcribing %s in room %s: the model cannot caption %r",
                     speaker.participant_id, speaker.room_id, speaker.language)
            return 0  # rather no captions than confident English nonsense
        assert frames.first_frame_at is not None
        recognizer = StreamingRecognizer(
            models.engine, models.vad, room_id=speaker.room_id,
            speaker_id=speaker.participant_id, language=_language(models, speaker),
            clock_start_s=speaker.session_time(frames.first_frame_at),
        )
        sent = 0
        last: CaptionEvent | None = None
        stream = cast("AsyncGenerator[CaptionEvent, None]", recognizer.captions(frames))
        try:
            async with contextlib.aclosing(stream) as captions:
                async for last in captions:
                    await self._publish(speaker, last)
                    sent += 1
        except Exception:
            if last is not None:  # its sentence will get no final
                await self._abandon(lambda e: e.utterance_id == last.utterance_id)
            raise
        return sent

    async def _consenting_speaker(self, room_id: str, participant_id: str) -> Speaker | None:
        async with self._sessions() as session:
            participant = await session.get(Participant, participant_id)
            room = await session.get(Room, room_id)
        if participant is None or room is None or participant.room_id != room_id:
            return None
        if participant.transcription_consent is not True:
            log.info("not transcribing %s in room %s: no consent", participant_id, room_id)
            return None
        if participant.admission is not Admission.ADMITTED:
            return None
        return Speaker(room_id, participant_id, participant.display_name, participant.language,
                       room.opened_at)

    async def _publish(self, speaker: Speaker, event: CaptionEvent) -> None:
        """The one place a caption event becomes a `caption` message, translated into the
        room's reading languages (and a final a transcript entry, with its translations)."""
        if event.kind is CaptionKind.PARTIAL:
            self._unfinished[event.utterance_id] = (speaker, event)
        done = await self._translate(speaker, event)
        message = p.Caption(
            speaker_id=speaker.participant_id, speaker_name=speaker.name,
            utterance_id=event.utterance_id, rev=event.rev, final=event.is_final,
            abandoned=event.kind is CaptionKind.ABANDONED, lang=event.language, text=event.text,
            t_start=event.t_start, t_end=event.t_end, translations=done.translations,
            no_route=list(done.no_route),
            pending=list(done.whisper) if event.is_final and event.audio is not None else [],
        )
        await self._events.send(speaker.room_id, ADMITTED, message)
        if event.is_final and speaker.opened_at is not None:  # end of speech → published
            self.observe_final_latency(speaker.session_time(time.time()) - event.t_end)
        if event.kind is not CaptionKind.PARTIAL:
            self._unfinished.pop(event.utterance_id, None)
        if event.is_final and event.text:
            await self._store(speaker, event, done.translations)
            if done.whisper and event.audio is not None:
                self._follow_up(self._whisper_english(speaker, event, message, done.whisper))

    async def _translate(self, speaker: Speaker, event: CaptionEvent) -> Translated:
        if self._translations is None or not event.text:
            return Translated()
        try:
            targets = await self._translations.targets(speaker.room_id, online_only=True)
            return await self._translations.translate(
                event.text, event.language, targets, final=event.is_final, speech=True)
        except Exception:  # a caption is never lost to its translation
            log.exception("could not translate a caption of room %s", speaker.room_id)
            return Translated()

    async def _store(self, speaker: Speaker, event: CaptionEvent,
                     translations: dict[str, p.MachineTranslation]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await transcripts.add_entry(
                    session, room_id=speaker.room_id, speaker_id=speaker.participant_id,
                    speaker_name=speaker.name, utterance_id=event.utterance_id,
                    language=event.language, text=event.text,
                    t_start=event.t_start, t_end=event.t_end,
                    translations={k: t.model_dump() for k, t in translations.items()},
                )
        except Exception:
            log.exception("could not store a transcript entry of room %s", speaker.room_id)

    async def _whisper_english(self, speaker: Speaker, event: CaptionEvent,
                               message: p.Caption, targets: tuple[str, ...]) -> None:
        """Readers of English whom no text model serves from the speaker's language: Whisper
        translates the final's speech, and the utterance's next revision carries it."""
        models = self._models
        if models is None or event.audio is None:
            return
        english = ""
        try:
            result = await models.engine.transcribe_async(event.audio, event.language,
                                                          task="translate")
            english = result.text.strip()
        except Exception:
            log.exception("Whisper could not translate a caption of room %s", speaker.room_id)
        added = {language: p.MachineTranslation(text=english, route="whisper")
                 for language in targets if english}
        if added:  # kept first, then shown: the transcript has what readers saw
            try:
                async with self._sessions() as session, session.begin():
                    await transcripts.add_translations(
                        session, event.utterance_id,
                        {k: t.model_dump() for k, t in added.items()})
            except Exception:
                log.exception("could not store a caption's translation in room %s",
                              speaker.room_id)
        # the next revision: with the translation, or without "translating…" if none came
        await self._events.send(speaker.room_id, ADMITTED, message.model_copy(update={
            "rev": message.rev + 1, "translations": {**message.translations, **added},
            "pending": []}))

    def _follow_up(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work, name="captions:whisper-english")
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def _abandon(self, which: Callable[[CaptionEvent], bool]) -> None:
        """Tell the pages that these unfinished utterances will get no final."""
        chosen = [(s, e) for s, e in self._unfinished.values() if which(e)]
        for speaker, event in chosen:
            await self._publish(speaker, event.abandoned())

    # -- models ------------------------------------------------------------------------------

    async def models(self) -> SpeechModels | None:
        """The recognizer and VAD, once loaded (the load starts here if `start()` has not
        started it); None when captions are off or the model cannot be loaded (logged once)."""
        loading = self._load_in_background()
        if loading is None:
            return self._models
        return await asyncio.shield(loading)  # a speaker who leaves does not stop the load

    def _load_in_background(self) -> asyncio.Task[SpeechModels | None] | None:
        if self._loading is None and self._models is None and self.enabled:
            self._loading = asyncio.get_running_loop().create_task(
                self._load(), name="captions:load")
        return self._loading if self._models is None else None

    async def _load(self) -> SpeechModels | None:
        try:
            self._models = await open_speech(self._settings, self._resources)
        except SpeechUnavailable as error:
            self._disable(str(error))
        self._tell_state()
        return self._models

    def _tell_state(self) -> None:
        for listener in self._listeners:
            try:
                listener(self.state)
            except Exception:
                log.exception("a captions state listener failed")

    def _disable(self, reason: str) -> None:
        self.enabled = False
        self.disabled_reason = reason
        log.warning("live captions are disabled: %s", reason)

    # -- ending ------------------------------------------------------------------------------

    async def end_room(self, room_id: str) -> None:
        """Stop every caption task of the room (it ended)."""
        await self._cancel([t for t, s in self._tasks.items() if s.room_id == room_id])
        for key in [k for k in self._taps if k[0] == room_id]:
            del self._taps[key]
        for utterance_id in [u for u, (s, _) in self._unfinished.items() if s.room_id == room_id]:
            del self._unfinished[utterance_id]

    async def close(self) -> None:
        loading = [self._loading] if self._loading is not None else []
        await self._cancel([*self._tasks, *loading, *self._follow_ups])
        self._taps.clear()
        self._unfinished.clear()
        await self._resources.aclose()

    async def _cancel(self, tasks: Sequence[asyncio.Task[Any]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _language(models: SpeechModels, speaker: Speaker) -> str | None:
    """The language to recognize the speaker in: theirs on a multilingual model (None:
    detected), English on an English-only one (only English speakers are captioned there)."""
    if not models.multilingual:
        return "en"
    return speaker.language or None
