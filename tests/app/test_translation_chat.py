"""Chat in each reader's language through a live server with a real (test-built) multilingual
CTranslate2 model: stored beside the message, trimmed per reader, kept across a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rooms.migrate import upgrade
from server.services import Services
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket
from tests.translation.packbuild import installed_multilingual

ROWS = [
    {"vi": "xin chào", "ko": "안녕하세요", "en": "hello"},
    {"vi": "cảm ơn", "ko": "감사합니다", "en": "thank you"},
    {"vi": "tôi có một câu hỏi", "ko": "질문이 있습니다", "en": "I have a question"},
]


@pytest.fixture(scope="module")
def translation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_multilingual(tmp_path_factory, ROWS)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('chat-tr') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    return url


def _server(database: str, translation_dir: Path) -> LiveServer:
    return LiveServer(app_settings(database, translation_dir=translation_dir,
                                   staff_language="ko", captions_enabled=False)).start()


@pytest.fixture(scope="module")
def live(database: str, translation_dir: Path) -> Iterator[LiveServer]:
    server = _server(database, translation_dir)
    yield server
    server.stop()


def _services(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


def _room_with_worker(live: LiveServer) -> tuple[Browser, str, Socket, Socket, str]:
    """A Korean-speaking counselor's open room with a Vietnamese worker admitted: (counselor,
    room id, counselor's socket, worker's socket, worker's participant id)."""
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    link, code = counselor.invite(room_id, "worker", label="Tran Thi Mai")
    worker_browser = Browser(live.url)
    worker_browser.join(link, code, name="Tran Thi Mai", language="vi")
    worker = Socket(live.url, room_id, worker_browser.room(room_id).token)
    me = worker.expect("welcome")["you"]
    assert (me["language"], me["reading_language"]) == ("vi", "vi")
    host.send({"type": "lobby.admit", "participant_id": me["id"]})
    worker.expect("lobby.admitted")
    worker.expect("chat.history")
    return counselor, room_id, host, worker, me["id"]


def _chat(socket: Socket, text: str) -> dict[str, Any]:
    return socket.until(lambda m: m["type"] == "chat.message" and m["message"]["text"] == text)[
        "message"]


def test_each_reader_gets_the_chat_in_their_language_once_translated(live: LiveServer) -> None:
    _, _, host, worker, _ = _room_with_worker(live)
    stats_before = _services(live).translations.service.stats()  # type: ignore[union-attr]

    worker.send({"type": "chat.send", "client_id": "w1", "text": "Xin chào"})
    worker.expect("chat.ack", client_id="w1")
    got = _chat(host, "Xin chào")
    assert got["lang"] == "vi"
    assert got["translations"] == {"ko": {"text": "안녕하세요", "route": "multilingual"}}
    assert got["no_route"] == []
    own = _chat(worker, "Xin chào")  # the writer's own words come back untranslated for them
    assert own["translations"] == {}

    host.send({"type": "chat.send", "client_id": "h1", "text": "감사합니다"})
    reply = _chat(worker, "감사합니다")
    assert (reply["lang"], reply["translations"]) == (
        "ko", {"vi": {"text": "Cảm ơn", "route": "multilingual"}})

    stats = _services(live).translations.service.stats()  # type: ignore[union-attr]
    assert stats.cache_misses - stats_before.cache_misses == 2  # one translation per message


def test_someone_admitted_reads_the_next_message_in_their_language_at_once(
        live: LiveServer) -> None:
    counselor, room_id, host, worker, _ = _room_with_worker(live)
    host.send({"type": "chat.send", "client_id": "p1", "text": "감사합니다"})
    _chat(worker, "감사합니다")  # the room's reading languages (ko, vi) are known now
    link, code = counselor.invite(room_id, "observer", label="Sam Reed")
    reader = Browser(live.url)
    reader.join(link, code, name="Sam Reed", language="en")
    english = Socket(live.url, room_id, reader.room(room_id).token)
    reader_id = english.expect("welcome")["you"]["id"]
    host.send({"type": "lobby.admit", "participant_id": reader_id})
    host.until(lambda m: m["type"] == "presence" and any(
        p["id"] == reader_id for p in m["participants"]))
    host.send({"type": "chat.send", "client_id": "p2", "text": "안녕하세요"})  # right away
    assert _chat(english, "안녕하세요")["translations"] == {
        "en": {"text": "Hello", "route": "multilingual"}}


