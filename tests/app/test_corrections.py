"""Interpreters' corrections of final captions through a live server with a test-built
multilingual model: a translation's correction reaches the readers of that language (and the
interpreters) only, a source correction reaches everyone at once and is re-translated for them
in the background (a later one makes it moot; one left undone by a stopped server is finished),
the later correction wins, corrections survive a restart, and only an assigned interpreter may
correct."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from media.speech import CaptionEvent, CaptionKind
from rooms import corrections as corrections_repo
from rooms import interpreters as interpreters_repo
from rooms import staff as staff_repo
from rooms.migrate import upgrade
from rooms.models import Participant, Room, StaffRole
from server.captions import Speaker
from server.corrections import CaptionCorrections, Correction
from server.services import Services
from server.settings import Settings
from server.setup import create_staff_account
from server.ws.protocol import CORRECTED_REV
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket
from tests.translation.packbuild import installed_multilingual

T = TypeVar("T")
ROWS = [
    {"vi": "xin chào", "ko": "안녕하세요", "en": "hello"},
    {"vi": "cảm ơn", "ko": "감사합니다", "en": "thank you"},
    {"vi": "tôi có một câu hỏi", "ko": "질문이 있습니다", "en": "I have a question"},
]
SECOND_INTERPRETER = ("interpreter2@example.org", "interpreter-pass-2")


@pytest.fixture(scope="module")
def translation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_multilingual(tmp_path_factory, ROWS)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('corrections') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    email, password = SECOND_INTERPRETER
    asyncio.run(create_staff_account(Settings(database_url=url), email, "Interpreter Lee",
                                     StaffRole.INTERPRETER, password))
    return url


def _server(database: str, translation_dir: Path) -> LiveServer:
    return LiveServer(app_settings(database, translation_dir=translation_dir,
                                   staff_language="ko", captions_enabled=False)).start()


@pytest.fixture(scope="module")
def live(database: str, translation_dir: Path) -> Iterator[LiveServer]:
    server = _server(database, translation_dir)
    yield server
    server.stop()


def on_server(live: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    assert live.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, live.loop).result(30)


def services_of(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


@dataclass
class Room_:
    """An open room: a Korean counselor, a Vietnamese worker who speaks, an English-reading
    observer and one assigned interpreter (a second one on demand)."""

    live: LiveServer
    id: str
    counselor: Browser
    host: Socket
    worker: Socket
    worker_id: str
    english: Socket
    interpreter: Socket
    interpreter_browser: Browser


def _guest(live: LiveServer, counselor: Browser, host: Socket, room_id: str, role: str,
           name: str, language: str) -> tuple[Socket, str]:
    link, code = counselor.invite(room_id, role, label=name)
    browser = Browser(live.url)
    browser.join(link, code, name=name, language=language)
    socket = Socket(live.url, room_id, browser.room(room_id).token)
    pid = str(socket.expect("welcome")["you"]["id"])
    host.send({"type": "lobby.admit", "participant_id": pid})
    socket.expect("lobby.admitted", participant_id=pid)
    return socket, pid


def assign(live: LiveServer, room_id: str, email: str, assigned: bool = True) -> None:
    """What a host does on the room page (assign) or takes back (unassign)."""
    async def change() -> None:
        async with services_of(live).transaction() as session:
            interpreter = await staff_repo.find_staff_by_email(session, email)
            host = await staff_repo.find_staff_by_email(session, "counselor@example.org")
            assert interpreter is not None and host is not None
            if assigned:
                await interpreters_repo.assign(session, room_id=room_id, interpreter=interpreter,
                                               languages=["ko", "vi"], assigned_by=host)
            else:
                await interpreters_repo.unassign(session, room_id=room_id,
                                                 staff_id=interpreter.id)
    on_server(live, change())


def interpreter_socket(live: LiveServer, room_id: str, email: str, password: str
                       ) -> tuple[Socket, Browser]:
    assign(live, room_id, email)
    browser = Browser(live.url)
    assert browser.login(email, password).status_code == 200
    socket = Socket(live.url, room_id, browser.enter(room_id).token)
    socket.expect("welcome")
    return socket, browser


def open_room(live: LiveServer) -> Room_:
    counselor = staff_browser(live)
    room_id = counselor.create_room(title=f"Corrections {uuid.uuid4().hex[:4]}")
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    worker, worker_id = _guest(live, counselor, host, room_id, "worker", "Tran Thi Mai", "vi")
    english, _ = _guest(live, counselor, host, room_id, "observer", "Sam Reed", "en")
    interpreter, browser = interpreter_socket(live, room_id, "interpreter@example.org",
                                              "interpreter-pass-1")
    return Room_(live, room_id, counselor, host, worker, worker_id, english, interpreter,
                 browser)


def say_final(room: Room_, text: str, t_start: float = 1.0) -> str:
    """The worker's final caption, as the caption service publishes and stores it."""
    services = services_of(room.live)
    utterance = f"u-{uuid.uuid4().hex[:8]}"

    async def publish() -> None:
        async with services.sessions() as session:
            opened = (await session.get(Room, room.id)).opened_at  # type: ignore[union-attr]
        speaker = Speaker(room.id, room.worker_id, "Tran Thi Mai", "vi", opened)
        services.translations.readers_changed(room.id)
        await services.captions._publish(speaker, CaptionEvent(
            room.id, room.worker_id, utterance, 4, 0, "vi", text, CaptionKind.FINAL,
            t_start, t_start + 1.5))

    on_server(room.live, publish())
    for socket in (room.host, room.worker, room.english, room.interpreter):
        socket.until(lambda m: m["type"] == "caption" and m["utterance_id"] == utterance)
    return utterance


