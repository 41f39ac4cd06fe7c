"""The only module that reaches into aiortc internals. Written for and tested with aiortc 1.16.0.

Forwarding without decoding needs a few things aiortc has no public API for:

1. The encoded frames a receiver reassembles. `RTCRtpReceiver._handle_rtp_packet` depayloads RTP,
   reassembles frames in its jitter buffer and hands each one, as ``(codec, JitterFrame)``, to
   ``self.__decoder_queue.put(...)``, a `queue.Queue` read by its decoder thread
   (`decoder_worker`). We replace that one attribute by a tee that gives every frame to a sink on
   the event loop and passes it on to the decoder only when decoding is wanted (audio, for the
   transcription tap). ``put(None)``, the stop signal, always reaches the thread, and ``get``
   delegates, so the tee may be installed before or after the thread starts.
2. Keyframe requests. `RTCRtpSender._handle_rtcp_packet` answers a viewer's PLI/FIR by calling
   ``self._send_keyframe()``, which only matters to its own encoder; we wrap that bound method per
   sender. The publisher is asked for a keyframe with ``RTCRtpReceiver._send_rtcp_pli(ssrc)``.

3. The numbering of codecs and header extensions. ``RTCPeerConnection.createOffer`` resets every
   transceiver's ``_codecs`` and ``_headerExtensions`` to aiortc's own numbering; when the offer's
   SDP is renumbered (`numbering.keep_numbering`), they must follow, because a receiver or sender
   that starts before the answer arrives registers the numbers it finds there.

4. The msid of an m-line. aiortc gives every sender of a peer connection the same stream id
   (``RTCRtpSender._stream_id``, marked FIXME there); we set it per forwarded m-line to the
   publisher's participant id, so a browser's ``track`` event carries one stream per participant.

Each hook checks the attribute it needs and raises `UnsupportedAiortc` when it is missing.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from media.rtc.errors import UnsupportedAiortc

WRITTEN_FOR_AIORTC = "1.16.0"
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_RTX_SSRCS = "_RTCRtpReceiver__rtx_ssrc"
_MSID_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,64}")

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One reassembled, depayloaded frame as received (e.g. a whole VP8 frame, an Opus packet)."""

    data: bytes
    timestamp: int
    """RTP timestamp, counted from the receiver's first frame (aiortc's `TimestampMapper`)."""
    clock_rate: int
    mime_type: str
    """Lower case, e.g. ``video/vp8``."""


FrameSink = Callable[[EncodedFrame], None]


class _DecoderInputTee:
    """Stands in for a receiver's decoder input queue."""

    def __init__(self, inner: queue.Queue[Any], sink: FrameSink, decode: bool) -> None:
        self._inner = inner
        self._sink = sink
        self._decode = decode

    def put(self, item: Any) -> None:
        if item is None:
            self._inner.put(None)
            return
        codec, jitter_frame = item
        data = bytes(jitter_frame.data)
        mime_type = codec.mimeType.lower()
        frame = EncodedFrame(data, jitter_frame.timestamp, codec.clockRate, mime_type)
        try:
            self._sink(frame)
        except Exception:  # an error here would end aiortc's RTP loop for the whole transport
            logger.exception("encoded frame sink failed")
        if self._decode:
            self._inner.put(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        return self._inner.get(block, timeout)


def tap_encoded_frames(receiver: Any, sink: FrameSink, *, decode: bool) -> None:
    """Give every encoded frame `receiver` reassembles to `sink`; decode only when `decode`."""
    inner = getattr(receiver, _DECODER_QUEUE, None)
    if not isinstance(inner, queue.Queue):
        raise UnsupportedAiortc(f"RTCRtpReceiver has no decoder queue ({WRITTEN_FOR_AIORTC})")
    setattr(receiver, _DECODER_QUEUE, _DecoderInputTee(inner, sink, decode))


def on_keyframe_request(sender: Any, callback: Callable[[], None]) -> None:
    """Call `callback` whenever the remote peer sends PLI or FIR for `sender`'s stream."""
    original = getattr(sender, "_send_keyframe", None)
    if not callable(original):
        raise UnsupportedAiortc(f"RTCRtpSender has no _send_keyframe ({WRITTEN_FOR_AIORTC})")

    def send_keyframe() -> None:
        original()
        callback()

    sender._send_keyframe = send_keyframe


async def send_picture_loss(receiver: Any) -> bool:
    """Send a PLI for each media SSRC `receiver` heard from lately; False if it heard none yet."""
    send_pli = getattr(receiver, "_send_rtcp_pli", None)
    if not callable(send_pli):
        raise UnsupportedAiortc(f"RTCRtpReceiver has no _send_rtcp_pli ({WRITTEN_FOR_AIORTC})")
    rtx_ssrcs = set(getattr(receiver, _RTX_SSRCS, {}))
    ssrcs = [s.source for s in receiver.getSynchronizationSources() if s.source not in rtx_ssrcs]
    for ssrc in ssrcs:
        await send_pli(ssrc)
    return bool(ssrcs)


def set_stream_id(sender: Any, stream_id: str) -> bool:
    """Use `stream_id` as the msid stream of `sender`'s m-line; False if it is no msid token."""
    if not hasattr(sender, "_stream_id"):
        raise UnsupportedAiortc(f"RTCRtpSender has no _stream_id ({WRITTEN_FOR_AIORTC})")
    if _MSID_TOKEN.fullmatch(stream_id) is None:
        return False
    sender._stream_id = stream_id
    return True


def renumber_transceivers(
    pc: Any, payload_types: Mapping[int, int], extension_ids: Mapping[str, int]
) -> None:
    """Give every transceiver of `pc` the numbers of a renumbered offer (right after createOffer).

    `payload_types` maps aiortc's payload types to the offer's, `extension_ids` extension URIs to
    the offer's ids; codecs and extensions not in them keep their numbers.
    """
    for transceiver in pc.getTransceivers():
        codecs = getattr(transceiver, "_codecs", None)
        extensions = getattr(transceiver, "_headerExtensions", None)
        if not isinstance(codecs, list) or not isinstance(extensions, list):
            raise UnsupportedAiortc(f"RTCRtpTransceiver has no _codecs ({WRITTEN_FOR_AIORTC})")
        transceiver._codecs = [_renumber_codec(c, payload_types) for c in codecs]
        transceiver._headerExtensions = [
            dataclasses.replace(e, id=extension_ids.get(e.uri, e.id)) for e in extensions
        ]


def _renumber_codec(codec: Any, payload_types: Mapping[int, int]) -> Any:
    parameters = dict(codec.parameters)
    apt = parameters.get("apt")
    if isinstance(apt, int):
        parameters["apt"] = payload_types.get(apt, apt)
    pt = codec.payloadType
    return dataclasses.replace(codec, payloadType=payload_types.get(pt, pt), parameters=parameters)
