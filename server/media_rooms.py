"""This node's media rooms: one `RoomMediaRouter` per room that has peers here.

A router is created when the first admitted participant of a room offers media and closed when
the room's last peer leaves (or the room ends). Each peer belongs to the socket that created it:
a second socket of the same participant that offers replaces it, and a socket that closes removes
only its own peer. Media needs every peer of a room on one node (see docs/architecture.md).

Interpretation: an interpreter's voice goes only into the language channel they chose
(`set_channel`; none when they join), and reaches the peers whose reading language is that
channel's. Reading languages are followed from the room's `presence` events on the bus, which
every change of one (`reading.set`, on any socket or node) ends with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from media.rtc import (
    AudioTap,
    AudioTapOpened,
    IceConfig,
    IceServer,
    MediaConfig,
    MediaEvent,
    PeerDropped,
    PeerSession,
    PeerStateChanged,
    RoomMediaRouter,
    RouterCounts,
    SignalSink,
)
from media.rtc.tasks import TaskSet
from rooms.bus import EventBus, Handler
from server.events import ADMITTED, RoomEvents, channel
from server.settings import Settings
from server.ws import protocol as p

log = logging.getLogger(__name__)

DropNotice = Callable[[str], None]
"""Tells a peer's socket that the server closed the peer on its own (the reason)."""

TapSubscriber = Callable[[str, str, AudioTap], None]
"""Called with (room_id, participant_id, tap) on the server's event loop when a speaker's audio
arrives. It must not block: start a task that iterates the tap. A tap's frames go to whoever
iterates it, so only one subscriber should read a given tap."""


def ice_config(settings: Settings) -> IceConfig:
    secret = settings.rtc_turn_secret
    return IceConfig(
        stun_urls=tuple(settings.rtc_stun_urls),
        turn_urls=tuple(settings.rtc_turn_urls),
        turn_secret=secret.get_secret_value() if secret is not None else None,
        turn_ttl_s=settings.rtc_turn_ttl_s,
        host_addresses=(
            tuple(settings.rtc_host_addresses) if settings.rtc_host_addresses is not None else None
        ),
        allowed_networks=tuple(settings.rtc_allowed_networks),
        denied_networks=tuple(settings.rtc_denied_networks),
    )


@dataclass(eq=False)
class _Peer:
    owner: object
    on_drop: DropNotice


@dataclass(frozen=True, slots=True)
class Listener:
    """How a joining participant takes part in interpretation."""

    language: str
    """Their reading language: interpreters' channels of it reach them."""
    interpreter: bool = False
    """Their voice reaches only the listeners of the channel they choose (none at first)."""


