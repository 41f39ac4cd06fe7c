"""A candidate port past 65535 is refused (found by the socket fuzzer, issue 13): aiortc parsed
it, the address policy allowed its public address, and the first ICE check's `sendto` raised
`OverflowError`, which closed the peer's ICE transport and logged a fatal error."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection

from media.rtc import IceCandidate, IceConfig
from media.rtc.errors import InvalidCandidate, InvalidSdp
from media.rtc.sdp_check import check_offer, drop_refused_candidates, parse_candidate

POLICY = IceConfig().address_policy()


@pytest.mark.parametrize("port", [0, 65536, 70000, 2**40])
def test_a_trickled_candidate_with_an_impossible_port_is_refused(port: int) -> None:
    line = f"candidate:7 1 udp 2122260223 8.8.8.8 {port} typ host"
    with pytest.raises(InvalidCandidate, match="port"):
        parse_candidate(IceCandidate(line, "0", 0), POLICY)


def test_a_public_candidate_with_a_real_port_is_still_taken() -> None:
    line = "candidate:7 1 udp 2122260223 8.8.8.8 3478 typ host"
    assert parse_candidate(IceCandidate(line, "0", 0), POLICY).port == 3478


async def test_an_offered_candidate_with_an_impossible_port_is_refused() -> None:
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer, _ = drop_refused_candidates(pc.localDescription.sdp, POLICY)  # its own, private
    await pc.close()
    check_offer(offer, None, POLICY)
    bad = offer + "a=candidate:7 1 udp 2122260223 8.8.8.8 70000 typ host\r\n"
    with pytest.raises(InvalidSdp, match="port"):
        check_offer(bad, None, POLICY)
