"""Names that pose as staff or hide what they are (issue 13, item 10)."""

from __future__ import annotations

import pytest

from rooms.names import MAX_LENGTH, InvalidName, guest_name, normalize_name
from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket


@pytest.mark.parametrize(("raw", "shown"), [
    ("  Nguyen   Van\tAn ", "Nguyen Van An"),
    ("Mallory\u202egnp.exe", "Mallorygnp.exe"),
    ("A\x00B", "AB"),
    ("\uff2b\uff49\uff4d", "Kim"),  # fullwidth
    ("Ka\u200bte\u2066", "Kate"),
    ("김민지", "김민지"),
    ("x\u0301\u0301\u0301\u0301\u0301\u0301", "x\u0301\u0301\u0301"),
])
def test_names_are_normalized(raw: str, shown: str) -> None:
    assert normalize_name(raw) == shown


@pytest.mark.parametrize("raw", ["", "   ", "\u200b\u200c\u200d\ufeff", "\u202e\u2066",
                                 "\x00\x01", "\u3164\u3164", "!!!", "x" * (MAX_LENGTH + 1)])
def test_invisible_empty_or_long_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidName):
        normalize_name(raw)


@pytest.mark.parametrize("raw", ["Counselor One", "COUNSELLOR", "the host", "Admin",
                                 "Interpreter Lee", "\uff23ounselor", "Coun\u200bselor Kim",
                                 "counselor kim"])
def test_guests_cannot_pose_as_staff(raw: str) -> None:
    with pytest.raises(InvalidName):
        guest_name(raw, ["Counselor Kim", "Park Ji-woo"])


def test_a_staff_members_own_name_is_refused_to_guests() -> None:
    with pytest.raises(InvalidName):
        guest_name("park  ji-woo", ["Park Ji-woo"])
    assert guest_name("Park Ji-hoon", ["Park Ji-woo"]) == "Park Ji-hoon"
    assert guest_name("Interpreter Lee", [], own_role="interpreter") == "Interpreter Lee"


def test_joining_names_are_checked_and_roles_travel_with_them(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room(auto_admit=True)
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    for name, problem in (("Counselor One", "staff title"), ("\u200b\u200b", "Enter your name"),
                          ("Counselor Kim", "staff title")):
        link, code = counselor.invite(room_id)
        refused = Browser(live.url).join(link, code, name=name, language="en")  # said in English
        assert refused.status_code == 400 and problem in refused.text, name
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    assert worker.join(link, code, name="An\u202e\x00 Nguyen").status_code == 200
    socket = Socket(live.url, room_id, worker.room(room_id).token)
    me = socket.expect("welcome")["you"]
    assert (me["name"], me["role"]) == ("An Nguyen", "worker")
    present = host.until(lambda m: m["type"] == "presence" and len(m["participants"]) == 2)
    assert {(p["name"], p["role"]) for p in present["participants"]} == {
        ("An Nguyen", "worker"), ("Counselor Kim", "host")}
    socket.send({"type": "chat.send", "client_id": "n1", "text": "hello"})
    said = host.until(lambda m: m["type"] == "chat.message")["message"]
    assert (said["sender_name"], said["sender_role"]) == ("An Nguyen", "worker")
