"""Staff review submissions over HTTP: by status, comments, status changes kept in a history
the worker reads, CSV export, a printable view, and who may see what (a worker only their own
submissions and files; interpreters no submissions at all)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.forms_support import (
    EXE,
    PDF,
    PNG,
    VOCATIONAL,
    Worker,
    counselor,
    database,
    form_ids,
    send_link,
    start,
)
from tests.conftest import staff_browser
from tests.live import Browser, LiveServer


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("forms-review")
    server = start(database(root), root)
    yield server
    server.stop()


def _submitted(live: LiveServer, staff: Browser, name: str, **answers: str
               ) -> tuple[Worker, str, str]:
    """A worker who sent the vocational-training form: (worker, submission id, attachment id)."""
    worker = Worker(live, send_link(staff, form_ids(staff)["vocational-training"], name=name,
                                    language="en", reference=f"claim-{name[:3]}"))
    draft = worker.draft_id()
    attachment = worker.upload("medical_certificate", f"{name}.pdf", PDF).json()["id"]
    sent = worker.submit(dict(VOCATIONAL, full_name=name, **answers), draft)
    assert sent.status_code == 201, sent.text
    return worker, sent.json()["submission_id"], attachment


def _rows(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-submission-id="(\w+)" data-status="(\w+)"', page))


def test_review_flow_with_history_comments_and_export(live: LiveServer) -> None:
    staff = counselor(live)
    worker, submission, _ = _submitted(live, staff, "Pham Thi Lan", notes="=HYPERLINK(evil)")
    listed = staff.http.get("/staff/submissions", params={"status": "submitted"})
    assert _rows(listed.text).get(submission) == "submitted"
    assert submission not in _rows(staff.http.get(
        "/staff/submissions", params={"status": "approved"}).text)

    page = f"/staff/submissions/{submission}"
    moved = staff.post_form(f"{page}/status", {"status": "under_review"}, page)
    assert moved.status_code == 200 and 'id="submission-status">Under review' in moved.text
    asked = staff.post_form(f"{page}/status", {
        "status": "needs_info", "comment": "Please send the certificate's second page."}, page)
    assert "Status: Under review → More information needed" in asked.text
    staff.post_form(f"{page}/comments", {"text": "Checked with the training centre.",
                                         "internal": "true"}, page)
    again = staff.post_form(f"{page}/status", {"status": "needs_info"}, page)
    assert again.status_code == 409, "the same status twice is not a change"

    mine = worker.http.get(f"{worker.path}/submissions/{submission}")
    assert 'id="submission-status">More information needed' in mine.text
    assert "Please send the certificate&#39;s second page." in mine.text
    assert "Checked with the training centre" not in mine.text, "internal notes stay inside"
    reply = worker.http.post(f"{worker.path}/submissions/{submission}/reply",
                             data={"text": "I will bring it on Monday."})
    assert reply.status_code == 200 and "I will bring it on Monday." in reply.text
    assert 'id="add-file"' in reply.text, "asked for more, the worker can add a file"
    added = worker.http.post(f"{worker.path}/submissions/{submission}/attachments",
                             data={"field": "medical_certificate"},
                             files={"file": ("page-2.png", PNG, "image/png")})
    assert added.status_code == 200 and "page-2.png" in added.text
    refused = worker.http.post(f"{worker.path}/submissions/{submission}/attachments",
                               data={"field": "medical_certificate"},
                               files={"file": ("page-3.pdf", EXE, "application/pdf")},
                               headers={"accept": "application/json"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "file_type"

    history = staff.http.get(page).text.split('id="history"', 1)[1]
    kinds = re.findall(r'data-kind="(\w+)"', history)
    assert kinds == ["submitted", "status", "status", "comment", "comment", "file"]
    assert "Internal note" in history and "Pham Thi Lan" in history
    files = staff.http.get(page).text.split('id="answers"', 1)[1]
    assert "Pham Thi Lan.pdf" in files and "page-2.png" in files
    staff.post_form(f"{page}/status", {"status": "approved"}, page)
    late = worker.http.post(f"{worker.path}/submissions/{submission}/attachments",
                            data={"field": "medical_certificate"},
                            files={"file": ("page-4.png", PNG, "image/png")})
    assert late.status_code == 409, "once decided, nothing is added"
    assert 'id="add-file"' not in worker.http.get(f"{worker.path}/submissions/{submission}").text

    exported = staff.http.get("/staff/submissions.csv", params={"status": "approved"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    row = next(r for r in rows if r["submission"] == submission)
    assert (row["name"], row["status"], row["form"]) == ("Pham Thi Lan", "approved",
                                                          "vocational-training")
    assert row["medical_certificate"] == "Pham Thi Lan.pdf; page-2.png"
    assert row["consent"] == "yes"
    assert row["notes"] == "'=HYPERLINK(evil)", "formulas are not run by spreadsheets"

    printed = staff.http.get(f"{page}/print")
    assert printed.status_code == 200 and "forms-print.css" in printed.text
    assert "Pham Thi Lan" in printed.text and "<form" not in printed.text


def test_a_worker_sees_only_their_own_submissions_and_files(live: LiveServer) -> None:
    staff = counselor(live)
    first, first_id, first_file = _submitted(live, staff, "Bui Van Hung")
    second, second_id, _ = _submitted(live, staff, "Le Thi Thu")
    assert first.http.get(f"{first.path}/submissions/{first_id}").status_code == 200
    assert first.http.get(f"{first.path}/attachments/{first_file}").content == PDF
    assert second.http.get(f"{second.path}/submissions/{first_id}").status_code == 404
    assert second.http.get(f"{second.path}/attachments/{first_file}").status_code == 404
    assert second.http.post(f"{second.path}/attachments/{first_file}/delete").status_code == 404
    assert second.http.post(f"{second.path}/submissions/{first_id}/reply",
                            data={"text": "hi"}).status_code == 404
    assert "Bui Van Hung" not in second.page().text
    assert second_id in second.page().text and first_id not in second.page().text
    forged = second.path[:-3] + ("abc" if not second.path.endswith("abc") else "xyz")
    assert second.http.get(forged).status_code == 403
    staff_file = f"/staff/submissions/{first_id}/attachments/{first_file}"
    assert second.http.get(staff_file, follow_redirects=False).status_code == 303
    assert second.http.get(f"/staff/submissions/{first_id}",
                           follow_redirects=False).status_code == 303
    wrong_pair = staff.http.get(f"/staff/submissions/{second_id}/attachments/{first_file}")
    assert wrong_pair.status_code == 404
    download = staff.http.get(staff_file)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Bui Van Hung.pdf\"; filename*=UTF-8''Bui%20Van%20Hung.pdf")
    assert download.headers["x-content-type-options"] == "nosniff"


def test_interpreters_do_not_review_and_admins_do(live: LiveServer) -> None:
    staff = counselor(live)
    _, submission, attachment = _submitted(live, staff, "Tran Van Minh")
    interpreter = staff_browser(live, "interpreter")
    for path in ("/staff/submissions", f"/staff/submissions/{submission}",
                 f"/staff/submissions/{submission}/print", "/staff/submissions.csv",
                 f"/staff/submissions/{submission}/attachments/{attachment}"):
        assert interpreter.http.get(path).status_code == 403, path
    admin = staff_browser(live, "admin")
    assert submission in _rows(admin.http.get("/staff/submissions").text)
