"""What an outsider learns or steers over plain HTTP (issue 13, item 11): the Host header in
invitation links, HSTS, caching of pages with tokens, tokens in the access log, the
invitation in the session cookie."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rooms.migrate import upgrade
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import CODE, LINK, Browser, LiveServer, Socket


def _path(link: str) -> str:
    return "/" + link.split("127.0.0.1", 1)[1].split("/", 1)[1]


def test_invitation_links_never_carry_a_host_the_request_chose(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    token = counselor.csrf(f"/staff/rooms/{room_id}")
    forged = counselor.http.post(f"/staff/rooms/{room_id}/invites", headers={
        "host": "evil.example"}, data={"csrf_token": token, "role": "worker"})
    assert forged.status_code == 400
    page = counselor.http.get(f"/staff/rooms/{room_id}").text
    assert "evil.example" not in page
    link, _ = counselor.invite(room_id)
    assert link.startswith(live.url + "/join/")
    assert Browser(live.url).http.get(_path(link), headers={
        "host": "evil.example"}).status_code == 400


def test_a_configured_public_url_makes_the_links(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, public_url="https://counsel.example.org/")).start()
    try:
        counselor = staff_browser(server)
        room_id = counselor.create_room()
        page = counselor.post_form(f"/staff/rooms/{room_id}/invites", {"role": "worker"},
                                   f"/staff/rooms/{room_id}")
        assert 'value="https://counsel.example.org/join/' in page.text
        other_host = counselor.http.get("/staff", headers={"host": "counsel.example.org"})
        assert other_host.status_code == 200
    finally:
        server.stop()


def _session(cookie: str) -> str:
    payload = cookie.split(".", 1)[0]
    return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode()


def test_the_invitation_does_not_travel_in_the_session_cookie(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    token = counselor.csrf(f"/staff/rooms/{room_id}")
    issued = counselor.http.post(f"/staff/rooms/{room_id}/invites", data={
        "csrf_token": token, "role": "worker"}, follow_redirects=False)
    assert issued.status_code == 303
    session = json.loads(_session(issued.cookies["counsel_session"]))
    shown = counselor.http.get(issued.headers["location"]).text
    link_found, code_found = LINK.search(shown), CODE.search(shown)
    assert link_found and code_found
    link, code = link_found.group(1), code_found.group(1)
    assert code not in json.dumps(session) and link.rsplit("/", 1)[1] not in json.dumps(session)
    assert code not in counselor.http.get(f"/staff/rooms/{room_id}").text, "shown only once"


def test_pages_with_tokens_are_not_cached(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    join_page = worker.http.get(_path(link))
    assert join_page.headers["cache-control"] == "no-store"
    joined = worker.join(link, code)
    assert joined.headers["cache-control"] == "no-store"  # the room page, with its token
    assert worker.http.get(f"/rooms/{room_id}/token").headers["cache-control"] == "no-store"
    admin_page = counselor.http.get(f"/staff/rooms/{room_id}")
    assert admin_page.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in admin_page.headers  # development, plain HTTP


def test_production_sends_hsts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    server = LiveServer(app_settings(url, mode="production")).start()
    try:
        page = Browser(server.url).http.get("/staff/login")
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        static = Browser(server.url).http.get("/static/app.css")
        assert "no-store" not in static.headers.get("cache-control", "")
    finally:
        server.stop()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _logged() -> Iterator[_Lines]:
    """What uvicorn logs (attached after its Config set up logging, which drops handlers)."""
    handler = _Lines()
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_tokens_stay_out_of_the_access_log(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url), log_level="info")
    with _logged() as logged:
        secrets = _join_and_connect(server.start())
    written = "\n".join(logged.lines)
    assert "/join/" in written and "/ws/rooms/" in written, written[:500]
    assert "[redacted]" in written
    for secret in secrets:
        assert secret not in written


def _join_and_connect(server: LiveServer) -> list[str]:
    """The invitation token, the room token: what must not be written down."""
    try:
        counselor = staff_browser(server)
        room_id = counselor.create_room(auto_admit=True)
        link, code = counselor.invite(room_id)
        worker = Browser(server.url)
        worker.join(link, code)
        room_token = worker.room(room_id).token
        Socket(server.url, room_id, room_token).expect("welcome")
    finally:
        server.stop()
    return [link.rsplit("/", 1)[1], room_token]
