"""Someone with no invitation opens the program hall on a phone in a real Chromium, asks the
help chatbot a question, sees the answer with its cited link and follows it; a question the
pages do not cover gets "no good answer" and the way to ask a counselor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.app.hall_support import database
from tests.browser.test_room_flow import (  # noqa: F401 - module fixtures used here
    Person,
    assert_fits_phone,
    chromium,
    open_person,
    people,
    playwright,
)
from tests.conftest import app_settings
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("hall-browser")
    server = LiveServer(app_settings(database(root), data_dir=root,
                                     captions_enabled=False)).start()
    yield server
    server.stop()


def test_a_visitor_asks_the_chatbot_and_follows_the_cited_page(
        chromium: Browser, live: LiveServer, people: list[Person]) -> None:  # noqa: F811
    visitor = open_person(chromium, live, people)
    page = visitor.page
    page.goto("/hall?lang=en")
    expect(page.get_by_role("heading", level=1, name="Our programs")).to_be_visible()
    expect(page.get_by_role("link", name="Vocational training")).to_be_visible()
    assert_fits_phone(page)

    page.get_by_label("Your question").fill("How do I apply for vocational training?")
    page.get_by_role("button", name="Ask").click()
    answer = page.locator(".chatbot-answer").nth(0)
    expect(answer.locator(".chatbot-quote")).to_have_text(
        "Send the application for vocational training with a medical certificate.")
    cite = answer.get_by_role("link", name="Vocational training — How to apply")
    expect(cite).to_have_attribute("href", "/hall/vocational-training?lang=en#section-3")

    page.get_by_label("Your question").fill("What is the capital of France?")
    page.get_by_label("Your question").press("Enter")
    declined = page.locator(".chatbot-answer").nth(1)
    expect(declined).to_contain_text("no good answer")
    expect(declined.get_by_role("link", name="Ask a counselor: request a consultation")
           ).to_have_attribute("href", "/hall/forms/return-to-work-plan?lang=en")

    cite.click()
    expect(page).to_have_url(f"{live.url}/hall/vocational-training?lang=en#section-3")
    expect(page.get_by_role("heading", level=1, name="Vocational training")).to_be_visible()
    expect(page.get_by_role("link", name="Application for vocational training")).to_be_visible()
    assert_fits_phone(page)
    assert visitor.problems == []
