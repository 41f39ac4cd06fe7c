"""Bad input gets a clear, typed error and breaks nothing for anyone else."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError
from websockets.exceptions import ConnectionClosed

from rooms.models import utcnow
from server.auth.tokens import RoomClaims, TokenService
from server.settings import Settings
from tests.conftest import app_settings, hosted_room, staff_browser
from tests.live import Browser, LiveServer, Socket

SECRET = app_settings("sqlite://").secret_key.get_secret_value()


def _error(socket: Socket, frame: str | dict[str, object]) -> dict[str, object]:
    socket.send(frame)
    return socket.expect("error")


def test_malformed_frames_get_typed_errors_and_the_socket_lives_on(live: LiveServer) -> None:
    _, _, socket = hosted_room(live)
    assert _error(socket, "{not json")["code"] == "bad_json"
    assert _error(socket, "[1, 2]")["code"] == "invalid_message"
    assert _error(socket, {"type": "video.hack"})["code"] == "unknown_type"
    assert _error(socket, {"type": "chat.send", "text": "no id"})["code"] == "invalid_message"
    assert _error(socket, {"type": "ping", "v": 9})["code"] == "unsupported_version"
    assert _error(socket, {"type": "chat.send", "client_id": "a", "text": "x" * 17_000})[
        "code"] == "too_large"
    assert _error(socket, {"type": "chat.send", "client_id": "b", "text": "y" * 5000})[
        "code"] == "invalid_message"
    assert _error(socket, {"type": "lobby.admit", "participant_id": "nobody"})["code"] == (
        "not_found")
    assert _error(socket, {"type": "chat.sync", "after_seq": 10**30})["code"] == (
        "invalid_message")
    assert _error(socket, "[" * 8000 + "]" * 8000)["code"] == "bad_json"  # nested too deeply
    assert _error(socket, '{"type": "ping", "nonce": ' + "[" * 5000 + "]" * 5000 + "}")[
        "code"] == "bad_json"
    socket.send({"type": "ping", "nonce": "still-here"})
    socket.expect("pong", nonce="still-here")


def test_a_huge_after_seq_on_connect_does_not_kill_the_socket(live: LiveServer) -> None:
    """`?after_seq=10**30` once overflowed SQLite's integers in the socket's writer."""
    counselor, room_id, host = hosted_room(live)
    host.send({"type": "chat.send", "client_id": "big-1", "text": "hello"})
    host.expect("chat.ack", client_id="big-1")
    socket = Socket(live.url, room_id, counselor.room(room_id).token, after_seq=10**30)
    socket.expect("welcome")
    socket.send({"type": "ping", "nonce": "alive"})
    socket.expect("pong", nonce="alive")
    socket.send({"type": "chat.sync", "after_seq": 0})  # and it can still catch up
    history = socket.until(lambda m: m["type"] == "chat.history" and bool(m["messages"]))
    assert [m["text"] for m in history["messages"]] == ["hello"]


def test_flooding_is_rate_limited_without_hurting_others(live: LiveServer) -> None:
    counselor, room_id, flooder = hosted_room(live)
    link, code = counselor.invite(room_id)
    counselor.post_form(f"/staff/rooms/{room_id}/auto-admit", {"enabled": "true"},
                        f"/staff/rooms/{room_id}")
    other = Browser(live.url)
    other.join(link, code)
    calm = Socket(live.url, room_id, other.room(room_id).token)
    calm.expect("welcome")
    for i in range(40):
        flooder.send({"type": "ping", "nonce": str(i)})
    flooder.until(lambda m: m["type"] == "error" and m["code"] == "rate_limited")
    calm.send({"type": "chat.send", "client_id": "calm-1", "text": "Am I heard?"})
    calm.expect("chat.ack", client_id="calm-1")
    flooder.until(lambda m: m["type"] == "chat.message" and m["message"]["client_id"] == "calm-1")


def _refused(live: LiveServer, room_id: str, token: str) -> tuple[str, int | None]:
    socket = Socket(live.url, room_id, token)
    error = socket.expect("error")
    try:
        socket.ws.recv(timeout=5)
    except ConnectionClosed as closed:
        return str(error["code"]), closed.rcvd.code if closed.rcvd else None
    raise AssertionError("the socket stayed open")


def test_expired_forged_and_foreign_tokens_are_refused(live: LiveServer) -> None:
    counselor, room_id, _ = hosted_room(live)
    other_room = counselor.create_room()
    me = counselor.room(room_id)
    claims = RoomClaims(me.participant_id, room_id, "host")
    expired = TokenService(SECRET).room_token(claims, timedelta(seconds=-5))
    forged = TokenService("someone-elses-secret-" + "y" * 20).room_token(claims, timedelta(1))
    assert _refused(live, room_id, expired) == ("token_expired", 4401)
    assert _refused(live, room_id, forged) == ("token_invalid", 4401)
    assert _refused(live, room_id, "garbage") == ("token_invalid", 4401)
    assert _refused(live, other_room, me.token) == ("token_wrong_room", 4401)
    ghost = TokenService(SECRET).room_token(RoomClaims("ghost", room_id, "host"), timedelta(1))
    assert _refused(live, room_id, ghost) == ("not_found", 4401)


def test_worker_cannot_use_staff_actions(live: LiveServer) -> None:
    counselor, room_id, host = hosted_room(live)
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    worker.join(link, code)
    socket = Socket(live.url, room_id, worker.room(room_id).token)
    me = socket.expect("welcome")["you"]["id"]
    host.send({"type": "lobby.admit", "participant_id": me})
    socket.expect("lobby.admitted")
    for message in ({"type": "lobby.admit", "participant_id": me},
                    {"type": "room.set_auto_admit", "enabled": True},
                    {"type": "participant.remove", "participant_id": me}):
        assert _error(socket, message)["code"] == "forbidden"
    assert worker.http.get("/staff", follow_redirects=False).headers["location"].startswith(
        "/staff/login")
    response = worker.http.post(f"/staff/rooms/{room_id}/end",
                                data={"csrf_token": worker.csrf("/staff/login")},
                                follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    interpreter = staff_browser(live, "interpreter")
    denied = interpreter.post_form(f"/staff/rooms/{room_id}/end", {}, "/staff")
    assert denied.status_code == 403 and "may not end room" in denied.text
    assert worker.http.get(f"/rooms/{counselor.create_room()}").status_code == 403


def test_forms_without_csrf_are_refused(live: LiveServer) -> None:
    counselor = staff_browser(live)
    form = {"title": "x", "starts_at": "2026-12-01T10:00"}
    response = counselor.http.post("/staff/rooms", data=form)
    assert response.status_code == 403 and "form has expired" in response.text
    wrong = counselor.http.post("/staff/rooms", data={"title": "x", "csrf_token": "forged",
                                                     "starts_at": "2026-12-01T10:00"})
    assert wrong.status_code == 403


def test_a_non_ascii_csrf_token_is_refused_not_a_500(live: LiveServer) -> None:
    """Found by the HTTP fuzzer: `hmac.compare_digest` raised TypeError on non-ASCII text."""
    counselor = staff_browser(live)
    form = {"title": "x", "starts_at": "2026-12-01T10:00", "csrf_token": "jeton-é"}
    assert counselor.http.post("/staff/rooms", data=form).status_code == 403
    header = counselor.http.post("/staff/rooms", data={"title": "x"},
                                 headers={"x-csrf-token": "jeton-é".encode()})
    assert header.status_code == 403


def test_wrong_codes_lock_the_invitation(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    wrong = "000000" if code != "000000" else "111111"
    first = worker.join(link, wrong, language="en")  # the page speaks the chosen language
    assert first.status_code == 400 and "4 tries left" in first.text
    for _ in range(4):
        worker.join(link, wrong, language="en")
    locked = worker.http.get(link.split(str(live.port), 1)[1])
    assert locked.status_code == 403 and "can no longer be used" in locked.text


def test_join_form_validation_and_bad_links(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    bad_language = worker.join(link, code, language="klingon")
    assert bad_language.status_code == 400 and "Choose the language" in bad_language.text
    no_name = worker.join(link, code, name="   ", language="en")
    assert no_name.status_code == 400 and "Enter your name" in no_name.text
    forged = worker.http.get("/join/eyJhbGciOiJIUzI1NiJ9.e30.bad")
    assert forged.status_code == 403 and "not valid" in forged.text
    assert worker.join(link, code).status_code == 200


def test_expired_invitation_link(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, _ = counselor.invite(room_id)
    tokens = TokenService(SECRET)
    claims = tokens.read_invite(link.rsplit("/", 1)[1])
    stale = tokens.invite_token(claims, utcnow() - timedelta(minutes=1))
    expired = Browser(live.url).http.get(f"/join/{stale}")
    assert expired.status_code == 410 and "expired" in expired.text
    too_long = counselor.post_form(f"/staff/rooms/{room_id}/invites",
                                   {"role": "worker", "valid_hours": "9999"},
                                   f"/staff/rooms/{room_id}")
    assert too_long.status_code == 422


def test_room_form_validation(live: LiveServer) -> None:
    counselor = staff_browser(live)
    bad = counselor.post_form("/staff/rooms", {"title": "Plan", "starts_at": "tomorrow",
                                               "languages": ["ko"]}, "/staff/rooms/new")
    assert bad.status_code == 400 and "start date" in bad.text
    unknown = counselor.post_form("/staff/rooms", {"title": "Plan", "starts_at": "2026-12-01T10:00",
                                                   "languages": ["xx"]}, "/staff/rooms/new")
    assert unknown.status_code == 400 and "Unsupported language" in unknown.text
    assert counselor.http.get("/staff/rooms/does-not-exist").status_code == 404


def test_login_errors_and_safe_redirects(live: LiveServer) -> None:
    visitor = Browser(live.url)
    bad = visitor.login("counselor@example.org", "wrong-password")
    assert bad.status_code == 400 and "not right" in bad.text
    token = visitor.csrf("/staff/login")
    response = visitor.http.post("/staff/login", follow_redirects=False, data={
        "csrf_token": token, "email": "counselor@example.org", "password": "counselor-pass-1",
        "next": "//evil.example/steal"})
    assert response.headers["location"] == "/staff"
    page = visitor.http.get("/staff")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"


def test_json_clients_get_json_errors(live: LiveServer) -> None:
    visitor = Browser(live.url)
    response = visitor.http.get("/api/staff/waiting")
    assert response.status_code == 401
    assert json.loads(response.text)["error"]["code"] == "login_required"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="COUNSEL_SECRET_KEY"):
        Settings(mode="production")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(mode="production", secret_key="short")  # type: ignore[arg-type]
    assert Settings(mode="production", secret_key="z" * 40).secure_cookies  # type: ignore[arg-type]


def test_joining_needs_an_answer_about_transcription(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    unanswered = worker.join(link, code, transcription="")
    assert unanswered.status_code == 400 and "transcribed" in unanswered.text
    assert worker.join(link, code, transcription="no").status_code == 200
