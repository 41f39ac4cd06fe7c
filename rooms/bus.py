"""The event bus that carries room events between server nodes.

`InProcessBus` is the single-node default. `RedisBus` delivers through Redis pub/sub: an event is
dispatched to the local node at once and published with the node's id, so the local node works
even while Redis is away, and the other nodes skip their own echoes (the python-socketio pattern).

Publishing never makes the caller wait for Redis: events go into the node's outbox, and one
publisher task sends them in order (pipelined, each try bounded by `PUBLISH_TIMEOUT_S`), retrying
until Redis answers. A Redis that is down or frozen therefore delays only the other nodes; chat
is acknowledged once stored. An outbox over `OUTBOX_LIMIT` drops its oldest events; once Redis
answers again the node tells every node to fetch what it missed from the database (their
reconnect hooks: chat gap-filling).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

Event = dict[str, Any]
Handler = Callable[[Event], None]
ReconnectHook = Callable[[], None]


PUBLISH_TIMEOUT_S = 2.0
"""One try of sending the outbox's next events; then the publisher waits and tries again."""
OUTBOX_LIMIT = 10_000
"""Events kept for the other nodes while Redis does not answer (then the oldest are dropped)."""
_RESYNC = "__resync__"


class EventBus(Protocol):
    async def publish(self, channel: str, event: Event) -> None: ...

    async def subscribe(self, channel: str, handler: Handler) -> None: ...

    async def unsubscribe(self, channel: str, handler: Handler) -> None: ...

    def on_reconnect(self, hook: ReconnectHook) -> None: ...

    async def close(self) -> None: ...


class _LocalHandlers:
    def __init__(self) -> None:
        self.by_channel: dict[str, list[Handler]] = defaultdict(list)

    def add(self, channel: str, handler: Handler) -> bool:
        """Add a handler; True when it is the channel's first."""
        handlers = self.by_channel[channel]
        handlers.append(handler)
        return len(handlers) == 1

    def remove(self, channel: str, handler: Handler) -> bool:
        """Remove a handler; True when the channel has none left."""
        handlers = self.by_channel.get(channel, [])
        with contextlib.suppress(ValueError):
            handlers.remove(handler)
        if handlers:
            return False
        self.by_channel.pop(channel, None)
        return True

    def dispatch(self, channel: str, event: Event) -> None:
        for handler in list(self.by_channel.get(channel, ())):
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed on %s", channel)


class InProcessBus:
    """Delivers events to handlers of this process only."""

    def __init__(self) -> None:
        self._handlers = _LocalHandlers()

    async def publish(self, channel: str, event: Event) -> None:
        self._handlers.dispatch(channel, event)

    async def subscribe(self, channel: str, handler: Handler) -> None:
        self._handlers.add(channel, handler)

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        self._handlers.remove(channel, handler)

    def on_reconnect(self, hook: ReconnectHook) -> None:
        """An in-process bus never loses events."""

    async def close(self) -> None:
        self._handlers = _LocalHandlers()


