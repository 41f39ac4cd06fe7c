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
    return page.locator("#chat-log")  # its name is in the page's language


def past_device_check(page: Page) -> None:
    """From the device check page (after Join) on to the lobby (in any page language)."""
    expect(page.locator("#device-check")).to_be_visible()
    page.locator("#check-continue").click()


PANELS = {"Chat": "#chat-toggle", "People": "#people-toggle", "Captions": "#captions-toggle",
          "Settings": "#settings-toggle"}


def open_panel(page: Page, name: str) -> None:
    """Open one of the room's sheets: "Chat", "People", "Captions" (the control bar) or
    "Settings" (the room's header); an open one stays open."""
    button = page.locator(PANELS[name])
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    expect(button).to_have_attribute("aria-expanded", "true")


def close_panel(page: Page, name: str) -> None:
    button = page.locator(PANELS[name])
    if button.get_attribute("aria-expanded") == "true":
        button.click()
    expect(button).to_have_attribute("aria-expanded", "false")


def test_worker_is_admitted_and_chats_with_the_counselor_on_phones(
        chromium: Browser, live: LiveServer, people: list[Person]) -> None:
    staff = open_person(chromium, live, people)
    host = staff.page
    sign_in(host)
    schedule_and_open(host, "Return-to-work plan — first meeting")
    link, code = create_invitation(host)
    enter_room(host)
    open_panel(host, "Chat")
    expect(host.get_by_role("heading", name="Chat")).to_be_visible()
    open_panel(host, "People")
    expect(host.get_by_role("heading", name=re.compile(r"^Lobby"))).to_be_visible()

    worker = open_person(chromium, live, people)
    guest = worker.page
    guest.goto(link)
    guest.get_by_label("Your name").fill("Nguyen Van An")
    guest.get_by_label("Verification code").fill(code)
    guest.get_by_label("Your language").select_option("vi")
    guest.get_by_label("Yes, transcribe and translate what I say").check()
    guest.get_by_role("button", name="Join").click()
    past_device_check(guest)
    # the worker's pages are in their language (Vietnamese): found by id here
    expect(guest.locator("#lobby")).to_be_visible()
    expect(guest.locator("#lobby-message")).not_to_be_empty()
    expect(guest.locator("#sheet-chat")).to_be_hidden()
    assert_fits_phone(guest)

    admit = host.get_by_role("button", name="Admit Nguyen Van An")
    expect(admit).to_be_visible()
    expect(host.locator("#waiting-count")).to_have_text("1")
    assert_fits_phone(host)
    admit.click()
    expect(admit).to_have_count(0)
    expect(host.locator("#people")).to_contain_text("Nguyen Van An")

    # admitted: focus on the controls (the video stays in view); chat opens from the bar
    expect(guest.locator("#control-bar button:focus")).to_have_count(1)
    expect(guest.locator("#lobby")).to_be_hidden()
    open_panel(guest, "Chat")
    expect(guest.locator("#sheet-chat")).to_be_visible()
    message = guest.locator("#chat-input")
    expect(message).to_be_focused()
    message.fill("Xin chào, tôi là An.")
    message.press("Enter")
    expect(message).to_have_value("")
    expect(chat_log(host)).to_contain_text("Xin chào, tôi là An.")
    expect(chat_log(host)).to_contain_text("Nguyen Van An")
    expect(chat_log(guest).locator("li.pending")).to_have_count(0)

    open_panel(host, "Chat")
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
    expect(guest.locator("#device-check")).to_be_visible()
    go_on = guest.locator("#check-continue")
    for _ in range(12):  # past the camera, microphone and sound controls
        keys.press("Tab")
        if go_on.evaluate("el => el === document.activeElement"):
            break
    expect(go_on).to_be_focused()
    keys.press("Enter")
    expect(guest.locator("#lobby")).to_be_visible()
    assert_fits_phone(guest)

    open_panel(host, "People")
    admit = host.get_by_role("button", name="Admit Tran Thi Mai")
    expect(admit).to_be_visible()
    admit.focus()
    host.keyboard.press("Enter")
    # admitted: the keyboard is on the control bar; Tab to Chat, Enter, and type
    expect(guest.locator("#control-bar button:focus")).to_have_count(1)
    chat = guest.locator("#chat-toggle")
    for _ in range(6):
        keys.press("Tab")
        if chat.evaluate("el => el === document.activeElement"):
            break
    expect(chat).to_be_focused()
    keys.press("Enter")
    expect(guest.locator("#chat-input")).to_be_focused()
    keys.type("Cảm ơn")
    keys.press("Enter")
    expect(chat_log(host)).to_contain_text("Cảm ơn")

    # and out again: Escape closes the chat sheet back onto its button, Tab reaches Leave,
    # the dialog opens with the keyboard in it, and Leave is chosen with the keyboard too
    keys.press("Escape")
    expect(chat).to_be_focused()
    leave = guest.locator("#leave-button")
    for _ in range(6):
        keys.press("Tab")
        if leave.evaluate("el => el === document.activeElement"):
            break
    expect(leave).to_be_focused()
    keys.press("Enter")
    dialog = guest.locator("#leave-dialog")
    expect(dialog).to_be_visible()
    confirm = guest.locator("#leave-confirm")
    for _ in range(4):
        if confirm.evaluate("el => el === document.activeElement"):
            break
        keys.press("Tab")
    expect(confirm).to_be_focused()
    keys.press("Enter")
    expect(dialog).to_be_hidden()
    expect(guest.locator("#stage")).to_be_hidden()
    expect(host.locator("#people")).to_contain_text("Tran Thi Mai")
    expect(host.locator("#people")).to_contain_text("left the session")  # not "not connected"

    host.goto(admin_path)
    expect(host.get_by_role("cell", name="Tran Thi Mai")).to_be_visible()
    assert staff.problems == []
    assert worker.problems == []
