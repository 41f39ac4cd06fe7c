"""The process-wide count of forwarded packets that `/metrics` exports
(`counsel_media_forwarded_packets_total`) grows with every frame a subscriber is sent."""

from __future__ import annotations

from media.rtc.forwarding import ForwardingTrack


async def test_frames_forwarded_to_a_viewer_are_counted(room, clients, media_files) -> None:
    ann = clients("ann", video=media_files.video)
    bob = clients("bob")
    await ann.join(room.router)
    await bob.join(room.router)
    await bob.wait_frames("ann", "video", 1, within=10)
    counted, received = ForwardingTrack.forwarded_total, bob.got("ann", "video").frames
    await bob.wait_frames("ann", "video", received + 20, within=10)
    assert ForwardingTrack.forwarded_total >= counted + 15  # a few were on their way already
