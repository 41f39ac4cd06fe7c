"""Interpreters work only in the rooms they are assigned to: dashboard, room page, socket."""

from __future__ import annotations

from tests.app.test_permissions import assign_seeded_interpreter
from tests.conftest import staff_browser
from tests.live import LiveServer, Socket


def test_an_interpreter_sees_and_enters_only_assigned_rooms(live: LiveServer) -> None:
    host = staff_browser(live, "counselor")
    mine, other = host.create_room(title="Assigned session"), host.create_room(
        title="Someone else's session")
    interpreter = staff_browser(live, "interpreter")
    assert "Assigned session" not in interpreter.http.get("/staff").text
    refused = interpreter.post_form(f"/staff/rooms/{mine}/enter", {}, "/staff")
    assert refused.status_code == 403 and "not assigned" in refused.text

    staff_id = assign_seeded_interpreter(host, mine, ("vi", "ko"))
    page = host.http.get(f"/staff/rooms/{mine}").text
    assert "Interpreter Kim" in page and "Tiếng Việt" in page
    dashboard = interpreter.http.get("/staff").text
    assert "Assigned session" in dashboard and "Someone else" not in dashboard
    assert interpreter.http.get(f"/staff/rooms/{other}").status_code == 403
    access = interpreter.enter(mine)
    socket = Socket(live.url, mine, access.token)
    assert socket.expect("welcome")["you"]["role"] == "interpreter"

    # taken off the session: the open socket is closed with a final message, and the page
    # and the socket refuse them afterwards, even with a token still valid
    host.post_form(f"/staff/rooms/{mine}/interpreters/{staff_id}/remove", {},
                   f"/staff/rooms/{mine}")
    removed = socket.expect("participant.removed")
    assert "no longer assigned" in removed["message"]
    assert interpreter.http.get(f"/rooms/{mine}").status_code == 403
    again = Socket(live.url, mine, access.token)
    assert again.expect("error")["code"] == "forbidden"


def test_assignment_needs_languages_and_an_interpreter_account(live: LiveServer) -> None:
    host = staff_browser(live, "counselor")
    room_id = host.create_room()
    no_languages = host.post_form(f"/staff/rooms/{room_id}/interpreters",
                                  {"staff_id": "x" * 32}, f"/staff/rooms/{room_id}")
    assert no_languages.status_code == 400
    nobody = host.post_form(f"/staff/rooms/{room_id}/interpreters",
                            {"staff_id": "x" * 32, "languages": ["vi"]},
                            f"/staff/rooms/{room_id}")
    assert nobody.status_code == 400 and "No such interpreter" in nobody.text
