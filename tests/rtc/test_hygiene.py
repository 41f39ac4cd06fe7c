"""Nothing of a participant outlives their leaving; peers that never connect are dropped."""

from __future__ import annotations

import asyncio
import threading

import pytest

from media.rtc import DropReason, MediaConfig, PeerDropped, RouterCounts
from tests.rtc.conftest import LOOPBACK_ICE

ZERO = RouterCounts(peers=0, publications=0, forwarding_tracks=0, open_taps=0, tasks=0)


# the drop tests' own timeout; peers that must connect keep conftest's (a loaded machine took
# more than 1 s for a loopback ICE)
QUICK_TIMEOUT = pytest.mark.parametrize(
    "room_config", [MediaConfig(ice=LOOPBACK_ICE, ice_timeout_s=1.0)], ids=["ice-1s"])


def _media_threads() -> set[str]:
    """Threads but the event loop's executor pool (reused, not owned by any peer)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def _live_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if not t.done()}


async def test_leaving_frees_peers_tasks_relays_and_taps(
    room, clients, media_files, eventually
) -> None:
    threads_before = _media_threads()
    tasks_before = _live_tasks()
    ann = clients("ann", video=media_files.video, audio=media_files.speech)
    bob = clients("bob", video=media_files.video, audio=media_files.speech)
    await ann.join(room.router)
    await bob.join(room.router)
    await ann.wait_frames("bob", "video", 5, within=10)
    await bob.wait_frames("ann", "video", 5, within=10)
    taps = [tap for taps in room.router.audio_taps().values() for tap in taps]
    counts = room.router.counts()
    assert (counts.peers, counts.publications, counts.forwarding_tracks, counts.open_taps) == (
        2,
        4,
        4,
        2,
    )

    await room.router.remove("bob")
    counts = room.router.counts()
    assert (counts.peers, counts.publications, counts.forwarding_tracks, counts.open_taps) == (
        1,
        2,
        0,
        1,
    )
    await room.router.remove("ann")
    assert room.router.counts() == ZERO
    assert all(tap.closed for tap in taps)

    await ann.close()
    await bob.close()
    # aiortc's decoder threads, the players' threads and the clients' tasks wind down
    await eventually(lambda: _media_threads() <= threads_before, 5)
    await eventually(lambda: not (_live_tasks() - tasks_before), 5)


@QUICK_TIMEOUT
async def test_peer_that_never_offers_is_dropped_after_the_timeout(
    room, clients, eventually
) -> None:
    ghost = clients("ghost")
    session = ghost.attach(room.router)
    dropped = await room.wait_for_event(lambda e: isinstance(e, PeerDropped), within=5)
    assert dropped == PeerDropped("ghost", DropReason.ICE_TIMEOUT)
    assert session.closed
    assert "ghost" not in room.router
    await eventually(lambda: room.router.counts() == ZERO, 1)  # the drop task itself ends


@QUICK_TIMEOUT
async def test_peer_whose_ice_never_completes_is_dropped(room, clients, eventually) -> None:
    ghost = clients("ghost")
    session = ghost.attach(room.router)
    offer = await ghost.make_offer()
    await ghost.pc.close()  # its candidates now lead nowhere
    await session.handle_offer(offer)
    dropped = await room.wait_for_event(lambda e: isinstance(e, PeerDropped), within=5)
    assert dropped.participant_id == "ghost"
    assert dropped.reason in (DropReason.ICE_TIMEOUT, DropReason.FAILED)
    await eventually(lambda: room.router.counts() == ZERO, 1)
