"""The media router of one room: every admitted participant's media to every other one, except
interpreters' voices, which reach only the listeners of their language channel (`Audience`)."""

from __future__ import annotations

from dataclasses import dataclass

from media.rtc.audience import Audience
from media.rtc.config import MediaConfig
from media.rtc.errors import DuplicateParticipant, UnknownParticipant
from media.rtc.events import (
    AudioTapOpened,
    DropReason,
    EventSink,
    PeerDropped,
    ignore_event,
)
from media.rtc.kinds import MediaKind
from media.rtc.publication import Publication
from media.rtc.session import PeerSession, SessionHooks
from media.rtc.signals import SignalSink
from media.rtc.tap import AudioTap
from media.rtc.tasks import TaskSet


@dataclass(frozen=True, slots=True)
class RouterCounts:
    """What a room holds right now; all zero once everybody left."""

    peers: int
    publications: int
    forwarding_tracks: int
    open_taps: int
    tasks: int


class RoomMediaRouter:
    def __init__(
        self, config: MediaConfig | None = None, on_event: EventSink = ignore_event
    ) -> None:
        self._config = config or MediaConfig()
        self._on_event = on_event
        self._sessions: dict[str, PeerSession] = {}
        self._publications: dict[str, Publication] = {}
        self._audience = Audience()
        self._tasks = TaskSet()

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(self._sessions)

    def __contains__(self, participant_id: object) -> bool:
        return participant_id in self._sessions

    def session(self, participant_id: str) -> PeerSession:
        try:
            return self._sessions[participant_id]
        except KeyError:
            raise UnknownParticipant(participant_id) from None

    def add(
        self,
        participant_id: str,
        send_signal: SignalSink,
        *,
        listening: str = "",
        interpreter: bool = False,
    ) -> PeerSession:
        """Create the peer of an admitted participant; its client then sends the first offer.

        `listening`: the language they listen in (interpreters' channels of it reach them).
        `interpreter`: their voice goes only into their channel (`set_channel`), none at first.
        """
        if participant_id in self._sessions:
            raise DuplicateParticipant(participant_id)
        hooks = SessionHooks(self._on_publication, self._on_event, self._on_drop)
        session = PeerSession(participant_id, send_signal, self._config, hooks)
        self._sessions[participant_id] = session
        self._audience.set_listening(participant_id, listening)
        if interpreter:
            self._audience.set_channel(participant_id, None)
        self._route()
        return session

    def set_listening(self, participant_id: str, language: str) -> None:
        """A participant now listens in `language`: interpretation into it reaches them."""
        self.session(participant_id)
        if self._audience.set_listening(participant_id, language):
            self._route()

    def set_channel(self, participant_id: str, language: str | None) -> None:
        """An interpreter's voice now goes to the listeners of `language` only (None: nobody)."""
        self.session(participant_id)
        if self._audience.set_channel(participant_id, language):
            self._route()

    def channel(self, participant_id: str) -> str | None:
        return self._audience.channel(participant_id, MediaKind.AUDIO)

    def _route(self) -> None:
        """Make every session forward exactly the publications its participant receives."""
        for publication in self._publications.values():
            publisher = publication.participant_id
            publication.channel = self._audience.channel(publisher, publication.kind)
            for listener, session in self._sessions.items():
                if self._audience.receives(listener, publisher, publication.kind):
                    session.forward(publication)
                elif session.forwards(publication):
                    session.stop_forwarding(publication)

    async def remove(self, participant_id: str) -> bool:
        """Close a participant's peer and stop forwarding their media; False if unknown."""
        session = self._sessions.pop(participant_id, None)
        if session is None:
            return False
        self._audience.forget(participant_id)
        for publication in session.publications:
            self._publications.pop(publication.key, None)
            for other in self._sessions.values():
                other.stop_forwarding(publication)
        await session.close()
        return True

    def audio_taps(self) -> dict[str, tuple[AudioTap, ...]]:
        """The open audio taps, by speaker (also announced by `AudioTapOpened`)."""
        taps: dict[str, tuple[AudioTap, ...]] = {}
        for publication in self._publications.values():
            if publication.tap is not None and not publication.tap.closed:
                pid = publication.participant_id
                taps[pid] = (*taps.get(pid, ()), publication.tap)
        return taps

    def counts(self) -> RouterCounts:
        sessions = self._sessions.values()
        return RouterCounts(
            peers=len(self._sessions),
            publications=len(self._publications),
            forwarding_tracks=sum(s.forwarding for s in sessions),
            open_taps=sum(len(t) for t in self.audio_taps().values()),
            tasks=len(self._tasks) + sum(s.task_count for s in sessions),
        )

    async def close(self) -> None:
        for participant_id in list(self._sessions):
            await self.remove(participant_id)
        await self._tasks.cancel_all()

    def _on_publication(self, publication: Publication) -> None:
        self._publications[publication.key] = publication
        self._route()
        if publication.tap is not None:
            self._on_event(AudioTapOpened(publication.participant_id, publication.tap))

    def _on_drop(self, participant_id: str, reason: DropReason) -> None:
        self._tasks.spawn(self._drop(participant_id, reason), f"drop:{participant_id}")

    async def _drop(self, participant_id: str, reason: DropReason) -> None:
        if await self.remove(participant_id):
            self._on_event(PeerDropped(participant_id, reason))
