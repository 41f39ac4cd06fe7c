"""The interpreter's console in a real headless Chromium, beside a reader's room page.

A Korean-reading counselor's room has a Vietnamese worker and an assigned interpreter. The
worker's final caption (published the way the caption service does, translated by a
test-built multilingual model) appears on the console with its Korean translation side by
side; the interpreter corrects the Korean in place, and the counselor's page replaces the
machine text with it, marked "corrected by the interpreter", also after a reload. Everyone's
people list shows the interpreter with their languages.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from media.speech import CaptionEvent, CaptionKind
from rooms import interpreters as interpreters_repo
from rooms import staff as staff_repo
from rooms.migrate import upgrade
from rooms.models import Room
from server.captions import Speaker
from server.services import Services
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    Person,
    assert_fits_phone,
    chromium,
    create_invitation,
    enter_room,
    open_panel,
    open_person,
    past_device_check,
    people,
    playwright,
    schedule_and_open,
    sign_in,
)
from tests.conftest import app_settings, seed_staff
from tests.live import LiveServer
from tests.translation.packbuild import installed_multilingual

pytestmark = pytest.mark.browser

T = TypeVar("T")
ROWS = [
    {"vi": "xin chào", "ko": "안녕하세요", "en": "hello"},
    {"vi": "tôi có một câu hỏi", "ko": "질문이 있습니다", "en": "I have a question"},
]
CORRECTED = "안녕하십니까"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    translation_dir = installed_multilingual(tmp_path_factory, ROWS)
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, translation_dir=translation_dir, staff_language="ko",
                                     captions_enabled=False,
                                     rtc_host_addresses=["127.0.0.1"])).start()
    yield server
    server.stop()


def on_server(live: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    assert live.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, live.loop).result(30)


def services_of(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


def assign_interpreter(live: LiveServer, room_id: str) -> None:
    async def assign() -> None:
        async with services_of(live).transaction() as session:
            interpreter = await staff_repo.find_staff_by_email(session, "interpreter@example.org")
            host = await staff_repo.find_staff_by_email(session, "counselor@example.org")
            assert interpreter is not None and host is not None
            await interpreters_repo.assign(session, room_id=room_id, interpreter=interpreter,
                                           languages=["ko", "vi"], assigned_by=host)
    on_server(live, assign())


def say_final(live: LiveServer, room_id: str, speaker_id: str, text: str) -> str:
    """The worker's final caption, as the caption service publishes and stores it."""
    services = services_of(live)
    utterance = f"u-{uuid.uuid4().hex[:8]}"

    async def publish() -> None:
        async with services.sessions() as session:
            opened = (await session.get(Room, room_id)).opened_at  # type: ignore[union-attr]
        services.translations.readers_changed(room_id)
        await services.captions._publish(
            Speaker(room_id, speaker_id, "Tran Thi Mai", "vi", opened),
            CaptionEvent(room_id, speaker_id, utterance, 4, 0, "vi", text, CaptionKind.FINAL,
                         12.0, 13.5))
    on_server(live, publish())
    return utterance


def caption_line(page: Page, utterance: str) -> Locator:
    return page.locator(f'#captions .caption-line[data-utterance-id="{utterance}"]')


def console_cell(page: Page, utterance: str, language: str) -> Locator:
    return page.locator(f'#console-lines tr[data-utterance-id="{utterance}"] '
                        f'td[data-lang="{language}"]')


def test_a_correction_on_the_console_replaces_the_text_on_the_readers_page(
        chromium: Browser, live: LiveServer, people: list[Person]) -> None:  # noqa: F811
    counselor = open_person(chromium, live, people)
    host = counselor.page
    sign_in(host)
    admin_path = schedule_and_open(host, "Interpreted session")
    room_id = admin_path.rsplit("/", 1)[1]
    assign_interpreter(live, room_id)
    link, code = create_invitation(host)
    enter_room(host)

    worker = open_person(chromium, live, people)
    guest = worker.page
    guest.goto(link)
    guest.get_by_label("Your name").fill("Tran Thi Mai")
    guest.get_by_label("Verification code").fill(code)
    guest.get_by_label("Your language").select_option("vi")
    guest.get_by_label("Yes, transcribe and translate what I say").check()
    guest.get_by_role("button", name="Join").click()
    past_device_check(guest)
    open_panel(host, "People")
    host.get_by_role("button", name="Admit Tran Thi Mai").click()
    expect(guest.locator("#stage")).to_be_visible()
    worker_id = guest.locator("#room").get_attribute("data-participant-id") or ""

    interpreter = open_person(chromium, live, people)
    room_page = interpreter.page
    sign_in(room_page, "interpreter")
    room_page.goto(admin_path)
    enter_room(room_page)
    with interpreter.context.expect_page() as opened:  # a new tab: the room page stays
        room_page.get_by_role("link", name=re.compile("^Interpreter console")).click()
    console = opened.value
    expect(console.get_by_role("heading", name=re.compile("^Interpreter console"))).to_be_visible()
    expect(console.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    expect(console.locator("#tiles, #local-video")).to_have_count(0)  # listen only: no media

    # everyone sees that an interpreter is here, and for which languages
    for page in (host, guest):  # in each page's language (the worker's: Vietnamese)
        label = page.evaluate("(l) => t('interpreter: %(languages)s', {languages: l})",
                              "한국어 (Korean), Tiếng Việt (Vietnamese)")
        expect(page.locator("#people li.interpreter")).to_contain_text(
            f"Interpreter Kim ({label}")

    utterance = say_final(live, room_id, worker_id, "Xin chào")
    line = caption_line(host, utterance)
    expect(line.locator(".final")).to_have_text("안녕하세요")
    expect(line.locator(".caption-note")).to_have_text(" (machine translation)")

    # the console: the original and its translation side by side, with speaker and time
    row = console.locator(f'#console-lines tr[data-utterance-id="{utterance}"]')
    expect(row.locator("td.speaker")).to_have_text("Tran Thi Mai")
    expect(row.locator("td.time")).to_have_text(re.compile(r"\d"))
    expect(row.locator("td.original .words")).to_have_text("Xin chào")
    korean = console_cell(console, utterance, "ko")
    expect(korean.locator(".words")).to_have_text("안녕하세요")

    korean.get_by_role("button", name=re.compile("^Correct")).click()
    box = console.get_by_label("Corrected 한국어 (Korean) text")
    box.fill(CORRECTED)
    console.get_by_role("button", name="Save").click()
    expect(korean.locator(".words")).to_have_text(CORRECTED)
    expect(korean.locator(".cell-mark.corrected")).to_contain_text(
        "corrected by Interpreter Kim")

    expect(line.locator(".final")).to_have_text(CORRECTED)
    expect(line.locator(".caption-note")).to_have_text(
        " (corrected by the interpreter, Interpreter Kim)")
    expect(caption_line(guest, utterance).locator(".final")).to_have_text("Xin chào")

    # the filter hides a language's column
    console.get_by_label("한국어 (Korean)", exact=True).uncheck()
    expect(korean).to_be_hidden()
    console.get_by_label("한국어 (Korean)", exact=True).check()
    expect(korean).to_be_visible()

    host.reload()  # the page loads the room's finals as they are now
    expect(caption_line(host, utterance).locator(".final")).to_have_text(CORRECTED)
    for page in (host, console):
        assert_fits_phone(page)
    assert counselor.problems == [] and worker.problems == [] and interpreter.problems == []
