"""This node's share of presence: its open sockets in the database, and sweeping dead nodes'.

Who is online is `participants.connections`, counted in and out with one `node_sockets` row per
open socket (`rooms/node_sockets.py`). A node killed with its sockets open never counts them
out, so every node looks, every `SWEEP_EVERY_S`, at the nodes the database names: one that
`placement.alive` has not seen for `placement.confirm_dead_s` (its heartbeat key expired, and
stayed gone, so a Redis that restarted does not sweep live nodes) has its sockets counted out and
its rooms' presence published again. Without Redis the node is alone: at start it counts out
every socket of the nodes before it (a server killed and started again), and no other.

A node that learns its own heartbeat had expired (it froze) writes back the rows of its open
sockets that someone swept meanwhile.

Each count in or out is a short transaction of its own. On SQLite this node's presence writes
take turns (`_writing`): SQLite has one writer at a time, and writers that meet it busy poll
with growing sleeps, so when a restarted node's pages all came back at once an attach waited
up to 1.8 s in those sleeps (`bench/chat.py --sockets 1000`, `connect_p99_ms`). Waiting in turn
on the event loop costs nothing; PostgreSQL locks rows and needs no turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rooms import node_sockets
from rooms.models import NodeSocket
from server.events import RoomEvents
from server.periodic import Periodic
from server.placement import Placement

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 2.0


class Presence:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], placement: Placement,
                 events: RoomEvents, *, one_writer: bool = False) -> None:
        """``one_writer``: the database takes one writer at a time (SQLite)."""
        self._sessions = sessions
        self._writing: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if one_writer else contextlib.nullcontext())
        self._placement = placement
        self._events = events
        self._open: dict[str, tuple[str, str]] = {}  # socket id -> participant, room
        self._by_key: dict[object, str] = {}  # a connection -> its socket id
        self._absent: dict[str, float] = {}  # node id -> first seen absent (monotonic)
        self._sweeping = Periodic(self.sweep, SWEEP_EVERY_S, name="presence-sweep",
                                  wait_first=False)

    @property
    def node_id(self) -> str:
        return self._placement.node_id

    async def opened(self, participant_id: str, room_id: str) -> str:
        """Count a socket in; its id, to `bind` to the socket."""
        socket_id = uuid.uuid4().hex
        async with self._transaction() as session:
            await node_sockets.opened(session, socket_id=socket_id, node_id=self.node_id,
                                      participant_id=participant_id, room_id=room_id)
        self._open[socket_id] = (participant_id, room_id)
        return socket_id

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._writing, self._sessions() as session, session.begin():
            yield session

    def bind(self, key: object, socket_id: str) -> None:
        """`key` (the socket's connection) names the socket for `closed`."""
        self._by_key[key] = socket_id

    async def closed(self, key: object) -> None:
        """Count the socket out (nothing if it was never counted in)."""
        socket_id = self._by_key.pop(key, None)
        if socket_id is None:
            return
        self._open.pop(socket_id, None)
        async with self._transaction() as session:
            await node_sockets.closed(session, socket_id)

    def start(self) -> None:
        self._sweeping.start()

    async def sweep(self) -> set[str]:
        """Count out the sockets of nodes gone for good; the rooms whose presence changed."""
        async with self._sessions() as session:
            others = await node_sockets.nodes(session) - {self.node_id}
        alive = await self._placement.alive(others)
        if alive is None:
            return set()
        now = time.monotonic()
        self._absent = {n: self._absent.get(n, now) for n in others - alive}
        dead = {n for n, since in self._absent.items()
                if now - since >= self._placement.confirm_dead_s}
        if not dead:
            return set()
        async with self._transaction() as session:
            rooms = await node_sockets.sweep(session, dead)
        log.warning("presence: nodes %s are gone; their sockets are counted out", sorted(dead))
        for room_id in rooms:
            await self._events.people_changed(room_id)
        return rooms

    def revive(self) -> None:
        """The heartbeat had expired: write back what may have been swept (in the background)."""
        asyncio.get_running_loop().create_task(self._restore(), name="presence-restore")

    async def _restore(self) -> None:
        try:
            async with self._transaction() as session:
                ids = set(self._open)
                kept = set((await session.execute(
                    select(NodeSocket.id).where(NodeSocket.id.in_(ids)))).scalars())
                for socket_id in ids - kept:
                    participant_id, room_id = self._open[socket_id]
                    await node_sockets.opened(session, socket_id=socket_id, node_id=self.node_id,
                                              participant_id=participant_id, room_id=room_id)
            for room_id in {self._open[s][1] for s in ids - kept if s in self._open}:
                await self._events.people_changed(room_id)
        except Exception:
            log.exception("presence: could not restore this node's sockets")

    async def aclose(self) -> None:
        await self._sweeping.aclose()
        with contextlib.suppress(Exception):  # sockets still counted: this node is going
            async with self._transaction() as session:
                await node_sockets.sweep(session, {self.node_id})
