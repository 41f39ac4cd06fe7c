"""A connection that dies without closing (a node or network gone silent: no FIN, no RST) is
noticed by the page's missed pongs, replaced, and nothing typed meanwhile is lost — through a
real headless Chromium and a proxy that silences the open connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from rooms.migrate import upgrade
from tests.blackhole import BlackholeProxy
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    Person,
    chat_log,
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

pytestmark = pytest.mark.browser
RECOVERY_MS = 30_000  # dead after 10 s without a word, then a reconnect with backoff


class ProxiedServer(LiveServer):
    """A live server that browsers reach only through a `BlackholeProxy`."""

    proxy: BlackholeProxy

    @property
    def url(self) -> str:
        return self.proxy.url


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxiedServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = ProxiedServer(app_settings(url, captions_enabled=False))
    server.start()
    server.proxy = BlackholeProxy(server.port)
    yield server
    server.proxy.stop()
    server.stop()


def test_a_silent_connection_is_replaced_and_the_message_typed_meanwhile_arrives(
        chromium: Browser, live: ProxiedServer, people: list[Person]) -> None:  # noqa: F811
    staff = open_person(chromium, live, people)
    host = staff.page
    sign_in(host)
    schedule_and_open(host, "Job counseling — follow-up")
    link, code = create_invitation(host)
    enter_room(host)

    worker = open_person(chromium, live, people)
    guest = worker.page
    guest.goto(link)
    guest.get_by_label("Your name").fill("Nguyen Van An")
    guest.get_by_label("Verification code").fill(code)
    guest.get_by_label("Your language").select_option("vi")
    guest.get_by_label("No, do not transcribe me").check()
    guest.get_by_role("button", name="Join").click()
    past_device_check(guest)
    open_panel(host, "People")
    host.get_by_role("button", name="Admit Nguyen Van An").click()
    expect(guest.locator("#stage")).to_be_visible()
    open_panel(guest, "Chat")
    open_panel(host, "Chat")
    # the worker's page is in Vietnamese: its statuses as its own t() gives them
    connected, lost = guest.evaluate(
        "() => [t('Connected'), t('Connection lost — reconnecting…')]")

    guest.evaluate("""() => {  // every status the page shows from now on (some are brief)
        window.statuses = [];
        const status = document.getElementById("conn-status");
        new MutationObserver(() => window.statuses.push(status.textContent))
            .observe(status, { childList: true, characterData: true, subtree: true });
    }""")
    assert live.proxy.silence_open_connections() > 0  # both pages' sockets now hear nothing
    message = guest.locator("#chat-input")
    message.fill("Are you still there?")
    message.press("Enter")  # goes into the silent connection

    expect(chat_log(host)).to_contain_text("Are you still there?", timeout=RECOVERY_MS)
    expect(guest.locator("#conn-status")).to_have_text(connected, timeout=RECOVERY_MS)
    shown = guest.evaluate("window.statuses")
    assert lost in shown, shown  # noticed, then replaced
    expect(chat_log(guest).locator("li.pending")).to_have_count(0, timeout=RECOVERY_MS)
    expect(chat_log(guest).get_by_role("listitem")).to_have_count(1)
    assert staff.problems == [] and worker.problems == []
