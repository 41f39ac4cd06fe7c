"""One participant's server-side peer connection and its signaling.

Negotiation model: the client makes the first offer (its own tracks); the server answers and
receives on those m-lines. From then on the server offers whenever the set of tracks it forwards
to this client changes (someone joins or leaves), carrying `TrackRoute`s that say whose media each
m-line holds; the client answers. The client may offer again while the server is stable (e.g. to
add a track); if it offers while a server offer is pending, it gets `SignalingGlare`: the server
is the impolite side of perfect negotiation and the client rolls back. Refused messages raise a
`SignalingError` and leave the session as it was. The client's candidates pass the address
policy first (`address_policy.py`): refused ones are dropped from its SDP, and a trickled one
raises `AddressNotAllowed`, so the server never sends ICE checks to them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidStateError

from media.rtc import _aiortc
from media.rtc.config import MediaConfig
from media.rtc.errors import InvalidCandidate, OutOfOrderSignal, SessionClosed, SignalingGlare
from media.rtc.events import DropReason, EventSink, PeerState, PeerStateChanged
from media.rtc.kinds import MediaKind, forwarded_codecs
from media.rtc.numbering import keep_numbering
from media.rtc.outbound import OutboundMedia
from media.rtc.outbox import SignalOutbox
from media.rtc.publication import Publication
from media.rtc.sdp_check import (
    check_answer,
    check_offer,
    drop_refused_candidates,
    parse_candidate,
)
from media.rtc.signals import IceCandidate, SdpAnswer, SdpOffer, SignalSink, TrackRoute
from media.rtc.tasks import TaskSet

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionHooks:
    """How a session reports to its router."""

    on_publication: Callable[[Publication], None]
    on_event: EventSink
    on_drop: Callable[[str, DropReason], None]


class PeerSession:
    def __init__(
        self,
        participant_id: str,
        send_signal: SignalSink,
        config: MediaConfig,
        hooks: SessionHooks,
    ) -> None:
        self.participant_id = participant_id
        self._config = config
        self._hooks = hooks
        self._addresses = config.ice.address_policy()
        self._pc = RTCPeerConnection(config.ice.rtc_configuration(participant_id))
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_connection_state)
        self._outbound = OutboundMedia(
            self._pc,
            video_maxlen=config.video_queue_frames,
            audio_maxlen=config.audio_queue_frames,
        )
        self._publications: list[Publication] = []
        self._lock = asyncio.Lock()
        self._outbox = SignalOutbox(send_signal, participant_id)
        self._tasks = TaskSet()
        self._connected = asyncio.Event()
        self._closed = False
        self._tasks.spawn(self._watch_ice(), f"ice-timeout:{participant_id}")

    # -- state ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connection_state(self) -> PeerState:
        return PeerState(self._pc.connectionState)

    @property
    def signaling_state(self) -> str:
        return str(self._pc.signalingState)

    @property
    def publications(self) -> tuple[Publication, ...]:
        return tuple(self._publications)

    @property
    def routes(self) -> tuple[TrackRoute, ...]:
        """What the server sends on which m-line, as of the last offer."""
        return self._outbound.routes()

    @property
    def forwarding(self) -> int:
        return self._outbound.forwarding

    @property
    def transceiver_count(self) -> int:
        return len(self._pc.getTransceivers())

    @property
    def task_count(self) -> int:
        own = len(self._tasks) + self._outbox.running
        return own + sum(p.task_count for p in self._publications)

    async def signals_sent(self) -> None:
        """Wait until every signal emitted so far was handed to `send_signal`."""
        await self._outbox.drain()

    # -- signaling --------------------------------------------------------------------------

    async def handle_offer(self, sdp: str, offer_id: str = "") -> None:
        """Apply a client offer and emit `SdpAnswer` (carrying ``offer_id``)."""
        async with self._negotiating():
            if self._pc.signalingState == "have-local-offer":
                raise SignalingGlare("the server's offer is pending: answer it first")
            remote = self._pc.remoteDescription
            sdp = self._screen(sdp)
            description = check_offer(
                sdp, remote.sdp if remote is not None else None, self._addresses
            )
            self._add_receivers(description)
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await self._pc.setLocalDescription(await self._pc.createAnswer())
            self._outbox.send(SdpAnswer(self._pc.localDescription.sdp, offer_id))
        self._schedule_offer()

    async def handle_answer(self, sdp: str) -> None:
        """Apply the client's answer to the pending server offer."""
        async with self._negotiating():
            if self._pc.signalingState != "have-local-offer":
                raise OutOfOrderSignal("no server offer is pending")
            sdp = self._screen(sdp)
            check_answer(sdp, self._pc.localDescription.sdp, self._addresses)
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            self._outbound.commit()
        self._schedule_offer()

    async def add_ice_candidate(self, candidate: IceCandidate) -> None:
        """Add a trickled client candidate (an empty one means end-of-candidates)."""
        parsed = parse_candidate(candidate, self._addresses)
        async with self._negotiating():
            if self._pc.remoteDescription is None:
                raise OutOfOrderSignal("an ICE candidate before the offer")
            try:
                await self._pc.addIceCandidate(parsed)
            except ValueError as exc:  # e.g. after end-of-candidates
                raise InvalidCandidate(str(exc)) from exc

    def _screen(self, sdp: str) -> str:
        """The client's SDP without the candidates the address policy refuses."""
        kept, dropped = drop_refused_candidates(sdp, self._addresses)
        if dropped:
            reasons = ", ".join(sorted(set(dropped)))
            logger.info("dropped %d ICE candidate(s) of %s: %s",
                        len(dropped), self.participant_id, reasons)
        return kept

    @asynccontextmanager
    async def _negotiating(self) -> AsyncIterator[None]:
        if self._closed:
            raise SessionClosed(self.participant_id)
        async with self._lock:
            if self._closed:
                raise SessionClosed(self.participant_id)
            try:
                yield
            except InvalidStateError as exc:
                if self._closed:
                    raise SessionClosed(self.participant_id) from exc
                raise OutOfOrderSignal(str(exc)) from exc

    def _add_receivers(self, description: Any) -> None:
        """Receive-only transceivers for the offer's new m-lines, limited to forwardable codecs.

        aiortc matches a new m-line to the first transceiver of its kind without a mid, so these
        get the client's tracks, and their codec preferences shape the answer.
        """
        known = {t.mid for t in self._pc.getTransceivers()}
        for media in description.media:
            if media.rtp.muxId not in known:
                kind = MediaKind(media.kind)
                transceiver = self._pc.addTransceiver(kind.value, direction="recvonly")
                transceiver.setCodecPreferences(forwarded_codecs(kind))

    def _schedule_offer(self) -> None:
        if self._outbound.dirty and not self._closed:
            self._tasks.spawn(self._offer(), f"offer:{self.participant_id}")

    async def _offer(self) -> None:
        async with self._negotiating():
            ready = self._pc.signalingState == "stable" and self._pc.remoteDescription is not None
            if not ready or not self._outbound.dirty:
                return  # handle_offer / handle_answer schedule it again
            self._outbound.prepare()
            offer = await self._pc.createOffer()
            # no await until aiortc's transceivers follow the kept numbers (see numbering.py)
            kept = keep_numbering(offer.sdp, self._pc.remoteDescription.sdp)
            _aiortc.renumber_transceivers(self._pc, kept.payload_types, kept.extension_ids)
            offer.sdp = kept.sdp
            await self._pc.setLocalDescription(offer)
            self._outbox.send(SdpOffer(self._pc.localDescription.sdp, self._outbound.routes()))

    # -- forwarding (called by the router) ----------------------------------------------------

    def forwards(self, publication: Publication) -> bool:
        """Whether `publication` is (or, after the next offer, will be) sent to this peer."""
        return self._outbound.wants(publication)

    def forward(self, publication: Publication) -> None:
        if self._outbound.want(publication):
            self._schedule_offer()

    def stop_forwarding(self, publication: Publication) -> None:
        self._outbound.unwant(publication)
        self._schedule_offer()

    # -- aiortc events ----------------------------------------------------------------------

    def _on_track(self, track: Any) -> None:
        transceiver = next(t for t in self._pc.getTransceivers() if t.receiver.track is track)
        publication = Publication(
            self.participant_id,
            MediaKind(track.kind),
            str(transceiver.mid),
            transceiver.receiver,
            keyframe_interval_s=self._config.keyframe_interval_s,
            tap_maxlen=self._config.tap_maxlen,
        )
        self._publications.append(publication)
        self._hooks.on_publication(publication)

    def _on_connection_state(self) -> None:
        state = self.connection_state
        self._hooks.on_event(PeerStateChanged(self.participant_id, state))
        if state is PeerState.CONNECTED:
            self._connected.set()
        elif state is PeerState.FAILED and not self._closed:
            self._hooks.on_drop(self.participant_id, DropReason.FAILED)

    async def _watch_ice(self) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), self._config.ice_timeout_s)
        except TimeoutError:
            if not self._closed:
                self._hooks.on_drop(self.participant_id, DropReason.ICE_TIMEOUT)

    # -- teardown ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop forwarding, close the peer connection and end this participant's taps."""
        if self._closed:
            return
        self._closed = True
        self._outbound.close()
        for publication in self._publications:
            await publication.close()
        await self._tasks.cancel_all()
        await self._pc.close()
        await self._outbox.close()
        self._publications.clear()