def corrected(socket: Socket, utterance: str, **fields: Any) -> dict[str, Any]:
    return socket.until(lambda m: m["type"] == "caption" and m["utterance_id"] == utterance
                        and m["rev"] >= CORRECTED_REV and all(
                            m.get(k) == v for k, v in fields.items()))


def settled(*sockets: Socket) -> None:
    """Everything sent before now has reached these sockets (a ping's pong comes after)."""
    for socket in sockets:
        nonce = uuid.uuid4().hex
        socket.send({"type": "ping", "nonce": nonce})
        socket.expect("pong", nonce=nonce)


def new_captions(socket: Socket, utterance: str) -> list[dict[str, Any]]:
    return [m for m in socket.seen if m["type"] == "caption" and m["utterance_id"] == utterance
            and m["rev"] >= CORRECTED_REV]


def test_a_translation_correction_reaches_only_readers_of_that_language(live: LiveServer
                                                                         ) -> None:
    room = open_room(live)
    utterance = say_final(room, "Xin chào")
    room.interpreter.send({"type": "caption.correct", "utterance_id": utterance,
                           "language": "ko", "text": "안녕하십니까"})

    got = corrected(room.host, utterance)
    assert got["text"] == "Xin chào" and got["final"] is True
    assert got["translations"] == {"ko": {"text": "안녕하십니까", "route": "interpreter"}}
    assert got["corrections"]["ko"]["by"] == "Interpreter Kim"
    console = corrected(room.interpreter, utterance)  # every translation, corrected or not
    assert console["translations"]["ko"]["text"] == "안녕하십니까"
    assert console["translations"]["en"] == {"text": "Hello", "route": "multilingual"}
    assert console["rev"] == got["rev"] == CORRECTED_REV + 1

    settled(room.interpreter, room.english, room.worker)
    assert new_captions(room.english, utterance) == []  # English readers: nothing new
    assert new_captions(room.worker, utterance) == []


