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
loop is not woken per statement); PostgreSQL runs it on a connection of the server's engine.
The statements are the driver's own SQL (sqlite3, asyncpg), not SQLAlchemy expressions: built,
compiled and bound per batch, those were most of the server's CPU per chat message
(docs/architecture.md); what a batch decides (`_plan`) is the same code on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Dialect, Table, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from rooms.db import sqlite_pragmas
from rooms.errors import DomainError, NotAdmitted, NotFound, RoomEnded
from rooms.models import (
    Admission,
    ChatMessage,
    RoomRole,
    RoomStatus,
    new_id,
    utcnow,
)

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""Messages stored in one transaction at most (the rest wait for the next)."""

_messages = cast(Table, ChatMessage.__table__)


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


_Waiting = tuple[Post, "asyncio.Future[StoredMessage]", float]
"""A post, its caller's future, and when it was posted (`time.perf_counter`)."""


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
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoredMessage] = loop.create_future()
        self._waiting.append((post, future, time.perf_counter()))
        self._wake.set()
        if self._task is None:
            self._task = loop.create_task(self._run(), name="chat-writer")
        # a caller that gives up cancels only its future: the post is in the batch all the same
        return await future

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
            results = await self._store_batch([post for post, _, _ in batch])
        except Exception as exc:  # the database failed: every sender gets the error
            log.exception("could not store %d chat messages", len(batch))
            now = time.perf_counter()
            for _, future, posted in batch:
                self.observe_commit(now - posted)
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        now = time.perf_counter()
        for (_, future, posted), result in zip(batch, results, strict=True):
            self.observe_commit(now - posted)
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
        event.listen(self._engine, "connect", sqlite_pragmas)
        self._sent_at = _SentAt(self._engine.dialect)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="chat-writer")
        self._connection: PoolProxiedConnection | None = None

    async def __call__(self, posts: list[Post]) -> list[StoredMessage | DomainError]:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, posts)

    def _write(self, posts: list[Post]) -> list[StoredMessage | DomainError]:
        if self._connection is None:
            self._connection = self._engine.raw_connection()
        db = cast(sqlite3.Connection, self._connection.driver_connection)
        db.isolation_level = None  # begun and committed here
        db.execute("BEGIN IMMEDIATE")
        try:
            results = self._write_in(db, posts)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return results

    def _write_in(self, db: sqlite3.Connection, posts: list[Post]
                  ) -> list[StoredMessage | DomainError]:
        room_ids = sorted({post.room_id for post in posts})
        sender_ids = sorted({post.sender_id for post in posts})
        client_ids = sorted({post.client_id for post in posts})
        keys = {(post.sender_id, post.client_id) for post in posts}
        found = _Found(
            rooms={row[0]: (row[1], row[2]) for row in db.execute(
                f"SELECT id, status, chat_seq FROM rooms WHERE id IN ({_marks(room_ids)})",
                room_ids)},
            people={row[0]: _Sender(*row) for row in db.execute(
                f"SELECT {_SENDER} FROM participants WHERE id IN ({_marks(sender_ids)})",
                sender_ids)},
            # both lists on the (sender, client id) index, then the batch's own pairs (an OR
            # per pair would pass SQLite's expression depth limit on a full batch)
            used={(row[3], row[4]): self._sent_at.read(row) for row in db.execute(
                f"SELECT {_MESSAGE} FROM chat_messages WHERE sender_id IN "
                f"({_marks(sender_ids)}) AND client_id IN ({_marks(client_ids)})",
                [*sender_ids, *client_ids]) if (row[3], row[4]) in keys})
        results, rows, seqs = _plan(posts, found)
        if rows:
            db.executemany(f"INSERT INTO chat_messages ({_MESSAGE}) VALUES ({_marks(_COLUMNS)})",
                           [self._sent_at.write(row) for row in rows])
            db.executemany("UPDATE rooms SET chat_seq = ? WHERE id = ?",
                           [(seq, room_id) for room_id, seq in seqs.items()])
        return results

    async def aclose(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
            self._engine.dispose()

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=True)


