"""Failover: two nodes, one room, the owner killed (SIGKILL).

    python bench/failover.py --json
    python bench/failover.py --json --postgres-url postgresql+asyncpg://postgres@127.0.0.1/postgres

Two `counsel-room serve` processes on loopback share one database (PostgreSQL by default, as
nodes do in production) and one Redis. A worker (speaking through a real aiortc peer, with a
camera) enters by node A, the counselor by node B, who sends them to A (the room's owner).
Once video flows both ways and the worker's words come back as captions, A is killed while the
counselor chats. Both clients behave as pages do (`bench/_roaming.py`): back to their entry,
with backoff, and on to the next entry when it refuses (a load balancer).

Reports, in seconds after the kill: `room_moved_s` (both welcomed again by B),
`media_resumed_s` (video and audio flowing again both ways), `captions_resumed_s` (the next
caption of the worker at the counselor); and `chat_lost` (messages never stored; must be 0).
Needs redis-server, espeak-ng and sox; installs the speech model (tiny.en) on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import _repo  # noqa: F401 - the repository first on sys.path
from _database import database
from _failover import run
from _speech import synthesize

from media.speech.models import install
from rooms.migrate import upgrade
from tests.services import RedisServer

SENTENCE = "Please open the window before the meeting starts."


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1/postgres",
                        help="PostgreSQL server for the nodes' database ('' for SQLite)")
    parser.add_argument("--redis-url", default="",
                        help="a Redis to use (default: a private redis-server)")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--model", default="tiny.en")
    return parser.parse_args()


@contextlib.contextmanager
def redis(url: str) -> Any:
    if url:
        yield url
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def _database(postgres_url: str, workdir: Path) -> AsyncIterator[str]:
    async with database(postgres_url or None, workdir) as url:
        await asyncio.to_thread(upgrade, url)
        yield url


async def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    install(args.model, args.models_dir)
    clip = synthesize(SENTENCE, "en-us", 150, workdir).samples
    with redis(args.redis_url) as redis_url:
        async with _database(args.postgres_url, workdir) as database_url:
            outcome = await run(workdir, database_url=database_url, redis_url=redis_url,
                                models_dir=args.models_dir.resolve(), speech_model=args.model,
                                clip=clip)
    return {**outcome.report(), "database": "postgresql" if args.postgres_url else "sqlite",
            "model": args.model, "errors": outcome.errors}


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="counsel-failover-") as tmp:
        result = asyncio.run(measure(args, Path(tmp)))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
