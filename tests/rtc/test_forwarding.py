"""Two and three real aiortc peers see and hear each other through the room's media router."""

from __future__ import annotations

import asyncio
from typing import Any

from media.rtc import MediaKind


async def _all_receive(peers: list[Any], video_frames: int, audio_frames: int) -> None:
    waits = [
        viewer.wait_frames(other.name, kind, count, within=15)
        for viewer in peers
        for other in peers
        if other is not viewer
        for kind, count in (("video", video_frames), ("audio", audio_frames))
    ]
    await asyncio.gather(*waits)


def _check_content(peers: list[Any]) -> None:
    for viewer in peers:
        for other in peers:
            if other is viewer:
                continue
            video = viewer.got(other.name, "video")
            audio = viewer.got(other.name, "audio")
            assert video.max_luma > 40, f"{viewer.name} sees black from {other.name}"
            assert audio.max_rms > 500, f"{viewer.name} hears silence from {other.name}"


async def test_two_participants_see_and_hear_each_other(room, clients, media_files) -> None:
    peers = [
        clients(name, video=media_files.video, audio=media_files.speech) for name in ("ann", "bob")
    ]
    for peer in peers:
        await peer.join(room.router)
    await _all_receive(peers, video_frames=10, audio_frames=25)
    _check_content(peers)
    ann = room.router.session("ann")
    assert {(r.participant_id, r.kind) for r in ann.routes} == {
        ("bob", MediaKind.AUDIO),
        ("bob", MediaKind.VIDEO),
    }
    # browsers group remote tracks by msid stream: one stream per participant
    assert peers[0].last_offer.sdp.count("a=msid:bob ") == 2


async def test_three_participants_then_one_leaves_and_another_joins(
    room, clients, media_files
) -> None:
    names = ("ann", "bob", "cat")
    peers = [clients(n, video=media_files.video, audio=media_files.speech) for n in names]
    await asyncio.gather(*(peer.join(room.router) for peer in peers))  # offers cross
    await _all_receive(peers, video_frames=10, audio_frames=25)
    _check_content(peers)
    ann = room.router.session("ann")
    assert ann.transceiver_count == 2 + 4  # her own two m-lines, two per other participant

    await room.router.remove("cat")
    await peers[2].close()
    dan = clients("dan", video=media_files.video, audio=media_files.speech)
    await dan.join(room.router)
    peers = [peers[0], peers[1], dan]
    await _all_receive(peers, video_frames=10, audio_frames=25)
    _check_content(peers)
    # cat's m-lines were recycled for dan: the SDP did not grow
    assert ann.transceiver_count == 6
    assert {r.participant_id for r in ann.routes} == {"bob", "dan"}
