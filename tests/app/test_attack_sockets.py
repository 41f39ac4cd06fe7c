"""Attacks on the room socket from outside, each reproduced against a live server: a removed
worker who reconnects at the moment of removal, one participant opening dozens of sockets, and
a flood of chat spread over several sockets, many sockets from one address, a client that stops
reading, and slowloris."""

from __future__ import annotations

import contextlib
import json
import socket as tcp
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame
from websockets.uri import parse_uri

from rooms.migrate import upgrade
from server.services import Services
from server.settings import Settings
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket

ATTEMPTS = 60


def _default(name: str) -> int:
    """A setting as the live server has it (the tests' servers keep the defaults)."""
    value = Settings.model_fields[name].default
    assert isinstance(value, int | float)
    return int(value)


def _room_with_admitted_worker(live: LiveServer) -> tuple[Socket, str, str, str]:
    """An open room: (the counselor's socket, room id, the worker's token, worker's id)."""
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    link, code = counselor.invite(room_id, "worker", label="Bold")
    worker = Browser(live.url)
    worker.join(link, code, name="Bold Bat", language="mn")
    token = worker.room(room_id).token
    first = Socket(live.url, room_id, token)
    worker_id = str(first.expect("welcome")["you"]["id"])
    host.send({"type": "lobby.admit", "participant_id": worker_id})
    first.expect("lobby.admitted")
    first.close()
    return host, room_id, token, worker_id


def _ending(socket: Socket, timeout: float = 10.0) -> tuple[int | None, list[str]]:
    """Read until the server closes; returns the close code and the message types seen."""
    types: list[str] = []
    try:
        while True:
            types.append(json.loads(socket.ws.recv(timeout=timeout))["type"])
    except ConnectionClosed:
        return socket.ws.close_code, types
    except TimeoutError:
        return None, types  # still open


def test_sockets_opened_while_a_worker_is_removed_all_end(live: LiveServer) -> None:
    host, room_id, token, worker_id = _room_with_admitted_worker(live)

    def attempt(_: int) -> Socket | None:
        try:
            return Socket(live.url, room_id, token)
        except Exception:
            return None  # refused at the handshake: fine

    with ThreadPoolExecutor(16) as pool:
        opening = [pool.submit(attempt, k) for k in range(ATTEMPTS)]
        host.send({"type": "participant.remove", "participant_id": worker_id})
        sockets = [s for s in (f.result() for f in opening) if s is not None]
    host.until(lambda m: m["type"] == "presence" and all(
        p["id"] != worker_id for p in m["participants"]))
    host.send({"type": "chat.send", "client_id": "after-removal", "text": "Not for Bold"})
    host.expect("chat.ack", client_id="after-removal")
    endings = [_ending(s) for s in sockets]
    still_open = [types for code, types in endings if code is None]
    assert still_open == [], f"{len(still_open)} of {len(sockets)} sockets kept listening"
    assert {code for code, _ in endings} <= {4403, 4429}  # removed, or one socket too many
    # the only message sent in the room was sent after the removal
    heard = [(code, types) for code, types in endings if "chat.message" in types]
    assert heard == [], heard


def _connect_many(live: LiveServer, room_id: str, token: str, count: int) -> list[Socket]:
    def attempt(_: int) -> Socket:
        return Socket(live.url, room_id, token)
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(attempt, range(count)))


def test_one_participant_gets_a_few_sockets_not_a_hundred(live: LiveServer) -> None:
    _, room_id, token, _ = _room_with_admitted_worker(live)
    sockets = _connect_many(live, room_id, token, 30)  # all at once
    welcomed = refused = 0
    for socket in sockets:
        first = json.loads(socket.ws.recv(timeout=10))
        if first["type"] == "welcome":
            welcomed += 1
        else:
            assert first["code"] == "too_many_connections"
            assert _ending(socket)[0] == 4429
            refused += 1
    limit = _default("ws_max_sockets_per_participant")
    assert (welcomed, refused) == (limit, 30 - limit)


def test_many_sockets_share_one_chat_allowance(live: LiveServer) -> None:
    host, room_id, token, _ = _room_with_admitted_worker(live)
    sockets = _connect_many(live, room_id, token, _default("ws_max_sockets_per_participant"))
    for socket in sockets:
        socket.expect("chat.history")
    began = time.monotonic()
    for k in range(25):
        for n, socket in enumerate(sockets):
            socket.send({"type": "chat.send", "client_id": f"flood-{n}-{k}", "text": "spam"})
    replies = [m for socket in sockets for m in _replies(socket, 25)]
    elapsed = time.monotonic() - began
    stored = sum(1 for m in replies if m["type"] == "chat.ack")
    limited = sum(1 for m in replies if m.get("code") == "rate_limited")
    allowed = _default("chat_rate_burst") + _default("chat_rate_per_second") * elapsed
    assert stored <= allowed + 1
    assert stored + limited == 25 * len(sockets)
    host.send({"type": "chat.send", "client_id": "host-after", "text": "Still working?"})
    assert host.expect("chat.ack", client_id="host-after")["seq"] == stored + 1


def _replies(socket: Socket, count: int) -> list[dict[str, object]]:
    """The next ``count`` acknowledgements or errors of this socket."""
    got: list[dict[str, object]] = []
    while len(got) < count:
        message = socket.until(lambda m: m["type"] in ("chat.ack", "error"))
        got.append(message)
    return got


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server that gives a client 2 s to take each frame and 1 s to send a request's
    head, takes 6 sockets from one address (and lets the test fill a room's chat quickly)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('impatient') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, ws_write_deadline_s=2.0, ws_rate_per_second=1000,
                                     ws_rate_burst=1000, chat_rate_per_second=1000,
                                     chat_rate_burst=1000, chat_rate_per_address_per_second=1000,
                                     chat_rate_per_address_burst=1000, http_head_timeout_s=1.0,
                                     ws_max_sockets_per_address=6)).start()
    yield server
    server.stop()


