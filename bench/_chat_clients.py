"""The chat benchmark's seats and clients (`bench/chat.py`): who sits in which room, and one
`websockets` client per seat that sends `chat.send` frames and times each message to each of
its room's other participants."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from _seed import seed_rooms
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.settings import Settings

# ---- set-up -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    index: int
    room_index: int
    room_id: str
    participant_id: str
    role: str
    token: str


async def seed(settings: Settings, rooms: int, per_room: int) -> list[Seat]:
    """One counselor; `rooms` open auto-admit rooms with the counselor and invited workers."""
    seats: list[Seat] = []
    for r, room in enumerate(await seed_rooms(settings, rooms=rooms, workers=per_room - 1,
                                              title="Bench room")):
        for member in (room.host, *room.workers):
            seats.append(Seat(len(seats), r, room.room_id, member.participant_id, member.role,
                              member.token))
    return seats


# ---- clients ----------------------------------------------------------------------------------


@dataclass
class Sent:
    at: float
    sender: str
    waiting_for: set[str]


@dataclass
class Tally:
    sent: dict[str, Sent] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    ack_latencies: list[float] = field(default_factory=list)
    via_history: int = 0
    duplicates: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    outstanding: int = 0
    sending: bool = True
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, client_id: str, sender: str, peers: set[str]) -> None:
        self.sent[client_id] = Sent(time.perf_counter(), sender, set(peers))
        self.outstanding += len(peers)

    def received(self, item: dict[str, Any], receiver: str, now: float, history: bool) -> None:
        record = self.sent.get(item["client_id"])
        if record is None or item["sender_id"] != record.sender:
            return
        if receiver not in record.waiting_for:
            self.duplicates += 1
            return
        record.waiting_for.discard(receiver)
        self.latencies.append(now - record.at)
        self.via_history += history
        self.outstanding -= 1
        self.check()

    def check(self) -> None:
        if not self.sending and self.outstanding == 0:
            self.all_in.set()


class Client:
    def __init__(self, seat: Seat, peers: set[str], url: str, tally: Tally) -> None:
        self.seat = seat
        self.peers = peers
        self.url = f"{url}/ws/rooms/{seat.room_id}?token={seat.token}"
        self.tally = tally
        self.ready = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, open_timeout=30, max_size=4 << 20, max_queue=None,
                                ping_interval=None, compression=None)
        self.reader = asyncio.create_task(self._read())
        await self.ready.wait()

    async def _read(self) -> None:
        assert self.ws is not None
        me = self.seat.participant_id
        welcomed = False
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                message = json.loads(raw)
                kind = message["type"]
                if kind == "chat.message":
                    if message["message"]["sender_id"] != me:
                        self.tally.received(message["message"], me, now, history=False)
                elif kind == "chat.history":
                    for item in message["messages"]:
                        if item["sender_id"] != me:
                            self.tally.received(item, me, now, history=True)
                    if welcomed and message["complete"]:
                        self.ready.set()
                elif kind == "chat.ack":
                    sent = self.tally.sent.get(message["client_id"])
                    if sent is not None:
                        self.tally.ack_latencies.append(now - sent.at)
                elif kind == "welcome":
                    welcomed = True
                elif kind == "error":
                    self.tally.errors[message["code"]] += 1
        except ConnectionClosed:
            pass
        finally:
            code = self.ws.close_code
            if code not in (None, 1000):
                self.tally.closes[str(code)] += 1
            self.ready.set()

    async def chat(self, messages: int, rate: float, start: float) -> None:
        assert self.ws is not None
        interval = 1.0 / rate
        rng = random.Random(self.seat.index)
        due = start + rng.uniform(0, interval)
        for n in range(messages):
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            client_id = f"bench-{self.seat.index}-{n}"
            frame = json.dumps({"type": "chat.send", "client_id": client_id,
                                "text": f"message {n} from seat {self.seat.index}"})
            self.tally.expect(client_id, self.seat.participant_id, self.peers)
            try:
                await self.ws.send(frame)
            except ConnectionClosed:
                return
            due += interval * rng.uniform(0.5, 1.5)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