class _PostgresStore:
    """PostgreSQL (asyncpg): a connection of the server's engine, one transaction per batch with
    the batch's rooms locked `FOR UPDATE` in id order (no deadlock between nodes)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sent_at = _SentAt(engine.dialect)

    async def __call__(self, posts: list[Post]) -> list[StoredMessage | DomainError]:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            db: Any = raw.driver_connection  # asyncpg's
            async with db.transaction():
                return await self._write_in(db, posts)

    async def _write_in(self, db: Any, posts: list[Post]) -> list[StoredMessage | DomainError]:
        keys = sorted({(post.sender_id, post.client_id) for post in posts})
        found = _Found(
            rooms={row[0]: (row[1], row[2]) for row in await db.fetch(
                "SELECT id, status, chat_seq FROM rooms WHERE id = ANY($1::varchar[]) "
                "ORDER BY id FOR UPDATE", sorted({post.room_id for post in posts}))},
            people={row[0]: _Sender(*row) for row in await db.fetch(
                f"SELECT {_SENDER} FROM participants WHERE id = ANY($1::varchar[])",
                sorted({post.sender_id for post in posts}))},
            used={(row[3], row[4]): self._sent_at.read(tuple(row)) for row in await db.fetch(
                f"SELECT {_MESSAGE} FROM chat_messages "
                "JOIN unnest($1::varchar[], $2::varchar[]) AS used(sender, client) "
                "ON sender_id = used.sender AND client_id = used.client",
                [key[0] for key in keys], [key[1] for key in keys])})
        results, rows, seqs = _plan(posts, found)
        if rows:
            await db.executemany(
                f"INSERT INTO chat_messages ({_MESSAGE}) "
                f"VALUES ({', '.join(f'${n}' for n in range(1, len(_COLUMNS) + 1))})",
                [self._sent_at.write(row) for row in rows])
            await db.execute(
                "UPDATE rooms SET chat_seq = counted.seq "
                "FROM unnest($1::varchar[], $2::int[]) AS counted(id, seq) "
                "WHERE rooms.id = counted.id", list(seqs), list(seqs.values()))
        return results

    async def aclose(self) -> None:
        pass  # the engine is the server's


async def open_chat_writer(url: str, engine: AsyncEngine) -> ChatWriter:
    """A writer for the database at ``url`` (``engine``: the server's engine for it)."""
    if engine.dialect.name == "sqlite":
        return ChatWriter(_SqliteStore(url))
    if engine.dialect.driver == "asyncpg":
        return ChatWriter(_PostgresStore(engine))
    raise ValueError(f"chat is stored on SQLite or on PostgreSQL with asyncpg, not {url!r}")


# ---- one batch, whatever the database -------------------------------------------------------

_COLUMNS = ("id", "room_id", "seq", "sender_id", "client_id", "text", "language", "sent_at")
_MESSAGE = ", ".join(_COLUMNS)
_SENDER = "id, room_id, display_name, role, admission, language"
_Row = tuple[Any, ...]
"""A chat message's columns, in the order of `_COLUMNS`."""


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


@dataclass(frozen=True, slots=True)
class _Sender:
    id: str
    room_id: str
    display_name: str
    role: str
    admission: str
    language: str | None


@dataclass(frozen=True, slots=True)
class _Found:
    """What a batch reads first: its rooms' (status, counter), its senders, and the messages
    already stored under its client ids (by (sender, client id))."""

    rooms: dict[str, tuple[str, int]]
    people: dict[str, _Sender]
    used: dict[tuple[str, str], _Row]


class _SentAt:
    """`sent_at` as the database driver takes and gives it (the column's own type does it)."""

    def __init__(self, dialect: Dialect) -> None:
        column_type = _messages.c.sent_at.type.dialect_impl(dialect)
        self._bind = column_type.bind_processor(dialect) or _same
        self._result = column_type.result_processor(dialect, None) or _same
        self._last: tuple[object, Any] = (None, None)  # a batch's rows share one time

    def write(self, row: _Row) -> _Row:
        value, bound = self._last
        if row[-1] is not value:
            value, bound = self._last = (row[-1], self._bind(row[-1]))
        return (*row[:-1], bound)

    def read(self, row: _Row) -> _Row:
        return (*row[:-1], self._result(row[-1]))


def _same(value: Any) -> Any:
    return value


def _plan(posts: Sequence[Post], found: _Found
          ) -> tuple[list[StoredMessage | DomainError], list[_Row], dict[str, int]]:
    """One result per post, in order; the rows to insert; each room's new counter."""
    seqs = {room_id: chat_seq for room_id, (_, chat_seq) in found.rooms.items()}
    now = utcnow()
    results: list[StoredMessage | DomainError] = []
    rows: list[_Row] = []
    fresh: dict[tuple[str, str], StoredMessage] = {}
    for post in posts:
        sender = found.people.get(post.sender_id)
        room = found.rooms.get(post.room_id)
        key = (post.sender_id, post.client_id)
        if sender is None or room is None or sender.room_id != post.room_id:
            results.append(NotFound("no such participant in this room"))
        elif key in found.used:
            results.append(_stored(found.used[key], sender, created=False))
        elif key in fresh:  # the same client id twice in one batch
            results.append(dataclasses.replace(fresh[key], created=False))
        elif RoomStatus(room[0]) is RoomStatus.ENDED:
            results.append(RoomEnded("this session has ended"))
        elif Admission(sender.admission) is not Admission.ADMITTED:
            results.append(NotAdmitted("you can chat once you are admitted"))
        else:
            seqs[post.room_id] += 1
            row = (new_id(), post.room_id, seqs[post.room_id], post.sender_id, post.client_id,
                   post.text, sender.language or "", now)
            rows.append(row)
            fresh[key] = _stored(row, sender, created=True)
            results.append(fresh[key])
    moved = {row[1] for row in rows}
    return results, rows, {room_id: seqs[room_id] for room_id in sorted(moved)}


def _stored(row: _Row, sender: _Sender, *, created: bool) -> StoredMessage:
    id_, room_id, seq, sender_id, client_id, text, language, sent_at = row
    return StoredMessage(
        id=id_, room_id=room_id, seq=seq, sender_id=sender_id, sender_name=sender.display_name,
        sender_role=RoomRole(sender.role).value, client_id=client_id, text=text,
        language=language or "", sent_at=sent_at, created=created)
