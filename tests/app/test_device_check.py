"""The device check page between joining and the lobby: where joining leads, who may see it,
and what the lobby then says about the session."""

from __future__ import annotations

from tests.conftest import staff_browser
from tests.live import Browser, LiveServer


def test_joining_leads_to_the_device_check_then_the_lobby(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room(title="Device check")
    link, code = counselor.invite(room_id, "worker", label="Tran Thi Mai")
    worker = Browser(live.url)
    path = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
    joined = worker.post_form("/" + path, {"name": "Tran Thi Mai", "code": code,
                                           "language": "en", "transcription": "yes"})
    assert joined.url.path == f"/rooms/{room_id}/check"
    assert 'id="device-check"' in joined.text and "Counselor Kim" in joined.text
    assert f'href="/rooms/{room_id}"' in joined.text  # Continue and Skip: on to the lobby
    lobby = worker.http.get(f"/rooms/{room_id}")
    assert 'id="lobby-hosts">Counselor Kim<' in lobby.text
    assert 'datetime="2026-11-23T10:00:00+00:00"' in lobby.text

    assert counselor.http.get(f"/rooms/{room_id}/check").status_code == 200  # staff too
    stranger = Browser(live.url)
    assert stranger.http.get(f"/rooms/{room_id}/check").status_code == 403
