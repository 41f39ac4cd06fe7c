"""Transcript export through the real server (agency zone Asia/Seoul): entries and corrections
written into the database with the repositories come back in JSON (validated by its schema),
WebVTT (strictly parsed) and plain text and on the page; only staff get them, every view and
export is in the audit log before the response, and only admins read that log."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.dates import format_datetime

from rooms import audit, lifecycle
from rooms import corrections as corrections_repo
from rooms import participants as participants_repo
from rooms import staff as staff_repo
from rooms import transcripts as transcripts_repo
from rooms.migrate import upgrade
from rooms.models import AuditEntry
from server.services import Services
from server.transcript_export import TranscriptExport
from tests.app.test_transcript_export_formats import parse_vtt
from tests.conftest import INTERPRETER, app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer

T = TypeVar("T")
ZONE = ZoneInfo("Asia/Seoul")
FORMATS = ("json", "vtt", "txt")
SAID_VI = "Tôi muốn quay lại làm việc"
SAID_KO = 'Fish & chips <b>bold</b> --> "ok"'
MACHINE_KO = "저는 일하러 돌아가고 싶어요"
DECLINED_TEXT = "something nobody may keep"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('export') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, timezone="Asia/Seoul")).start()
    yield server
    server.stop()


def on_server(live: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    assert live.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, live.loop).result(30)


def services_of(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


@dataclass
class Seeded:
    """A room with stored entries (the seeding browsers are closed after the first test)."""

    room_id: str
    worker_id: str
    host_id: str
    worker_utterance: str
    host_utterance: str
    opened_at: datetime


def _guest(live: LiveServer, host: Browser, room_id: str, name: str, consent: str) -> str:
    link, code = host.invite(room_id, "worker")
    guest = Browser(live.url)
    guest.join(link, code, name=name, language="vi", transcription=consent)
    return guest.room(room_id).participant_id


async def _store(live: LiveServer, seeded: Seeded) -> datetime:
    """Two entries (stored out of spoken order), corrections of the source and of a
    translation, and a correction of a declined speaker's caption, which has no entry."""
    async with services_of(live).sessions() as db, db.begin():
        room = await lifecycle.get_room(db, seeded.room_id)
        interpreter = await staff_repo.find_staff_by_email(db, INTERPRETER[0])
        assert interpreter is not None and room.opened_at is not None
        corrector = await participants_repo.join_as_staff(db, room=room, staff=interpreter)
        await transcripts_repo.add_entry(
            db, room_id=room.id, speaker_id=seeded.host_id, speaker_name="Counselor Kim",
            utterance_id=seeded.host_utterance, language="ko", text=SAID_KO, t_start=7.0,
            t_end=9.125, translations={"vi": {"text": "Cá và khoai tây", "route": "argos"}})
        await transcripts_repo.add_entry(
            db, room_id=room.id, speaker_id=seeded.worker_id, speaker_name="Nguyen Van An",
            utterance_id=seeded.worker_utterance, language="vi", text=SAID_VI, t_start=2.5,
            t_end=5.25, translations={"ko": {"text": MACHINE_KO, "route": "argos"},
                                      "en": {"text": "I want to go back", "route": "whisper"}})
        for language, text, replaced in [("ko", "다시 일하고 싶어요", MACHINE_KO),
                                         ("vi", SAID_VI + " sớm", SAID_VI),
                                         ("ko", "직장에 복귀하고 싶어요", "다시 일하고 싶어요")]:
            await corrections_repo.add(db, room_id=room.id, utterance_id=seeded.worker_utterance,
                                       language=language, text=text, replaced_text=replaced,
                                       by=corrector)
        await corrections_repo.add(db, room_id=room.id, utterance_id=uuid.uuid4().hex,
                                   language="vi", text=DECLINED_TEXT, replaced_text="x",
                                   by=corrector)
        return room.opened_at


@pytest.fixture(scope="module")
def seeded(live: LiveServer) -> Seeded:
    host = staff_browser(live, "counselor")
    room_id = host.create_room(title="Return-to-work plan")
    host_id = host.enter(room_id).participant_id
    worker_id = _guest(live, host, room_id, "Nguyen Van An", "yes")
    _guest(live, host, room_id, "Bob Declined", "no")  # never transcribed: no entries
    data = Seeded(room_id, worker_id, host_id, uuid.uuid4().hex, uuid.uuid4().hex,
                  datetime.min)
    data.opened_at = on_server(live, _store(live, data))
    return data


def _audit(live: LiveServer, room_id: str | None = None) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with services_of(live).sessions() as db:
            return await audit.recent(db, room_id=room_id)
    return on_server(live, read())


def _download(browser: Browser, room_id: str, extension: str) -> httpx.Response:
    response = browser.http.get(f"/staff/rooms/{room_id}/transcript.{extension}")
    assert response.status_code == 200, response.text[:300]
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="transcript-return-to-work-plan-'
                        rf'\d{{4}}-\d{{2}}-\d{{2}}\.{extension}"', disposition)
    assert response.headers["cache-control"] == "no-store"
    return response


