"""axe-core on every page a person reaches, on a phone and on a laptop: no serious or critical
problems. Each page is also saved as a screenshot under artifacts/screenshots/accessibility/
for a reviewer to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.app.forms_support import start
from tests.app.hall_support import database
from tests.browser.axe import blocking_violations
from tests.browser.test_forms_browser import send_form
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    Person,
    chromium,
    create_invitation,
    enter_room,
    open_panel,
    open_person,
    people,
    playwright,
    schedule_and_open,
    sign_in,
)
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "accessibility"
SIZES: dict[str, ViewportSize] = {"phone": {"width": 360, "height": 640},
                                  "laptop": {"width": 1366, "height": 768}}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("accessibility")
    server = start(database(root), root)
    yield server
    server.stop()


class Audit:
    """Checks each page it is shown and keeps what went wrong, so one run lists every problem."""

    def __init__(self, size: str) -> None:
        self.size = size
        self.problems: list[str] = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, page: Page, name: str) -> None:
        page.wait_for_load_state("load")
        page.screenshot(path=SCREENSHOTS / f"{self.size}-{name}.png", full_page=True)
        self.problems += [f"[{self.size} {name}] {line}" for line in blocking_violations(page)]


def resize(person: Person, size: str) -> Page:
    person.page.set_viewport_size(SIZES[size])
    return person.page


@pytest.mark.parametrize("size", list(SIZES))
def test_no_serious_accessibility_problems_on_any_page(
        chromium: Browser, live: LiveServer, people: list[Person], size: str) -> None:  # noqa: F811
    audit = Audit(size)
    staff = open_person(chromium, live, people)
    host = resize(staff, size)
    host.goto("/")
    audit.check(host, "start")
    host.goto("/staff/login")
    audit.check(host, "staff-login")
    sign_in(host)
    audit.check(host, "dashboard")
    host.get_by_role("link", name="Schedule a session").click()
    audit.check(host, "schedule")
    host.go_back()
    schedule_and_open(host, f"Accessibility walk ({size})")
    audit.check(host, "room-admin")
    link, code = create_invitation(host)
    audit.check(host, "room-admin-invitation")
    room_admin = host.url.split("#")[0]

    worker = open_person(chromium, live, people)
    guest = resize(worker, size)
    guest.goto("/join/not-a-real-invitation")
    audit.check(guest, "join-error")
    guest.goto(link)
    audit.check(guest, "join")
    guest.get_by_label("Your name").fill("Nguyen Van An")
    guest.get_by_label("Verification code").fill(code)
    guest.get_by_label("Your language").select_option("vi")
    guest.get_by_label("Yes, transcribe and translate what I say").check()
    guest.get_by_role("button", name=re.compile("^(Join|Continue)")).click()
    guest.wait_for_url(re.compile(r"/rooms/|/check"))
    audit.check(guest, "after-join")  # the device check
    guest.locator("#check-continue").click()
    expect(guest.locator("#lobby")).to_be_visible()
    audit.check(guest, "lobby")

    host.goto(room_admin)
    enter_room(host)
    host.locator("#people-toggle").click()  # the lobby is in the People sheet
    admit = host.get_by_role("button", name="Admit Nguyen Van An")
    expect(admit).to_be_visible()
    audit.check(host, "room-host-waiting")
    admit.click()
    expect(admit).to_have_count(0)
    audit.check(host, "room-host")
    expect(guest.locator("#stage")).to_be_visible()
    audit.check(guest, "room-worker")
    open_panel(guest, "Chat")
    audit.check(guest, "room-worker-chat")
    open_panel(guest, "Captions")
    audit.check(guest, "room-worker-captions")

    host.goto(room_admin.rstrip("/") + "/transcript")
    audit.check(host, "transcript")
    for path, name in (("/staff/forms", "forms"), ("/staff/forms/new", "form-new"),
                       ("/staff/submissions", "submissions")):
        host.goto(path)
        audit.check(host, name)
    form_link = send_form(staff, "Application for vocational training", "Tran Thi Mai", "vi")
    audit.check(host, "form-send")
    guest.goto(form_link)
    audit.check(guest, "form-fill")

    host.goto("/staff/account")
    audit.check(host, "account")
    host.goto("/staff/hall")
    audit.check(host, "hall-staff")

    visitor = open_person(chromium, live, people)
    hall = resize(visitor, size)
    hall.goto("/hall")
    audit.check(hall, "hall")
    hall.locator("main a[href^='/hall/']").first.click()
    audit.check(hall, "hall-page")
    hall.goto("/hall/search?q=training")
    audit.check(hall, "hall-search")

    admin = open_person(chromium, live, people)
    page = resize(admin, size)
    sign_in(page, "admin")
    for path, name in (("/staff/accounts", "accounts"), ("/staff/audit", "audit")):
        page.goto(path)
        audit.check(page, name)

    assert audit.problems == [], "\n".join(audit.problems)
