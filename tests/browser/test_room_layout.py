"""The room on a phone (360 x 640) and a laptop (1366 x 768) in real Chromium, with fake devices:
join → device check → lobby → admitted, the control bar and captions on screen without
scrolling, chat and captions history as sheets, mute and camera-off reaching the other side,
the host's lobby chime, confirmations for remove, deny, leave and end; and a browser that refuses
the camera and microphone. Each step is saved as a screenshot under artifacts/screenshots/room/
for a reviewer to look at."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect

from rooms.migrate import upgrade
from server.events import ADMITTED
from server.services import Services
from server.ws import protocol as p
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    ARGS,
    CHROMIUM,
    WAIT,
    create_invitation,
    enter_room,
    playwright,
    schedule_and_open,
    sign_in,
)
from tests.conftest import app_settings, seed_staff
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "room"
SIZES: dict[str, dict[str, int]] = {"phone": {"width": 360, "height": 640},
                                    "laptop": {"width": 1366, "height": 768}}
# tracks every lobby chime the page makes (its custom event), before any page script runs
CHIME_WATCH = """
window.__chimes = [];
document.addEventListener("DOMContentLoaded", () => {
  const room = document.getElementById("room");
  if (room) room.addEventListener("room:lobby-chime", (e) => window.__chimes.push(e.detail));
});
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"],
                            models_dir=tmp_path_factory.mktemp("no-models"))
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:  # noqa: F811
    # fake camera and microphone, but no fake permission prompt: each context grants them or not
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*ARGS, "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
              "--autoplay-policy=no-user-gesture-required"])
    try:
        yield browser
    finally:
        browser.close()


class Person:
    def __init__(self, browser: Browser, live: LiveServer, size: str, allow_media: bool,
                 locale: str = "en-US") -> None:
        self.context: BrowserContext = browser.new_context(
            base_url=live.url, viewport=SIZES[size],  # type: ignore[arg-type]
            is_mobile=size == "phone", has_touch=size == "phone", locale=locale)
        if allow_media:
            self.allow_media(live)
        self.context.add_init_script(CHIME_WATCH)
        self.context.set_default_timeout(WAIT)
        self.problems: list[str] = []
        self.context.on("weberror", lambda e: self.problems.append(f"page error: {e.error}"))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error"
                     else None)

    def allow_media(self, live: LiveServer) -> None:
        self.context.grant_permissions(["camera", "microphone"], origin=live.url)


@pytest.fixture
def opened() -> Iterator[list[Person]]:
    people: list[Person] = []
    yield people
    for person in people:
        person.context.close()


