"""The aiortc internals `media.rtc._aiortc` relies on are still where they were."""

from __future__ import annotations

import aiortc
from aiortc import RTCPeerConnection

from media.rtc import MediaKind, _aiortc
from media.rtc.kinds import forwarded_codecs


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


async def test_transceivers_follow_a_renumbered_offer() -> None:
    pc = RTCPeerConnection()
    transceiver = pc.addTransceiver("video", direction="sendonly")
    transceiver.setCodecPreferences(forwarded_codecs(MediaKind.VIDEO))
    await pc.createOffer()  # resets every transceiver to aiortc's numbers: VP8 97, RTX 98
    mid = "urn:ietf:params:rtp-hdrext:sdes:mid"

    _aiortc.renumber_transceivers(pc, {97: 96, 98: 97}, {mid: 4})

    codecs = [(c.mimeType, c.payloadType, c.parameters.get("apt")) for c in transceiver._codecs]
    assert codecs == [("video/VP8", 96, None), ("video/rtx", 97, 96)]
    extensions = {e.uri: e.id for e in transceiver._headerExtensions}
    assert extensions[mid] == 4
    assert extensions["http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"] == 3
    # aiortc's own codec table was copied, not changed
    assert "a=rtpmap:97 VP8/90000" in (await pc.createOffer()).sdp
    await pc.close()
