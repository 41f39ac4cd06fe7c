"""Events the media router reports to the server (for the UI and the speech pipeline)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from media.rtc.tap import AudioTap


class PeerState(StrEnum):
    """aiortc's connection states (it has no "disconnected")."""

    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"
    CLOSED = "closed"


class DropReason(StrEnum):
    ICE_TIMEOUT = "ice_timeout"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PeerStateChanged:
    participant_id: str
    state: PeerState


@dataclass(frozen=True, slots=True)
class PeerDropped:
    """The router removed this participant's peer on its own; the server should tell the client."""

    participant_id: str
    reason: DropReason


@dataclass(frozen=True, slots=True)
class AudioTapOpened:
    """A speaker's audio arrived: iterate `tap` for 16 kHz mono int16 frames until it ends."""

    participant_id: str
    tap: AudioTap


MediaEvent = PeerStateChanged | PeerDropped | AudioTapOpened
EventSink = Callable[[MediaEvent], None]


def ignore_event(event: MediaEvent) -> None:
    """The default event sink."""
