"""The hall in a language staff did not write it in, through a live server with a real
(test-built) multilingual model: the page machine-translated and marked as such, the chatbot
answering a Vietnamese question from the English pages (question and answer translated, the
answer marked), and a language no model reaches shown and quoted in the original, marked."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.app.hall_support import database, visible_text
from tests.conftest import app_settings
from tests.live import OPEN, LiveServer
from tests.translation.packbuild import build_multilingual
from translation.packs import install_multilingual_dir

ROWS = [
    {"en": "vocational training", "vi": "đào tạo nghề"},
    {"en": "apply", "vi": "đăng ký"},
    {"en": "how", "vi": "làm sao"},
    {"en": "medical certificate", "vi": "giấy chứng nhận y tế"},
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    built = build_multilingual(tmp_path_factory.mktemp("built") / "tiny-m2m", ROWS)
    models = tmp_path_factory.mktemp("translation")
    install_multilingual_dir(built, models, licence="MIT (test model)")
    root = tmp_path_factory.mktemp("hall-tr")
    settings = app_settings(database(root), data_dir=root, translation_dir=models,
                            captions_enabled=False)
    server = LiveServer(settings).start()
    yield server
    server.stop()


def client(live: LiveServer) -> httpx.Client:
    http = httpx.Client(base_url=live.url, timeout=30)
    OPEN.append(http)  # type: ignore[arg-type]
    return http


def test_a_page_falls_back_to_machine_translation_marked_as_such(live: LiveServer) -> None:
    page = client(live).get("/hall/vocational-training", params={"lang": "vi"}).text
    assert "<h1>Đào tạo nghề</h1>" in page
    assert 'id="machine-note"' in page
    assert 'href="/hall/vocational-training?lang=en">' in page, "the original is a click away"
    assert "giấy chứng nhận y tế" in page
    korean = client(live).get("/hall/vocational-training", params={"lang": "ko"}).text
    assert "<h1>직업훈련</h1>" in korean and 'id="machine-note"' not in korean, (
        "a text staff wrote comes before any machine translation")


def test_the_chatbot_answers_in_the_askers_language_from_a_translated_page(
        live: LiveServer) -> None:
    answer = client(live).post("/hall/ask", json={
        "question": "Làm sao đăng ký đào tạo nghề?", "language": "vi"}).json()
    assert answer["answered"] and answer["machine"] and not answer["original"], answer
    assert answer["source"]["slug"] == "vocational-training"
    assert answer["source"]["url"] == "/hall/vocational-training?lang=vi#section-3"
    assert answer["source"]["title"] == "Đào tạo nghề"
    assert answer["sentences"] == [
        "Send the application for đào tạo nghề with a giấy chứng nhận y tế."]
    page = visible_text(client(live).get("/hall/vocational-training?lang=vi").text)
    assert answer["sentences"][0] in page, "the quoted sentence is on the cited page"


def test_with_no_route_the_original_is_quoted_and_marked(live: LiveServer) -> None:
    answer = client(live).post("/hall/ask", json={
        "question": "How do I apply for vocational training?", "language": "ne"}).json()
    assert answer["answered"] and answer["original"] and not answer["machine"], answer
    assert answer["sentences"] == [
        "Send the application for vocational training with a medical certificate."]
    assert answer["source"]["url"] == "/hall/vocational-training?lang=ne#section-3"
    page = client(live).get("/hall/vocational-training", params={"lang": "ne"}).text
    assert 'id="original-note"' in page
    declined = client(live).post("/hall/ask", json={
        "question": "Làm sao nấu phở?", "language": "vi"}).json()
    assert declined == {"answered": False, "language": "vi"}
