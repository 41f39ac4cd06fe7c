"""Keyframe requests travel from viewers to the publisher, so late joiners get a picture at once."""

from __future__ import annotations

from media.rtc import MediaKind
from media.rtc._aiortc import send_picture_loss


def _video_publication(router, participant_id):
    session = router.session(participant_id)
    return next(p for p in session.publications if p.kind is MediaKind.VIDEO)


async def test_late_joiner_gets_a_keyframe_at_once(room, clients, media_files, eventually) -> None:
    ann = clients("ann", video=media_files.video)
    await ann.join(room.router)
    published = _video_publication(room.router, "ann")
    await eventually(lambda: published.frames_received >= 20, 10)
    keyframes_before = published.keyframes_received
    requests_before = published.keyframe_requests_sent

    bob = clients("bob")
    await bob.join(room.router)
    await bob.wait_frames("ann", "video", 1, within=5)

    assert bob.connected_at is not None
    first_picture_s = bob.got("ann", "video").first_at - bob.connected_at
    print(f"first picture after connect: {first_picture_s:.3f} s")
    assert first_picture_s < 1.0
    assert published.keyframe_requests_sent > requests_before
    assert published.keyframes_received > keyframes_before


async def test_viewer_picture_loss_reaches_the_publisher(
    room, clients, media_files, eventually
) -> None:
    ann = clients("ann", video=media_files.video)
    bob = clients("bob")
    await ann.join(room.router)
    await bob.join(room.router)
    await bob.wait_frames("ann", "video", 5, within=10)
    published = _video_publication(room.router, "ann")
    requests_before = published.keyframe_requests_sent
    keyframes_before = published.keyframes_received

    mid = next(m for m, r in bob.routes.items() if r.kind is MediaKind.VIDEO)
    receiver = next(t.receiver for t in bob.pc.getTransceivers() if t.mid == mid)
    assert await send_picture_loss(receiver)  # bob's client reports picture loss to the server

    await eventually(lambda: published.keyframes_received > keyframes_before, 5)
    assert published.keyframe_requests_sent > requests_before
