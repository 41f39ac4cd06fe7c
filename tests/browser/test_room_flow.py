"""A person's path through a real headless Chromium: schedule, invite, join, admit, chat.

Everything goes through the pages the way a person uses them (labelled fields, named
buttons), on phone-sized screens, and the pages must not log errors or break the CSP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    WebError,
    expect,
    sync_playwright,
)

from tests.conftest import STAFF
from tests.live import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT = 10_000  # ms, for every expect() and locator action (pages wait on sockets and peers)
expect.set_options(timeout=WAIT)
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def playwright(live: LiveServer) -> Iterator[Playwright]:
    # Playwright's sync API marks an event loop as running in this thread until it stops,
    # so the live server (which migrates and seeds with asyncio.run) must be up first.
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class Person:
    """One browser context (its own cookies) on a phone-sized screen, and what went wrong."""

    context: BrowserContext
    page: Page
    problems: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(chromium: Browser, live: LiveServer) -> Iterator[list[Person]]:
    opened: list[Person] = []
    yield opened
    errors: list[BaseException] = []
    for person in opened:
        try:
            person.close()
        except Exception as exc:  # close every context even if one fails
            errors.append(exc)
    if errors:
        raise errors[0]


def open_person(chromium: Browser, live: LiveServer, people: list[Person]) -> Person:
    context = chromium.new_context(base_url=live.url, viewport=PHONE, is_mobile=True,
                                   has_touch=True, locale="en-US")
    try:
        context.add_init_script(CSP_WATCH)
        context.set_default_timeout(WAIT)
        page = context.new_page()
    except Exception:
        context.close()
        raise
    person = Person(context, page)
    people.append(person)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            person.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def on_error(error: WebError) -> None:
        person.problems.append(f"page error: {error.error}")

    context.on("console", on_console)
    context.on("weberror", on_error)
    return person


def assert_fits_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px wide"


def sign_in(page: Page, who: str = "counselor") -> None:
    email, password, _ = STAFF[who]
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()


def schedule_and_open(page: Page, title: str) -> str:
    """From the dashboard: schedule a session and open it; returns the room admin path."""
    page.get_by_role("link", name="Schedule a session").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label(re.compile(r"^Starts at")).fill("2026-11-23T10:00")
    page.get_by_label("Tiếng Việt (Vietnamese)").check()
    page.get_by_role("button", name="Create session").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    page.get_by_role("button", name="Open the room").click()
    expect(page.locator("#room-status")).to_have_text("open")
    path = urlsplit(page.url).path
    assert re.fullmatch(r"/staff/rooms/[^/#]+", path), path
    return path


def create_invitation(page: Page, role: str = "worker") -> tuple[str, str]:
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_role("heading", name=re.compile(r"^New invitation"))).to_be_visible()
    link = page.get_by_label("Invitation link").input_value()
    code = page.locator("#invite-code").inner_text().strip()
    assert "/join/" in link and re.fullmatch(r"\d{6}", code), (link, code)
    return link, code


def enter_room(page: Page) -> None:
    page.get_by_role("button", name="Enter the room").click()
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()


def chat_log(page: Page) -> Locator:
    return page.get_by_role("list", name="Chat messages")


def test_worker_is_admitted_and_chats_with_the_counselor_on_phones(
        chromium: Browser, live: LiveServer, people: list[Person]) -> None:
    staff = open_person(chromium, live, people)
    host = staff.page
    sign_in(host)
    schedule_and_open(host, "Return-to-work plan — first meeting")
    link, code = create_invitation(host)
    enter_room(host)
    expect(host.get_by_role("heading", name="Chat")).to_be_visible()
    expect(host.get_by_role("heading", name=re.compile(r"^Lobby"))).to_be_visible()

    worker = open_person(chromium, live, people)
    guest = worker.page
    guest.goto(link)
    guest.get_by_label("Your name").fill("Nguyen Van An")
    guest.get_by_label("Verification code").fill(code)
    guest.get_by_label("Your language").select_option("vi")
    guest.get_by_label("Yes, transcribe and translate what I say").check()
    guest.get_by_role("button", name="Join").click()
    expect(guest.get_by_role("heading", name="Waiting room")).to_be_visible()
    expect(guest.locator("#lobby-message")).to_contain_text("wait", ignore_case=True)
    expect(guest.get_by_role("heading", name="Chat")).to_be_hidden()
    assert_fits_phone(guest)

    admit = host.get_by_role("button", name="Admit Nguyen Van An")
    expect(admit).to_be_visible()
    expect(host.locator("#waiting-count")).to_have_text("1")
    assert_fits_phone(host)
    admit.click()
    expect(admit).to_have_count(0)
    expect(host.locator("#people")).to_contain_text("Nguyen Van An")

    expect(guest.get_by_role("heading", name="Chat")).to_be_visible()
    expect(guest.get_by_role("heading", name="Waiting room")).to_be_hidden()
    message = guest.get_by_label("Message", exact=True)
    expect(message).to_be_focused()
    message.fill("Xin chào, tôi là An.")
    message.press("Enter")
    expect(message).to_have_value("")
    expect(chat_log(host)).to_contain_text("Xin chào, tôi là An.")
    expect(chat_log(host)).to_contain_text("Nguyen Van An")
    expect(chat_log(guest).locator("li.pending")).to_have_count(0)

    reply = host.get_by_label("Message", exact=True)
    reply.fill("Welcome, An. Can you hear me?")
    reply.press("Enter")
    expect(chat_log(guest)).to_contain_text("Welcome, An. Can you hear me?")
    expect(chat_log(guest)).to_contain_text("Counselor Kim")
    expect(chat_log(guest).get_by_role("listitem")).to_have_count(2)
    expect(chat_log(host).get_by_role("listitem")).to_have_count(2)

    for page in (host, guest):
        assert_fits_phone(page)
    assert staff.problems == []
    assert worker.problems == []


def test_worker_joins_with_the_keyboard_only(
        chromium: Browser, live: LiveServer, people: list[Person]) -> None:
    staff = open_person(chromium, live, people)
    host = staff.page
    sign_in(host)
    admin_path = schedule_and_open(host, "Keyboard-only join")
    create_invitation(host)  # the first one goes unused
    link, code = create_invitation(host)
    enter_room(host)

    worker = open_person(chromium, live, people)
    guest = worker.page
    guest.goto(link)
    keys = guest.keyboard
    name = guest.get_by_label("Your name")
    for _ in range(5):  # past the skip link and the brand link
        keys.press("Tab")
        if name.evaluate("el => el === document.activeElement"):
            break
    expect(name).to_be_focused()
    keys.type("Tran Thi Mai")
    keys.press("Tab")
    expect(guest.get_by_label("Verification code")).to_be_focused()
    keys.type(code)
    keys.press("Tab")
    language = guest.get_by_label("Your language")
    expect(language).to_be_focused()
    keys.type("Ti")  # type-ahead on the closed select: "Tiếng Việt"
    expect(language).to_have_value("vi")
    keys.press("Tab")
    consent = guest.get_by_label("Yes, transcribe and translate what I say")
    expect(consent).to_be_focused()
    keys.press("Space")
    expect(consent).to_be_checked()
    keys.press("Tab")
    expect(guest.get_by_role("button", name="Join")).to_be_focused()
    keys.press("Enter")
    expect(guest.get_by_role("heading", name="Waiting room")).to_be_visible()
    assert_fits_phone(guest)

    admit = host.get_by_role("button", name="Admit Tran Thi Mai")
    expect(admit).to_be_visible()
    admit.focus()
    host.keyboard.press("Enter")
    expect(guest.get_by_label("Message", exact=True)).to_be_focused()
    keys.type("Cảm ơn")
    keys.press("Enter")
    expect(chat_log(host)).to_contain_text("Cảm ơn")

    host.goto(admin_path)
    expect(host.get_by_role("cell", name="Tran Thi Mai")).to_be_visible()
    assert staff.problems == []
    assert worker.problems == []
