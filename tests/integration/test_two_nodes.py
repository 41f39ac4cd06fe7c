"""Two real server processes (`counsel-room serve`) on loopback sharing PostgreSQL and Redis.

A worker and a counselor whose sockets first reach different nodes end up on the room's owner,
see each other's video, hear each other and get captions (real aiortc peers, real Whisper);
killing the owner (SIGKILL) moves the room to the other node, where both come back by
themselves with media, captions and every chat message, and presence counts out the sockets
that died with the owner. A node stopped with SIGTERM drains: it hands the room over and sends
every page straight to the new owner. The clients behave as `web/static/page-socket.js` does
(`bench/_roaming.py`); the scenario is `bench/failover.py`'s (`bench/_failover.py`).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

from media.speech.models import install
from tests.services import RedisServer
from tests.speech.conftest import MODELS_DIR

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

BENCH = Path(__file__).resolve().parents[2] / "bench"
SENTENCE = "Please open the window before the meeting starts."


@pytest.fixture
def bench_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks' shared modules importable (bench/ last, as tests/unit does)."""
    monkeypatch.setattr(sys, "path", [*sys.path, str(BENCH)])


def _needs(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


async def test_two_nodes_serve_one_room_and_the_room_survives_its_owner_being_killed(
    bench_modules: None, postgres_url: str, redis: RedisServer, tmp_path: Path,
) -> None:
    _needs("espeak-ng", "sox")
    from _failover import run
    from _speech import synthesize

    await asyncio.to_thread(install, "tiny.en", MODELS_DIR)
    clip = synthesize(SENTENCE, "en-us", 150, tmp_path).samples
    outcome = await run(tmp_path, database_url=postgres_url, redis_url=redis.url,
                        models_dir=MODELS_DIR, speech_model="tiny.en", clip=clip)

    # before: the counselor entered by B and was sent to A, where the worker already was;
    # video went both ways and the worker's words came back as captions
    assert outcome.redirected
    assert outcome.first_nodes["worker"] == outcome.first_nodes["counselor"]
    assert outcome.before["video_to_counselor"] > 0 and outcome.before["video_to_worker"] > 0
    assert outcome.before["captions"] > 0
    # after A was killed: both came back on B by themselves (`run` waited for each of these,
    # or raised), media and captions resumed, no chat message was lost, and presence counts
    # only their sockets on B
    assert outcome.room_moved_s > 0 and outcome.media_resumed_s > 0
    assert outcome.captions_resumed_s > 0
    assert (outcome.chat_sent, outcome.chat_lost) == (20, 0)
    assert outcome.connections_after == {"worker": 1, "counselor": 1}


async def test_a_node_stopped_gracefully_sends_its_pages_to_the_new_owner_first(
    bench_modules: None, postgres_url: str, redis: RedisServer, tmp_path: Path,
) -> None:
    from _cluster import Node, node_env, ready
    from _roaming import Roamer
    from _seed import seed_rooms

    from server.settings import Settings

    secret = "drain-test-" + "x" * 32
    env = node_env(database_url=postgres_url, redis_url=redis.url, secret=secret,
                   workdir=tmp_path, models_dir=tmp_path / "no-models", speech_model="tiny.en")
    a, b = Node(env, tmp_path / "a"), Node(env, tmp_path / "b")
    people: list[Roamer] = []
    try:
        await ready([a, b])
        (room,) = await seed_rooms(Settings(database_url=postgres_url, secret_key=secret),
                                   rooms=1, workers=1, title="Drain")
        people = [Roamer([a.url, b.url], room.room_id, member.token, list)
                  for member in (room.workers[0], room.host)]
        for person in people:
            person.start()
            async with asyncio.timeout(30):
                while not person.heard.welcomes:  # noqa: ASYNC110 - the client's own loop
                    await asyncio.sleep(0.05)
        assert all(p.heard.welcomes[0][1] == a.url for p in people)

        stopping = time.monotonic()

        def moved(person: Roamer) -> bool:
            return any(at > stopping and node == b.url for at, node in person.heard.welcomes)

        await asyncio.to_thread(a.stop)  # SIGTERM: uvicorn drains, then stops
        async with asyncio.timeout(30):
            while not all(moved(p) for p in people):  # noqa: ASYNC110 - the clients' loops
                await asyncio.sleep(0.05)
        # each page was told where to go before its socket closed, and went straight there
        assert all((b.url in [url for at, url in p.redirects if at > stopping]) for p in people)
    finally:
        for person in people:
            await person.close()
        a.stop()
        b.stop()
