"""Someone who presses Leave is shown as having left; a dropped connection is not a leave."""

from __future__ import annotations

from typing import Any

from tests.conftest import hosted_room
from tests.live import Browser, LiveServer, Socket


def _worker(live: LiveServer, counselor: Browser, room_id: str) -> str:
    link, code = counselor.invite(room_id, "worker", label="Tran Thi Mai")
    worker = Browser(live.url)
    assert worker.join(link, code, name="Tran Thi Mai", language="vi").status_code == 200
    return worker.room(room_id).token


def _seen(host: Socket, kind: str, field: str, person: str, **state: Any) -> dict[str, Any]:
    """The next `kind` message in which `person` is in `state` (online, left)."""
    def shows(m: dict[str, Any]) -> bool:
        return m["type"] == kind and any(
            p["id"] == person and all(p[k] == v for k, v in state.items()) for p in m[field])
    message = host.until(shows)
    [entry] = [p for p in message[field] if p["id"] == person]
    return entry


def test_leaving_is_told_apart_from_a_dropped_connection(live: LiveServer) -> None:
    counselor, room_id, host = hosted_room(live)
    token = _worker(live, counselor, room_id)
    worker = Socket(live.url, room_id, token)
    mai = worker.expect("welcome")["you"]["id"]
    host.send({"type": "lobby.admit", "participant_id": mai})
    worker.expect("lobby.admitted")
    _seen(host, "presence", "participants", mai, online=True, left=False)

    worker.send({"type": "leave"})  # and the page closes the socket at once
    worker.close()
    _seen(host, "presence", "participants", mai, online=False, left=True)

    back = Socket(live.url, room_id, token)  # she comes back with her link
    back.expect("welcome")
    _seen(host, "presence", "participants", mai, online=True, left=False)
    back.close()  # her phone loses the network: not a leave
    _seen(host, "presence", "participants", mai, online=False, left=False)

    again = Socket(live.url, room_id, token)
    again.expect("welcome")
    _seen(host, "presence", "participants", mai, online=True, left=False)
    again.send({"type": "leave"})
    again.close()
    # what a page loading now is told, too (the database's word)
    late = Socket(live.url, room_id, counselor.enter(room_id).token)
    late.expect("welcome")
    _seen(late, "presence", "participants", mai, online=False, left=True)


def test_one_who_leaves_the_lobby_is_shown_so_to_the_host(live: LiveServer) -> None:
    counselor, room_id, host = hosted_room(live)
    waiting = Socket(live.url, room_id, _worker(live, counselor, room_id))
    mai = waiting.expect("welcome")["you"]["id"]
    _seen(host, "lobby.waiting_list", "waiting", mai, online=True, left=False)
    waiting.send({"type": "leave"})
    waiting.close()
    _seen(host, "lobby.waiting_list", "waiting", mai, online=False, left=True)


def test_a_leave_with_something_else_in_it_is_refused(live: LiveServer) -> None:
    *_, host = hosted_room(live)
    host.send({"type": "leave", "participant_id": "someone-else"})
    assert host.expect("error")["code"] == "invalid_message"
    host.send({"type": "ping", "nonce": "still-here"})
    host.expect("pong", nonce="still-here")
