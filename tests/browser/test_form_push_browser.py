"""A counselor pushes a form during a session, in a real Chromium: the worker's phone-sized room
page (390 by 844) opens it in a sheet over the call, the worker fills it in and sends it there,
and the counselor's page shows it arrived, with the review page, without a reload."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app.forms_support import database, start
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    Person,
    assert_fits_phone,
    chromium,
    create_invitation,
    open_person,
    people,
    playwright,
    schedule_and_open,
    sign_in,
)
from tests.live import LiveServer

pytestmark = pytest.mark.browser
FORM = "Consent to transcription and translation"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("form-push-browser")
    server = start(database(root), root)
    yield server
    server.stop()


def join(guest: Page, link: str, code: str, room_path: str) -> None:
    guest.goto(link)
    guest.get_by_label("Your name").fill("Nguyen Van An")
    guest.get_by_label("Verification code").fill(code)
    guest.get_by_label("Your language").select_option("en")
    guest.get_by_label("Yes, transcribe and translate what I say").check()
    guest.get_by_role("button", name="Join").click()
    guest.wait_for_url(re.compile(r"/rooms/"))
    guest.goto(room_path)  # past the device check, if the server shows one first


def test_counselor_pushes_a_form_and_sees_it_arrive(
        chromium: Browser, live: LiveServer, people: list[Person]) -> None:  # noqa: F811
    staff = open_person(chromium, live, people)
    host = staff.page
    sign_in(host)
    admin_path = schedule_and_open(host, "Return-to-work plan — forms")
    room_path = admin_path.replace("/staff/rooms/", "/rooms/")
    host.get_by_role("button", name="Turn on").click()  # automatic admission: no lobby here
    link, code = create_invitation(host)
    host.goto(room_path)

    worker = open_person(chromium, live, people)
    phone = worker.page
    join(phone, link, code, room_path)

    picker = host.locator("#form-push-staff")
    if not picker.is_visible() and host.locator("#people-toggle").is_visible():
        host.locator("#people-toggle").click()  # the people panel holds it on a phone
    expect(picker).to_be_visible()
    host.get_by_label("Form", exact=True).select_option(label=FORM)
    expect(host.get_by_label("To", exact=True)).to_have_value(re.compile(r"\w+"))
    host.get_by_role("button", name="Send to the worker").click()
    expect(host.locator("#form-push-toast")).to_contain_text("It opens on their screen")

    sheet = phone.get_by_role("dialog", name=FORM)
    expect(sheet).to_be_visible()
    box = sheet.bounding_box()
    assert box is not None and box["width"] <= 390 and box["y"] > 0, box
    assert_fits_phone(phone)
    sheet.get_by_label("Full name").fill("Nguyen Van An")
    sheet.get_by_role("radio", name="Yes").check()
    sheet.get_by_role("checkbox", name="I have read and understood this explanation.").check()
    sheet.get_by_role("button", name="Send the form").click()
    expect(sheet).to_contain_text("Your counselor has received it")
    assert "/rooms/" in phone.url, "the call page stays: the form was sent from inside it"

    toast = host.locator("#form-push-toast")
    expect(toast).to_contain_text(f"Nguyen Van An sent {FORM}")
    review = toast.get_by_role("link", name="Review it")
    expect(review).to_have_attribute("href", re.compile(r"^/staff/submissions/\w+$"))
    expect(host.locator("#form-push-list")).to_contain_text("sent")

    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()
    assert staff.problems == []
    assert worker.problems == []