class RedisBus:
    """Redis pub/sub across nodes, reconnecting with capped backoff."""

    def __init__(self, url: str, *, prefix: str = "counsel-room", max_backoff: float = 5.0) -> None:
        retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3)
        self._redis = aioredis.Redis.from_url(
            url, retry=retry, retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2, socket_timeout=PUBLISH_TIMEOUT_S, health_check_interval=10,
        )
        # The subscriber must see a lost connection (not retry it away inside redis-py), so that
        # after reconnecting it can tell every socket to fetch what it missed.
        self._subscriber = aioredis.Redis.from_url(
            url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2, health_check_interval=5,
        )
        self._prefix = prefix
        self._max_backoff = max_backoff
        self._node_id = uuid.uuid4().hex
        self._handlers = _LocalHandlers()
        self._hooks: list[ReconnectHook] = []
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._outbox: collections.deque[tuple[str, str]] = collections.deque()
        self._outbox_ready = asyncio.Event()
        self._dropped = False
        self._publisher: asyncio.Task[None] | None = None

    @property
    def node_id(self) -> str:
        return self._node_id

    async def start(self) -> None:
        await self._connect()
        self._reader = asyncio.create_task(self._read_forever(), name="redis-bus-reader")
        self._publisher = asyncio.create_task(self._publish_forever(), name="redis-bus-publisher")

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:{channel}"

    async def publish(self, channel: str, event: Event) -> None:
        """Dispatch on this node at once; the other nodes get it from the publisher."""
        self._handlers.dispatch(channel, event)
        body = json.dumps({"node": self._node_id, "event": event}, separators=(",", ":"))
        self._enqueue(self._key(channel), body)

    def _enqueue(self, key: str, body: str) -> None:
        if len(self._outbox) >= OUTBOX_LIMIT:
            self._outbox.popleft()
            if not self._dropped:
                log.warning("event bus: Redis has not answered for %d events; dropping the "
                            "oldest (other nodes will fetch them from the database)",
                            OUTBOX_LIMIT)
            self._dropped = True
        self._outbox.append((key, body))
        self._outbox_ready.set()

    async def _publish_forever(self) -> None:
        delay = 0.1
        while True:
            await self._outbox_ready.wait()
            if not self._outbox:
                self._outbox_ready.clear()
                continue
            batch = list(itertools.islice(self._outbox, 0, 500))
            try:
                await asyncio.wait_for(self._send(batch), PUBLISH_TIMEOUT_S)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("event bus: publishing to Redis failed (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
                continue
            delay = 0.1
            sent = {id(item) for item in batch}  # still at the head, unless dropped meanwhile
            while self._outbox and id(self._outbox[0]) in sent:
                self._outbox.popleft()
            if self._dropped and not self._outbox:
                self._dropped = False
                self._enqueue(self._key("__bus__"), json.dumps(
                    {"node": self._node_id, _RESYNC: True}))

    async def _send(self, batch: list[tuple[str, str]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, body in batch:
                pipe.publish(key, body)
            await pipe.execute()

    async def subscribe(self, channel: str, handler: Handler) -> None:
        if self._handlers.add(channel, handler) and self._connected.is_set():
            with contextlib.suppress(RedisError):
                await self._pubsub.subscribe(self._key(channel))

    async def unsubscribe(self, channel: str, handler: Handler) -> None:
        if self._handlers.remove(channel, handler) and self._connected.is_set():
            with contextlib.suppress(RedisError):
                await self._pubsub.unsubscribe(self._key(channel))

    def on_reconnect(self, hook: ReconnectHook) -> None:
        self._hooks.append(hook)

    async def _connect(self) -> None:
        self._pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._key("__bus__"))
        channels = [self._key(c) for c in self._handlers.by_channel]
        if channels:
            await self._pubsub.subscribe(*channels)
        self._connected.set()

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read_messages()
            except (RedisError, OSError) as exc:
                log.warning("event bus lost Redis (%s); reconnecting", exc)
                self._connected.clear()
                await self._reconnect()

    async def _read_messages(self) -> None:
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            self._deliver(message["channel"].decode(), message["data"])

    def _deliver(self, key: str, data: bytes) -> None:
        try:
            body = json.loads(data)
        except ValueError:
            log.warning("dropping a malformed bus message on %s", key)
            return
        if body.get("node") == self._node_id:
            return
        if body.get(_RESYNC):  # another node dropped events while Redis was away
            for hook in self._hooks:
                hook()
            return
        self._handlers.dispatch(key.removeprefix(f"{self._prefix}:"), body["event"])

    async def _reconnect(self) -> None:
        delay = 0.1
        while True:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            try:
                await self._connect()
            except (RedisError, OSError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
                continue
            log.info("event bus reconnected to Redis")
            for hook in self._hooks:
                hook()
            return

    async def close(self) -> None:
        if self._publisher is not None:
            with contextlib.suppress(Exception):  # what is waiting, if Redis answers at once
                await asyncio.wait_for(self._send(list(self._outbox)), PUBLISH_TIMEOUT_S)
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        await self._subscriber.aclose()
        await self._redis.aclose()
