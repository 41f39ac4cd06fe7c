"""Two server nodes, one real Redis: chat crosses nodes, and survives Redis going away or
freezing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from rooms import bus as bus_module
from rooms.bus import RedisBus
from rooms.migrate import upgrade
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer, Socket
from tests.services import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def nodes(tmp_path: Path, redis: RedisServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    seed_staff(url)
    first = LiveServer(app_settings(url, redis_url=redis.url)).start()
    second = LiveServer(app_settings(url, redis_url=redis.url)).start()
    yield first, second
    first.stop()
    second.stop()


def _room_on_two_nodes(a: LiveServer, b: LiveServer) -> tuple[Socket, Socket, str]:
    counselor = staff_browser(a)
    room_id = counselor.create_room(auto_admit=True)
    host = Socket(a.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    link, code = counselor.invite(room_id)
    worker = Browser(b.url)
    worker.join(link.replace(str(a.port), str(b.port)), code)
    guest = Socket(b.url, room_id, worker.room(room_id).token)
    assert guest.expect("welcome")["admission"] == "admitted"
    return host, guest, room_id


def test_chat_and_presence_cross_nodes(nodes: tuple[LiveServer, LiveServer]) -> None:
    host, guest, _ = _room_on_two_nodes(*nodes)
    host.until(lambda m: m["type"] == "presence" and len(m["participants"]) == 2)
    host.send({"type": "chat.send", "client_id": "a1", "text": "Hello from node A"})
    assert _received(guest, "a1")["text"] == "Hello from node A"
    guest.send({"type": "chat.send", "client_id": "b1", "text": "Hello from node B"})
    back = _received(host, "b1")
    assert (back["seq"], back["text"]) == (2, "Hello from node B")


def _received(socket: Socket, client_id: str) -> dict[str, Any]:
    """The chat message with this client id, live or in a history (a socket whose history
    was read after the message was stored gets it there, once: both are the protocol)."""
    found: list[dict[str, Any]] = []

    def arrived(m: dict[str, Any]) -> bool:
        items = [m["message"]] if m["type"] == "chat.message" else (
            m["messages"] if m["type"] == "chat.history" else [])
        found.extend(x for x in items if x["client_id"] == client_id)
        return bool(found)
    socket.until(arrived)
    return found[0]


def test_redis_outage_loses_nothing(nodes: tuple[LiveServer, LiveServer],
                                    redis: RedisServer) -> None:
    host, guest, _ = _room_on_two_nodes(*nodes)
    redis.stop()
    host.send({"type": "chat.send", "client_id": "during", "text": "Sent while Redis is down"})
    assert host.expect("chat.ack", client_id="during")["seq"] == 1
    host.until(lambda m: m["type"] == "chat.message" and m["message"]["seq"] == 1)
    redis.start()
    caught_up = guest.until(lambda m: m["type"] == "chat.history" and any(
        x["client_id"] == "during" for x in m["messages"]), timeout=30)
    assert caught_up["messages"][-1]["text"] == "Sent while Redis is down"
    guest.send({"type": "chat.send", "client_id": "after", "text": "Back to normal"})
    host.until(lambda m: m["type"] == "chat.message" and m["message"]["client_id"] == "after",
               timeout=15)


def test_a_frozen_redis_holds_up_no_acknowledgement(nodes: tuple[LiveServer, LiveServer],
                                                    redis: RedisServer) -> None:
    host, guest, _ = _room_on_two_nodes(*nodes)
    host.until(lambda m: m["type"] == "presence" and len(m["participants"]) == 2)
    redis.freeze()  # connections stay open and unanswered, as with a hung server or network
    try:
        for k in range(5):
            host.send({"type": "chat.send", "client_id": f"frozen{k}", "text": f"Frozen {k}"})
        acks = [host.expect("chat.ack", client_id=f"frozen{k}") for k in range(5)]
        assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5]  # all while Redis is still frozen
        host.until(lambda m: m["type"] == "chat.message" and m["message"]["seq"] == 5)
    finally:
        redis.thaw()
    seen: set[str] = set()

    def all_arrived(m: dict[str, object]) -> bool:
        if m["type"] == "chat.message":
            seen.add(m["message"]["client_id"])  # type: ignore[index]
        elif m["type"] == "chat.history":
            seen.update(x["client_id"] for x in m["messages"])  # type: ignore[attr-defined]
        return {f"frozen{k}" for k in range(5)} <= seen
    guest.until(all_arrived, timeout=30)  # the other node gets them once Redis answers


async def test_events_dropped_while_redis_is_frozen_make_the_other_nodes_resync(
        redis: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_module, "OUTBOX_LIMIT", 10)
    sender, receiver = RedisBus(redis.url), RedisBus(redis.url)
    await sender.start()
    await receiver.start()
    got: list[int] = []
    resyncs: list[bool] = []
    await receiver.subscribe("room:r", lambda event: got.append(event["n"]))
    receiver.on_reconnect(lambda: resyncs.append(True))
    try:
        redis.freeze()
        try:
            for n in range(15):  # returns at once: the outbox keeps the last 10
                await sender.publish("room:r", {"n": n})
        finally:
            redis.thaw()
        for _ in range(300):
            if resyncs and got[-1:] == [14]:
                break
            await asyncio.sleep(0.05)
        assert got == list(range(5, 15))  # in order, the 5 oldest dropped
        assert resyncs  # told to fetch what it missed from the database
    finally:
        await sender.close()
        await receiver.close()


def test_a_removal_made_while_redis_is_down_reaches_the_other_node(
        nodes: tuple[LiveServer, LiveServer], redis: RedisServer) -> None:
    host, guest, _ = _room_on_two_nodes(*nodes)
    worker_id = guest.seen[0]["you"]["id"]
    host.until(lambda m: m["type"] == "presence" and len(m["participants"]) == 2)
    redis.stop()
    host.send({"type": "participant.remove", "participant_id": worker_id})
    removed = guest.expect("participant.removed", timeout=5)  # from node B's own check
    assert removed["participant_id"] == worker_id
    with pytest.raises(ConnectionClosed):
        guest.ws.recv(timeout=5)
    assert guest.ws.close_code == 4403
