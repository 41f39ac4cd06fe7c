"""`media.state`: a participant's microphone and camera reach everyone admitted, and only them."""

from __future__ import annotations

from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket


def test_media_state_reaches_the_room_and_waiting_people_cannot_send_it(
        live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = counselor.enter(room_id)
    host_ws = Socket(live.url, room_id, host.token)
    host_ws.expect("welcome")

    link, code = counselor.invite(room_id, "worker", label="Tran Thi Mai")
    worker = Browser(live.url)
    worker.join(link, code, name="Tran Thi Mai", language="vi")
    access = worker.room(room_id)
    worker_ws = Socket(live.url, room_id, access.token)
    worker_ws.expect("lobby.waiting")
    worker_ws.send({"type": "media.state", "audio": "unavailable", "video": "unavailable"})
    assert worker_ws.expect("error")["code"] == "not_admitted"

    host_ws.send({"type": "lobby.admit", "participant_id": access.participant_id})
    worker_ws.expect("lobby.admitted")
    worker_ws.send({"type": "media.state", "audio": "off", "video": "unavailable"})
    got = host_ws.expect("media.state")
    assert got == {"type": "media.state", "v": 1, "participant_id": access.participant_id,
                   "audio": "off", "video": "unavailable"}
    worker_ws.expect("media.state", participant_id=access.participant_id)  # its own too

    worker_ws.send({"type": "media.state", "audio": "loud", "video": "on"})
    refused = worker_ws.expect("error")
    assert (refused["code"], refused["ref"]) == ("invalid_message", "media.state")
    host_ws.close()
    worker_ws.close()
