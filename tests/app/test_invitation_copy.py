"""Invitations people can send, against a live server: a short link that leads to the join page
(and counts unknown codes against the address), a ready message in the invitee's language with
the link, the code and the session's time, the invitation's state in the staff list (not used,
joined, locked after five wrong codes, expired) and a new code that replaces the old one."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_time
from sqlalchemy import update

from rooms.db import make_engine
from rooms.migrate import upgrade
from rooms.models import Invite, utcnow
from server.i18n import translations
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer

ZONE = "Asia/Seoul"
MESSAGE = re.compile(r'<textarea id="invite-message"[^>]*>(.*?)</textarea>', re.S)
SHORT = re.compile(r'id="invite-short-link" readonly value="([^"]+)"')
LINK = re.compile(r'id="invite-link" readonly value="([^"]+)"')
CODE = re.compile(r'id="invite-code" class="code">(\d+)<')
ROW = re.compile(r'data-invite-id="(\w+)" data-state="(\w+)"')


def _database(root: Path) -> str:
    url = f"sqlite+aiosqlite:///{root / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    return url


def _server(url: str, **overrides: object) -> LiveServer:
    return LiveServer(app_settings(url, timezone=ZONE, **overrides)).start()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database(tmp_path_factory.mktemp("invitations"))


@pytest.fixture(scope="module")
def live(db_url: str) -> Iterator[LiveServer]:
    server = _server(db_url)
    yield server
    server.stop()


def _issue(staff: Browser, room_id: str, label: str = "Nguyen Van An", language: str = "vi"
           ) -> dict[str, str]:
    page = staff.post_form(f"/staff/rooms/{room_id}/invites",
                           {"role": "worker", "label": label, "language": language},
                           f"/staff/rooms/{room_id}")
    return _revealed(page.text)


def _revealed(text: str) -> dict[str, str]:
    found = {"short": SHORT.search(text), "link": LINK.search(text), "code": CODE.search(text),
             "message": MESSAGE.search(text)}
    assert all(found.values()), text[:2000]
    return {key: html.unescape(match.group(1)) for key, match in found.items() if match}


def _states(staff: Browser, room_id: str) -> dict[str, str]:
    return dict(ROW.findall(staff.http.get(f"/staff/rooms/{room_id}").text))


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.parametrize("language", ["en", "ko", "vi"])
def test_the_ready_message_has_the_link_the_code_and_the_time_in_their_language(
        live: LiveServer, language: str) -> None:
    staff = staff_browser(live)
    room_id = staff.create_room(title="Return-to-work plan")
    sent = _issue(staff, room_id, language=language)
    message = sent["message"]
    assert sent["short"] in message and sent["code"] in message
    assert re.fullmatch(r".+/j/[a-z0-9]{10}", sent["short"]), sent["short"]
    starts = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(ZONE))
    when = (format_date(starts.date(), "full", locale=language) + " "
            + format_time(starts, "short", tzinfo=ZoneInfo(ZONE), locale=language))
    assert when in message, (when, message)
    assert "Return-to-work plan" in message and "Nguyen Van An" in message
    for line in ("Before the session:", "Keep the link and the code to yourself: they are for "
                 "you only."):
        assert translations(language).gettext(line) in message, "in their language's words"
    assert "/join/" in sent["link"], "the full link is still there"


def test_the_short_link_leads_to_the_join_page_in_their_language(live: LiveServer) -> None:
    staff = staff_browser(live)
    room_id = staff.create_room()
    sent = _issue(staff, room_id, language="ko")
    visitor = Browser(live.url)
    moved = visitor.http.get(_path(sent["short"]), follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"].startswith("/join/")
    assert moved.headers["location"].endswith("?lang=ko")
    page = visitor.http.get(_path(sent["short"]))
    assert page.status_code == 200 and 'name="code"' in page.text
    join_path = moved.headers["location"].split("?", 1)[0]  # where the page's form posts
    joined = visitor.join(f"http://127.0.0.1{join_path}", sent["code"])
    assert joined.status_code == 200
    assert _states(staff, room_id) == {next(iter(_states(staff, room_id))): "joined"}


def test_unknown_short_links_are_counted_against_the_address(
        tmp_path: Path) -> None:
    server = _server(_database(tmp_path), join_limit_per_address="3 per 15 minutes")
    try:
        visitor = Browser(server.url)
        answers = [visitor.http.get(f"/j/{code}").status_code
                   for code in ("aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd")]
        assert answers == [404, 404, 404, 429]
        staff = staff_browser(server)
        real = _issue(staff, staff.create_room())["short"]
        assert visitor.http.get(_path(real)).status_code == 429, "refused before the lookup"
    finally:
        server.stop()


def test_the_staff_list_shows_each_invitations_state(live: LiveServer, db_url: str) -> None:
    staff = staff_browser(live)
    room_id = staff.create_room()
    joined = _issue(staff, room_id, "Tran Thi Mai")
    locked = _issue(staff, room_id, "Le Thi Hoa")
    _issue(staff, room_id, "Pham Van Long")  # expired below
    _issue(staff, room_id, "Kim Min-ji")
    assert Browser(live.url).join(joined["link"], joined["code"]).status_code == 200
    guesser = Browser(live.url)
    for _ in range(5):
        assert guesser.join(locked["link"], _wrong(locked["code"])).status_code == 400
    ids = list(_states(staff, room_id))
    asyncio.run(_expire(db_url, ids[2]))

    assert list(_states(staff, room_id).values()) == ["joined", "locked", "expired", "unused"]
    page = staff.http.get(f"/staff/rooms/{room_id}").text
    for shown in ("joined", "locked after wrong codes", "expired", "not used yet"):
        assert shown in page
    assert page.count("Issue a new code</button>") == 3, "not for the one who joined"


async def _expire(url: str, invite_id: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(update(Invite).where(Invite.id == invite_id).values(
                expires_at=utcnow() - timedelta(minutes=1)))
    finally:
        await engine.dispose()


def test_a_new_code_replaces_the_old_one_and_unlocks(live: LiveServer) -> None:
    staff = staff_browser(live)
    room_id = staff.create_room()
    first = _issue(staff, room_id, "Le Thi Hoa")
    guesser = Browser(live.url)
    for _ in range(5):
        guesser.join(first["link"], _wrong(first["code"]))
    [invite_id] = _states(staff, room_id)
    assert _states(staff, room_id)[invite_id] == "locked"

    page = staff.post_form(f"/staff/rooms/{room_id}/invites/{invite_id}/code", {},
                           f"/staff/rooms/{room_id}")
    again = _revealed(page.text)
    assert again["short"] == first["short"], "the same invitation, the same short link"
    assert again["code"] in again["message"]
    assert _states(staff, room_id)[invite_id] == "unused"

    worker = Browser(live.url)
    old = worker.join(again["link"], first["code"]) if again["code"] != first["code"] else None
    assert old is None or old.status_code == 400, "the old code no longer works"
    assert _states(staff, room_id)[invite_id] == "unused"
    assert worker.join(again["link"], again["code"]).status_code == 200
    assert _states(staff, room_id)[invite_id] == "joined"
    refused = staff.post_form(f"/staff/rooms/{room_id}/invites/{invite_id}/code", {},
                              f"/staff/rooms/{room_id}")
    assert refused.status_code == 409

    admin = staff_browser(live, "admin")
    audit = admin.http.get("/staff/audit").text
    assert "issued a new invitation code" in audit
