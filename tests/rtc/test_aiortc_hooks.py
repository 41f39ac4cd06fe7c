"""The aiortc internals `media.rtc._aiortc` relies on are still where they were."""

from __future__ import annotations

import aiortc
from aiortc import RTCPeerConnection

from media.rtc import _aiortc


def test_hooks_were_written_for_the_installed_aiortc() -> None:
    # On an upgrade, re-read RTCRtpReceiver/RTCRtpSender and bump WRITTEN_FOR_AIORTC.
    assert aiortc.__version__ == _aiortc.WRITTEN_FOR_AIORTC


async def test_hooks_find_their_attributes() -> None:
    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver("video", direction="sendrecv")
    seen: list[_aiortc.EncodedFrame] = []
    _aiortc.tap_encoded_frames(transceiver.receiver, seen.append, decode=False)
    requests: list[None] = []
    _aiortc.on_keyframe_request(transceiver.sender, lambda: requests.append(None))
    transceiver.sender._send_keyframe()
    assert requests == [None]
    assert not await _aiortc.send_picture_loss(transceiver.receiver)  # nothing received yet
    assert _aiortc.set_stream_id(transceiver.sender, "participant-1")
    assert not _aiortc.set_stream_id(transceiver.sender, "no spaces allowed")
    await pc.close()
