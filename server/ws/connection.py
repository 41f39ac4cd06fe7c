"""One participant's socket: filters room events for them and writes in order, without gaps.

All frames to the browser go through one queue and one writer task, so chat history and live
messages interleave correctly: chat carries a per-room sequence number, the writer drops what the
client already has and fills any gap from the database before sending the next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.websockets import WebSocket, WebSocketState

from server.permissions import Action, Role, allowed
from server.ws import protocol as p
from server.ws.reading import for_reader

log = logging.getLogger(__name__)

HistoryLoader = Callable[[int], Awaitable[tuple[list[p.ChatItem], bool]]]

CLOSE_ENDED = 4410
CLOSE_REFUSED = 4403
CLOSE_TOO_SLOW = 4408
FINAL_MESSAGES = {"lobby.denied", "participant.removed", "room.ended"}


class _TooSlow(Exception):
    """The client did not take a frame within the write deadline."""


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    room_id: str
    participant_id: str
    role: Role
    admitted: bool
    load_history: HistoryLoader
    queue_size: int = 512
    rtc_config: Callable[[], BaseModel] | None = None
    """The `rtc.config` message for this participant, sent whenever they are admitted."""
    address: str = ""
    """The client's address (the TCP peer, or what a trusted proxy says)."""
    reading_language: str = ""
    """Captions and chat reach this client translated into this language."""
    every_translation: bool = False
    """Interpreters get every translation of each caption and chat message."""
    last_seq: int = 0
    write_deadline: float = 10.0
    """A frame the client has not taken within this many seconds (its TCP window closed: it
    stopped reading) ends the socket (4408)."""
    _queue: asyncio.Queue[tuple[str, Any]] = field(init=False)
    overflowed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.queue_size)

    # ---- events in (called by the hub, synchronously) ----

    def deliver(self, event: dict[str, Any]) -> None:
        if not self._for_me(event.get("to", {})):
            return
        message = event["msg"]
        kind = message["type"]
        if kind == "presence":
            self._follow_reading_language(message)
        if kind == "lobby.admitted" and message["participant_id"] == self.participant_id:
            self.admitted = True
            self._put("admitted", message)
            self.send_rtc_config()
        elif kind in FINAL_MESSAGES and message.get("participant_id", self.participant_id) == (
            self.participant_id
        ):
            self._put("final", message)
        elif kind not in FINAL_MESSAGES:
            self._put("send", message)

    def _follow_reading_language(self, presence: dict[str, Any]) -> None:
        """A reading language changed on another socket (or node) of this participant."""
        for person in presence.get("participants", ()):
            if person.get("id") == self.participant_id and person.get("reading_language"):
                self.reading_language = person["reading_language"]

    def _for_me(self, audience: dict[str, str]) -> bool:
        kind = audience.get("kind")
        if kind == "all":
            return True
        if kind == "participant":
            return audience.get("id") == self.participant_id
        if kind == "hosts":
            return self.admitted and allowed(self.role, Action.SEE_WAITING_LIST)
        return kind == "admitted" and self.admitted

    def send(self, message: BaseModel) -> None:
        """Queue a message for this client only (replies, errors)."""
        self._put("send", message.model_dump(mode="json"))

    def send_rtc_config(self) -> None:
        if self.rtc_config is not None and self.admitted:
            self.send(self.rtc_config())

    def resync(self, after_seq: int | None = None) -> None:
        if self.admitted:
            self._put("sync", after_seq)

    def _put(self, kind: str, payload: Any) -> None:
        if kind == "final":  # removed, denied or ended: nothing queued before it goes out
            while not self._queue.empty():
                self._queue.get_nowait()
        try:
            self._queue.put_nowait((kind, payload))
        except asyncio.QueueFull:
            self.overflowed = True

    # ---- frames out (the writer task) ----

    async def run_writer(self) -> None:
        try:
            await self._write_all()
        except _TooSlow:
            self.overflowed = True
        if self.overflowed:
            log.warning("participant %s reads too slowly; closing", self.participant_id)
            with contextlib.suppress(TimeoutError):  # a client that reads nothing: give up
                await asyncio.wait_for(self._close(CLOSE_TOO_SLOW, "too many unread messages; "
                                                   "reconnect to catch up"), 1.0)

    async def _write_all(self) -> None:
        while not self.overflowed:
            kind, payload = await self._queue.get()
            if kind == "send":
                await self._send_message(payload)
            elif kind == "sync":
                await self._sync(self.last_seq if payload is None else payload)
            elif kind == "admitted":
                await self._write(payload)
                await self._sync(self.last_seq)
            elif kind == "final":
                await self._write(payload)
                await self._close(CLOSE_ENDED if payload["type"] == "room.ended" else
                                  CLOSE_REFUSED, payload.get("message", ""))
                return

    async def _send_message(self, message: dict[str, Any]) -> None:
        if message["type"] != "chat.message":
            await self._write(message)
            return
        seq = message["message"]["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            await self._sync(self.last_seq)
            return
        await self._write(message)
        self.last_seq = seq

    async def _sync(self, after_seq: int) -> None:
        complete = False
        while not complete:
            items, complete = await self.load_history(after_seq)
            await self._write(p.ChatHistory(messages=items, complete=complete).model_dump(
                mode="json"))
            if items:
                after_seq = items[-1].seq
                self.last_seq = max(self.last_seq, after_seq)

    async def _write(self, message: dict[str, Any]) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            message = for_reader(message, self.reading_language,
                                 every_language=self.every_translation)
            text = json.dumps(message, separators=(",", ":"))
            try:
                async with asyncio.timeout(self.write_deadline):  # no task per frame
                    await self.websocket.send_text(text)
            except TimeoutError:
                raise _TooSlow from None

    async def _close(self, code: int, reason: str) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await self.websocket.close(code, reason[:120])
