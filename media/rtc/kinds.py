"""Media kinds and the codecs the router forwards."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from aiortc import RTCRtpSender

VP8 = "video/vp8"
OPUS = "audio/opus"
RTX = "video/rtx"
_VP8_KEYFRAME_START_CODE = b"\x9d\x01\x2a"


class MediaKind(StrEnum):
    AUDIO = "audio"
    VIDEO = "video"


_FORWARDED = {MediaKind.AUDIO: (OPUS,), MediaKind.VIDEO: (VP8, RTX)}


def forwarded_codecs(kind: MediaKind) -> list[Any]:
    """Codec preferences for every transceiver: forwarding needs one codec per kind in the room.

    Opus and VP8 are what every browser sends; RTX keeps retransmissions working for video.
    """
    wanted = _FORWARDED[kind]
    capabilities = RTCRtpSender.getCapabilities(kind.value).codecs
    return [c for c in capabilities if c.mimeType.lower() in wanted]


def is_forwarded_codec(kind: MediaKind, mime_type: str) -> bool:
    return mime_type.lower() == _FORWARDED[kind][0]


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether a reassembled encoded frame can be decoded on its own (every audio frame can).

    VP8 (RFC 6386 section 9.1): bit 0 of the frame tag is 0 on key frames, which also carry the
    start code 9d 01 2a after the 3-byte tag.
    """
    if mime_type != VP8:
        return True
    return len(data) >= 6 and not data[0] & 0x01 and data[3:6] == _VP8_KEYFRAME_START_CODE
