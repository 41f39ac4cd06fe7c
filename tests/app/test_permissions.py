"""Walks every cell of the role x action table against the real server: allowed and denied."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from rooms import transcripts
from server.permissions import Action, Role, allowed
from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket

INTERPRETER_OPTION = re.compile(r'<option value="(\w+)">Interpreter Kim')
STAFF_ROLES = {Role.ADMIN: "admin", Role.COUNSELOR: "counselor", Role.INTERPRETER: "interpreter"}


@dataclass
class Actor:
    role: Role
    browser: Browser
    socket: Socket
    room_id: str
    host: Browser
    host_socket: Socket
    live: LiveServer


def _guest(live: LiveServer, host: Browser, room_id: str, role: str) -> tuple[Browser, Socket, str]:
    link, code = host.invite(room_id, role)
    guest = Browser(live.url)
    guest.join(link, code, name=f"{role} {uuid.uuid4().hex[:4]}", language="vi")
    socket = Socket(live.url, room_id, guest.room(room_id).token)
    pid = socket.expect("welcome")["you"]["id"]
    return guest, socket, pid


def _admitted_guest(actor: Actor, role: str = "worker") -> str:
    _, socket, pid = _guest(actor.live, actor.host, actor.room_id, role)
    actor.host_socket.send({"type": "lobby.admit", "participant_id": pid})
    socket.expect("lobby.admitted", participant_id=pid)
    return pid


def assign_seeded_interpreter(host: Browser, room_id: str, languages: tuple[str, ...] = ("vi",)
                       ) -> str:
    """The host assigns the seeded interpreter account to the room; returns its staff id."""
    page = host.http.get(f"/staff/rooms/{room_id}").text
    found = INTERPRETER_OPTION.search(page)
    assert found, "no interpreter account in the assignment form"
    token = host.csrf(f"/staff/rooms/{room_id}")
    response = host.http.post(f"/staff/rooms/{room_id}/interpreters", data={
        "csrf_token": token, "staff_id": found.group(1), "languages": list(languages)},
        follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return found.group(1)


def _actor(live: LiveServer, role: Role) -> Actor:
    host = staff_browser(live, "counselor")
    room_id = host.create_room()
    host_socket = Socket(live.url, room_id, host.enter(room_id).token)
    host_socket.expect("welcome")
    if role is Role.INTERPRETER:  # interpreters work only in rooms they are assigned to
        assign_seeded_interpreter(host, room_id)
    if role in STAFF_ROLES:
        browser = staff_browser(live, STAFF_ROLES[role])
        socket = Socket(live.url, room_id, browser.enter(room_id).token)
        socket.expect("welcome")
    else:
        browser, socket, pid = _guest(live, host, room_id, role.value)
        host_socket.send({"type": "lobby.admit", "participant_id": pid})
        socket.expect("lobby.admitted", participant_id=pid)
    return Actor(role, browser, socket, room_id, host, host_socket, live)


# ---- HTTP actions: allowed means the form did its work (303 to somewhere but the login page) --


def _post(actor: Actor, path: str, data: dict[str, Any]) -> bool:
    token = actor.browser.csrf("/staff/login")
    response = actor.browser.http.post(path, data={"csrf_token": token, **data},
                                       follow_redirects=False)
    if response.status_code in (401, 403) or (
            response.status_code == 303 and response.headers["location"].startswith(
                "/staff/login")):
        return False
    assert response.status_code == 303, (path, response.status_code, response.text[:300])
    return True


def _fresh_room(actor: Actor) -> str:
    return actor.host.create_room(open_it=False)


def view_dashboard(actor: Actor) -> bool:
    response = actor.browser.http.get("/staff", follow_redirects=False)
    return response.status_code == 200


def manage_staff(actor: Actor) -> bool:
    email = f"new-{uuid.uuid4().hex[:6]}@example.org"
    return _post(actor, "/staff/accounts", {"email": email, "display_name": "New Person",
                                            "role": "counselor", "password": "long-enough-pw"})


def create_room(actor: Actor) -> bool:
    return _post(actor, "/staff/rooms", {"title": "Job counseling", "starts_at":
                                         "2026-12-01T09:30", "languages": ["ko"]})


def edit_room(actor: Actor) -> bool:
    return _post(actor, f"/staff/rooms/{_fresh_room(actor)}/schedule", {
        "title": "Moved", "starts_at": "2026-12-02T09:30", "languages": ["ko", "en"]})


def issue_invite(actor: Actor) -> bool:
    return _post(actor, f"/staff/rooms/{actor.room_id}/invites", {"role": "observer"})


def open_room(actor: Actor) -> bool:
    return _post(actor, f"/staff/rooms/{_fresh_room(actor)}/open", {})


def end_room(actor: Actor) -> bool:
    return _post(actor, f"/staff/rooms/{_fresh_room(actor)}/end", {})


def enter_room_as_staff(actor: Actor) -> bool:
    room_id = _fresh_room(actor)
    if actor.role is Role.INTERPRETER:
        assign_seeded_interpreter(actor.host, room_id)
    return _post(actor, f"/staff/rooms/{room_id}/enter", {})


def assign_interpreter(actor: Actor) -> bool:
    page = actor.host.http.get(f"/staff/rooms/{actor.room_id}").text
    found = INTERPRETER_OPTION.search(page)
    assert found
    return _post(actor, f"/staff/rooms/{actor.room_id}/interpreters",
                 {"staff_id": found.group(1), "languages": ["ko"]})


def view_transcript(actor: Actor) -> bool:
    response = actor.browser.http.get(f"/staff/rooms/{actor.room_id}/transcript",
                                      follow_redirects=False)
    return response.status_code == 200 and 'id="transcript"' in response.text


def view_audit_log(actor: Actor) -> bool:
    response = actor.browser.http.get("/staff/audit", follow_redirects=False)
    return response.status_code == 200 and 'id="audit-log"' in response.text


COLLEAGUES: dict[LiveServer, tuple[str, str]] = {}  # per server: another counselor (email, id)
OTHER_PASSWORD = "colleague-pass-1"


def _colleague(actor: Actor) -> tuple[str, str]:
    """A second counselor account (made once per server by the admin): its email and id."""
    if actor.live not in COLLEAGUES:
        email = f"colleague-{uuid.uuid4().hex[:6]}@example.org"
        admin = staff_browser(actor.live, "admin")
        admin.post_form("/staff/accounts", {"email": email, "display_name": "Counselor Lee",
                                            "role": "counselor", "password": OTHER_PASSWORD})
        page = actor.host.http.get(f"/staff/rooms/{actor.host.create_room()}").text
        option = re.search(rf'<option value="(\w+)">Counselor Lee \({re.escape(email)}\)', page)
        assert option, "the new counselor is not offered on the room page"
        COLLEAGUES[actor.live] = (email, option.group(1))
    return COLLEAGUES[actor.live]


def add_counselor(actor: Actor) -> bool:
    return _post(actor, f"/staff/rooms/{actor.room_id}/counselors",
                 {"staff_id": _colleague(actor)[1]})


def reach_any_room(actor: Actor) -> bool:
    """Open the page of (and enter) a room someone else scheduled, without being added."""
    colleague = Browser(actor.live.url)
    colleague.login(_colleague(actor)[0], OTHER_PASSWORD)
    room_id = colleague.create_room()
    page = actor.browser.http.get(f"/staff/rooms/{room_id}", follow_redirects=False)
    if page.status_code != 200 or 'id="room-status"' not in page.text:
        return False
    return _post(actor, f"/staff/rooms/{room_id}/enter", {})


SMALL_FORM = ('{"title": "Training wish", "fields": [{"name": "wish", "type": "text", '
              '"label": "Which training?", "required": true}]}')
FORMS: dict[LiveServer, str] = {}  # per server: a form to send (made once by the admin)
FORM_LINK = re.compile(r'id="form-link" readonly value="[^"]*(/f/[^"]+)"')


def _form(actor: Actor) -> str:
    if actor.live not in FORMS:
        admin = staff_browser(actor.live, "admin")
        made = admin.post_form("/staff/forms", {"slug": f"wish-{uuid.uuid4().hex[:6]}",
                                                "definition": SMALL_FORM}, "/staff/forms/new")
        FORMS[actor.live] = made.url.path.rsplit("/", 1)[1]
    return FORMS[actor.live]


def edit_forms(actor: Actor) -> bool:
    return _post(actor, "/staff/forms", {"slug": f"form-{uuid.uuid4().hex[:6]}",
                                         "definition": SMALL_FORM})


def send_form_link(actor: Actor) -> bool:
    return _post(actor, f"/staff/forms/{_form(actor)}/links", {"name": "Mai", "language": "vi"})


def review_submissions(actor: Actor) -> bool:
    response = actor.browser.http.get("/staff/submissions", follow_redirects=False)
    return response.status_code == 200 and 'id="submissions"' in response.text


def edit_hall(actor: Actor) -> bool:
    return _post(actor, "/staff/hall", {"slug": f"page-{uuid.uuid4().hex[:6]}",
                                        "language": "en", "title": "Job fair",
                                        "body": "Come and meet employers."})


def submit_form(actor: Actor) -> bool:
    """The host sends a form link to the actor as a person in the room, who fills it in."""
    form_id, me = _form(actor), actor.socket.seen[0]["you"]["id"]
    token = actor.host.csrf(f"/staff/forms/{form_id}/send")
    sent = actor.host.http.post(f"/staff/forms/{form_id}/links", data={
        "csrf_token": token, "participant_id": me}, follow_redirects=False)
    if sent.status_code == 403:
        return False
    assert sent.status_code == 303, sent.text[:300]
    link = FORM_LINK.search(actor.host.http.get(f"/staff/forms/{form_id}/send").text)
    assert link
    answer = actor.browser.http.post(link.group(1), data={"wish": "Welding"},
                                     headers={"accept": "application/json"})
    assert answer.status_code == 201, answer.text[:300]
    return True


# ---- room actions: allowed means no `forbidden` error before the pong ----------------------


def _ws(actor: Actor, message: dict[str, Any]) -> list[dict[str, Any]]:
    nonce = uuid.uuid4().hex
    start = len(actor.socket.seen)
    actor.socket.send(message)
    actor.socket.send({"type": "ping", "nonce": nonce})
    actor.socket.expect("pong", nonce=nonce)
    return actor.socket.seen[start:]


def _ws_allowed(actor: Actor, message: dict[str, Any]) -> bool:
    errors = [m for m in _ws(actor, message) if m["type"] == "error"]
    assert all(e["code"] == "forbidden" for e in errors), errors
    return not errors


def read_chat(actor: Actor) -> bool:
    replies = _ws(actor, {"type": "chat.sync", "after_seq": 0})
    got_history = any(m["type"] == "chat.history" for m in replies)
    return got_history or not any(m["type"] == "error" for m in replies)


def send_chat(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "chat.send", "client_id": uuid.uuid4().hex, "text": "hi"})


def see_participants(actor: Actor) -> bool:
    return any(m["type"] == "presence" for m in actor.socket.seen)


def see_waiting_list(actor: Actor) -> bool:
    _guest(actor.live, actor.host, actor.room_id, "worker")
    actor.host_socket.expect("lobby.waiting_list")
    _ws(actor, {"type": "ping"})
    return any(m["type"] == "lobby.waiting_list" for m in actor.socket.seen)


def _waiting(actor: Actor) -> str:
    return _guest(actor.live, actor.host, actor.room_id, "worker")[2]


def admit(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "lobby.admit", "participant_id": _waiting(actor)})


def deny(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "lobby.deny", "participant_id": _waiting(actor)})


def message_lobby(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "lobby.message", "participant_id": _waiting(actor),
                               "text": "Five more minutes."})


def set_auto_admit(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "room.set_auto_admit", "enabled": False})


def remove_participant(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "participant.remove",
                               "participant_id": _admitted_guest(actor)})


def set_own_consent(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "consent.set", "transcription": False})


def set_reading_language(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "reading.set", "language": "vi"})


def read_captions(actor: Actor) -> bool:
    replies = _ws(actor, {"type": "captions.sync", "limit": 10})
    return any(m["type"] == "captions.history" for m in replies)


def use_interpreter_console(actor: Actor) -> bool:
    response = actor.browser.http.get(f"/rooms/{actor.room_id}/interpret",
                                      follow_redirects=False)
    return response.status_code == 200 and 'id="console"' in response.text


def _final_caption(actor: Actor) -> str:
    """A final caption of the host in the room's transcript, as the caption service stores it."""
    utterance = f"u-{uuid.uuid4().hex[:8]}"
    speaker_id = actor.host_socket.seen[0]["you"]["id"]

    async def store() -> None:
        services = actor.live.server.config.app.state.services
        async with services.transaction() as session:
            await transcripts.add_entry(
                session, room_id=actor.room_id, speaker_id=speaker_id, speaker_name="Kim",
                utterance_id=utterance, language="en", text="Hello there.", t_start=1.0,
                t_end=2.0)
    assert actor.live.loop is not None
    asyncio.run_coroutine_threadsafe(store(), actor.live.loop).result(10)
    return utterance


def correct_captions(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "caption.correct", "utterance_id": _final_caption(actor),
                               "language": "en", "text": "Hello, there."})


def speak_interpretation(actor: Actor) -> bool:
    return _ws_allowed(actor, {"type": "interpret.channel", "language": None})


PERFORM: dict[Action, Callable[[Actor], bool]] = {
    action: globals()[action.value] for action in Action
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_action_for_role(live: LiveServer, role: Role) -> None:
    actor = _actor(live, role)
    outcome = {action: PERFORM[action](actor) for action in Action}
    expected = {action: allowed(role, action) for action in Action}
    wrong = {a.value: ("allowed" if outcome[a] else "denied") for a in Action
             if outcome[a] != expected[a]}
    assert not wrong, f"{role.value}: table says otherwise for {wrong}"
