"""An interpreter's voice reaches only the listeners of their language channel: real aiortc peers
through the room's media router, checked by what each listener receives."""

from __future__ import annotations

from media.rtc import AudioTapOpened, MediaKind, TrackRoute
from media.rtc.audience import Audience

AUDIO = MediaKind.AUDIO


def test_audience_rules() -> None:
    audience = Audience()
    audience.set_listening("ko-reader", "ko")
    audience.set_listening("vi-reader", "vi")
    assert audience.receives("ko-reader", "worker", AUDIO)
    assert not audience.receives("worker", "worker", AUDIO)
    assert audience.set_channel("interp", None)
    assert not audience.set_channel("interp", None)
    assert not audience.receives("vi-reader", "interp", AUDIO), "no channel: nobody"
    assert audience.receives("vi-reader", "interp", MediaKind.VIDEO), "only the voice is channelled"
    audience.set_channel("interp", "vi")
    assert audience.receives("vi-reader", "interp", AUDIO)
    assert not audience.receives("ko-reader", "interp", AUDIO)
    assert audience.channel("interp", AUDIO) == "vi"
    assert audience.channel("interp", MediaKind.VIDEO) is None
    assert not audience.set_listening("vi-reader", "vi")
    audience.forget("interp")
    assert audience.receives("ko-reader", "interp", AUDIO)


async def test_the_channel_and_the_readers_language_decide_who_hears_the_interpreter(
    room, clients, media_files
) -> None:
    router = room.router
    ko, vi = clients("ko"), clients("vi")  # listeners: one receive-only m-line each
    await ko.join(router, listening="ko")
    await vi.join(router, listening="vi")
    interpreter = clients("interp", audio=media_files.speech)
    await interpreter.join(router, listening="en", interpreter=True)
    await room.wait_for_event(
        lambda e: isinstance(e, AudioTapOpened) and e.participant_id == "interp", within=10
    )
    # an interpreter listens by default: their voice goes to nobody, not even as an m-line
    for listener in ("ko", "vi"):
        assert router.session(listener).routes == ()
        assert router.session(listener).transceiver_count == 1

    router.set_channel("interp", "vi")
    await vi.wait_frames("interp", "audio", 25, within=10)
    assert vi.got("interp", "audio").max_rms > 500, "the interpreter's voice, decoded"
    (route,) = vi.current_routes()
    assert (route.participant_id, route.kind, route.channel) == ("interp", AUDIO, "vi")
    assert ko.current_routes() == set() and ko.got("interp", "audio").frames == 0
    assert router.session("ko").transceiver_count == 1, "nothing of it reaches the Korean reader"

    # the interpreter switches to Korean: the Vietnamese reader's m-line goes quiet
    router.set_channel("interp", "ko")
    await ko.wait_frames("interp", "audio", 25, within=10)
    assert {(r.participant_id, r.channel) for r in ko.current_routes()} == {("interp", "ko")}
    await vi.wait_until(lambda: vi.current_routes() == set(), within=10)
    assert router.session("vi").forwarding == 0

    # the Vietnamese reader now reads Korean: the Korean channel reaches them too
    heard = vi.got("interp", "audio").frames
    router.set_listening("vi", "ko")
    await vi.wait_frames("interp", "audio", heard + 25, within=10)
    assert {(r.participant_id, r.channel) for r in vi.current_routes()} == {("interp", "ko")}

    # no channel any more: nobody
    router.set_channel("interp", None)
    for listener in (ko, vi):
        await listener.wait_until(lambda peer=listener: peer.current_routes() == set(), within=10)
    assert router.counts().forwarding_tracks == 0
    assert router.channel("interp") is None


async def test_interpreters_hear_the_room_and_their_video_goes_to_everyone(
    room, clients, media_files
) -> None:
    router = room.router
    worker = clients("worker", audio=media_files.speech)
    await worker.join(router, listening="vi")
    interpreter = clients("interp", video=media_files.video, audio=media_files.speech)
    await interpreter.join(router, listening="ko", interpreter=True)
    await interpreter.wait_frames("worker", "audio", 25, within=10)
    await worker.wait_frames("interp", "video", 10, within=10)
    assert worker.current_routes() == {
        TrackRoute(r.mid, "interp", MediaKind.VIDEO) for r in worker.current_routes()
    }
    assert worker.got("interp", "audio").frames == 0
