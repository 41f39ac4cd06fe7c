"""Form definitions: stored and read back unchanged, versioned on every change (a submission
keeps the version it answered), edited by admins in the editor page with problems per field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from rooms import forms as forms_repo
from rooms import staff as staff_repo
from rooms import submissions as submissions_repo
from rooms.db import make_engine, make_sessionmaker
from rooms.form_schema import FieldType, FormSpec
from rooms.models import StaffRole
from server.forms.examples import example_specs, load_examples
from tests.app.forms_support import VOCATIONAL, Worker, database, form_ids, send_link, start
from tests.conftest import staff_browser
from tests.live import LiveServer

SPEC = {
    "title": "Job counseling request", "language": "en",
    "fields": [
        {"name": "name", "type": "text", "label": "Name", "required": True},
        {"name": "age", "type": "number", "label": "Age", "min": 15, "max": 99},
        {"name": "start", "type": "date", "label": "Start"},
        {"name": "kind", "type": "choice", "label": "Kind", "required": True,
         "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        {"name": "more", "type": "text", "label": "More", "show_if": {"field": "kind",
                                                                       "equals": "b"}},
        {"name": "ok", "type": "checkbox", "label": "OK"},
        {"name": "file", "type": "file", "label": "File"},
        {"name": "agree", "type": "consent", "label": "I agree", "required": True},
    ],
    "translations": {"ko": {"title": "직업 상담 신청", "fields": {"name": {"label": "이름"}}}},
}


@pytest.fixture
async def engine(db_url: str) -> Iterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine  # type: ignore[misc]
    await engine.dispose()


async def test_definition_round_trip_and_versions(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    spec = FormSpec.model_validate(SPEC)
    async with sessions() as s, s.begin():
        admin = await staff_repo.create_staff(s, email="a@example.org", display_name="A",
                                              role=StaffRole.ADMIN, password_hash="x")
        form = await forms_repo.create_form(s, slug="job-counseling", spec=spec,
                                            created_by=admin.id)
    async with sessions() as s, s.begin():
        form = await forms_repo.get_form(s, form.id)
        first = await forms_repo.current_version(s, form)
        assert forms_repo.spec_of(first) == spec and first.version == 1
        assert {f.type for f in forms_repo.spec_of(first).fields} == set(FieldType)
        assert forms_repo.spec_of(first).translations["ko"].fields["name"].label == "이름"
        assert await forms_repo.save_version(s, form, spec, created_by=admin.id) is None
        person = await submissions_repo.create_submitter(s, display_name="Mai", language="vi",
                                                         created_by=admin.id)
        draft = await submissions_repo.open_draft(s, person, form, first.id)
        sent = await submissions_repo.submit(s, draft, {"name": "Mai"}, "vi")
        changed = spec.model_copy(update={"title": "Job counseling request (2027)"})
        second = await forms_repo.save_version(s, form, changed, created_by=admin.id)
        assert second is not None and second.version == 2 and form.title.endswith("(2027)")
    async with sessions() as s, s.begin():
        sent = await submissions_repo.get_submission(s, sent.id)
        assert sent.version_id == first.id, "a submission keeps the version it answered"
        versions = await forms_repo.versions(s, form.id)
        assert [v.version for v in versions] == [2, 1]
        assert forms_repo.spec_of(versions[1]) == spec, "old versions stay as they were"


async def test_examples_load_once_and_are_grounded_in_the_programs(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        assert set((await load_examples(s)).values()) == {"created"}
    async with sessions() as s, s.begin():
        assert set((await load_examples(s)).values()) == {"kept"}
        titles = {f.title for f in await forms_repo.list_forms(s)}
    assert titles == {"Application for vocational training",
                      "Request for a return-to-work plan consultation",
                      "Application for re-employment support",
                      "Consent to transcription and translation"}
    specs = example_specs()
    used = {f.type for spec in specs.values() for f in spec.fields}
    assert used == set(FieldType), "the examples use every field type"
    assert any(f.show_if for spec in specs.values() for f in spec.fields)
    assert all("ko" in spec.translations for spec in specs.values())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("forms-defs")
    server = start(database(root), root)
    yield server
    server.stop()


def test_admin_edits_a_form_and_sees_problems_per_field(live: LiveServer) -> None:
    admin = staff_browser(live, "admin")
    bad = dict(SPEC, fields=[*SPEC["fields"][:3],  # type: ignore[misc]
                             {"name": "kind", "type": "choice", "label": "Kind",
                              "choices": [{"value": "only", "label": "Only"}]},
                             {"name": "x", "type": "sometimes", "label": ""}])
    page = admin.post_form("/staff/forms", {"slug": "job-counseling",
                                            "definition": json.dumps(bad)}, "/staff/forms/new")
    assert page.status_code == 400
    assert "fields[3] (kind)" in page.text and "at least two choices" in page.text
    assert "fields[4] (x) &gt; type" in page.text and "fields[4] (x) &gt; label" in page.text
    assert 'aria-invalid="true"' in page.text and 'role="alert"' in page.text
    broken = admin.post_form("/staff/forms", {"slug": "job-counseling", "definition": "{"},
                             "/staff/forms/new")
    assert broken.status_code == 400 and "line 1, column 2" in broken.text

    made = admin.post_form("/staff/forms", {"slug": "job-counseling",
                                            "definition": json.dumps(SPEC)}, "/staff/forms/new")
    assert made.status_code == 200 and "Versions" in made.text
    form_path = made.url.path
    changed = dict(SPEC, title="Job counseling request, 2nd edition")
    saved = admin.post_form(form_path, {"definition": json.dumps(changed)})
    assert 'id="saved-version">Saved as version 2.' in saved.text
    same = admin.post_form(form_path, {"definition": json.dumps(changed)})
    assert "Nothing changed" in same.text
    assert "2nd edition" in admin.http.get("/staff/forms").text


def test_a_submission_shows_the_version_it_answered(live: LiveServer) -> None:
    admin = staff_browser(live, "admin")
    forms = form_ids(admin)
    form_id = forms["vocational-training"]
    worker = Worker(live, send_link(admin, form_id))
    worker.upload("medical_certificate", "cert.pdf", b"%PDF-1.5\n" + b"0" * 100)
    sent = worker.submit(VOCATIONAL, worker.draft_id())
    assert sent.status_code == 201, sent.text
    editor = admin.http.get(f"/staff/forms/{form_id}").text
    definition = json.loads(editor.split('name="definition"', 1)[1].split(">", 1)[1]
                            .split("</textarea>", 1)[0].replace("&#34;", '"')
                            .replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                            .replace("&#39;", "'").replace("&amp;", "&"))
    definition["fields"][0]["label"] = "Name as in your passport"
    assert admin.post_form(f"/staff/forms/{form_id}", {"definition": json.dumps(definition)}
                           ).status_code == 200
    review = admin.http.get(f"/staff/submissions/{sent.json()['submission_id']}").text
    assert "version 1" in review and "Full name" in review
    assert "Name as in your passport" not in review
    new = worker.page(lang="en").text
    assert "Name as in your passport" in new, "the next draft answers the new version"


def test_an_archived_form_takes_no_new_answers_but_keeps_what_was_sent(live: LiveServer) -> None:
    admin = staff_browser(live, "admin")
    form_id = form_ids(admin)["consent-transcription"]
    worker = Worker(live, send_link(admin, form_id, language="en"))
    answers = {"full_name": "Kim Min", "transcription": "yes", "consent": "yes"}
    sent = worker.submit(answers, worker.draft_id())
    assert sent.status_code == 201, sent.text
    admin.post_form(f"/staff/forms/{form_id}/archive", {"archived": "true"},
                    f"/staff/forms/{form_id}")
    closed = worker.page()
    assert closed.status_code == 410 and 'id="form-closed"' in closed.text
    assert sent.json()["submission_id"] in closed.text
    assert worker.submit(answers).status_code == 409
    assert 'data-slug="consent-transcription"' not in staff_browser(
        live, "counselor").http.get("/staff/forms").text, "counselors no longer send it"
    admin.post_form(f"/staff/forms/{form_id}/archive", {"archived": "false"},
                    f"/staff/forms/{form_id}")
    assert worker.page().status_code == 200
