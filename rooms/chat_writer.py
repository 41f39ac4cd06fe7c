"""Chat messages stored in groups: every message waiting when the writer is free goes into one
transaction, so a burst of messages shares one commit (one disk flush with SQLite's
`synchronous=FULL`) instead of paying one each.

In: `post()` with a message from one sender (room, sender, the client's id, text; its language
is the sender's).
Out: the stored message with its per-room sequence number once it is committed (never before:
nobody sees a message that could still be lost), or the error that refused it: the room has
ended, the sender is not (or no longer) admitted, or is not in that room. A client id the sender
used before returns the message stored then (`created` False): retries never store twice.

Order: a room's messages get their numbers in the order `post()` was called on this node; the
room's row is locked while they are numbered (SQLite: the write lock `BEGIN IMMEDIATE` takes
before anything is read; PostgreSQL: `SELECT ... FOR UPDATE` of the rooms), so nodes sharing a
database number one room without gaps or repeats. Admission and the room's state are read in
the same transaction: a removal committed before the batch refuses the removed sender's message.

Per batch, not per message: the batch reads its rooms, senders and already used client ids
with one query each, inserts with one `executemany` and moves each room's counter once. On
SQLite the whole batch runs in one call on the writer's own thread and connection (the event
loop is not woken per statement); other databases run it on the server's engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, create_engine, event, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from rooms.db import sqlite_pragmas
from rooms.errors import DomainError, NotAdmitted, NotFound, RoomEnded
from rooms.models import (
    Admission,
    ChatMessage,
    Participant,
    Room,
    RoomRole,
    RoomStatus,
    new_id,
    utcnow,
)

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""Messages stored in one transaction at most (the rest wait for the next)."""

_messages = cast(Table, ChatMessage.__table__)
_rooms = cast(Table, Room.__table__)
_people = cast(Table, Participant.__table__)


@dataclass(frozen=True, slots=True)
class Post:
    room_id: str
    sender_id: str
    client_id: str
    text: str
    """Written in the sender's language (their `language`, from the join page or account)."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: str
    room_id: str
    seq: int
    sender_id: str
    sender_name: str
    sender_role: str
    client_id: str
    text: str
    language: str
    sent_at: datetime
    created: bool
    """False when the sender's client id was used before: this is the message stored then."""


_Waiting = tuple[Post, "asyncio.Future[StoredMessage]"]


class ChatWriter:
    """The node's one writer of chat messages (start with `open_chat_writer`)."""

    def __init__(self, store: _Store) -> None:
        self._store_batch = store
        self._waiting: list[_Waiting] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.stored = 0
        self.observe_commit: Callable[[float], None] = lambda seconds: None  # post → answer

    async def post(self, post: Post) -> StoredMessage:
        """Store ``post`` (with the others waiting); returns it once committed."""
        if self._closing:
            raise RuntimeError("the chat writer is closed")
        future: asyncio.Future[StoredMessage] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        future.add_done_callback(lambda _: self.observe_commit(time.perf_counter() - started))
        self._waiting.append((post, future))
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="chat-writer")
        return await asyncio.shield(future)  # a caller that gives up does not cancel the write

    async def aclose(self) -> None:
        """Store what is waiting, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._store_batch.aclose()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                await self._store(batch)
            if self._closing:
                return

    async def _store(self, batch: list[_Waiting]) -> None:
        try:
            results = await self._store_batch([post for post, _ in batch])
        except Exception as exc:  # the database failed: every sender gets the error
            log.exception("could not store %d chat messages", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, StoredMessage):
                self.stored += result.created
                future.set_result(result)
            else:
                future.set_exception(result)


class _Store(Protocol):
    async def __call__(self, posts: list[Post]) -> list[StoredMessage | DomainError]: ...

    async def aclose(self) -> None: ...


class _SqliteStore:
    """SQLite: a connection of its own, used by one thread that runs a whole batch per call (no
    trip through the event loop per statement); its transactions begin with `BEGIN IMMEDIATE`
    (the write lock first, so what the batch reads cannot change before it writes)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url.replace("+aiosqlite", ""), poolclass=StaticPool,
                                     connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self._engine, "connect", _sqlite_connection)
        event.listen(self._engine, "begin", lambda c: c.exec_driver_sql("BEGIN IMMEDIATE"))
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="chat-writer")

    async def __call__(self, posts: list[Post]) -> list[StoredMessage | DomainError]:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, posts)

    def _write(self, posts: list[Post]) -> list[StoredMessage | DomainError]:
        with self._engine.begin() as connection:
            return _write(connection, posts)

    async def aclose(self) -> None:
        self._thread.shutdown(wait=True)
        self._engine.dispose()


