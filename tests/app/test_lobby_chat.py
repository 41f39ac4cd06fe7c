"""Lobby and chat over the real room socket of a live server."""

from __future__ import annotations

import uuid

from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket


def _worker_joins(live: LiveServer, counselor: Browser, room_id: str) -> tuple[Browser, str]:
    link, code = counselor.invite(room_id, "worker", label="Tran Thi Mai")
    worker = Browser(live.url)
    page = worker.join(link, code, name="Tran Thi Mai", language="vi")
    assert page.status_code == 200
    assert 'id="lobby-title"' in page.text and '<html lang="vi"' in page.text  # in her language
    return worker, worker.room(room_id).token


def test_worker_waits_is_admitted_and_chats_both_ways(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = counselor.enter(room_id)
    host_ws = Socket(live.url, room_id, host.token)
    welcome = host_ws.expect("welcome")
    assert welcome["admission"] == "admitted" and "admit" in welcome["permissions"]

    _, worker_token = _worker_joins(live, counselor, room_id)
    worker_ws = Socket(live.url, room_id, worker_token)
    me = worker_ws.expect("welcome")
    assert me["admission"] == "waiting" and me["you"]["name"] == "Tran Thi Mai"
    worker_ws.expect("lobby.waiting")
    waiting = host_ws.until(lambda m: m["type"] == "lobby.waiting_list" and any(
        p["id"] == me["you"]["id"] and p["online"] for p in m["waiting"]))
    assert waiting["waiting"][0]["language"] == "vi"
    assert waiting["waiting"][0]["transcription_consent"] is True

    host_ws.send({"type": "lobby.message", "participant_id": me["you"]["id"],
                  "text": "I will be with you in two minutes."})
    note = worker_ws.expect("lobby.note")
    assert note["text"] == "I will be with you in two minutes."

    host_ws.send({"type": "lobby.admit", "participant_id": me["you"]["id"]})
    worker_ws.expect("lobby.admitted", participant_id=me["you"]["id"])
    worker_ws.expect("chat.history")
    presence = worker_ws.expect("presence")
    assert {p["name"] for p in presence["participants"]} >= {"Tran Thi Mai", "Counselor Kim"}

    worker_ws.send({"type": "chat.send", "client_id": "w-1", "text": "Xin chào"})
    assert worker_ws.expect("chat.ack", client_id="w-1")["seq"] == 1
    got = host_ws.expect("chat.message")["message"]
    assert (got["text"], got["sender_name"], got["seq"]) == ("Xin chào", "Tran Thi Mai", 1)

    host_ws.send({"type": "chat.send", "client_id": "h-1", "text": "Welcome, Ms Tran."})
    reply = worker_ws.until(lambda m: m["type"] == "chat.message" and m["message"]["seq"] == 2)
    assert reply["message"]["text"] == "Welcome, Ms Tran."
    host_ws.close()
    worker_ws.close()


def test_waiting_person_cannot_chat_or_see_chat(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host_ws = Socket(live.url, room_id, counselor.enter(room_id).token)
    host_ws.expect("welcome")
    _, token = _worker_joins(live, counselor, room_id)
    worker_ws = Socket(live.url, room_id, token)
    worker_ws.expect("lobby.waiting")
    worker_ws.send({"type": "chat.send", "client_id": "x", "text": "hello?"})
    assert worker_ws.expect("error")["code"] == "forbidden"
    host_ws.send({"type": "chat.send", "client_id": "secret", "text": "staff only so far"})
    host_ws.expect("chat.ack")
    worker_ws.send({"type": "ping", "nonce": "n1"})
    assert all(m["type"] != "chat.message" for m in [worker_ws.expect("pong", nonce="n1"),
                                                         *worker_ws.seen])


def test_history_on_reconnect_has_no_gaps_or_duplicates(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    token = counselor.enter(room_id).token
    first = Socket(live.url, room_id, token)
    first.expect("welcome")
    for i in range(1, 6):
        first.send({"type": "chat.send", "client_id": f"c{i}", "text": f"message {i}"})
        first.expect("chat.ack", client_id=f"c{i}")
    first.close()

    again = Socket(live.url, room_id, token, after_seq=3)
    history = again.expect("chat.history")
    assert [m["seq"] for m in history["messages"]] == [4, 5]
    again.send({"type": "chat.send", "client_id": "c5", "text": "message 5"})
    ack = again.expect("chat.ack", client_id="c5")
    assert ack["seq"] == 5, "a retried client id is stored once"
    again.send({"type": "chat.send", "client_id": "c6", "text": "message 6"})
    again.expect("chat.ack", client_id="c6")
    again.until(lambda m: m["type"] == "chat.message" and m["message"]["seq"] == 6)
    seqs = [m["message"]["seq"] for m in again.seen if m["type"] == "chat.message"]
    assert seqs == [6]

    fresh = Socket(live.url, room_id, token)
    full = fresh.expect("chat.history")
    assert [m["seq"] for m in full["messages"]] == [1, 2, 3, 4, 5, 6] and full["complete"]


def test_deny_closes_the_waiting_socket(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host_ws = Socket(live.url, room_id, counselor.enter(room_id).token)
    host_ws.expect("welcome")
    worker, token = _worker_joins(live, counselor, room_id)
    worker_ws = Socket(live.url, room_id, token)
    me = worker_ws.expect("welcome")["you"]["id"]
    host_ws.send({"type": "lobby.deny", "participant_id": me, "reason": "Wrong appointment."})
    assert worker_ws.expect("lobby.denied")["message"] == "Wrong appointment."
    worker_ws.ws.recv_events_exc = None
    assert _close_code(worker_ws) == 4403
    refused = Socket(live.url, room_id, token)
    assert refused.expect("error")["code"] == "not_admitted"
    assert worker.http.get(f"/rooms/{room_id}").status_code == 403


def test_auto_admit_lets_people_straight_in(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room(auto_admit=True)
    _, token = _worker_joins_auto(live, counselor, room_id)
    worker_ws = Socket(live.url, room_id, token)
    assert worker_ws.expect("welcome")["admission"] == "admitted"


def _worker_joins_auto(live: LiveServer, counselor: Browser, room_id: str) -> tuple[Browser, str]:
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    worker.join(link, code, name=f"Worker {uuid.uuid4().hex[:4]}")
    return worker, worker.room(room_id).token


def test_switching_auto_admit_on_admits_the_lobby(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host_ws = Socket(live.url, room_id, counselor.enter(room_id).token)
    host_ws.expect("welcome")
    _, token = _worker_joins(live, counselor, room_id)
    worker_ws = Socket(live.url, room_id, token)
    me = worker_ws.expect("welcome")["you"]["id"]
    host_ws.send({"type": "room.set_auto_admit", "enabled": True})
    worker_ws.expect("lobby.admitted", participant_id=me)
    state = host_ws.expect("room.state")
    assert state["room"]["auto_admit"] is True


def test_ending_the_room_closes_every_socket_and_refuses_joins(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host_ws = Socket(live.url, room_id, counselor.enter(room_id).token)
    host_ws.expect("welcome")
    link, code = counselor.invite(room_id)
    counselor.post_form(f"/staff/rooms/{room_id}/end", {}, f"/staff/rooms/{room_id}")
    host_ws.expect("room.ended")
    assert _close_code(host_ws) == 4410
    late = Browser(live.url)
    path = link.split(str(live.port), 1)[1]
    page = late.http.get(path)
    assert page.status_code == 410 and "This session has ended" in page.text
    posted = late.post_form(path, {"name": "Late", "code": code, "language": "vi"},
                            form_page="/staff/login")
    assert posted.status_code == 410


def test_removed_participant_is_disconnected(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room(auto_admit=True)
    host_ws = Socket(live.url, room_id, counselor.enter(room_id).token)
    host_ws.expect("welcome")
    _, token = _worker_joins_auto(live, counselor, room_id)
    worker_ws = Socket(live.url, room_id, token)
    me = worker_ws.expect("welcome")["you"]["id"]
    host_ws.send({"type": "participant.remove", "participant_id": me})
    worker_ws.expect("participant.removed")
    assert _close_code(worker_ws) == 4403


def _close_code(socket: Socket) -> int | None:
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            socket.ws.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
