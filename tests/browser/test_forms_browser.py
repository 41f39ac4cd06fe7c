"""A worker fills a form from the link a counselor sent, on a phone-sized page in a real
Chromium: problems shown beside each question with focus on the first, a conditional question,
a file uploaded as it is chosen, the draft kept across a reload; the counselor then sees the
submission in the review list and opens it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.app.forms_support import PDF, database, start
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    Person,
    assert_fits_phone,
    chromium,
    open_person,
    people,
    playwright,
    sign_in,
)
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("forms-browser")
    server = start(database(root), root)
    yield server
    server.stop()


def send_form(staff: Person, title: str, name: str, language: str) -> str:
    page = staff.page
    page.goto("/staff/forms")
    page.get_by_role("link", name=f"Send to a worker: {title}").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Their language").select_option(language)
    page.get_by_role("button", name="Create the link").first.click()
    link = page.get_by_label("Form link").input_value()
    assert "/f/" in link, link
    return link


def test_worker_fills_a_form_on_a_phone_and_the_counselor_sees_it(
        chromium: Browser, live: LiveServer, people: list[Person],  # noqa: F811
        tmp_path: Path) -> None:
    staff = open_person(chromium, live, people)
    sign_in(staff.page)
    link = send_form(staff, "Application for vocational training", "Nguyen Van An", "en")

    worker = open_person(chromium, live, people)
    phone = worker.page
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1,
                             name="Application for vocational training")).to_be_visible()
    assert_fits_phone(phone)
    phone.get_by_label("Full name").fill("Nguyen Van An")
    phone.get_by_role("button", name="Send the form").click()

    summary = phone.locator("#error-summary")
    expect(summary).to_be_visible()
    birth = phone.get_by_label("Date of birth")
    expect(birth).to_be_focused()
    expect(birth).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#f-birth_date-error")).to_have_text("This field is required.")
    expect(phone.locator("#f-consent-error")).to_contain_text("Tick this box to agree")
    assert "f-birth_date-error" in (birth.get_attribute("aria-describedby") or "")

    birth.fill("1988-04-12")
    phone.get_by_label("Phone number").fill("010-1234-5678")
    other_job = phone.get_by_label("What was your work?")
    expect(other_job).to_be_hidden()
    phone.get_by_role("radio", name="Other").check()
    expect(other_job).to_be_visible()
    other_job.fill("Shipyard welder")
    phone.get_by_role("radio", name="Yes, it has ended").check()
    phone.get_by_role("radio", name="Welding and machine operation").check()
    certificate = tmp_path / "certificate.pdf"
    certificate.write_bytes(PDF)
    upload = phone.get_by_label("Medical certificate (required)", exact=True)
    upload.set_input_files(str(certificate))
    expect(phone.locator("#f-medical_certificate-files")).to_contain_text("certificate.pdf")
    expect(phone.locator("#fill")).to_have_attribute("data-draft", "saved")
    expect(phone.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()

    phone.reload()  # a closed tab or a dropped connection loses nothing
    expect(phone.get_by_label("What was your work?")).to_have_value("Shipyard welder")
    expect(phone.get_by_role("radio", name="Other")).to_be_checked()
    expect(phone.locator("#f-medical_certificate-files")).to_contain_text("certificate.pdf")
    phone.get_by_role("checkbox", name=re.compile("I agree that the agency")).check()
    phone.get_by_role("button", name="Send the form").click()
    expect(phone.get_by_role("status").filter(has_text="Your form was received")).to_be_visible()
    expect(phone.locator("#submission-status")).to_have_text("Received")
    assert_fits_phone(phone)

    review = staff.page
    review.goto("/staff/submissions?status=submitted")
    row = review.locator("#submissions tr.submission", has_text="Nguyen Van An")
    expect(row).to_have_count(1)
    assert_fits_phone(review)
    row.get_by_role("link", name="Nguyen Van An").click()
    expect(review.locator("#answers")).to_contain_text("Shipyard welder")
    review.get_by_label("Change the status to").select_option("needs_info")
    review.get_by_label("Message to the worker (optional)").fill("Please add page two.")
    review.get_by_role("button", name="Change status").click()
    expect(review.locator("#submission-status")).to_have_text("More information needed")

    phone.reload()
    expect(phone.locator("#submission-status")).to_have_text("More information needed")
    expect(phone.locator("#messages")).to_contain_text("Please add page two.")
    for person in people:  # the refused first try answers 422, which Chromium logs
        problems = [p for p in person.problems if "status of 422" not in p]
        assert not problems, problems