def _sqlite_connection(dbapi_connection: Any, record: Any) -> None:
    sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.isolation_level = None  # transactions are begun by the "begin" event


class _AsyncStore:
    """Other databases: the server's engine, one transaction per batch."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, posts: list[Post]) -> list[StoredMessage | DomainError]:
        async with self._engine.begin() as connection:
            return await connection.run_sync(_write, posts)

    async def aclose(self) -> None:
        pass  # the engine is the server's


async def open_chat_writer(url: str, engine: AsyncEngine) -> ChatWriter:
    """A writer for the database at ``url`` (``engine``: the server's engine for it)."""
    if engine.dialect.name == "sqlite":
        return ChatWriter(_SqliteStore(url))
    return ChatWriter(_AsyncStore(engine))


def _write(connection: Connection, posts: Sequence[Post]) -> list[StoredMessage | DomainError]:
    """Number and insert the batch's valid new messages; one result per post, in order."""
    room_ids = sorted({post.room_id for post in posts})
    rooms_query = select(_rooms.c.id, _rooms.c.status, _rooms.c.chat_seq).where(
        _rooms.c.id.in_(room_ids))
    if connection.dialect.name != "sqlite":
        rooms_query = rooms_query.order_by(_rooms.c.id).with_for_update()
    rooms = {row.id: row for row in connection.execute(rooms_query)}
    people = {row.id: row for row in connection.execute(
        select(_people.c.id, _people.c.room_id, _people.c.display_name, _people.c.role,
               _people.c.admission, _people.c.language)
        .where(_people.c.id.in_(sorted({post.sender_id for post in posts}))))}
    used = {(row.sender_id, row.client_id): row for row in connection.execute(
        select(_messages).where(tuple_(_messages.c.sender_id, _messages.c.client_id).in_(
            sorted({(post.sender_id, post.client_id) for post in posts}))))}

    seqs = {room_id: row.chat_seq for room_id, row in rooms.items()}
    now = utcnow()
    results: list[StoredMessage | DomainError] = []
    new_rows: list[dict[str, Any]] = []
    fresh: dict[tuple[str, str], StoredMessage] = {}
    for post in posts:
        sender = people.get(post.sender_id)
        room = rooms.get(post.room_id)
        key = (post.sender_id, post.client_id)
        if sender is None or room is None or sender.room_id != post.room_id:
            results.append(NotFound("no such participant in this room"))
        elif key in used:
            results.append(_stored(used[key], sender, created=False))
        elif key in fresh:  # the same client id twice in one batch
            results.append(dataclasses.replace(fresh[key], created=False))
        elif RoomStatus(room.status) is RoomStatus.ENDED:
            results.append(RoomEnded("this session has ended"))
        elif Admission(sender.admission) is not Admission.ADMITTED:
            results.append(NotAdmitted("you can chat once you are admitted"))
        else:
            seqs[post.room_id] += 1
            row = {"id": new_id(), "room_id": post.room_id, "seq": seqs[post.room_id],
                   "sender_id": post.sender_id, "client_id": post.client_id,
                   "text": post.text, "language": sender.language or "", "sent_at": now}
            new_rows.append(row)
            fresh[key] = _stored_row(row, sender, created=True)
            results.append(fresh[key])
    if new_rows:
        connection.execute(_messages.insert(), new_rows)
        counted: dict[str, int] = defaultdict(int)
        for row in new_rows:
            counted[row["room_id"]] += 1
        for room_id in counted:
            connection.execute(update(_rooms).where(_rooms.c.id == room_id)
                                     .values(chat_seq=seqs[room_id]))
    return results


def _stored(row: Any, sender: Any, *, created: bool) -> StoredMessage:
    return _stored_row(dict(row._mapping), sender, created=created)


def _stored_row(row: dict[str, Any], sender: Any, *, created: bool) -> StoredMessage:
    return StoredMessage(
        id=row["id"], room_id=row["room_id"], seq=row["seq"], sender_id=row["sender_id"],
        sender_name=sender.display_name, sender_role=RoomRole(sender.role).value,
        client_id=row["client_id"],
        text=row["text"], language=row["language"] or "", sent_at=row["sent_at"], created=created)


