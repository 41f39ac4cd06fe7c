"""Server re-offers keep the payload types and extension ids the browser chose (numbering.py).

Chromium numbers Opus 111, VP8 96 and VP8's RTX 97; aiortc numbers them 96, 97 and 98. A re-offer
that moved them made Chromium send its own media under aiortc's numbers, which the server's
receivers (registered with the first numbers) dropped: the first participant's media stopped
when the second joined.
"""

from __future__ import annotations

import asyncio
import re

from aiortc import RTCPeerConnection

from media.rtc import MediaKind
from media.rtc.kinds import forwarded_codecs
from media.rtc.numbering import keep_numbering

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

# the media sections of a Chromium 156 offer (microphone and camera), trimmed
CHROMIUM_OFFER = """\
v=0\r
o=- 4383541306945725900 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r
a=mid:0\r
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=rtpmap:111 opus/48000/2\r
a=rtcp-fb:111 transport-cc\r
a=fmtp:111 minptime=10;useinbandfec=1\r
a=rtpmap:63 red/48000/2\r
a=fmtp:63 111/111\r
a=rtpmap:9 G722/8000\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:8 PCMA/8000\r
a=rtpmap:13 CN/8000\r
a=rtpmap:110 telephone-event/48000\r
a=rtpmap:126 telephone-event/8000\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 98 99\r
a=mid:1\r
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendonly\r
a=rtpmap:96 VP8/90000\r
a=rtcp-fb:96 goog-remb\r
a=rtcp-fb:96 nack\r
a=rtcp-fb:96 nack pli\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
a=rtpmap:102 H264/90000\r
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r
a=rtpmap:103 rtx/90000\r
a=fmtp:103 apt=102\r
a=rtpmap:98 VP9/90000\r
a=fmtp:98 profile-id=0\r
a=rtpmap:99 rtx/90000\r
a=fmtp:99 apt=98\r
"""


CHROMIUM_PAYLOAD_TYPES = {96: 111, 97: 96, 98: 97}  # aiortc's Opus, VP8, VP8's RTX
CHROMIUM_EXTENSION_IDS = {MID: 4, AUDIO_LEVEL: 1, ABS_SEND_TIME: 2}


def as_chromium(sdp: str) -> str:
    """An aiortc client's offer, renumbered the way Chromium numbers its first offer."""

    def pt(value: str) -> str:
        return str(CHROMIUM_PAYLOAD_TYPES.get(int(value), int(value)))

    sdp = re.sub(
        r"^(m=\S+ \S+ \S+)((?: \d+)+)",
        lambda m: m.group(1) + "".join(f" {pt(f)}" for f in m.group(2).split()),
        sdp,
        flags=re.MULTILINE,
    )
    sdp = re.sub(
        r"^a=(rtpmap|fmtp|rtcp-fb):(\d+)",
        lambda m: f"a={m.group(1)}:{pt(m.group(2))}",
        sdp,
        flags=re.MULTILINE,
    )
    sdp = re.sub(r"apt=(\d+)", lambda m: f"apt={pt(m.group(1))}", sdp)
    return re.sub(
        r"^a=extmap:\d+ (\S+)",
        lambda m: f"a=extmap:{CHROMIUM_EXTENSION_IDS[m.group(1)]} {m.group(1)}",
        sdp,
        flags=re.MULTILINE,
    )


async def _aiortc_offer(kinds: list[MediaKind]) -> str:
    """An offer as the server makes it: forwarded codecs only, aiortc's own numbers."""
    pc = RTCPeerConnection()
    for kind in kinds:
        transceiver = pc.addTransceiver(kind.value, direction="sendonly")
        transceiver.setCodecPreferences(forwarded_codecs(kind))
    offer = await pc.createOffer()
    await pc.close()
    return str(offer.sdp)