def test_a_source_correction_is_translated_again_for_every_reader(live: LiveServer) -> None:
    room = open_room(live)
    utterance = say_final(room, "Xin chào")
    room.interpreter.send({"type": "caption.correct", "utterance_id": utterance,
                           "language": "ko", "text": "안녕하십니까"})
    corrected(room.host, utterance)

    room.interpreter.send({"type": "caption.correct", "utterance_id": utterance,
                           "language": "vi", "text": "Cảm ơn"})
    worker = corrected(room.worker, utterance, rev=CORRECTED_REV + 2)
    assert worker["text"] == "Cảm ơn" and list(worker["corrections"]) == ["vi"]
    # at once, everyone: the corrected original, the old text's translations gone, and which
    # languages are being translated again
    first = corrected(room.host, utterance, rev=CORRECTED_REV + 2)
    assert (first["text"], first["translations"], first["pending"]) == ("Cảm ơn", {},
                                                                        ["en", "ko"])
    host = corrected(room.host, utterance, rev=CORRECTED_REV + 3)  # the re-translation
    assert host["translations"] == {"ko": {"text": "감사합니다", "route": "multilingual"}}
    assert list(host["corrections"]) == ["vi"] and host["pending"] == []  # ko's gave way
    english = corrected(room.english, utterance, rev=CORRECTED_REV + 3)
    assert english["translations"] == {"en": {"text": "Thank you", "route": "multilingual"}}

    room.interpreter.send({"type": "caption.correct", "utterance_id": utterance,
                           "language": "ko", "text": "고맙습니다"})  # later than the source's
    again = corrected(room.host, utterance, rev=CORRECTED_REV + 4)
    assert again["translations"]["ko"] == {"text": "고맙습니다", "route": "interpreter"}
    assert set(again["corrections"]) == {"ko", "vi"}

    async def stored() -> list[tuple[str, str, str]]:
        async with services_of(live).sessions() as session:
            fixes = await corrections_repo.history(session, room.id)
        return [(f.language, f.text, f.replaced_text) for f in fixes]
    assert on_server(live, stored()) == [  # what readers saw before is kept
        ("ko", "안녕하십니까", "안녕하세요"), ("vi", "Cảm ơn", "Xin chào"),
        ("ko", "고맙습니다", "감사합니다")]


def test_a_later_source_correction_makes_the_earlier_re_translation_moot(
        live: LiveServer) -> None:
    room = open_room(live)
    utterance = say_final(room, "Xin chào")
    interpreter_id = room.interpreter.seen[0]["you"]["id"]

    async def twice() -> list[str]:
        service = CaptionCorrections(services_of(live))
        for text in ("Cảm ơn", "Tôi có một câu hỏi"):  # the second before the first lands
            await service.correct(Correction(room.id, interpreter_id, utterance, "vi", text))
        await services_of(live).background.idle()
        async with services_of(live).sessions() as session:
            fixes = await corrections_repo.of_utterance(session, room.id, utterance)
        return [f.text for f in fixes if f.retranslated_at is not None]
    assert "Tôi có một câu hỏi" in on_server(live, twice())
    room.host.send({"type": "captions.sync"})
    [now] = [c for c in room.host.expect("captions.history")["captions"]
             if c["utterance_id"] == utterance]
    assert (now["text"], now["translations"], now["pending"]) == (
        "Tôi có một câu hỏi", {"ko": {"text": "질문이 있습니다", "route": "multilingual"}}, [])
    latest = corrected(room.english, utterance, rev=now["rev"])  # the same on every page
    assert latest["translations"]["en"]["text"] == "I have a question"


