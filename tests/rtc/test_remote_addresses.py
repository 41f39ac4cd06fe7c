"""A participant cannot make the server send ICE checks where it likes (issue 13, item 3).

The attacker is a real aiortc client peer whose offer (and trickled candidates) also name the
agency's internal network, link-local and cloud metadata addresses and host names. The probe
(`ice_probe.py`) records every remote candidate aioice is given and every pair it forms: a
refused address must never get there, so no check is ever scheduled towards it (the clients
only ever get the server's own loopback candidates). The attacker's genuine loopback candidates
are kept, and its call connects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aioice
import pytest
from aiortc import RTCSessionDescription

from media.rtc import (
    IceCandidate,
    IceConfig,
    MediaConfig,
    MediaError,
    PeerState,
    PeerStateChanged,
    use_host_addresses,
)
from tests.rtc import ice_probe
from tests.rtc.ice_probe import ATTACK_LINES, REFUSED_HOSTS, IceProbe, candidate_line

SERVER_HOSTS = ("127.0.0.1", "::1")


@pytest.fixture(autouse=True)
def loopback() -> Iterator[None]:
    """Server and clients gather on IPv4 and IPv6 loopback (IPv6 targets could be paired)."""
    with use_host_addresses(SERVER_HOSTS):
        yield


@pytest.fixture
def room_config() -> MediaConfig:
    return MediaConfig(ice=IceConfig(host_addresses=SERVER_HOSTS), ice_timeout_s=10.0)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> IceProbe:
    return ice_probe.install(monkeypatch)


def _remote_addresses(session: Any) -> set[tuple[str, int]]:
    """The remote candidates of a server-side session's aioice connection (one: max-bundle)."""
    transceiver = session._pc.getTransceivers()[0]
    ice: aioice.Connection = transceiver.receiver.transport.transport._connection
    return {(c.host, c.port) for c in ice.remote_candidates}


def _remote_hosts(session: Any) -> set[str]:
    return {host for host, _ in _remote_addresses(session)}


async def _connected(room: Any, name: str) -> None:
    """Until the server's peer of `name` connected: aioice has paired every remote candidate it
    was given by then (pairs form when its checks start)."""
    await room.wait_for_event(
        lambda e: isinstance(e, PeerStateChanged)
        and e.participant_id == name
        and e.state is PeerState.CONNECTED,
        within=10,
    )


async def test_offered_candidates_to_internal_addresses_are_dropped(
    room, clients, media_files, probe
) -> None:
    mallory = clients("mallory", audio=media_files.speech)
    session = mallory.attach(room.router)
    offer = await mallory.make_offer()
    await session.handle_offer(ice_probe.with_candidates(offer, ATTACK_LINES))
    await _connected(room, "mallory")

    assert probe.checked(REFUSED_HOSTS) == [], "checks towards refused hosts"
    assert probe.reached(REFUSED_HOSTS) == [], "refused hosts reached aioice"
    assert set(probe.paired) == set(SERVER_HOSTS), "the client's own candidates are kept"
    assert _remote_hosts(session) == set(SERVER_HOSTS)


async def test_trickled_candidates_to_internal_addresses_are_refused(
    room, clients, media_files, probe
) -> None:
    mallory = clients("mallory", audio=media_files.speech)
    session = mallory.attach(room.router)
    await session.handle_offer(ice_probe.trickling(await mallory.make_offer()))
    for line in ATTACK_LINES:
        with pytest.raises(MediaError) as refused:
            await session.add_ice_candidate(IceCandidate(line, sdp_mid="0"))
        assert refused.value.code == "address_not_allowed", line
    # a loopback candidate is the server's own kind of address here: accepted
    await session.add_ice_candidate(IceCandidate(candidate_line(99, "127.0.0.1", 9), sdp_mid="0"))
    await _connected(room, "mallory")

    assert probe.checked(REFUSED_HOSTS) == [], "checks towards refused hosts"
    assert probe.reached(REFUSED_HOSTS) == [], "refused hosts reached aioice"
    assert _remote_hosts(session) == set(SERVER_HOSTS)
    assert ("127.0.0.1", 9) in _remote_addresses(session), "the trickled one was added"


async def test_candidates_in_answers_to_server_offers_are_dropped(
    room, clients, media_files, probe
) -> None:
    mallory = clients("mallory", audio=media_files.speech, auto_answer=False)
    session = mallory.attach(room.router)
    await session.handle_offer(ice_probe.trickling(await mallory.make_offer()))
    bob = clients("bob", audio=media_files.speech)
    await bob.join(room.router)
    server_offer = await mallory.offers.get()  # bob's audio, for mallory to answer
    await mallory.pc.setRemoteDescription(RTCSessionDescription(server_offer.sdp, "offer"))
    mallory.routes.update({r.mid: r for r in server_offer.routes})
    await mallory.pc.setLocalDescription(await mallory.pc.createAnswer())
    answer = ice_probe.with_candidates(mallory.pc.localDescription.sdp, ATTACK_LINES)
    await session.handle_answer(answer)
    await mallory.wait_frames("bob", "audio", 10, within=10)

    assert probe.checked(REFUSED_HOSTS) == [], "checks towards refused hosts"
    assert probe.reached(REFUSED_HOSTS) == [], "refused hosts reached aioice"
