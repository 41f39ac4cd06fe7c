"""A form and its messages in the worker's language through a live server with a real
(test-built) multilingual model: stored translations first, machine translation for the rest,
marked as such; staff comments reach the worker translated, and replies reach staff."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.app.forms_support import Worker, database, send_link, settings_for
from tests.conftest import staff_browser
from tests.live import LiveServer
from tests.translation.packbuild import installed_multilingual

ROWS = [
    {"vi": "xin chào", "ko": "안녕하세요", "en": "hello"},
    {"vi": "cảm ơn", "ko": "감사합니다", "en": "thank you"},
    {"vi": "tôi có một câu hỏi", "ko": "질문이 있습니다", "en": "I have a question"},
]
SPEC = {
    "title": "Question for the counselor", "language": "en",
    "fields": [
        {"name": "greeting", "type": "text", "label": "hello", "help": "I have a question",
         "required": True},
        {"name": "name", "type": "text", "label": "Name"},
    ],
    "translations": {"vi": {"fields": {"name": {"label": "Tên của bạn"}}}},
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    models = installed_multilingual(tmp_path_factory, ROWS)
    root = tmp_path_factory.mktemp("forms-tr")
    settings = settings_for(database(root), root, translation_dir=models, staff_language="ko",
                            captions_enabled=False)
    server = LiveServer(settings).start()
    yield server
    server.stop()


def test_labels_fall_back_to_machine_translation_marked_as_such(live: LiveServer) -> None:
    admin = staff_browser(live, "admin")
    made = admin.post_form("/staff/forms", {"slug": "question", "definition": json.dumps(SPEC)},
                           "/staff/forms/new")
    form_id = made.url.path.rsplit("/", 1)[1]
    worker = Worker(live, send_link(admin, form_id, name="Hoang Van Nam", language="vi"))
    page = worker.page().text
    assert "Tên của bạn" in page, "the stored translation comes first"
    lowered = page.lower()
    assert "xin chào" in lowered and "tôi có một câu hỏi" in lowered
    assert 'id="machine-note"' in page and 'class="mt-mark"' in page
    nepali = worker.page(lang="ne").text
    assert "hello" in nepali and 'id="original-note"' in nepali, (
        "with no route into the language the original is shown, and the page says so")

    sent = worker.submit({"greeting": "xin chào", "name": "Nam"}, worker.draft_id())
    assert sent.status_code == 201, sent.text
    submission = sent.json()["submission_id"]
    review = f"/staff/submissions/{submission}"
    admin.post_form(f"{review}/comments", {"text": "감사합니다"}, review)
    mine = worker.http.get(f"{worker.path}/submissions/{submission}").text
    assert "cảm ơn" in mine.lower() and "Bản dịch máy" in mine
    assert "<summary>Bản gốc</summary><p>감사합니다</p>" in mine
    worker.http.post(f"{worker.path}/submissions/{submission}/reply",
                     data={"text": "tôi có một câu hỏi"})
    staff_view = admin.http.get(review).text
    assert "질문이 있습니다" in staff_view and "Machine translation" in staff_view