def test_a_re_translation_a_stopped_server_left_undone_lands_on_the_next_sync(
        live: LiveServer) -> None:
    room = open_room(live)
    utterance = say_final(room, "Xin chào")

    async def stored_without_re_translation() -> None:  # the server stopped after storing
        async with services_of(live).transaction() as session:
            interpreter = await staff_repo.find_staff_by_email(session, "interpreter@example.org")
            assert interpreter is not None
            participants = await session.run_sync(lambda s: s.query(Participant).filter_by(
                room_id=room.id, staff_id=interpreter.id).all())
            await corrections_repo.add(
                session, room_id=room.id, utterance_id=utterance, language="vi",
                text="Cảm ơn", replaced_text="Xin chào", by=participants[0])
    on_server(live, stored_without_re_translation())
    room.english.send({"type": "captions.sync"})
    [waiting] = [c for c in room.english.expect("captions.history")["captions"]
                 if c["utterance_id"] == utterance]
    assert (waiting["rev"], waiting["text"], waiting["translations"]) == (
        CORRECTED_REV + 1, "Cảm ơn", {})
    assert "en" in waiting["pending"]
    landed = corrected(room.english, utterance, rev=CORRECTED_REV + 2)
    assert landed["translations"] == {"en": {"text": "Thank you", "route": "multilingual"}}


def test_the_later_of_two_interpreters_wins_on_both_consoles(live: LiveServer) -> None:
    room = open_room(live)
    second, _ = interpreter_socket(live, room.id, *SECOND_INTERPRETER)
    utterance = say_final(room, "Tôi có một câu hỏi")
    room.interpreter.send({"type": "caption.correct", "utterance_id": utterance,
                           "language": "ko", "text": "질문 하나 있어요"})
    corrected(second, utterance, rev=CORRECTED_REV + 1)
    second.send({"type": "caption.correct", "utterance_id": utterance,
                 "language": "ko", "text": "질문이 하나 있습니다"})
    for console in (room.interpreter, second):
        latest = corrected(console, utterance, rev=CORRECTED_REV + 2)
        assert latest["translations"]["ko"]["text"] == "질문이 하나 있습니다"
        assert latest["corrections"]["ko"]["by"] == "Interpreter Lee"
    assert corrected(room.host, utterance, rev=CORRECTED_REV + 2)["translations"]["ko"][
        "text"] == "질문이 하나 있습니다"

    room.host.send({"type": "captions.sync"})  # what a page loads on reconnect
    history = room.host.expect("captions.history")["captions"]
    mine = [c for c in history if c["utterance_id"] == utterance]
    assert [(c["rev"], c["translations"]) for c in mine] == [
        (CORRECTED_REV + 2, {"ko": {"text": "질문이 하나 있습니다", "route": "interpreter"}})]


def test_corrections_at_the_same_moment_get_distinct_revisions(live: LiveServer) -> None:
    two_at_once(live)


def test_corrections_at_the_same_moment_on_postgresql(postgres_url: str,
                                                      translation_dir: Path) -> None:
    seed_staff(postgres_url)
    email, password = SECOND_INTERPRETER
    asyncio.run(create_staff_account(Settings(database_url=postgres_url), email,
                                     "Interpreter Lee", StaffRole.INTERPRETER, password))
    server = _server(postgres_url, translation_dir)
    try:
        two_at_once(server)
    finally:
        server.stop()


def two_at_once(live: LiveServer) -> None:
    """Two interpreters' corrections of one line at the same moment: ordered, never tied."""
    room = open_room(live)
    second, _ = interpreter_socket(live, room.id, *SECOND_INTERPRETER)
    utterance = say_final(room, "Xin chào")
    interpreter_id = room.interpreter.seen[0]["you"]["id"]
    second_id = second.seen[0]["you"]["id"]

    async def both() -> list[int]:
        service = CaptionCorrections(services_of(live))
        done = await asyncio.gather(*(service.correct(Correction(
            room.id, who, utterance, "ko", text)) for who, text in (
                (interpreter_id, "안녕"), (second_id, "안녕하십니까"))))
        return sorted(caption.rev for caption in done)
    assert on_server(live, both()) == [CORRECTED_REV + 1, CORRECTED_REV + 2]

    async def replaced() -> list[str]:
        async with services_of(live).sessions() as session:
            return [f.replaced_text for f in await corrections_repo.history(session, room.id)]
    first_replaced, second_replaced = on_server(live, replaced())
    assert first_replaced == "안녕하세요" and second_replaced in ("안녕", "안녕하십니까")


