"""A worker fills a form from a link, over HTTP against a real server: answers checked per field
in their language, drafts kept on the server, attachments checked by content, a submit that
counts once, and nothing lost across a restart."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from server.forms import filling
from tests.app.forms_support import (
    EXE,
    PNG,
    VOCATIONAL,
    Worker,
    counselor,
    database,
    form_ids,
    send_link,
    start,
)
from tests.live import LiveServer

ONE_MB = 1024 * 1024


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forms-submit")


@pytest.fixture(scope="module")
def live(root: Path) -> Iterator[LiveServer]:
    server = start(database(root), root)
    yield server
    server.stop()


def _worker(live: LiveServer, slug: str = "vocational-training", language: str = "vi"
            ) -> Worker:
    staff = counselor(live)
    return Worker(live, send_link(staff, form_ids(staff)[slug], language=language))


def test_the_form_is_shown_in_the_workers_language(live: LiveServer) -> None:
    worker = _worker(live)
    page = worker.page()
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    assert "Đơn đăng ký học nghề" in page.text and "Giấy chứng nhận y tế" in page.text
    assert "Gửi mẫu đơn" in page.text, "the page's own words are in Vietnamese too"
    assert "machine-note" not in page.text, "stored translations are not machine-made"
    nepali = worker.page(lang="ne")
    assert "Application for vocational training" in nepali.text
    assert 'id="original-note"' in nepali.text, "no model here: the original, and said so"


def test_every_field_gets_its_own_error_in_the_workers_language(live: LiveServer) -> None:
    worker = _worker(live)
    answers = dict(VOCATIONAL, full_name="", birth_date="12/04/1988", hours_per_week="99",
                   former_job="other", course_field="astronaut", phone="x" * 31)
    del answers["consent"]
    sent = worker.submit(answers, worker.draft_id())
    assert sent.status_code == 422, sent.text
    errors = sent.json()["errors"]
    assert errors == {
        "full_name": "Mục này là bắt buộc.",
        "birth_date": "Hãy nhập ngày (năm-tháng-ngày).",
        "phone": "Hãy rút ngắn xuống còn 30 ký tự.",
        "former_job_other": "Mục này là bắt buộc.",
        "course_field": "Hãy chọn một trong các lựa chọn.",
        "hours_per_week": "Hãy nhập một số không lớn hơn 60.",
        "medical_certificate": "Hãy đính kèm một tệp.",
        "consent": "Hãy đánh dấu ô này để đồng ý; nếu không, mẫu đơn không thể gửi.",
    }
    page = worker.page(lang="en")
    assert 'value="12/04/1988"' in page.text, "what was typed stays in the draft"


def test_without_scripts_the_page_comes_back_with_the_errors(live: LiveServer) -> None:
    worker = _worker(live, language="en")
    page = worker.http.post(worker.path, data={"draft_id": worker.draft_id(),
                                               "full_name": "Kim", "hours_per_week": "abc"})
    assert page.status_code == 422
    assert 'id="error-summary"' in page.text and 'href="#f-birth_date"' in page.text
    assert 'aria-describedby="f-hours_per_week-help f-hours_per_week-error"' not in page.text
    assert 'aria-describedby="f-hours_per_week-error"' in page.text
    assert 'id="f-hours_per_week-error">Enter a number.</p>' in page.text
    assert 'value="Kim"' in page.text and 'aria-invalid="true"' in page.text
    photo = worker.upload("medical_certificate", "scan.png", PNG, "image/png").json()["id"]
    removed = worker.http.post(f"{worker.path}/attachments/{photo}/delete",
                               data={"draft_id": worker.draft_id(), "full_name": "Kim Hana"},
                               files={"medical_certificate": ("", b"", "application/pdf")})
    assert removed.status_code == 200 and "scan.png" not in removed.text
    assert 'value="Kim Hana"' in removed.text, "the answers posted with the button are kept"


def test_attachments_are_checked_by_content_and_size(live: LiveServer, root: Path) -> None:
    worker = _worker(live, language="en")
    big = worker.upload("medical_certificate", "scan.pdf", b"%PDF-1.4\n" + b"0" * ONE_MB)
    assert big.status_code == 413
    assert big.json()["error"]["message"] == "This file is larger than 1 MB. Attach a smaller one."
    disguised = worker.upload("medical_certificate", "certificate.pdf", EXE)
    assert disguised.status_code == 422 and disguised.json()["error"]["code"] == "file_type"
    assert "its content was checked, not its name" in disguised.json()["error"]["message"]
    text = worker.upload("medical_certificate", "photo.png", b"just some words", "image/png")
    assert text.status_code == 422 and text.json()["error"]["code"] == "file_type"
    wrong_field = worker.upload("full_name", "scan.png", PNG, "image/png")
    assert wrong_field.status_code == 422
    empty = worker.upload("medical_certificate", "empty.pdf", b"")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "file_empty"

    photo = worker.upload("medical_certificate", "진단서.exe", PNG, "application/x-msdownload")
    assert photo.status_code == 201, photo.text
    stored = photo.json()
    assert stored["content_type"] == "image/png" and stored["filename"] == "진단서.png"
    assert stored["sha256"] == hashlib.sha256(PNG).hexdigest()
    on_disk = [p for p in (root / "attachments").rglob("*") if p.is_file()]
    assert any(p.read_bytes() == PNG for p in on_disk), "kept outside the database"
    mine = worker.http.get(f"{worker.path}/attachments/{stored['id']}")
    assert mine.status_code == 200 and mine.content == PNG
    assert mine.headers["content-type"] == "image/png"
    assert mine.headers["content-disposition"].startswith("attachment;")
    assert mine.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in mine.headers["content-security-policy"]


def test_a_retried_submit_makes_one_submission(live: LiveServer) -> None:
    worker = _worker(live, language="en")
    draft = worker.draft_id()
    assert worker.upload("medical_certificate", "c.pdf", b"%PDF-1.7\n%%EOF\n").status_code == 201
    first = worker.submit(VOCATIONAL, draft)
    again = worker.submit(VOCATIONAL, draft)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["submission_id"] == again.json()["submission_id"]
    assert again.json()["repeated"] is True
    page = worker.page()
    assert page.text.count(f"/submissions/{first.json()['submission_id']}") == 1
    assert page.text.count('class="badge status-submitted"') == 1
    receipt = worker.http.get(first.json()["url"])
    assert receipt.status_code == 200 and "Your form was received and saved" in receipt.text


def test_two_submits_at_once_of_one_draft_make_one_submission(live: LiveServer) -> None:
    """A double tap on Send: every answer is that one submission (seen once under CPU load: a
    send that found the draft just sent opened a new one, without its files, and was told
    "Attach a file")."""
    worker = _worker(live, language="en")
    rounds = 4
    for _ in range(rounds):  # a new draft each round, the race run again
        draft = worker.draft_id()
        upload = worker.upload("medical_certificate", "c.pdf", b"%PDF-1.7\n%%EOF\n")
        assert upload.status_code == 201
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(worker.submit, [VOCATIONAL] * 4, [draft] * 4))
        assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
        assert len({a.json()["submission_id"] for a in answers}) == 1
        assert sorted(a.json()["repeated"] for a in answers) == [False, True, True, True]
    assert worker.page().text.count('class="badge status-submitted"') == rounds


def test_a_send_that_looked_just_before_another_one_stored_gets_that_submission(
        live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The double tap's bad interleaving, made certain: the second send looks for a submission
    of the page's draft just before the first one stores it, then finds the draft gone."""
    worker = _worker(live, language="en")
    draft = worker.draft_id()
    assert worker.upload("medical_certificate", "c.pdf", b"%PDF-1.7\n%%EOF\n").status_code == 201
    first = worker.submit(VOCATIONAL, draft)
    assert first.status_code == 201
    looks: list[str] = []
    look = filling.earlier_submission

    async def before_the_first_was_stored(db: Any, link: Any, draft_key: str) -> Any:
        looks.append(draft_key)
        return None if len(looks) == 1 else await look(db, link, draft_key)

    monkeypatch.setattr(filling, "earlier_submission", before_the_first_was_stored)
    again = worker.submit(VOCATIONAL, draft)
    assert looks == [draft, draft]
    assert again.status_code == 200, again.text
    assert again.json()["submission_id"] == first.json()["submission_id"]
    assert again.json()["repeated"] is True