def test_a_new_reading_language_translates_the_chat_so_far(live: LiveServer) -> None:
    _, _, host, worker, worker_id = _room_with_worker(live)
    host.send({"type": "chat.send", "client_id": "h2", "text": "질문이 있습니다"})
    assert _chat(worker, "질문이 있습니다")["translations"]["vi"]["text"] == "Tôi có một câu hỏi"

    worker.send({"type": "reading.set", "language": "en"})
    presence = worker.until(lambda m: m["type"] == "presence" and any(
        p["id"] == worker_id and p["reading_language"] == "en" for p in m["participants"]))
    assert presence
    worker.send({"type": "chat.sync", "after_seq": 0})
    history = worker.expect("chat.history")["messages"]
    assert [(m["text"], m["translations"]) for m in history] == [
        ("질문이 있습니다", {"en": {"text": "I have a question", "route": "multilingual"}})]
    # the counselor still reads Korean: the new language changed nothing for them
    host.send({"type": "chat.sync", "after_seq": 0})
    resent = host.until(lambda m: m["type"] == "chat.history" and bool(m["messages"]))
    assert resent["messages"][0]["translations"] == {}


def test_unsupported_and_untranslatable_reading_languages(live: LiveServer) -> None:
    _, _, host, worker, worker_id = _room_with_worker(live)
    worker.send({"type": "reading.set", "language": "xx"})
    error = worker.expect("error")
    assert error["code"] == "unsupported_language" and "xx" in error["message"]

    worker.send({"type": "reading.set", "language": "th"})  # offered, but no model has Thai
    worker.until(lambda m: m["type"] == "presence" and any(
        p["id"] == worker_id and p["reading_language"] == "th" for p in m["participants"]))
    host.send({"type": "chat.send", "client_id": "h3", "text": "안녕하세요"})
    got = _chat(worker, "안녕하세요")
    assert (got["translations"], got["no_route"]) == ({}, ["th"])
    worker.send({"type": "chat.sync", "after_seq": 0})  # history says so too
    history = worker.until(lambda m: m["type"] == "chat.history" and bool(m["messages"]))
    assert [(m["text"], m["no_route"]) for m in history["messages"]] == [("안녕하세요", ["th"])]


def test_stored_translations_survive_a_restart(database: str, translation_dir: Path,
                                               tmp_path: Path) -> None:
    first = _server(database, translation_dir)
    try:
        _, room_id, host, worker, _ = _room_with_worker(first)
        worker.send({"type": "chat.send", "client_id": "w9", "text": "Cảm ơn"})
        assert _chat(host, "Cảm ơn")["translations"]["ko"]["text"] == "감사합니다"
        host.close()
        worker.close()
    finally:
        first.stop()
    # the new server has no translation model: what the reader sees comes from the database
    second = _server(database, tmp_path / "empty")
    try:
        host = Socket(second.url, room_id, staff_browser(second).room(room_id).token)
        history = host.expect("chat.history")["messages"]
        assert [(m["text"], m["translations"]) for m in history] == [
            ("Cảm ơn", {"ko": {"text": "감사합니다", "route": "multilingual"}})]
    finally:
        second.stop()


def test_metrics_show_the_translation_cache_to_a_loopback_scraper(live: LiveServer) -> None:
    _, _, host, worker, _ = _room_with_worker(live)
    for n in range(2):  # the same words twice: the second time from the cache
        worker.send({"type": "chat.send", "client_id": f"m{n}", "text": "Cảm ơn"})
        _chat(host, "Cảm ơn")
    body = httpx.get(f"{live.url}/metrics").text
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
              for line in body.splitlines() if line and not line.startswith("#")}
    assert values['counsel_translation_cache_total{result="hit"}'] >= 1
    assert values['counsel_translation_batches_total{source="vi",target="ko"}'] >= 1
    assert values["counsel_room_sockets"] >= 2


def test_metrics_need_the_token_when_one_is_set(database: str, tmp_path: Path) -> None:
    server = LiveServer(app_settings(database, translation_dir=tmp_path, captions_enabled=False,
                                     metrics_token="scrape-" + "y" * 24)).start()
    try:
        assert httpx.get(f"{server.url}/metrics").status_code == 403
        wrong = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        right = httpx.get(f"{server.url}/metrics",
                          headers={"Authorization": "Bearer scrape-" + "y" * 24})
        assert right.status_code == 200 and "counsel_room_sockets" in right.text
    finally:
        server.stop()