def test_corrections_survive_a_restart(database: str, translation_dir: Path,
                                       tmp_path: Path) -> None:
    first = _server(database, translation_dir)
    try:
        room = open_room(first)
        utterance = say_final(room, "Cảm ơn")
        room.interpreter.send({"type": "caption.correct", "utterance_id": utterance,
                               "language": "ko", "text": "고맙습니다"})
        corrected(room.host, utterance)
    finally:
        first.stop()
    second = _server(database, tmp_path / "no-models")  # what readers see comes from the database
    try:
        for who, language in (("counselor", "ko"), ("interpreter", "en")):
            browser = staff_browser(second, who)
            socket = Socket(second.url, room.id, browser.room(room.id).token)
            socket.expect("welcome")
            socket.send({"type": "captions.sync", "limit": 50})
            [caption] = socket.expect("captions.history")["captions"]
            assert (caption["utterance_id"], caption["text"]) == (utterance, "Cảm ơn")
            assert caption["translations"]["ko"] == {"text": "고맙습니다", "route": "interpreter"}
            assert caption["corrections"]["ko"]["by"] == "Interpreter Kim"
            if language == "en":  # the interpreter's console gets every language
                assert caption["translations"]["en"]["route"] == "multilingual"
    finally:
        second.stop()


def test_only_an_assigned_interpreter_may_correct(live: LiveServer) -> None:
    room = open_room(live)
    utterance = say_final(room, "Xin chào")
    fix = {"type": "caption.correct", "utterance_id": utterance, "language": "ko",
           "text": "안녕"}
    for socket in (room.host, room.worker):
        socket.send(fix)
        assert socket.expect("error")["code"] == "forbidden"

    assign(live, room.id, "interpreter@example.org", assigned=False)  # taken off the room
    room.interpreter.send(fix)
    error = room.interpreter.expect("error")
    assert error["code"] == "forbidden" and "assigned" in error["message"]
    settled(room.host)
    assert new_captions(room.host, utterance) == []


def test_bad_corrections_are_refused_with_a_clear_error(live: LiveServer) -> None:
    room = open_room(live)
    utterance = say_final(room, "Xin chào")
    cases = [
        ({"utterance_id": "u-unknown", "language": "ko", "text": "안녕"}, "not_found"),
        ({"utterance_id": utterance, "language": "ko", "text": ""}, "invalid_message"),
        ({"utterance_id": utterance, "language": "ko", "text": "   "}, "invalid_message"),
        ({"utterance_id": utterance, "language": "ko", "text": "가" * 2001}, "invalid_message"),
        ({"utterance_id": utterance, "language": "th", "text": "สวัสดี"},
         "unsupported_language"),
    ]
    for fields, code in cases:
        room.interpreter.send({"type": "caption.correct", **fields})
        error = room.interpreter.expect("error")
        assert error["code"] == code, (fields, error)
    assert "nobody in this room reads 'th'" in error["message"]
    settled(room.host)
    assert new_captions(room.host, utterance) == []


def test_the_console_page_is_for_interpreters(live: LiveServer) -> None:
    room = open_room(live)
    page = room.interpreter_browser.http.get(f"/rooms/{room.id}/interpret")
    assert page.status_code == 200 and 'id="console"' in page.text
    assert "interpret.js" in page.text and "media.js" not in page.text  # listen only
    refused = room.counselor.http.get(f"/rooms/{room.id}/interpret",
                                      headers={"Accept": "application/json"})
    assert refused.status_code == 403
    stranger = httpx.get(f"{live.url}/rooms/{room.id}/interpret", follow_redirects=False)
    assert stranger.status_code in (401, 403)
