"""Signaling messages exchanged with one participant's peer session, independent of the transport.

The server maps them to its wire messages: `SdpOffer` and `SdpAnswer` go to the client;
`IceCandidate` comes from it. The server never trickles: aiortc gathers all of its candidates
before it produces a description, so they are in the SDP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from media.rtc.kinds import MediaKind


@dataclass(frozen=True, slots=True)
class TrackRoute:
    """Which participant's media the server sends on the m-line `mid` of an offer."""

    mid: str
    participant_id: str
    kind: MediaKind
    channel: str | None = None
    """The language channel this m-line carries an interpreter's voice for (None: the
    participant's own media)."""


@dataclass(frozen=True, slots=True)
class SdpOffer:
    """A server-initiated (re)negotiation; the client answers with `handle_answer`."""

    sdp: str
    routes: tuple[TrackRoute, ...]


@dataclass(frozen=True, slots=True)
class SdpAnswer:
    """The server's answer to a client offer."""

    sdp: str
    offer_id: str = ""
    """The offer's own id, as the client named it: a client that made a new offer meanwhile
    (a new peer connection) knows this answer is not for it."""


@dataclass(frozen=True, slots=True)
class IceCandidate:
    """A trickled candidate from the client (the `candidate` attribute, with or without the
    ``candidate:`` prefix). An empty `candidate` means end-of-candidates."""

    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


Signal = SdpOffer | SdpAnswer
SignalSink = Callable[[Signal], Awaitable[None]]