def _codecs_by_mline(sdp: str) -> list[dict[int, str]]:
    """Per m-line: payload type to "name/clock" (and RTX's apt), in ``m=`` line order."""
    sections = re.split(r"^(?=m=)", sdp, flags=re.MULTILINE)[1:]
    result = []
    for section in sections:
        formats = section.split("\r\n", 1)[0].split()[3:]
        names = dict(re.findall(r"^a=rtpmap:(\d+) (\S+)", section, flags=re.MULTILINE))
        apts = dict(re.findall(r"^a=fmtp:(\d+) apt=(\d+)", section, flags=re.MULTILINE))
        result.append({
            int(f): names[f] + (f" apt={apts[f]}" if f in apts else "") for f in formats
        })
    return result


def _extension_ids(sdp: str) -> set[tuple[int, str]]:
    return {(int(i), uri) for i, uri in re.findall(r"^a=extmap:(\d+) (\S+)", sdp, re.MULTILINE)}


async def test_a_reoffer_keeps_chromiums_numbers_on_every_mline() -> None:
    offer = await _aiortc_offer([MediaKind.AUDIO, MediaKind.VIDEO] * 2)
    assert _codecs_by_mline(offer)[0] == {96: "opus/48000/2"}  # aiortc's own numbers

    kept = keep_numbering(offer, CHROMIUM_OFFER)

    assert kept.payload_types == {96: 111, 97: 96, 98: 97}
    audio = {111: "opus/48000/2"}
    video = {96: "VP8/90000", 97: "rtx/90000 apt=96"}
    assert _codecs_by_mline(kept.sdp) == [audio, video, audio, video]
    assert "a=rtcp-fb:96 nack pli\r\n" in kept.sdp
    assert _extension_ids(kept.sdp) == {(4, MID), (1, AUDIO_LEVEL), (2, ABS_SEND_TIME)}
    # nothing else moved
    strip = re.compile(r"^(m=|a=rtpmap:|a=fmtp:|a=rtcp-fb:|a=extmap:).*\r\n", re.MULTILINE)
    assert strip.sub("", kept.sdp) == strip.sub("", offer)
    # and applying it again changes nothing (later re-offers: the client's answer mirrors it)
    assert keep_numbering(offer, kept.sdp).sdp == kept.sdp


async def test_codecs_new_to_the_connection_get_unused_numbers() -> None:
    offer = await _aiortc_offer([MediaKind.VIDEO])
    # a client that sent VP8 as 98, used 96 and 97 for something else, and offered no RTX
    negotiated = CHROMIUM_OFFER.replace("a=rtpmap:96 VP8", "a=rtpmap:96 AV1").replace(
        "a=rtpmap:98 VP9", "a=rtpmap:98 VP8"
    )
    negotiated = re.sub(r"a=rtpmap:(97|103|99) rtx", r"a=rtpmap:\1 flexfec", negotiated)

    kept = keep_numbering(offer, negotiated)

    (video,) = _codecs_by_mline(kept.sdp)
    assert video[98] == "VP8/90000"
    (rtx,) = [pt for pt, name in video.items() if name.startswith("rtx/")]
    assert video[rtx] == "rtx/90000 apt=98"
    assert rtx not in {111, 63, 9, 0, 8, 13, 110, 126, 96, 97, 102, 103, 98, 99}


async def test_a_client_numbering_like_chromium_keeps_its_media_flowing(
    room, clients, media_files
) -> None:
    ann = clients("ann", video=media_files.video, audio=media_files.speech)
    session = ann.attach(room.router)
    await session.handle_offer(as_chromium(await ann.make_offer()))
    bob = clients("bob", video=media_files.video, audio=media_files.speech)
    await bob.join(room.router)  # the server re-offers to ann: bob's tracks

    waits = [
        viewer.wait_frames(other, kind, count, within=15)
        for viewer, other in ((ann, "bob"), (bob, "ann"))
        for kind, count in (("video", 10), ("audio", 25))
    ]
    await asyncio.gather(*waits)
    assert ann.last_offer is not None
    audio = {111: "opus/48000/2"}
    video = {96: "VP8/90000", 97: "rtx/90000 apt=96"}
    mlines = _codecs_by_mline(ann.last_offer.sdp)  # ann's two, then bob's two
    assert sorted(mlines, key=len) == [audio, audio, video, video]
    assert _extension_ids(ann.last_offer.sdp) == {(4, MID), (1, AUDIO_LEVEL), (2, ABS_SEND_TIME)}
