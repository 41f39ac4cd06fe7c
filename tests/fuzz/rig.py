"""A room with a socket for every role, for the socket fuzzer: build it, send frames, collect
every reply and close, and tell when the fuzzer changed the room so much it needs a new one
(someone removed or denied, the waiting worker admitted)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from websockets.exceptions import ConnectionClosed

from media.speech import CaptionEvent, CaptionKind
from rooms import interpreters as interpreters_repo
from rooms import staff as staff_repo
from rooms.models import Room
from server.captions import Speaker
from server.services import Services
from tests.fuzz.frames import Frame, Targets
from tests.live import Browser, LiveServer, Socket

T = TypeVar("T")
ROLES = ("host", "admin", "interpreter", "observer", "worker", "waiting")
SETTLE_S = 30.0


def on_server(live: LiveServer, coro: Coroutine[Any, Any, T]) -> T:
    assert live.loop is not None
    return asyncio.run_coroutine_threadsafe(coro, live.loop).result(30)


def services_of(live: LiveServer) -> Services:
    services: Services = live.server.config.app.state.services
    return services


@dataclass
class Tally:
    """Everything the fuzzer sent and got back, over all rooms."""

    frames: Counter[str] = field(default_factory=Counter)
    """Frames sent, per role."""
    replies: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    closes: Counter[int | None] = field(default_factory=Counter)
    unanswered: list[str] = field(default_factory=list)
    rooms: int = 0

    @property
    def sent(self) -> int:
        return sum(self.frames.values())


@dataclass
class Seat:
    role: str
    participant_id: str
    socket: Socket
    closed: bool = False
    admitted_now: bool = False


@dataclass
class Staff:
    """Signed-in browsers of the seeded staff, kept for every room."""

    counselor: Browser
    admin: Browser
    interpreter: Browser


class FuzzRoom:
    def __init__(self, live: LiveServer, staff: Staff, tally: Tally) -> None:
        self.live, self.staff, self.tally = live, staff, tally
        counselor = staff.counselor
        self.room_id = counselor.create_room(title=f"Fuzz {uuid.uuid4().hex[:6]}")
        tally.rooms += 1
        self.seats: dict[str, Seat] = {}
        self.seats["host"] = self._staff_seat("host", counselor)
        self.seats["admin"] = self._staff_seat("admin", staff.admin)
        self._assign_interpreter()
        self.seats["interpreter"] = self._staff_seat("interpreter", staff.interpreter)
        self.seats["observer"] = self._guest("observer", "observer", admit=True)
        self.seats["worker"] = self._guest("worker", "worker", admit=True)
        self.seats["waiting"] = self._guest("waiting", "worker", admit=False)
        decoys = [self._join("worker", f"Decoy {k}")[1] for k in range(3)]
        utterances = [self._say_final(f"final {k}") for k in range(3)]
        self.targets = Targets(participants=[s.participant_id for s in self.seats.values()],
                               decoys=decoys, utterances=utterances)
        for seat in self.seats.values():
            self.settle(seat)

    def _staff_seat(self, role: str, browser: Browser) -> Seat:
        access = browser.enter(self.room_id)
        socket = Socket(self.live.url, self.room_id, access.token)
        socket.expect("welcome")
        return Seat(role, access.participant_id, socket)

    def _join(self, role: str, name: str) -> tuple[Browser, str]:
        link, code = self.staff.counselor.invite(self.room_id, role, label=name)
        browser = Browser(self.live.url)
        response = browser.join(link, code, name=name, language="vi")
        assert response.status_code == 200, response.text
        return browser, browser.room(self.room_id).participant_id

    def _guest(self, seat: str, role: str, admit: bool) -> Seat:
        browser, participant_id = self._join(role, f"Fuzz {seat.title()}")
        socket = Socket(self.live.url, self.room_id, browser.room(self.room_id).token)
        socket.expect("welcome")
        if admit:
            self.seats["host"].socket.send({"type": "lobby.admit",
                                            "participant_id": participant_id})
            socket.expect("lobby.admitted")
        return Seat(seat, participant_id, socket)

    def _assign_interpreter(self) -> None:
        async def assign() -> None:
            async with services_of(self.live).transaction() as session:
                interpreter = await staff_repo.find_staff_by_email(
                    session, "interpreter@example.org")
                host = await staff_repo.find_staff_by_email(session, "counselor@example.org")
                assert interpreter is not None and host is not None
                await interpreters_repo.assign(session, room_id=self.room_id,
                                               interpreter=interpreter, languages=["ko", "vi"],
                                               assigned_by=host)
        on_server(self.live, assign())

    def _say_final(self, text: str) -> str:
        """A final caption of the worker, as the caption service publishes and stores it."""
        services = services_of(self.live)
        utterance = f"u-{uuid.uuid4().hex[:8]}"
        worker = self.seats["worker"].participant_id

        async def publish() -> None:
            async with services.sessions() as session:
                room = await session.get(Room, self.room_id)
                assert room is not None and room.opened_at is not None
            speaker = Speaker(self.room_id, worker, "Fuzz Worker", "vi", room.opened_at)
            await services.captions._publish(speaker, CaptionEvent(
                self.room_id, worker, utterance, 4, 0, "vi", text, CaptionKind.FINAL, 1.0, 2.0))

        on_server(self.live, publish())
        return utterance

    # ---- fuzzing ----

    def send(self, role: str, frame: Frame) -> None:
        seat = self.seats[role]
        if seat.closed:
            return
        try:
            seat.socket.ws.send(frame)
        except ConnectionClosed:
            self._closed(seat)
            return
        self.tally.frames[role] += 1

    def settle(self, seat: Seat) -> None:
        """Read everything this seat's socket was sent until the answer to a ping sent now
        (every reply to the frames sent before it comes first)."""
        if seat.closed:
            return
        nonce = uuid.uuid4().hex
        try:
            seat.socket.ws.send(json.dumps({"type": "ping", "nonce": nonce}))
            while True:
                message = json.loads(seat.socket.ws.recv(timeout=SETTLE_S))
                if self._take(seat, message, nonce):
                    return
        except ConnectionClosed:
            self._closed(seat)
        except TimeoutError:
            self.tally.unanswered.append(f"{seat.role}: no pong within {SETTLE_S} s")
            seat.closed = True

    def _take(self, seat: Seat, message: dict[str, Any], nonce: str) -> bool:
        kind = message["type"]
        self.tally.replies[kind] += 1
        if kind == "error":
            self.tally.errors[message["code"]] += 1
        if kind == "lobby.admitted" and message.get("participant_id") == seat.participant_id:
            seat.admitted_now = True
        return kind == "pong" and message.get("nonce") == nonce

    def _closed(self, seat: Seat) -> None:
        seat.closed = True
        ws = seat.socket.ws
        with_frame = ws.protocol.close_rcvd is not None
        self.tally.closes[ws.close_code if with_frame else 1006] += 1

    def settle_all(self) -> None:
        for seat in self.seats.values():
            self.settle(seat)

    @property
    def spent(self) -> bool:
        """The fuzzer removed or denied someone, or let the waiting worker in: a new room."""
        return any(s.closed for s in self.seats.values()) or self.seats["waiting"].admitted_now

    def close(self) -> None:
        for seat in self.seats.values():
            seat.socket.close()
