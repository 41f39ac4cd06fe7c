"""Throttles against guessing: staff sign-in per account and per address, invitation codes per
address (an invitation itself locks after five wrong codes, in the database: rooms/invites.py).

Moving windows of the `limits` library, kept in process memory on one node and in Redis when
COUNSEL_REDIS_URL is set, so that every node counts the same attempts. A refused attempt
raises `TooManyAttempts`, which the error handlers answer with 429 and `Retry-After`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import HTTPConnection

from server.errors import TooManyAttempts
from server.settings import Settings

KEY_PREFIX = "counsel:limits"


class Throttle:
    """One limit on one kind of attempt (`name`), counted per key (an account, an address)."""

    def __init__(self, limiter: MovingWindowRateLimiter, limit: RateLimitItem, name: str,
                 message: str) -> None:
        self._limiter = limiter
        self._limit = limit
        self._name = name
        self._message = message

    async def check(self, key: str) -> None:
        """Refuse when the key has no attempt left (counts nothing)."""
        if not await self._limiter.test(self._limit, self._name, key):
            raise await self._refusal(key)

    async def hit(self, key: str) -> None:
        """Count one attempt, atomically; refuse (counting nothing) when none is left."""
        if not await self._limiter.hit(self._limit, self._name, key):
            raise await self._refusal(key)

    async def count(self, key: str) -> None:
        """Count an attempt that already happened (a wrong code); never refuses."""
        await self._limiter.hit(self._limit, self._name, key)

    async def clear(self, key: str) -> None:
        await self._limiter.clear(self._limit, self._name, key)

    async def _refusal(self, key: str) -> TooManyAttempts:
        stats = await self._limiter.get_window_stats(self._limit, self._name, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return TooManyAttempts(self._message, retry_after=retry_after)


@dataclass
class Throttles:
    storage: Storage
    login_account: Throttle
    login_address: Throttle
    join_address: Throttle

    async def aclose(self) -> None:
        timer = getattr(self.storage, "timer", None)  # MemoryStorage's expiry task
        if timer is not None and not timer.done():
            timer.cancel()
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)  # redis
        if client is not None:
            await client.aclose()


def open_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        return RedisStorage(f"async+{settings.redis_url}", implementation="redispy",
                            key_prefix=KEY_PREFIX)
    return MemoryStorage()


def open_throttles(settings: Settings) -> Throttles:
    storage = open_storage(settings)
    limiter = MovingWindowRateLimiter(storage)
    wait = "Too many attempts. Wait a few minutes, then try again."
    return Throttles(
        storage=storage,
        login_account=Throttle(limiter, parse(settings.login_limit_per_account),
                               "login-account", wait),
        login_address=Throttle(limiter, parse(settings.login_limit_per_address),
                               "login-address", wait),
        join_address=Throttle(limiter, parse(settings.join_limit_per_address),
                              "join-address", wait),
    )


def client_address(connection: HTTPConnection) -> str:
    """The client's address (uvicorn resolves a trusted proxy's X-Forwarded-For into it)."""
    return connection.client.host if connection.client else "unknown"
