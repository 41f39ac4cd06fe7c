"""The interface in the person's language, over HTTP against a real server: the browser's
Accept-Language before anything is chosen, the join page's language choice (and the room's
after joining), a staff member's own choice in their account, times in the agency's zone and
the page's language, error pages in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from rooms.migrate import upgrade
from server import i18n
from server.locale import from_accept_language, language_name
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket

ZONE = "Asia/Seoul"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('i18n') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, timezone=ZONE)).start()
    yield server
    server.stop()


def said(text: str, locale: str) -> str:
    """`text` as the catalog of `locale` has it (it must have it: not the English)."""
    with i18n.use_locale(locale):
        shown = i18n.gettext(text)
    assert shown != text, f"{locale} has no translation of {text!r}"
    return shown


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([\w-]+)"', page)
    assert match, page[:200]
    return match.group(1)


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_the_browsers_language_is_used_before_anything_is_chosen(live: LiveServer) -> None:
    link, _ = staff_browser(live).invite(staff_browser(live).create_room())
    worker = Browser(live.url)
    page = worker.http.get(path_of(link), headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert html_lang(page.text) == "ko"
    assert said("Your name", "ko") in page.text and "Your name" not in page.text
    assert said("Join", "ko") in page.text
    english = Browser(live.url).http.get(path_of(link))  # no Accept-Language: the default
    assert html_lang(english.text) == "en" and "Your name" in english.text


def test_choosing_a_language_on_the_join_page_shows_it_and_the_room_in_it(
        live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    chosen = worker.http.get(path_of(link), params={"lang": "vi"})
    assert html_lang(chosen.text) == "vi"
    assert said("Verification code", "vi") in chosen.text
    assert re.search(r'<option value="vi" lang="vi"\s+selected>', chosen.text)
    wrong = worker.join(link, "000000" if code != "000000" else "111111", language="vi")
    assert wrong.status_code == 400 and html_lang(wrong.text) == "vi"
    with i18n.use_locale("vi"):
        tries = i18n.ngettext("That code is not right. %(left)s try left.",
                              "That code is not right. %(left)s tries left.", 4) % {"left": 4}
    assert tries in wrong.text and "tries left" not in tries
    room = worker.join(link, code, language="vi")
    assert room.url.path == f"/rooms/{room_id}" and html_lang(room.text) == "vi"


def test_staff_choose_their_language_in_their_account(live: LiveServer) -> None:
    counselor = staff_browser(live, "interpreter")
    assert html_lang(counselor.http.get("/staff").text) == "en"
    saved = counselor.post_form("/staff/account", {"ui_locale": "ko"})
    assert saved.status_code == 200 and html_lang(saved.text) == "ko"
    assert said("Your account", "ko") in saved.text
    elsewhere = staff_browser(live, "interpreter")  # a new sign-in: kept in the account
    page = elsewhere.http.get("/staff", headers={"Accept-Language": "en"})
    assert html_lang(page.text) == "ko" and said("Dashboard", "ko") in page.text
    back = elsewhere.post_form("/staff/account", {"ui_locale": ""})
    assert html_lang(back.text) == "en"


def test_times_are_in_the_agencys_zone_and_the_pages_language(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room(title="Zone check")  # 2026-11-23 10:00 in Seoul
    starts = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(ZONE))
    page = counselor.http.get("/staff").text
    english = format_datetime(starts, "short", tzinfo=ZoneInfo(ZONE), locale="en")
    assert f'data-room-id="{room_id}"' in page and english in page  # 11/23/26, 10:00 AM
    assert "01:00" not in english and "UTC" not in page.split(room_id, 1)[1].split("</article>")[0]
    korean = counselor.http.get("/staff", params={"lang": "ko"}).text
    assert format_datetime(starts, "short", tzinfo=ZoneInfo(ZONE), locale="ko") in korean
    assert "오전 10:00" in korean
    assert f">{language_name('vi', 'ko')}<" in korean or language_name("vi", "ko") in korean


def test_error_pages_are_in_the_readers_language(live: LiveServer) -> None:
    worker = Browser(live.url)
    page = worker.http.get("/join/not-a-token", headers={"Accept-Language": "vi"})
    assert page.status_code == 403 and html_lang(page.text) == "vi"
    title = said("This link is not valid", "vi")
    assert page.text.count(title) == 2  # the window's title and the heading, once each
    assert "this link is not valid" not in page.text.lower().replace(title.lower(), "")
    assert "/staff" not in page.text, "a worker is not sent to the staff's sign-in"
    assert said("If you need help, ask your counselor.", "vi") in page.text


def test_the_accept_language_header_is_read_by_quality() -> None:
    assert from_accept_language("ko-KR,ko;q=0.9,en-US;q=0.8") == "ko"
    assert from_accept_language("de;q=1.0, vi;q=0.5, ru;q=0.7") == "ru"
    assert from_accept_language("fil-PH") == "tl" and from_accept_language("zh-CN") == "zh"
    assert from_accept_language("de, fr") is None and from_accept_language("") is None
    assert from_accept_language("vi;q=0, en") == "en"


def test_a_removed_worker_is_told_so_in_their_language(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room(auto_admit=True)
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    assert worker.join(link, code, language="ko").status_code == 200
    access = worker.room(room_id)
    worker_ws = Socket(live.url, room_id, access.token)
    worker_ws.expect("welcome")
    host.send({"type": "participant.remove", "participant_id": access.participant_id})
    worker_ws.expect("participant.removed")
    page = worker.http.get(f"/rooms/{room_id}")
    assert page.status_code == 403 and html_lang(page.text) == "ko"
    assert said("The host removed you from this session.", "ko") in page.text
    assert said("The host did not admit you to this session.", "ko") not in page.text


def test_staff_forms_say_what_is_wrong_in_the_staff_members_language(live: LiveServer) -> None:
    counselor = staff_browser(live)
    refused = counselor.post_form("/staff/rooms?lang=ko", {"title": " ", "starts_at": "soon"},
                                  form_page="/staff/rooms/new?lang=ko")
    assert refused.status_code == 400 and html_lang(refused.text) == "ko"
    assert said("Give the session a title.", "ko") in refused.text
    page = counselor.post_form("/staff/hall?lang=vi", {
        "slug": "Not A Slug!", "language": "vi", "title": "Trang"},
        form_page="/staff/hall/new?lang=vi")
    assert page.status_code == 400
    assert said("Use 2-63 lowercase letters, digits and dashes for the short name.", "vi") \
        in page.text
