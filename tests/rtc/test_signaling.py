"""Bad or out-of-order signaling raises a project error and leaves the session usable."""

from __future__ import annotations

import pytest

from media.rtc import (
    IceCandidate,
    InvalidCandidate,
    InvalidSdp,
    OutOfOrderSignal,
    PeerState,
    SignalingGlare,
)

HOST_CANDIDATE = "candidate:1 1 UDP 2122252543 127.0.0.1 9 typ host"


async def test_refused_signals_leave_the_session_usable(room, clients, media_files) -> None:
    ann = clients("ann", audio=media_files.speech)
    session = ann.attach(room.router)

    with pytest.raises(InvalidSdp) as bad:
        await session.handle_offer("this is not SDP")
    assert bad.value.code == "invalid_sdp"
    offer = await ann.make_offer()
    with pytest.raises(OutOfOrderSignal):
        await session.handle_answer(offer)  # an answer, but the server offered nothing
    with pytest.raises(OutOfOrderSignal):
        await session.add_ice_candidate(IceCandidate(HOST_CANDIDATE, sdp_mid="0"))
    with pytest.raises(InvalidSdp):
        await session.handle_offer(offer.replace("a=rtcp-mux\r\n", ""))
    with pytest.raises(InvalidSdp):
        await session.handle_offer(offer.replace("opus/48000/2", "G722/8000"))
    assert session.signaling_state == "stable"

    await session.handle_offer(offer)
    with pytest.raises(InvalidCandidate):
        await session.add_ice_candidate(IceCandidate("candidate:junk", sdp_mid="0"))
    await session.add_ice_candidate(IceCandidate(HOST_CANDIDATE, sdp_mid="0"))
    await session.add_ice_candidate(IceCandidate(""))  # end-of-candidates
    await session.add_ice_candidate(IceCandidate(HOST_CANDIDATE, sdp_mid="0"))  # ignored

    bob = clients("bob", audio=media_files.speech)
    await bob.join(room.router)
    await ann.wait_frames("bob", "audio", 10, within=10)
    assert session.connection_state is PeerState.CONNECTED


async def test_glare_and_bad_answers_keep_the_server_offer_pending(
    room, clients, media_files
) -> None:
    ann = clients("ann", audio=media_files.speech, auto_answer=False)
    session = await ann.join(room.router)
    bob = clients("bob", audio=media_files.speech)
    await bob.join(room.router)
    server_offer = await ann.offers.get()  # the server offers ann bob's audio
    assert [(r.participant_id, r.kind) for r in server_offer.routes] == [("bob", "audio")]

    # ann offers at the same time (created, not applied: aiortc clients cannot roll back)
    crossing_offer = (await ann.pc.createOffer()).sdp
    with pytest.raises(SignalingGlare) as glare:
        await session.handle_offer(crossing_offer)
    assert glare.value.code == "glare"
    with pytest.raises(InvalidSdp):
        await session.handle_answer("v=0\r\n")
    with pytest.raises(InvalidSdp):
        await session.handle_answer(crossing_offer.replace("a=setup:actpass", "a=setup:active"))
    assert session.signaling_state == "have-local-offer"

    await ann.answer(server_offer)  # the polite side answers the server's offer
    await ann.wait_frames("bob", "audio", 10, within=10)