def counselor(live: LiveServer) -> Browser:
    return staff_browser(live, "counselor")


def _said_at(seeded: Seeded, seconds: float) -> datetime:
    return (seeded.opened_at + timedelta(seconds=seconds)).astimezone(ZONE)


def test_json_export_validates_and_keeps_translations_and_corrections(
        live: LiveServer, seeded: Seeded) -> None:
    response = _download(counselor(live), seeded.room_id, "json")
    assert response.headers["content-type"] == "application/json"
    export = TranscriptExport.model_validate_json(response.text)
    assert (export.room.id, export.timezone, export.exported_by) == (
        seeded.room_id, "Asia/Seoul", "Counselor Kim")
    worker, host = export.entries  # spoken order, not the order they were stored in
    assert [worker.utterance_id, host.utterance_id] == [seeded.worker_utterance,
                                                       seeded.host_utterance]
    assert (worker.speaker.id, worker.speaker.name) == (seeded.worker_id, "Nguyen Van An")
    assert (worker.start, worker.end, worker.start_s) == ("00:00:02.500", "00:00:05.250", 2.5)
    assert worker.said_at == _said_at(seeded, 2.5)
    assert worker.said_at.utcoffset() == timedelta(hours=9)
    original = worker.original
    assert (original.language.code, original.language.name) == ("vi", "Tiếng Việt (Vietnamese)")
    assert (original.machine_text, original.text) == (SAID_VI, SAID_VI + " sớm")
    assert original.corrected_by == "Interpreter Kim"
    korean = {t.language.code: t for t in worker.translations}["ko"]
    assert (korean.language.name, korean.machine_text, korean.route, korean.text) == (
        "한국어 (Korean)", MACHINE_KO, "argos", "직장에 복귀하고 싶어요")
    assert [(c.replaced_text, c.text, c.corrected_by) for c in korean.corrections] == [
        (MACHINE_KO, "다시 일하고 싶어요", "Interpreter Kim"),
        ("다시 일하고 싶어요", "직장에 복귀하고 싶어요", "Interpreter Kim")]
    assert all(c.at.utcoffset() == timedelta(hours=9) for c in korean.corrections)
    english = {t.language.code: t for t in worker.translations}["en"]
    assert (english.text, english.route, english.corrected_by) == (
        "I want to go back", "whisper", None)
    assert host.original.text == SAID_KO and host.original.corrections == []
    assert DECLINED_TEXT not in response.text and "Bob Declined" not in response.text


def test_webvtt_export_parses_with_cues_in_order_on_the_session_clock(
        live: LiveServer, seeded: Seeded) -> None:
    response = _download(counselor(live), seeded.room_id, "vtt")
    assert response.headers["content-type"] == "text/vtt; charset=utf-8"
    vtt = parse_vtt(response.text)
    header = " ".join(vtt.notes[0])
    assert "Return-to-work plan" in header and "Asia/Seoul" in header
    assert [(cue.start, cue.end) for cue in vtt.cues] == [(2.5, 5.25), (7.0, 9.125)]
    worker, host = vtt.cues
    assert (worker.lines[0].voice, worker.lines[0].lang, worker.lines[0].text) == (
        "Nguyen Van An", "vi", SAID_VI + " sớm")
    assert {(line.lang, line.text) for line in worker.lines[1:]} == {
        ("en", "I want to go back"), ("ko", "직장에 복귀하고 싶어요")}
    assert (host.lines[0].voice, host.lines[0].text) == ("Counselor Kim", SAID_KO)
    notes = "\n".join("\n".join(note) for note in vtt.notes)
    said = _said_at(seeded, 2.5).strftime("%Y-%m-%d %H:%M:%S KST")
    assert f"said at {said} by Nguyen Van An" in notes
    assert f"ko machine translation (argos): {MACHINE_KO}" in notes
    assert f"vi machine text: {SAID_VI}" in notes
    assert "ko corrected by Interpreter Kim" in notes
    assert DECLINED_TEXT not in response.text


def test_plain_text_export_reads_as_a_transcript(live: LiveServer, seeded: Seeded) -> None:
    text = _download(counselor(live), seeded.room_id, "txt").text
    said = _said_at(seeded, 2.5).strftime("%Y-%m-%d %H:%M:%S KST")
    assert f"[00:00:02.500 - 00:00:05.250] {said}  Nguyen Van An" in text
    assert (f"Tiếng Việt (Vietnamese) [vi], corrected by Interpreter Kim: {SAID_VI} sớm"
            in text)
    assert f"machine text: {SAID_VI}" in text
    assert f"machine text: {MACHINE_KO}" in text
    assert "English [en], machine translation (whisper): I want to go back" in text
    assert f"한국어 (Korean) [ko], original: {SAID_KO}" in text
    assert text.index("] " + said) < text.index("[00:00:07.000 - 00:00:09.125]")
    assert DECLINED_TEXT not in text


