"""Which node serves a room: one owner per room, kept in Redis with leases.

Media needs every peer of a room on one node (one media router), so with `COUNSEL_REDIS_URL`
each room is owned by one live node, the way LiveKit routes a room to a node:

- Every node registers itself: `{prefix}:node:{id}` holds its address (`COUNSEL_NODE_URL`) and
  expires `NODE_TTL_MS` after its last heartbeat (one every second). The key's absence
  is how the others know the node is gone (presence sweeps its sockets, its rooms move).
- A room's owner is `{prefix}:room:{id}:owner` = "node-id address", a lease of `LEASE_MS`
  that the owner renews every 2 s while it holds sockets of the room (compare-and-renew
  in Lua: a node renews only its own lease).
- A socket asks `owner(room_id)`, one Lua call: no lease, or a lease whose node has no
  heartbeat any more, is taken by this node (when it has an address and is not draining);
  otherwise the owner is answered and the socket is sent there (`server/ws/redirect.py`).
- A node that finds its lease taken (it froze past its heartbeat) hands its sockets of the
  room to the new owner (`on_lost`). A draining node hands each of its rooms to a live peer
  (`drain`) before it tells its pages to reconnect there.

A node without an address cannot be sent to: it takes no leases and serves locally the rooms
nobody owns (the behaviour without placement). Without Redis, `LocalPlacement`: one node,
which serves everything, and every other node named in the database is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis import asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LEASE_MS = 6_000
"""A room's lease: the owner renews it every third of it (2 s); a dead owner's lapses within."""
NODE_TTL_MS = 3_000
"""A node's heartbeat key lives this long after its last beat (one every third of it, 1 s):
its rooms can be taken then."""

_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
if current then
  local node = string.match(current, '^%S+')
  if redis.call('EXISTS', ARGV[3] .. node) == 1 then return current end
end
if ARGV[4] ~= '1' then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_HAND_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Owner:
    """Another node that serves a room; `url` None when nobody can be sent there (no address,
    or no live node while this one drains)."""

    node_id: str
    url: str | None


RoomLost = Callable[[str, Owner | None], None]


class Placement(Protocol):
    node_id: str
    confirm_dead_s: float
    """How long a node must stay absent from `alive` before its sockets are swept."""

    async def owner(self, room_id: str) -> Owner | None:
        """Who serves the room: None for this node (which then holds its lease)."""
        ...

    async def alive(self, node_ids: set[str]) -> set[str] | None:
        """The live ones among `node_ids`; None when that cannot be known now."""
        ...

    def on_lost(self, hook: RoomLost) -> None: ...

    async def drain(self) -> dict[str, Owner]:
        """Stop serving: every room this node owns handed to a live peer (room -> new owner)."""
        ...

    async def aclose(self) -> None: ...


class LocalPlacement:
    """One node without Redis: it serves every room. The nodes it finds at its first look are
    dead (this server, killed and started again); any node that shows up later is taken for
    alive: one more Redis-less server on the same database is a mistake of configuration, and
    sweeping it every few seconds counted its people out while they talked."""

    def __init__(self) -> None:
        self.node_id = uuid.uuid4().hex
        self.confirm_dead_s = 0.0
        self._before: set[str] | None = None

    async def owner(self, room_id: str) -> Owner | None:
        return None

    async def alive(self, node_ids: set[str]) -> set[str] | None:
        if self._before is None:
            self._before = node_ids - {self.node_id}
        return node_ids - self._before

    def on_lost(self, hook: RoomLost) -> None:
        """Nobody else takes rooms."""

    async def drain(self) -> dict[str, Owner]:
        return {}

    async def aclose(self) -> None:
        return None


def _value(node_id: str, url: str | None) -> str:
    return f"{node_id} {url or '-'}"


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""


def _owner(value: bytes | str) -> Owner:
    node_id, _, url = _text(value).partition(" ")
    return Owner(node_id, None if url in ("", "-") else url)


class RedisPlacement:
    """Room leases and node heartbeats in Redis (module docstring)."""

    def __init__(self, url: str, node_url: str | None, rooms_here: Callable[[], set[str]], *,
                 prefix: str = "counsel-room", node_id: str | None = None,
                 lease_ms: int = LEASE_MS, node_ttl_ms: int = NODE_TTL_MS) -> None:
        self._redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.node_id = node_id or uuid.uuid4().hex
        self.node_url = node_url.rstrip("/") if node_url else None
        self.confirm_dead_s = node_ttl_ms / 1000
        self._me = _value(self.node_id, self.node_url)
        self._rooms_here = rooms_here
        self._prefix = prefix
        self._lease_ms = lease_ms
        self._node_ttl_ms = node_ttl_ms
        self._owned: dict[str, float] = {}  # room id -> when it was last claimed (monotonic)
        self._hooks: list[RoomLost] = []
        self._revived: list[Callable[[], None]] = []
        self._draining = False
        self._tasks: list[asyncio.Task[None]] = []
        self._claim: Any = self._redis.register_script(_CLAIM)
        self._renew: Any = self._redis.register_script(_RENEW)
        self._hand_over: Any = self._redis.register_script(_HAND_OVER)

    def _node_key(self, node_id: str = "") -> str:
        return f"{self._prefix}:node:{node_id}"

    def _room_key(self, room_id: str) -> str:
        return f"{self._prefix}:room:{room_id}:owner"

    async def start(self) -> None:
        with contextlib.suppress(RedisError, OSError):  # the heartbeat task tries again
            await self._beat()
        self._tasks = [
            asyncio.create_task(self._every(self._node_ttl_ms / 3000, self._beat),
                                name="node-beat"),
            asyncio.create_task(self._every(self._lease_ms / 3000, self._renew_all),
                                name="room-leases")]

    def on_lost(self, hook: RoomLost) -> None:
        self._hooks.append(hook)

    def on_revived(self, hook: Callable[[], None]) -> None:
        """Call `hook` when this node's heartbeat key had expired while it was alive (frozen,
        or Redis lost its data): the others may have swept its sockets."""
        self._revived.append(hook)

    async def owner(self, room_id: str) -> Owner | None:
        claim = "1" if self.node_url and not self._draining else "0"
        current = await self._claim(keys=[self._room_key(room_id)], args=[
            self._me, self._lease_ms, self._node_key(), claim])
        if current is None:  # nobody alive owns it, and this node may not take it
            return Owner("", None) if self._draining else None
        owner = _owner(current)
        if owner.node_id == self.node_id:
            if self._draining:
                return Owner("", None)
            self._owned[room_id] = time.monotonic()
            return None
        if owner.url is None:  # an owner nobody can be sent to: serve here, as without it
            return None
        return owner

    async def alive(self, node_ids: set[str]) -> set[str] | None:
        ordered = sorted(node_ids)
        if not ordered:
            return set()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for node_id in ordered:
                    pipe.exists(self._node_key(node_id))
                answers = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("placement: cannot tell which nodes are alive (%s)", exc)
            return None
        return {n for n, a in zip(ordered, answers, strict=True) if a}

    async def _every(self, seconds: float, step: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await step()
            except (RedisError, OSError) as exc:
                log.warning("placement: Redis did not answer (%s)", exc)

    async def _beat(self) -> None:
        if self._draining:
            return
        key = self._node_key(self.node_id)
        renewed = await self._redis.set(key, self.node_url or "-", px=self._node_ttl_ms, xx=True)
        if renewed:
            return
        await self._redis.set(key, self.node_url or "-", px=self._node_ttl_ms)
        if self._tasks:  # not at the first beat: the key had expired under a live node
            log.warning("placement: this node's heartbeat had expired; registering again")
            for hook in self._revived:
                hook()

    async def _renew_all(self) -> None:
        if self._draining or not self._owned:
            return
        here = self._rooms_here()
        now = time.monotonic()
        idle = [r for r, at in self._owned.items()
                if r not in here and now - at > self._lease_ms / 1000]
        for room_id in idle:  # nobody here any more: let the next socket's node take it
            del self._owned[room_id]
            await self._hand_over(keys=[self._room_key(room_id)], args=[self._me, "", 0])
        rooms = list(self._owned)
        async with self._redis.pipeline(transaction=False) as pipe:
            for room_id in rooms:
                await self._renew(keys=[self._room_key(room_id)], args=[self._me, self._lease_ms],
                                  client=pipe)
            renewed = await pipe.execute()
        for room_id, ok in zip(rooms, renewed, strict=True):
            if not ok:
                await self._lost(room_id)

    async def _lost(self, room_id: str) -> None:
        self._owned.pop(room_id, None)
        current = await self._redis.get(self._room_key(room_id))
        owner = _owner(current) if current else None
        log.warning("placement: room %s is now served by %s", room_id,
                    owner.node_id if owner else "nobody")
        for hook in self._hooks:
            hook(room_id, owner)

    async def _peers(self) -> list[Owner]:
        peers = []
        async for key in self._redis.scan_iter(match=self._node_key("*"), count=100):
            node_id = key.decode().rsplit(":", 1)[1]
            url = _text(await self._redis.get(key))
            if node_id != self.node_id and url and url != "-":
                peers.append(Owner(node_id, url))
        return peers

    async def drain(self) -> dict[str, Owner]:
        self._draining = True
        for task in self._tasks:
            task.cancel()
        moved: dict[str, Owner] = {}
        try:
            await self._redis.delete(self._node_key(self.node_id))
            peers = itertools.cycle(await self._peers() or [None])
            for room_id in list(self._owned):
                peer = next(peers)
                value = _value(peer.node_id, peer.url) if peer else ""
                await self._hand_over(keys=[self._room_key(room_id)],
                                      args=[self._me, value, self._lease_ms])
                if peer is not None:
                    moved[room_id] = peer
        except (RedisError, OSError) as exc:
            log.warning("placement: could not hand the rooms over (%s); they move when their "
                        "leases lapse", exc)
        self._owned.clear()
        return moved

    async def aclose(self, *, hand_over: bool = True) -> None:
        """Hand the rooms over (`drain`) and stop; without `hand_over`, stop as a node that
        died would: the others take its rooms when its heartbeat and leases lapse."""
        if hand_over and not self._draining:
            await self.drain()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._redis.aclose()