class MediaRooms:
    def __init__(self, settings: Settings, events: RoomEvents) -> None:
        self._ice = ice_config(settings)
        self._config = MediaConfig(ice=self._ice, ice_timeout_s=settings.rtc_ice_timeout_s)
        self._events = events
        self._routers: dict[str, RoomMediaRouter] = {}
        self._peers: dict[tuple[str, str], _Peer] = {}
        self._tasks = TaskSet()
        self._tap_subscribers: list[TapSubscriber] = []
        self._channels: dict[tuple[str, str], str | None] = {}
        self._followers: dict[str, tuple[EventBus, Handler]] = {}

    def on_audio_tap(self, subscriber: TapSubscriber) -> Callable[[], None]:
        """Call `subscriber` for every audio tap opened from now on; returns an unsubscribe."""
        self._tap_subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._tap_subscribers:
                self._tap_subscribers.remove(subscriber)

        return unsubscribe

    # -- queries ------------------------------------------------------------------------------

    def ice_servers(self, participant_id: str) -> tuple[IceServer, ...]:
        """The browser's ICE servers, with TURN credentials issued for this participant."""
        return self._ice.ice_servers(participant_id)

    @property
    def room_ids(self) -> tuple[str, ...]:
        return tuple(self._routers)

    def counts(self, room_id: str) -> RouterCounts:
        """What the room's router holds (all zero when the room has no router here)."""
        router = self._routers.get(room_id)
        return router.counts() if router is not None else RouterCounts(0, 0, 0, 0, 0)

    @property
    def task_count(self) -> int:
        return len(self._tasks)

    def session(self, room_id: str, participant_id: str, owner: object) -> PeerSession | None:
        """The participant's peer if `owner` (a socket) created it."""
        peer = self._peers.get((room_id, participant_id))
        router = self._routers.get(room_id)
        if peer is None or peer.owner is not owner or router is None:
            return None
        return router.session(participant_id)

    # -- membership ---------------------------------------------------------------------------

    async def join(
        self,
        room_id: str,
        participant_id: str,
        owner: object,
        send: SignalSink,
        on_drop: DropNotice,
        listener: Listener,
    ) -> PeerSession:
        """A fresh peer for an admitted participant, replacing any peer they had here (an
        interpreter keeps the channel they chose)."""
        previous = self._peers.get((room_id, participant_id))
        if previous is not None:
            await self._remove_peer(room_id, participant_id)
            if previous.owner is not owner:
                previous.on_drop("replaced")
        router = self._routers.get(room_id)
        if router is None:
            router = RoomMediaRouter(self._config, on_event=lambda e: self._on_event(room_id, e))
            self._routers[room_id] = router
        session = router.add(participant_id, send, listening=listener.language,
                             interpreter=listener.interpreter)
        if listener.interpreter:
            router.set_channel(participant_id, self._channels.get((room_id, participant_id)))
        self._peers[(room_id, participant_id)] = _Peer(owner, on_drop)
        return session

    # -- interpretation -----------------------------------------------------------------------

    def channel(self, room_id: str, participant_id: str) -> str | None:
        """The language channel an interpreter speaks into (None: nobody hears them)."""
        return self._channels.get((room_id, participant_id))

    def set_channel(self, room_id: str, participant_id: str, language: str | None) -> None:
        """An interpreter chose a channel (None: none); applies to their peer now or later."""
        self._channels[(room_id, participant_id)] = language
        router = self._routers.get(room_id)
        if router is not None and participant_id in router:
            router.set_channel(participant_id, language)

    def set_listening(self, room_id: str, participant_id: str, language: str) -> None:
        router = self._routers.get(room_id)
        if router is not None and participant_id in router and language:
            router.set_listening(participant_id, language)

    async def follow_readers(self, room_id: str, bus: EventBus) -> None:
        """Follow the reading languages of the room's peers from its presence events, while
        the room has a router here."""
        if room_id in self._followers or room_id not in self._routers:
            return

        def handler(event: dict[str, Any]) -> None:
            self._on_room_event(room_id, event)

        self._followers[room_id] = (bus, handler)
        await bus.subscribe(channel(room_id), handler)

    def _on_room_event(self, room_id: str, event: dict[str, Any]) -> None:
        message = event.get("msg", {})
        if message.get("type") != "presence":
            return
        for person in message.get("participants", ()):
            self.set_listening(room_id, person["id"], person.get("reading_language", ""))

    async def _unfollow(self, room_id: str) -> None:
        follower = self._followers.pop(room_id, None)
        if follower is not None:
            bus, handler = follower
            await bus.unsubscribe(channel(room_id), handler)

    async def leave(self, room_id: str, participant_id: str, owner: object | None = None) -> bool:
        """Remove a participant's peer (only `owner`'s, when given); False if there was none.
        An interpreter who leaves leaves their channel too."""
        peer = self._peers.get((room_id, participant_id))
        if peer is None or (owner is not None and peer.owner is not owner):
            return False
        self._channels.pop((room_id, participant_id), None)
        await self._remove_peer(room_id, participant_id)
        return True

    def forget_channel(self, room_id: str, participant_id: str) -> None:
        """A socket closed: an interpreter with no peer left here leaves their channel."""
        if (room_id, participant_id) not in self._peers:
            self._channels.pop((room_id, participant_id), None)

    async def _remove_peer(self, room_id: str, participant_id: str) -> None:
        del self._peers[(room_id, participant_id)]
        router = self._routers.get(room_id)
        if router is not None:
            await router.remove(participant_id)
            await self._close_if_empty(room_id, router)

    async def end_room(self, room_id: str) -> None:
        """The room ended: close every peer of it on this node."""
        router = self._routers.pop(room_id, None)
        for key in [k for k in self._peers if k[0] == room_id]:
            del self._peers[key]
        for key in [k for k in self._channels if k[0] == room_id]:
            del self._channels[key]
        await self._unfollow(room_id)
        if router is not None:
            await router.close()

    async def close(self) -> None:
        for room_id in list(self._routers):
            await self.end_room(room_id)
        await self._tasks.cancel_all()

    async def _close_if_empty(self, room_id: str, router: RoomMediaRouter) -> None:
        if not router.participants and self._routers.get(room_id) is router:
            del self._routers[room_id]
            await self._unfollow(room_id)
            await router.close()

    # -- events from the routers (synchronous: schedule, never block) -------------------------

    def _on_event(self, room_id: str, event: MediaEvent) -> None:
        if isinstance(event, PeerStateChanged):
            message = p.RtcState(participant_id=event.participant_id, state=event.state.value)
            self._tasks.spawn(self._events.send(room_id, ADMITTED, message), "rtc-state")
        elif isinstance(event, PeerDropped):
            peer = self._peers.pop((room_id, event.participant_id), None)
            if peer is not None:
                peer.on_drop(event.reason.value)
            router = self._routers.get(room_id)
            if router is not None:
                self._tasks.spawn(self._close_if_empty(room_id, router), "rtc-close-room")
        elif isinstance(event, AudioTapOpened):
            for subscriber in list(self._tap_subscribers):
                try:
                    subscriber(room_id, event.participant_id, event.tap)
                except Exception:
                    log.exception("an audio tap subscriber failed")