def test_the_page_shows_names_local_times_corrections_and_export_links(
        live: LiveServer, seeded: Seeded) -> None:
    page = counselor(live).http.get(f"/staff/rooms/{seeded.room_id}/transcript").text
    assert page.count('class="transcript-entry"') == 2
    assert re.findall(r'data-utterance-id="(\w+)"', page) == [seeded.worker_utterance,
                                                               seeded.host_utterance]
    assert ">Tiếng Việt (Vietnamese)</td>" in page and ">한국어 (Korean)</td>" in page
    said = _said_at(seeded, 2.5)
    shown = format_datetime(said, "medium", tzinfo=said.tzinfo, locale="en")  # the page's locale
    assert f'<time datetime="{said.isoformat()}" title="KST">{shown}</time>' in page
    assert "corrected by Interpreter Kim" in page
    assert "직장에 복귀하고 싶어요" in page and MACHINE_KO in page  # current and machine text
    assert "Fish &amp; chips &lt;b&gt;bold&lt;/b&gt; --&gt; &#34;ok&#34;" in page
    for extension in FORMATS:
        assert f'href="/staff/rooms/{seeded.room_id}/transcript.{extension}"' in page
    assert DECLINED_TEXT not in page and "Bob Declined" not in page


def test_every_view_and_export_is_audited_before_the_response(
        live: LiveServer, seeded: Seeded) -> None:
    host = counselor(live)
    for path, action, form in [("transcript", "transcript.view", "page"),
                               *[(f"transcript.{x}", "transcript.export", x) for x in FORMATS]]:
        before = len(_audit(live, seeded.room_id))
        response = host.http.get(f"/staff/rooms/{seeded.room_id}/{path}")
        assert response.status_code == 200
        entries = _audit(live, seeded.room_id)  # committed by the time the response came
        assert len(entries) == before + 1
        newest = entries[0]
        assert (newest.staff_name, newest.action, newest.room_id, newest.detail["format"]) == (
            "Counselor Kim", action, seeded.room_id, form)
        assert newest.detail["entries"] == "2" and newest.staff_id is not None


def test_workers_and_anonymous_clients_are_refused(live: LiveServer, seeded: Seeded) -> None:
    link, code = counselor(live).invite(seeded.room_id, "worker")
    worker = Browser(live.url)
    worker.join(link, code, name="Curious Worker", language="vi")
    before = len(_audit(live))
    for client in (worker, Browser(live.url)):
        for path in ("transcript", *[f"transcript.{x}" for x in FORMATS]):
            url = f"/staff/rooms/{seeded.room_id}/{path}"
            response = client.http.get(url, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/staff/login")
            api = client.http.get(url, headers={"accept": "application/json"})
            assert api.status_code == 401 and SAID_VI not in api.text
    assert len(_audit(live)) == before


def test_unknown_rooms_formats_and_unassigned_interpreters_get_nothing(
        live: LiveServer, seeded: Seeded) -> None:
    host = counselor(live)
    before = len(_audit(live))
    for path in ("transcript", *[f"transcript.{x}" for x in FORMATS]):
        missing = host.http.get(f"/staff/rooms/{uuid.uuid4().hex}/{path}")
        assert missing.status_code == 404
    assert host.http.get(f"/staff/rooms/{seeded.room_id}/transcript.pdf"
                                ).status_code == 404
    interpreter = staff_browser(live, "interpreter")  # not assigned to this room
    for path in ("transcript", "transcript.json"):
        refused = interpreter.http.get(f"/staff/rooms/{seeded.room_id}/{path}")
        assert refused.status_code == 403 and SAID_VI not in refused.text
    assert len(_audit(live)) == before


def test_only_admins_read_the_audit_log_newest_first_by_room(
        live: LiveServer, seeded: Seeded) -> None:
    host = counselor(live)
    other_room = host.create_room(title="Another session")
    host.http.get(f"/staff/rooms/{other_room}/transcript.txt")
    host.http.get(f"/staff/rooms/{seeded.room_id}/transcript.vtt")
    for who in ("counselor", "interpreter"):
        browser = staff_browser(live, who)
        assert browser.http.get("/staff/audit").status_code == 403
        assert 'href="/staff/audit"' not in browser.http.get("/staff").text
    admin = staff_browser(live, "admin")
    assert 'href="/staff/audit"' in admin.http.get("/staff").text
    page = admin.http.get("/staff/audit").text
    rows = re.findall(r'class="audit-entry" data-room-id="(\w*)" data-action="([\w.]+)"\s+'
                      r'data-format="(\w*)">\s*<td><time datetime="([^"]+)"', page)
    assert rows[:2] == [(seeded.room_id, "transcript.export", "vtt", rows[0][3]),
                        (other_room, "transcript.export", "txt", rows[1][3])]
    times = [datetime.fromisoformat(row[3]) for row in rows]
    assert times == sorted(times, reverse=True) and len(rows) == len(_audit(live))
    assert all(t.utcoffset() == timedelta(hours=9) for t in times)
    assert "Counselor Kim" in page and "exported the transcript" in page
    filtered = admin.http.get("/staff/audit", params={"room": other_room}).text
    assert set(re.findall(r'data-room-id="(\w*)" data-action', filtered)) == {other_room}
    assert ">Another session</a>" in filtered
