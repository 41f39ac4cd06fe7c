"""The Redis client the pool's nodes and workers use."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


def pool_redis(url: str) -> Redis:
    """A client that gives up on a lost server within about a second (two quick retries, not
    redis-py's default ten): a caption that cannot be recognized now is dropped, not delayed.
    ``socket_timeout`` stays well above the pool's blocking reads (at most a second)."""
    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        socket_connect_timeout=2,
        socket_timeout=10,
        health_check_interval=10,
    )