def shot(page: Page, size: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{size}-{name}.png")


def assert_on_screen(page: Page, locator: Locator) -> None:
    """Visible and wholly inside the viewport, and the page does not scroll."""
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    view = page.viewport_size
    assert box is not None and view is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= view["width"] + 0.5, (box, view)
    assert box["y"] + box["height"] <= view["height"] + 0.5, (box, view)
    scroll = page.evaluate("[document.documentElement.scrollHeight, innerHeight,"
                           " document.documentElement.scrollWidth, innerWidth]")
    assert scroll[0] <= scroll[1] and scroll[2] <= scroll[3], scroll


SMALL_TARGETS = """() => [...document.querySelectorAll(
    "#stage button, #stage select, #stage input:not([type=checkbox]):not([type=radio]),"
    + " #stage textarea, #stage label.check, #stage summary, dialog[open] button")]
  .filter((e) => e.offsetParent !== null || e.closest("dialog[open]"))
  .map((e) => [e.id || e.textContent.trim().slice(0, 30), e.getBoundingClientRect()])
  .filter(([, r]) => r.width > 0 && (r.width < 43.5 || r.height < 43.5))
  .map(([what, r]) => `${what}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def assert_tap_targets(page: Page) -> None:
    """Every control shown in the room is at least 44 px each way (a checkbox's label)."""
    small = page.evaluate(SMALL_TARGETS)
    assert small == [], small


def join(page: Page, link: str, code: str, name: str, language: str = "vi") -> None:
    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Verification code").fill(code)
    page.get_by_label("Your language").select_option(language)
    page.get_by_label("Yes, transcribe and translate what I say").check()
    page.get_by_role("button", name="Join").click()
    expect(page).to_have_url(re.compile(r"/rooms/[^/]+/check$"))


def caption_to_room(live: LiveServer, room_id: str, speaker_id: str, name: str, text: str,
                    n: int) -> None:
    """A final caption published to the room the way the caption service publishes one."""
    services: Services = live.server.config.app.state.services
    message = p.Caption(speaker_id=speaker_id, speaker_name=name, utterance_id=f"u{n}", rev=1,
                        final=True, lang="en", text=text, t_start=float(n), t_end=n + 1.0)
    assert live.loop is not None
    asyncio.run_coroutine_threadsafe(services.events.send(room_id, ADMITTED, message),
                                     live.loop).result(10)


def control(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Call controls").get_by_role(
        "button", name=name, exact=True)


def tile_of(page: Page, pid: str) -> Locator:
    return page.locator(f'#tiles figure.tile[data-participant-id="{pid}"]'
                        ":not(.audio-only):not([hidden])").first


def area(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["width"] * box["height"])


@pytest.mark.parametrize("size", list(SIZES))
def test_the_room_on_a_phone_and_a_laptop(
        chromium: Browser, live: LiveServer, opened: list[Person], size: str) -> None:
    staff = Person(chromium, live, size, allow_media=True)
    opened.append(staff)
    host = staff.page
    sign_in(host)
    schedule_and_open(host, f"Room layout ({size})")
    room_id = host.url.rstrip("/").split("/")[-1]
    link, code = create_invitation(host)
    second_link, second_code = create_invitation(host)
    enter_room(host)
    host_id = host.locator("#room").get_attribute("data-participant-id") or ""
    shot(host, size, "01-host-alone")

    worker = Person(chromium, live, size, allow_media=True)
    opened.append(worker)
    guest = worker.page
    join(guest, link, code, "Nguyen Van An", language="en")  # the pages follow it: English
    # the device check: a camera picture, a microphone level, a test sound, devices to choose
    expect(guest.get_by_role("heading", name="Check your camera and microphone")).to_be_visible()
    guest.wait_for_function("() => document.getElementById('check-video').videoWidth > 0")
    expect(guest.get_by_label("Camera", exact=True)).to_be_visible()  # disabled: only one
    cameras = guest.get_by_label("Camera", exact=True).locator("option").all_inner_texts()
    expect(guest.locator("#check-problem")).to_be_hidden()
    guest.get_by_role("button", name="Play a test sound").click()
    expect(guest.locator("#device-check")).to_have_attribute("data-sounds", "1")
    expect(guest.locator("#check-sound-note")).to_contain_text("three notes")
    shot(guest, size, "02-device-check")
    saved = guest.evaluate("JSON.parse(localStorage.getItem('counsel.devices'))")
    assert saved.get("videoinput") and saved.get("audioinput"), saved
    assert len(cameras) >= 1
    guest.get_by_role("link", name="Continue to the waiting room").click()

    # the lobby: who lets you in, and when (in the browser's language and time zone)
    expect(guest.get_by_role("heading", name="Waiting room")).to_be_visible()
    expect(guest.locator("#lobby-hosts")).to_have_text("Counselor Kim")
    expect(guest.locator("#lobby-time")).to_contain_text("2026")
    expect(guest.locator("#lobby-time")).to_contain_text("November")
    shot(guest, size, "03-lobby")

    # the host hears a chime (WebAudio) and sees who is waiting
    notice = host.locator("#waiting-notice")
    expect(notice).to_contain_text("Nguyen Van An is waiting in the lobby.")
    expect(host.locator("#room")).to_have_attribute("data-chimes", "1")
    assert host.evaluate("window.__chimes") == [["Nguyen Van An"]]
    expect(host.locator("#room")).to_have_attribute("data-chime-audio", "running")
    expect(control(host, "People")).to_contain_text("1")
    shot(host, size, "04-host-someone-waiting")
    host.get_by_role("button", name="Show the lobby").click()
    admit = host.get_by_role("button", name="Admit Nguyen Van An")
    expect(admit).to_be_visible()
    shot(host, size, "05-host-lobby-sheet")
    assert_tap_targets(host)
    admit.click()
    worker_id = guest.locator("#room").get_attribute("data-participant-id") or ""

    # in the room: the other's video large, one's own small; nothing below the fold
    expect(guest.locator("#stage")).to_be_visible()
    expect(guest.locator("#mic-toggle")).to_be_focused()
    for page, other in ((guest, host_id), (host, worker_id)):
        page.wait_for_function(
            """(pid) => [...document.querySelectorAll('#tiles figure.tile[data-participant-id]')]
                 .some((f) => f.dataset.participantId === pid && !f.hidden
                   && f.querySelector('video') && f.querySelector('video').videoWidth > 0
                   && !f.classList.contains('audio-only'))""", arg=other, timeout=30_000)
        assert area(tile_of(page, other)) > 2 * area(page.locator("#tile-local"))
    host.get_by_role("button", name="Close people").click()
    for page in (guest, host):
        for name in ("Mic", "Camera", "Captions", "Chat", "People", "Leave"):
            assert_on_screen(page, control(page, name))
    caption_to_room(live, room_id, host_id, "Counselor Kim",
                    "Welcome. How was your first week back at work?", 1)
    caption_to_room(live, room_id, worker_id, "Nguyen Van An",
                    "It was hard, but my team helped me.", 2)
    for page in (guest, host):
        expect(page.locator("#captions")).to_contain_text("my team helped me")
        assert_on_screen(page, page.locator("#captions"))
        assert_on_screen(page, page.locator("#captions .caption-line").last)
    # screen readers hear each caption once, name included once
    announced = guest.locator("#announcer").inner_text()
    assert announced.count("Counselor Kim: Welcome.") == 1, announced
    shot(guest, size, "06-worker-in-room")
    shot(host, size, "07-host-in-room")

    # the captions history: every line so far, in a sheet
    control(guest, "Captions").click()
    history = guest.get_by_role("list", name="Everything said so far")
    expect(history.get_by_role("listitem")).to_have_count(2)
    expect(history).to_contain_text("Counselor Kim: Welcome.")
    assert_on_screen(guest, guest.get_by_role("button", name="Larger captions"))
    shot(guest, size, "08-captions-history")
    assert_tap_targets(guest)

    # chat as a sheet: typing keeps the control bar on screen
    control(guest, "Chat").click()
    expect(control(guest, "Captions")).to_have_attribute("aria-expanded", "false")
    message = guest.get_by_label("Message", exact=True)
    expect(message).to_be_focused()
    message.fill("Xin chào")
    message.press("Enter")
    expect(guest.get_by_role("list", name="Chat messages")).to_contain_text("Xin chào")
    assert_on_screen(guest, message)
    assert_on_screen(guest, control(guest, "Leave"))
    shot(guest, size, "09-chat-sheet")
    assert_tap_targets(guest)
    expect(control(host, "Chat").locator(".bar-badge")).to_have_text("1")
    guest.keyboard.press("Escape")
    expect(control(guest, "Chat")).to_be_focused()

    # microphone and camera off reach the other side: a muted icon, initials instead of video
    control(guest, "Mic").click()
    control(guest, "Camera").click()
    expect(control(guest, "Mic")).to_have_attribute("aria-pressed", "false")
    worker_tile = tile_of(host, worker_id)
    expect(worker_tile.get_by_role("img", name="Microphone off")).to_be_visible()
    expect(worker_tile).to_have_class(re.compile(r"\bcam-off\b"))
    expect(worker_tile).to_have_attribute("data-initials", "NA")
    shot(host, size, "10-host-sees-worker-muted")
    control(guest, "Mic").click()
    expect(worker_tile.get_by_role("img", name="Microphone off")).to_be_hidden()

    # one's own video moves to another corner with the keyboard
    local = guest.locator("#tile-local")
    expect(local).to_have_attribute("data-corner", "top-right")
    local.focus()
    guest.keyboard.press("Enter")
    expect(local).to_have_attribute("data-corner", "bottom-right")

    # deny: asks first, and says what it does
    late = Person(chromium, live, size, allow_media=True)
    opened.append(late)
    join(late.page, second_link, second_code, "Tran Thi Mai", language="en")
    late.page.get_by_role("link", name="Skip the check").click()
    expect(late.page.get_by_role("heading", name="Waiting room")).to_be_visible()
    expect(host.locator("#room")).to_have_attribute("data-chimes", "2")
    control(host, "People").click()
    host.get_by_role("button", name="Deny Tran Thi Mai").click()
    dialog = host.get_by_role("dialog", name="Deny Tran Thi Mai?")
    expect(dialog).to_contain_text("Deny blocks this invitation: they cannot ask again.")
    shot(host, size, "11-deny-confirmation")
    assert_tap_targets(host)
    dialog.get_by_role("button", name="Cancel").click()
    expect(host.get_by_role("button", name="Admit Tran Thi Mai")).to_be_visible()
    host.get_by_role("button", name="Deny Tran Thi Mai").click()
    dialog.get_by_role("button", name="Deny").click()
    expect(late.page.get_by_role("heading", name="Session closed")).to_be_visible()

    # remove: asks first
    host.get_by_role("button", name="Remove Nguyen Van An").click()
    removal = host.get_by_role("dialog", name="Remove Nguyen Van An?")
    expect(removal).to_contain_text("cannot come back")
    shot(host, size, "12-remove-confirmation")
    removal.get_by_role("button", name="Cancel").click()
    expect(guest.locator("#stage")).to_be_visible()

    # leave: asks first; media and socket closed; a way back in
    control(guest, "Leave").click()
    leaving = guest.get_by_role("dialog", name="Leave the session?")
    expect(leaving).to_be_visible()
    expect(leaving.get_by_role("button", name="End for everyone")).to_have_count(0)
    shot(guest, size, "13-leave-confirmation")
    leaving.get_by_role("button", name="Leave").click()
    expect(guest.get_by_role("heading", name="You left the session")).to_be_visible()
    assert guest.evaluate("""() => (document.getElementById('local-video').srcObject
      .getTracks().map((t) => t.readyState))""") == ["ended", "ended"]
    expect(host.locator("#people")).to_contain_text(  # not a dropped connection
        "Nguyen Van An (worker, captions on) — left the session")
    shot(guest, size, "14-left")
    if not host.locator("#people").is_visible():
        control(host, "People").click()
    host.locator("#people").scroll_into_view_if_needed()
    shot(host, size, "14-host-sees-left")
    guest.get_by_role("link", name="Go back in").click()
    expect(guest.locator("#stage")).to_be_visible()

    # end for everyone: the host's leave dialog, then a second confirmation
    control(host, "Leave").click()
    host.get_by_role("dialog", name="Leave the session?").get_by_role(
        "button", name="End for everyone").click()
    ending = host.get_by_role("dialog", name="End the session for everyone?")
    expect(ending).to_contain_text("nobody can join this session again")
    shot(host, size, "15-end-confirmation")
    ending.get_by_role("button", name="End for everyone").click()
    expect(guest.get_by_role("heading", name="Session closed")).to_be_visible()
    expect(host.locator("#room-status")).to_have_text("ended")
    for person in opened:
        assert person.problems == [], person.problems


def test_a_refused_camera_and_microphone_is_explained_and_can_be_retried(
        chromium: Browser, live: LiveServer, opened: list[Person]) -> None:
    size = "phone"
    staff = Person(chromium, live, size, allow_media=True)
    opened.append(staff)
    host = staff.page
    sign_in(host)
    schedule_and_open(host, "Permission refused")
    link, code = create_invitation(host)
    enter_room(host)

    worker = Person(chromium, live, size, allow_media=False)
    opened.append(worker)
    guest = worker.page
    join(guest, link, code, "Le Van Binh", language="en")
    problem = guest.get_by_role("alert")
    expect(problem).to_contain_text("Your browser blocked the camera and microphone")
    expect(problem).to_contain_text("In Chrome or Edge")
    expect(guest.locator("#check-no-video")).to_be_visible()
    shot(guest, size, "20-device-check-refused")
    worker.allow_media(live)
    guest.get_by_role("button", name="Try again").click()
    expect(guest.locator("#check-problem")).to_be_hidden()
    guest.wait_for_function("() => document.getElementById('check-video').videoWidth > 0")
    shot(guest, size, "21-device-check-allowed")

    # refused again in the room: the page says so, the others see initials and a muted icon
    worker.context.clear_permissions()
    guest.get_by_role("link", name="Continue to the waiting room").click()
    host.get_by_role("button", name="Show the lobby").click()
    host.get_by_role("button", name="Admit Le Van Binh").click()
    expect(guest.locator("#stage")).to_be_visible()
    room_alert = guest.locator("#media-problem")
    expect(room_alert).to_contain_text("Your browser blocked the camera and microphone")
    expect(room_alert.get_by_role("button", name="Try again")).to_be_visible()
    expect(control(guest, "Mic")).to_be_disabled()
    worker_id = guest.locator("#room").get_attribute("data-participant-id") or ""
    placeholder = host.locator(f'#tiles figure.placeholder[data-participant-id="{worker_id}"]')
    expect(placeholder).to_be_visible()
    expect(placeholder).to_have_attribute("data-initials", "LB")
    expect(placeholder.get_by_role("img", name="Microphone off")).to_be_visible()
    shot(guest, size, "22-room-refused")
    shot(host, size, "23-host-sees-initials")

    worker.allow_media(live)
    room_alert.get_by_role("button", name="Try again").click()
    expect(room_alert).to_be_hidden()
    expect(control(guest, "Mic")).to_be_enabled()
    expect(placeholder).to_have_count(0, timeout=30_000)
    expect(tile_of(host, worker_id).get_by_role("img", name="Microphone off")).to_be_hidden()
    for person in opened:
        assert person.problems == [], person.problems


# What a Korean and a Vietnamese worker read (the pages follow the join page's language).
WORDS = {
    "ko": {"check": "카메라와 마이크를 확인하세요", "continue": "대기실로 가기", "lobby": "대기실",
           "who": "입장을 허락하는 사람", "year": "2026년", "controls": "통화 조작",
           "bar": ["마이크", "카메라", "자막", "채팅", "참여자", "나가기"],
           "history": "지금까지 나온 모든 말", "leave": "상담에서 나갈까요?", "stay": "머무르기"},
    "vi": {"check": "Kiểm tra camera và micrô", "continue": "Vào phòng chờ", "lobby": "Phòng chờ",
           "who": "Người cho bạn vào", "year": "tháng 11", "controls": "Điều khiển cuộc gọi",
           "bar": ["Micrô", "Camera", "Phụ đề", "Trò chuyện", "Người tham gia", "Rời đi"],
           "history": "Mọi điều đã nói đến giờ", "leave": "Rời buổi tư vấn?", "stay": "Ở lại"},
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", list(WORDS))
def test_the_worker_walks_through_in_their_language(
        chromium: Browser, live: LiveServer, opened: list[Person], size: str,
        language: str) -> None:
    words = WORDS[language]
    staff = Person(chromium, live, size, allow_media=True)
    opened.append(staff)
    host = staff.page
    sign_in(host)
    schedule_and_open(host, f"In {language} ({size})")
    room_id = host.url.rstrip("/").split("/")[-1]
    link, code = create_invitation(host)
    enter_room(host)
    host_id = host.locator("#room").get_attribute("data-participant-id") or ""

    worker = Person(chromium, live, size, allow_media=True)
    opened.append(worker)
    guest = worker.page
    join(guest, link, code, "Pham Thi Lan", language=language)
    expect(guest.locator("html")).to_have_attribute("lang", language)
    expect(guest.get_by_role("heading", name=words["check"])).to_be_visible()
    shot(guest, size, f"{language}-01-device-check")
    guest.get_by_role("link", name=words["continue"]).click()
    expect(guest.get_by_role("heading", name=words["lobby"])).to_be_visible()
    expect(guest.locator(".lobby-facts")).to_contain_text(words["who"])
    expect(guest.locator("#lobby-time")).to_contain_text(words["year"])
    shot(guest, size, f"{language}-02-lobby")

    host.get_by_role("button", name="Show the lobby").click()
    host.get_by_role("button", name="Admit Pham Thi Lan").click()
    expect(guest.locator("#stage")).to_be_visible()
    bar = guest.get_by_role("navigation", name=words["controls"])
    for name in words["bar"]:
        assert_on_screen(guest, bar.get_by_role("button", name=name, exact=True))
    caption_to_room(live, room_id, host_id, "Counselor Kim", "Welcome, Ms Pham.", 1)
    expect(guest.locator("#captions")).to_contain_text("Welcome, Ms Pham.")
    assert_on_screen(guest, guest.locator("#captions"))
    shot(guest, size, f"{language}-03-room")

    bar.get_by_role("button", name=words["bar"][2], exact=True).click()
    expect(guest.get_by_role("list", name=words["history"])).to_contain_text("Welcome, Ms Pham.")
    shot(guest, size, f"{language}-04-captions-history")
    bar.get_by_role("button", name=words["bar"][5], exact=True).click()
    leaving = guest.get_by_role("dialog", name=words["leave"])
    expect(leaving).to_be_visible()
    shot(guest, size, f"{language}-05-leave")
    leaving.get_by_role("button", name=words["stay"]).click()
    expect(leaving).to_be_hidden()
    expect(guest.locator("#stage")).to_be_visible()
    for person in opened:
        assert person.problems == [], person.problems