def test_a_draft_and_a_submission_survive_a_restart(tmp_path: Path) -> None:
    url = database(tmp_path)
    server = start(url, tmp_path)
    try:
        staff = counselor(server)
        path = send_link(staff, form_ids(staff)["vocational-training"], language="en")
        worker = Worker(server, path)
        draft = worker.draft_id()
        saved = worker.save_draft({"full_name": "Tran Thi Mai", "former_job": "other",
                                   "former_job_other": "Shipyard welder", "consent": True})
        assert saved.status_code == 200 and saved.json()["draft_id"] == draft
        pdf = b"%PDF-1.4\n" + b"1" * 2048
        assert worker.upload("medical_certificate", "cert.pdf", pdf).status_code == 201
    finally:
        server.stop()

    server = start(url, tmp_path)
    try:
        worker = Worker(server, path)
        page = worker.page().text
        assert 'value="Tran Thi Mai"' in page and 'value="Shipyard welder"' in page
        assert re.search(r'value="other"\s+checked', page), "the chosen option stays chosen"
        assert "cert.pdf" in page and worker.draft_id() == draft
        answers = dict(VOCATIONAL, full_name="Tran Thi Mai", former_job="other",
                       former_job_other="Shipyard welder")
        sent = worker.submit(answers, draft)
        assert sent.status_code == 201, sent.text
        submission_id = sent.json()["submission_id"]
    finally:
        server.stop()

    server = start(url, tmp_path)
    try:
        staff = counselor(server)
        review = staff.http.get(f"/staff/submissions/{submission_id}")
        assert review.status_code == 200 and "Shipyard welder" in review.text
        assert hashlib.sha256(pdf).hexdigest()[:16] in review.text
        worker = Worker(server, path)
        mine = worker.http.get(f"{path}/submissions/{submission_id}")
        assert mine.status_code == 200 and "Tran Thi Mai" in mine.text
        assert worker.draft_id() != draft, "the sent draft is gone; a new one starts empty"
    finally:
        server.stop()
