"""Operations on a live server: Prometheus metrics that follow what happens, liveness and
readiness (database migrated, speech model loaded, draining)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rooms.migrate import upgrade
from server.services import Services
from tests.conftest import app_settings, staff_browser
from tests.live import LiveServer, Socket

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: LiveServer) -> Samples:
    """Every sample of the server's /metrics, by name and sorted labels."""
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Poll a state of the server that no message announces (a socket's detach)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def services_of(server: LiveServer) -> Services:
    app: Any = server.server.config.app
    services: Services = app.state.services
    return services


def test_metrics_follow_sockets_chat_and_errors(live: LiveServer) -> None:
    before = scrape(live)
    assert value(before, "counsel_room_sockets") == 0
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    connected = scrape(live)
    assert value(connected, "counsel_room_sockets") == 1
    assert value(connected, "counsel_rooms") == 1

    host.send({"type": "chat.send", "client_id": "ops-1", "text": "Good morning"})
    host.expect("chat.ack", client_id="ops-1")
    host.send("this is not json")
    assert host.expect("error")["code"] == "bad_json"
    after = scrape(live)
    assert value(after, "counsel_chat_messages_stored_total") == value(
        before, "counsel_chat_messages_stored_total") + 1
    assert value(after, "counsel_chat_batches_total") > value(before, "counsel_chat_batches_total")
    assert value(after, "counsel_chat_commit_seconds_count") == value(
        before, "counsel_chat_commit_seconds_count") + 1
    assert value(after, "counsel_chat_commit_seconds_sum") > 0
    assert value(after, "counsel_socket_errors_total", code="bad_json") == value(
        before, "counsel_socket_errors_total", code="bad_json") + 1

    host.close()
    eventually(lambda: value(scrape(live), "counsel_room_sockets") == 0)
    assert value(scrape(live), "counsel_rooms") == 0


def test_metrics_count_http_errors_by_route_template(live: LiveServer) -> None:
    secret = "a-secret-invitation-token"
    assert httpx.get(f"{live.url}/join/{secret}").status_code >= 400
    assert httpx.get(f"{live.url}/no/such/page").status_code == 404
    response = httpx.get(f"{live.url}/metrics")
    assert secret not in response.text
    errors = {labels: count for (name, labels), count in scrape(live).items()
              if name == "counsel_http_errors_total"}
    routes = {dict(labels)["route"] for labels in errors}
    assert {"/join/{token}", "unmatched"} <= routes
    assert errors[(("route", "unmatched"), ("status", "404"))] >= 1


def test_metrics_show_the_media_captions_and_queues_of_an_idle_node(live: LiveServer) -> None:
    samples = scrape(live)
    for name in ("counsel_media_peers", "counsel_media_rooms", "counsel_asr_queued",
                 "counsel_translation_queued", "counsel_caption_speakers", "counsel_draining"):
        assert (name, ()) in samples, name
        assert samples[(name, ())] == 0
    assert ("counsel_media_forwarded_packets_total", ()) in samples
    assert ("counsel_caption_final_seconds_count", ()) in samples


def test_liveness_and_readiness_of_a_migrated_node(live: LiveServer) -> None:
    assert httpx.get(f"{live.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "failed": [], "checks": {
        "database": "ok", "migrations": "ok", "captions": "ok", "translation": "ok",
        "draining": "ok"}}


def test_a_draining_node_is_not_ready(live: LiveServer) -> None:
    services = services_of(live)
    services.draining = True
    try:
        answer = httpx.get(f"{live.url}/readyz")
        assert (answer.status_code, answer.json()["failed"]) == (503, ["draining"])
        assert value(scrape(live), "counsel_draining") == 1
    finally:
        services.draining = False
    assert httpx.get(f"{live.url}/readyz").status_code == 200


def test_a_node_whose_speech_model_is_loading_is_not_ready(live: LiveServer) -> None:
    captions = services_of(live).captions
    assert captions.state == "unavailable"  # no model installed: captions off, node ready
    captions.enabled = True  # as if the model were installed and still loading
    try:
        answer = httpx.get(f"{live.url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["failed"] == ["captions"]
        assert answer.json()["checks"]["captions"] == "loading the speech model"
        assert httpx.get(f"{live.url}/healthz").status_code == 200
    finally:
        captions.enabled = False
    assert httpx.get(f"{live.url}/readyz").status_code == 200


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    server = LiveServer(app_settings(url, captions_enabled=False)).start()
    yield server, url
    server.stop()


def test_a_node_on_an_unmigrated_database_is_ready_once_migrated(
        unmigrated: tuple[LiveServer, str]) -> None:
    server, url = unmigrated
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    answer = httpx.get(f"{server.url}/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert body["failed"] == ["migrations"]
    assert body["checks"]["database"] == "ok"
    assert "counsel-room db upgrade" in body["checks"]["migrations"]

    upgrade(url)
    assert httpx.get(f"{server.url}/readyz").status_code == 200


def test_a_node_whose_database_is_gone_is_not_ready(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "counsel.db"  # SQLite cannot create it
    server = LiveServer(app_settings(f"sqlite+aiosqlite:///{missing}",
                                     captions_enabled=False)).start()
    try:
        answer = httpx.get(f"{server.url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["failed"] == ["database", "migrations"]
        assert answer.json()["checks"]["database"].startswith("unavailable")
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()