def test_a_client_that_stops_reading_is_cut_off(impatient: LiveServer) -> None:
    host, room_id, token, worker_id = _room_with_admitted_worker(impatient)
    services: Services = impatient.server.config.app.state.services
    long_text = "x" * 1900
    for k in range(100):  # a chat history worth ~200 kB a copy
        host.send({"type": "chat.send", "client_id": f"long-{k}", "text": long_text})
        host.expect("chat.ack", client_id=f"long-{k}", timeout=30)
    # a client that reads its socket only for the handshake and the welcome, then never again
    # (a client library would keep reading into its own memory)
    raw = tcp.create_connection(("127.0.0.1", impatient.port))
    raw.setsockopt(tcp.SOL_SOCKET, tcp.SO_RCVBUF, 4096)
    client = ClientProtocol(parse_uri(
        impatient.url.replace("http://", "ws://") + f"/ws/rooms/{room_id}?token={token}"))
    client.send_request(client.connect())
    raw.sendall(b"".join(client.data_to_send()))
    while not any(isinstance(e, Frame) for e in client.events_received()):
        client.receive_data(raw.recv(4096))  # the 101 response and the welcome's first bytes
    try:
        assert services.hub.sockets_of(worker_id) == 1
        for _ in range(60):  # each asks for the history again: megabytes it will never read
            client.send_text(json.dumps({"type": "chat.sync", "after_seq": 0}).encode())
        raw.sendall(b"".join(client.data_to_send()))
        deadline = time.monotonic() + 15  # (uvicorn's own keepalive would take ~40 s)
        while services.hub.sockets_of(worker_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert services.hub.sockets_of(worker_id) == 0  # let go of by the server
        host.send({"type": "ping", "nonce": "others-fine"})
        host.expect("pong", nonce="others-fine")
    finally:
        raw.close()


def test_slowloris_connections_are_closed_and_others_are_served(impatient: LiveServer) -> None:
    host, _, _, _ = _room_with_admitted_worker(impatient)  # a WebSocket opened before
    slow = [tcp.create_connection(("127.0.0.1", impatient.port)) for _ in range(50)]
    idle = [tcp.create_connection(("127.0.0.1", impatient.port)) for _ in range(10)]
    try:
        for conn in slow:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        began = time.monotonic()
        while time.monotonic() - began < 3:  # a header byte now and then, never the end
            for conn in slow:
                with contextlib.suppress(OSError):
                    conn.sendall(b"X")
            time.sleep(0.3)
        for conn in [*slow, *idle]:
            conn.settimeout(10)
            assert conn.recv(1024) == b""  # closed by the server
        assert Browser(impatient.url).http.get("/healthz").status_code == 200
        host.send({"type": "ping", "nonce": "ws-untouched"})
        host.expect("pong", nonce="ws-untouched")
    finally:
        for conn in [*slow, *idle]:
            conn.close()


def test_one_address_gets_a_bounded_number_of_sockets(impatient: LiveServer) -> None:
    host, room_id, token, _ = _room_with_admitted_worker(impatient)  # 1 socket open
    sockets = [Socket(impatient.url, room_id, token) for _ in range(4)]  # 5
    for socket in sockets:
        socket.expect("welcome")
    sixth = Socket(impatient.url, room_id, staff_browser(impatient).enter(room_id).token)
    sixth.expect("welcome")
    seventh = Socket(impatient.url, room_id, staff_browser(impatient).enter(room_id).token)
    refused = seventh.expect("error")
    assert refused["code"] == "too_many_connections" and "network" in refused["message"]
    assert _ending(seventh)[0] == 4429
    sockets[0].close()  # one leaves: room for another
    deadline = time.monotonic() + 10
    while True:
        again = Socket(impatient.url, room_id, staff_browser(impatient).enter(room_id).token)
        first = json.loads(again.ws.recv(timeout=10))
        if first["type"] == "welcome" or time.monotonic() > deadline:
            break
        again.close()
    assert first["type"] == "welcome"
    host.send({"type": "ping", "nonce": "host-fine"})
    host.expect("pong", nonce="host-fine")


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server that lets one address send 1 chat message a second, bursts of 6."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('crowded') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url, chat_rate_per_address_per_second=1.0,
                                     chat_rate_per_address_burst=6)).start()
    yield server
    server.stop()


def test_many_participants_at_one_address_share_its_chat_allowance(crowded: LiveServer) -> None:
    host, room_id, token, _ = _room_with_admitted_worker(crowded)
    worker = Socket(crowded.url, room_id, token)
    worker.expect("chat.history")
    began = time.monotonic()
    for k in range(4):  # within each participant's own burst, over the address's together
        host.send({"type": "chat.send", "client_id": f"h{k}", "text": "from the host"})
        worker.send({"type": "chat.send", "client_id": f"w{k}", "text": "from the worker"})
    replies = _replies(host, 4) + _replies(worker, 4)
    elapsed = time.monotonic() - began
    stored = sum(1 for m in replies if m["type"] == "chat.ack")
    assert stored <= 6 + elapsed * 1.0 + 1
    assert sum(1 for m in replies if m.get("code") == "rate_limited") == 8 - stored
