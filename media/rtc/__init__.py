"""Server-side WebRTC media core: one aiortc peer per participant, one router per room.

Video is forwarded as encoded packets (no decode, no re-encode) with keyframe requests passed on
to the publisher; audio is forwarded as received and decoded once into a 16 kHz mono tap per
speaker for speech recognition. See docs/media.md.
"""

from media.rtc.address_policy import AddressClass, AddressPolicy
from media.rtc.config import MediaConfig
from media.rtc.errors import (
    AddressNotAllowed,
    DuplicateParticipant,
    InvalidCandidate,
    InvalidSdp,
    MediaError,
    OutOfOrderSignal,
    SessionClosed,
    SignalingError,
    SignalingGlare,
    UnknownParticipant,
    UnsupportedAiortc,
)
from media.rtc.events import (
    AudioTapOpened,
    DropReason,
    MediaEvent,
    PeerDropped,
    PeerState,
    PeerStateChanged,
)
from media.rtc.hostaddr import use_host_addresses
from media.rtc.ice import IceConfig, IceServer, TurnCredential, turn_credentials
from media.rtc.kinds import MediaKind
from media.rtc.router import RoomMediaRouter, RouterCounts
from media.rtc.session import PeerSession
from media.rtc.signals import IceCandidate, SdpAnswer, SdpOffer, Signal, SignalSink, TrackRoute
from media.rtc.tap import TAP_SAMPLE_RATE, AudioTap, PcmFrame

__all__ = [
    "TAP_SAMPLE_RATE",
    "AddressClass",
    "AddressNotAllowed",
    "AddressPolicy",
    "AudioTap",
    "AudioTapOpened",
    "DropReason",
    "DuplicateParticipant",
    "IceCandidate",
    "IceConfig",
    "IceServer",
    "InvalidCandidate",
    "InvalidSdp",
    "MediaConfig",
    "MediaError",
    "MediaEvent",
    "MediaKind",
    "OutOfOrderSignal",
    "PcmFrame",
    "PeerDropped",
    "PeerSession",
    "PeerState",
    "PeerStateChanged",
    "RoomMediaRouter",
    "RouterCounts",
    "SdpAnswer",
    "SdpOffer",
    "SessionClosed",
    "Signal",
    "SignalSink",
    "SignalingError",
    "SignalingGlare",
    "TrackRoute",
    "TurnCredential",
    "UnknownParticipant",
    "UnsupportedAiortc",
    "turn_credentials",
    "use_host_addresses",
]
