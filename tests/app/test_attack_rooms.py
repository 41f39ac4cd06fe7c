"""Least privilege (issue 13, item 12): a counselor reaches only the rooms they host or were
added to; admins reach every room, and an admin in a room not theirs is written to the audit
log; every transcript read is logged."""

from __future__ import annotations

import re
import uuid

from tests.conftest import staff_browser
from tests.live import Browser, LiveServer

COUNSELOR_OPTION = re.compile(r'<option value="(\w+)">([^<]+) \(([^)]+)\)</option>')


def other_counselor(live: LiveServer, name: str = "Counselor Two") -> tuple[Browser, str]:
    """A second counselor account, signed in; returns its browser and email."""
    email, password = f"other-{uuid.uuid4().hex[:6]}@example.org", "other-counselor-1"
    admin = staff_browser(live, "admin")
    created = admin.post_form("/staff/accounts", {
        "email": email, "display_name": name, "role": "counselor", "password": password})
    assert created.status_code == 200, created.text[:300]
    browser = Browser(live.url)
    assert browser.login(email, password).status_code == 200
    return browser, email


def _forms(room_id: str) -> dict[str, dict[str, object]]:
    return {
        f"/staff/rooms/{room_id}/open": {},
        f"/staff/rooms/{room_id}/end": {},
        f"/staff/rooms/{room_id}/schedule": {"title": "Mine now", "starts_at":
                                              "2026-12-02T09:30", "languages": ["ko"]},
        f"/staff/rooms/{room_id}/invites": {"role": "worker"},
        f"/staff/rooms/{room_id}/auto-admit": {"enabled": "true"},
        f"/staff/rooms/{room_id}/enter": {},
        f"/staff/rooms/{room_id}/interpreters": {"staff_id": "x", "languages": ["ko"]},
        f"/staff/rooms/{room_id}/counselors": {"staff_id": "x"},
    }


def test_a_counselor_reaches_only_their_rooms(live: LiveServer) -> None:
    host = staff_browser(live)
    room_id = host.create_room(open_it=False)
    stranger, _ = other_counselor(live)
    for path in (f"/staff/rooms/{room_id}", f"/rooms/{room_id}",
                 f"/staff/rooms/{room_id}/transcript", f"/staff/rooms/{room_id}/transcript.txt"):
        assert stranger.http.get(path).status_code == 403, path
    csrf = stranger.csrf("/staff")
    for path, form in _forms(room_id).items():
        answer = stranger.http.post(path, data={"csrf_token": csrf, **form},
                                    follow_redirects=False)
        assert answer.status_code == 403, (path, answer.status_code)
    assert room_id not in stranger.http.get("/staff").text
    assert room_id not in stranger.http.get("/api/staff/waiting").text
    assert "Mine now" not in host.http.get(f"/staff/rooms/{room_id}").text


def test_a_host_adds_a_counselor_who_then_reaches_the_room(live: LiveServer) -> None:
    host = staff_browser(live)
    room_id = host.create_room()
    colleague, email = other_counselor(live, "Counselor Three")
    page = host.http.get(f"/staff/rooms/{room_id}").text
    found = [m.group(1) for m in COUNSELOR_OPTION.finditer(page) if m.group(3) == email]
    assert found, "the colleague is offered in the form"
    added = host.post_form(f"/staff/rooms/{room_id}/counselors", {"staff_id": found[0]},
                           f"/staff/rooms/{room_id}")
    assert added.status_code == 200 and "Counselor Three" in added.text
    assert room_id in colleague.http.get("/staff").text
    assert colleague.enter(room_id).participant_id
    assert colleague.http.get(f"/staff/rooms/{room_id}/transcript").status_code == 200


def test_admins_reach_every_room_and_it_is_audited(live: LiveServer) -> None:
    host = staff_browser(live)
    room_id = host.create_room()
    admin = staff_browser(live, "admin")
    assert admin.http.get(f"/staff/rooms/{room_id}").status_code == 200
    assert admin.enter(room_id).participant_id
    assert admin.http.get(f"/staff/rooms/{room_id}/transcript").status_code == 200
    log = admin.http.get(f"/staff/audit?room={room_id}").text
    assert "entered a room not theirs" in log and "viewed the transcript" in log
    own = admin.create_room()
    admin.http.get(f"/staff/rooms/{own}")
    assert "entered a room not theirs" not in admin.http.get(f"/staff/audit?room={own}").text
