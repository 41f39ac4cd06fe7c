"""The node's local sockets per room, subscribed to the room's bus channel while any are here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from rooms.bus import EventBus, Handler
from server.events import channel, to_participant
from server.ws.connection import Connection
from server.ws.ratelimit import TokenBucket


class RoomHub:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._rooms: dict[str, set[Connection]] = defaultdict(set)
        self._handlers: dict[str, Handler] = {}
        self._presence_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._sockets: dict[str, int] = defaultdict(int)  # participant id -> sockets here
        self._chat_buckets: dict[str, TokenBucket] = {}
        self._addresses: dict[str, int] = defaultdict(int)  # client address -> open sockets
        bus.on_reconnect(self.resync_all)

    def on_presence(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call ``listener(room_id, presence)`` whenever a room of this node's sockets gets a
        new participant list (the `presence` message: someone joined, left, was admitted or
        changed reading language, on any node)."""
        self._presence_listeners.append(listener)

    def _handler(self, room_id: str) -> Handler:
        return self._handlers.setdefault(room_id, lambda event: self._dispatch(room_id, event))

    async def attach(self, connection: Connection) -> None:
        conns = self._rooms[connection.room_id]
        conns.add(connection)
        self._sockets[connection.participant_id] += 1
        if len(conns) == 1:
            room_id = connection.room_id
            await self._bus.subscribe(channel(room_id), self._handler(room_id))

    async def detach(self, connection: Connection) -> None:
        conns = self._rooms.get(connection.room_id)
        if conns is None or connection not in conns:
            return
        conns.discard(connection)
        pid = connection.participant_id
        self._sockets[pid] -= 1
        if self._sockets[pid] <= 0:
            del self._sockets[pid]
            self._chat_buckets.pop(pid, None)
        if not conns:
            del self._rooms[connection.room_id]
            handler = self._handlers.pop(connection.room_id)
            await self._bus.unsubscribe(channel(connection.room_id), handler)

    def _dispatch(self, room_id: str, event: dict[str, Any]) -> None:
        if event["msg"]["type"] == "presence":
            for listener in self._presence_listeners:
                listener(room_id, event["msg"])
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

    def address_opened(self, address: str, limit: int) -> bool:
        """Count a socket from ``address`` (from its handshake to its end, authenticated or
        not); False, counting nothing, when the address already holds ``limit``."""
        if self._addresses[address] >= limit:
            return False
        self._addresses[address] += 1
        return True

    def address_closed(self, address: str) -> None:
        self._addresses[address] -= 1
        if self._addresses[address] <= 0:
            del self._addresses[address]
            self._chat_buckets.pop(_address_key(address), None)

    def sockets_of(self, participant_id: str) -> int:
        """How many sockets the participant holds on this node."""
        return self._sockets.get(participant_id, 0)

    def chat_bucket(self, participant_id: str, make: Callable[[], TokenBucket]) -> TokenBucket:
        """The participant's chat allowance on this node, shared by all their sockets (kept
        while they hold one)."""
        return self._bucket(participant_id, make)

    def address_chat_bucket(self, address: str, make: Callable[[], TokenBucket]) -> TokenBucket:
        """The chat allowance of everyone at one client address on this node (kept while the
        address holds a socket)."""
        return self._bucket(_address_key(address), make)

    def _bucket(self, key: str, make: Callable[[], TokenBucket]) -> TokenBucket:
        bucket = self._chat_buckets.get(key)
        if bucket is None:
            bucket = self._chat_buckets[key] = make()
        return bucket

    def participant_ids(self) -> set[str]:
        """Everyone with a socket on this node."""
        return {c.participant_id for conns in self._rooms.values() for c in conns}

    def deliver_local(self, participant_id: str, message: BaseModel) -> None:
        """``message`` to this node's sockets of one participant (as if it came on the bus)."""
        event = {"to": to_participant(participant_id), "msg": message.model_dump(mode="json")}
        for conns in list(self._rooms.values()):
            for connection in list(conns):
                if connection.participant_id == participant_id:
                    connection.deliver(event)

    def room_ids(self) -> set[str]:
        """Rooms with a socket on this node."""
        return set(self._rooms)

    def connections_in(self, room_id: str) -> list[Connection]:
        """This node's sockets of one room."""
        return list(self._rooms.get(room_id, ()))

    def connection_count(self) -> int:
        return sum(len(c) for c in self._rooms.values())

    def room_count(self) -> int:
        """Rooms with a socket on this node."""
        return len(self._rooms)

    async def close(self) -> None:
        for room_id in list(self._rooms):
            for connection in list(self._rooms[room_id]):
                await self.detach(connection)


def _address_key(address: str) -> str:
    return f"address:{address}"
