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
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.websockets import WebSocket, WebSocketState

from server.permissions import Action, Role, allowed
from server.ws import protocol as p
from server.ws.reading import for_reader, reader_key

log = logging.getLogger(__name__)

HistoryLoader = Callable[[int], Awaitable[tuple[list[p.ChatItem], bool]]]

CLOSE_ENDED = 4410
CLOSE_REFUSED = 4403
CLOSE_TOO_SLOW = 4408
CLOSE_MOVED = 4307
FINAL_MESSAGES = {"lobby.denied", "participant.removed", "room.ended"}


def encode(message: dict[str, Any], language: str, every_language: bool) -> str:
    """The frame one reader gets (`server/ws/reading.py`), as JSON text."""
    return json.dumps(for_reader(message, language, every_language=every_language),
                      separators=(",", ":"))


class _EventTexts:
    """Room events as JSON text, encoded once per reading language instead of once per socket:
    the hub hands every socket of a room the same message dict. Entries are found by the dict's
    identity (an entry holds its dict, so the identity is not reused while it is here); past
    ``size`` entries the oldest goes. One per thread (`_event_texts`): an event loop's sockets
    share one, and servers running in other threads of the process (tests) have their own."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}

    def text(self, message: dict[str, Any], language: str, every_language: bool) -> str:
        entry = self._entries.get(id(message))
        if entry is None:
            entry = self._entries[id(message)] = (message, {})
            if len(self._entries) > self._size:
                del self._entries[next(iter(self._entries))]
        key = reader_key(message, language, every_language=every_language)
        text = entry[1].get(key)
        if text is None:
            text = entry[1][key] = encode(message, language, every_language)
        return text


_per_thread = threading.local()


def _event_texts() -> _EventTexts:
    texts: _EventTexts | None = getattr(_per_thread, "texts", None)
    if texts is None:
        texts = _per_thread.texts = _EventTexts()
    return texts


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
    leaving: asyncio.Task[None] | None = None
    """Recording that they pressed Leave; the socket's close waits for it."""
    _queue: asyncio.Queue[tuple[str, Any]] = field(init=False)
    overflowed: bool = field(default=False, init=False)
    _writer: asyncio.Task[None] | None = field(default=None, init=False)
    _sending_since: float | None = field(default=None, init=False)
    """When the frame being sent was handed to the socket (loop time); None between frames."""
    _deadline_timer: asyncio.TimerHandle | None = field(default=None, init=False)
    _too_slow: bool = field(default=False, init=False)

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
        self._put("own", message.model_dump(mode="json"))

    def move(self, redirect: BaseModel) -> None:
        """After what is queued, tell the client where to reconnect and close (4307)."""
        self._put("moved", redirect.model_dump(mode="json"))

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
        self._writer = asyncio.current_task()
        try:
            await self._write_all()
        except _TooSlow:
            self.overflowed = True
        finally:
            if self._deadline_timer is not None:
                self._deadline_timer.cancel()
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
            elif kind == "own":
                await self._write(payload, shared=False)
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
            elif kind == "moved":
                await self._write(payload, shared=False)
                await self._close(CLOSE_MOVED, "reconnect")
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
                mode="json"), shared=False)
            if items:
                after_seq = items[-1].seq
                self.last_seq = max(self.last_seq, after_seq)

    async def _write(self, message: dict[str, Any], *, shared: bool = True) -> None:
        """``shared``: a room event, the same dict for every socket (encoded once per reading
        language); otherwise a message made for this socket alone."""
        if self.websocket.application_state is WebSocketState.CONNECTED:
            if shared:
                text = _event_texts().text(message, self.reading_language,
                                           self.every_translation)
            else:
                text = encode(message, self.reading_language, self.every_translation)
            await self._send_text(text)

    async def _send_text(self, text: str) -> None:
        """One frame; a frame the client has not taken within `write_deadline` ends the
        writer (`_TooSlow`). One timer per socket watches the deadline, re-armed when it
        fires while a frame is out (a timer per frame cost more than the frame)."""
        loop = asyncio.get_running_loop()
        self._sending_since = loop.time()
        if self._deadline_timer is None:
            self._deadline_timer = loop.call_at(self._sending_since + self.write_deadline,
                                                self._check_deadline)
        try:
            await self.websocket.send_text(text)
        except asyncio.CancelledError:
            if self._too_slow and self._writer is not None and self._writer.uncancel() == 0:
                raise _TooSlow from None
            raise
        finally:
            self._sending_since = None

    def _check_deadline(self) -> None:
        self._deadline_timer = None
        if self._sending_since is None:
            return  # between frames: the next frame arms the timer again
        due = self._sending_since + self.write_deadline
        loop = asyncio.get_running_loop()
        if loop.time() < due:
            self._deadline_timer = loop.call_at(due, self._check_deadline)
        elif self._writer is not None and not self._too_slow:
            self._too_slow = True
            self._writer.cancel()

    async def _close(self, code: int, reason: str) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await self.websocket.close(code, reason[:120])
