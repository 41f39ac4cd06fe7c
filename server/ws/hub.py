"""The node's local sockets per room, subscribed to the room's bus channel while any are here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from rooms.bus import EventBus, Handler
from server.events import channel
from server.ws.connection import Connection


class RoomHub:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._rooms: dict[str, set[Connection]] = defaultdict(set)
        self._handlers: dict[str, Handler] = {}
        self._presence_listeners: list[Callable[[str], None]] = []
        bus.on_reconnect(self.resync_all)

    def on_presence(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(room_id)`` whenever a room of this node's sockets gets a new
        participant list (someone joined, left, was admitted or changed reading language, on
        any node)."""
        self._presence_listeners.append(listener)

    def _handler(self, room_id: str) -> Handler:
        return self._handlers.setdefault(room_id, lambda event: self._dispatch(room_id, event))

    async def attach(self, connection: Connection) -> None:
        conns = self._rooms[connection.room_id]
        conns.add(connection)
        if len(conns) == 1:
            room_id = connection.room_id
            await self._bus.subscribe(channel(room_id), self._handler(room_id))

    async def detach(self, connection: Connection) -> None:
        conns = self._rooms.get(connection.room_id)
        if conns is None:
            return
        conns.discard(connection)
        if not conns:
            del self._rooms[connection.room_id]
            handler = self._handlers.pop(connection.room_id)
            await self._bus.unsubscribe(channel(connection.room_id), handler)

    def _dispatch(self, room_id: str, event: dict[str, Any]) -> None:
        if event["msg"]["type"] == "presence":
            for listener in self._presence_listeners:
                listener(room_id)
        for connection in list(self._rooms.get(room_id, ())):
            connection.deliver(event)

    def broadcast_local(self, message: BaseModel) -> None:
        """Send `message` to every socket of this node, of every room (news about the node
        itself, such as its captions becoming ready)."""
        for conns in self._rooms.values():
            for connection in conns:
                connection.send(message)

    def resync_all(self) -> None:
        """After the bus was away, every socket fetches the chat it may have missed."""
        for conns in self._rooms.values():
            for connection in conns:
                connection.resync()

    def connection_count(self) -> int:
        return sum(len(c) for c in self._rooms.values())

    async def close(self) -> None:
        for room_id in list(self._rooms):
            for connection in list(self._rooms[room_id]):
                await self.detach(connection)
