"""Chat delivery latency on one node, over the real path: server, sockets, database, hub.

    python bench/chat.py --json                      # 200 clients in 100 rooms, 20 messages each
    python bench/chat.py --json --sockets 1000       # 1,000 clients in 500 rooms, 200 messages/s
    python bench/chat.py --clients 40 --rooms 20 --messages 5
    python bench/chat.py --json --postgres-url postgresql+asyncpg://postgres@127.0.0.1/postgres

The server is the `counsel-room serve` command (uvicorn, websockets-sansio) in a subprocess on a
free loopback port, with a temporary SQLite database (or, with --postgres-url, a temporary
database on that PostgreSQL server; --redis-url switches the bus to Redis) migrated by
`rooms.migrate.upgrade` and its settings in COUNSEL_* environment variables. Set-up goes
straight to that database through the project's own functions: one staff counselor, and per
room an open auto-admit room, the counselor as host and invited workers for the other seats;
room tokens are minted with `TokenService` and the same secret (this measures chat delivery,
not sign-in).

This process then opens one `websockets` client per participant, waits until every socket has
its welcome and chat history, and has each client send `--messages` `chat.send` frames at
`--rate` per second with jitter. Latency is the time from a client's send to the `chat.message`
with that `client_id` reaching each OTHER participant of the room (a message that arrives
through a gap-filling `chat.history` counts too, and is counted separately). A delivery that has
not arrived `--deadline` seconds after the last send is lost. One JSON object goes to stdout with
--json, a readable summary otherwise. The server is stopped on exit, whatever happens.

Unless given, the rooms hold two clients each and the clients together send 200 messages per
second for about 20 seconds (`--sockets N`, the same as `--clients N`, keeps that load on more
sockets). The server's CPU per message is its CPU time over the sending phase divided by the
messages sent (also given above what it spends idle: the clients stay silent for `--idle`
seconds first, while its periodic sweeps and pings run); its memory per socket is the growth
of its resident memory (/proc) from before the first client connects to after the last one is
in, divided by the clients. The clients connect 32 at a time, as pages do after a restart; each
one's connect time runs from opening its socket to having its welcome and chat history.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import _repo  # noqa: F401 - before the project's imports: see bench/_repo.py
from _chat_clients import Client, Tally, seed
from _database import database
from _serve import HOST, Server
from pydantic import SecretStr

from rooms.migrate import upgrade
from server.settings import Settings

# ---- the run ----------------------------------------------------------------------------------

TOTAL_RATE = 200.0
"""Messages per second from all clients together, unless --rate says otherwise."""
SEND_SECONDS = 20.0
"""About how long the clients send, unless --messages says otherwise."""


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


def rate_limit(rate: float) -> tuple[float, int, bool]:
    """The server's per-socket limit, raised only if the send rate with jitter could reach it."""
    fields = Settings.model_fields
    per_second = float(fields["ws_rate_per_second"].default)
    burst = int(fields["ws_rate_burst"].default)
    if rate * 1.25 <= per_second:
        return per_second, burst, False
    return math.ceil(rate * 2), max(burst, math.ceil(rate * 4)), True


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    async with database(args.postgres_url, workdir) as db_url:
        return await run_on(args, workdir, db_url)


async def run_on(args: argparse.Namespace, workdir: Path, db_url: str) -> dict[str, Any]:
    per_room = args.clients // args.rooms
    secret = "bench-" + os.urandom(24).hex()
    per_second, burst, raised = rate_limit(args.rate)
    settings = Settings(database_url=db_url, secret_key=SecretStr(secret), data_dir=workdir)
    await asyncio.to_thread(upgrade, db_url)
    seats = await seed(settings, args.rooms, per_room)

    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNSEL_")}
    env.update(COUNSEL_DATABASE_URL=db_url, COUNSEL_SECRET_KEY=secret,
               COUNSEL_DATA_DIR=str(workdir))
    if args.redis_url:
        env.update(COUNSEL_REDIS_URL=args.redis_url)
    if raised:
        env.update(COUNSEL_WS_RATE_PER_SECOND=str(per_second), COUNSEL_WS_RATE_BURST=str(burst))
    # the chat allowances are not what is measured: each participant's is kept above its send
    # rate, and every client of this process comes from one loopback address, so the
    # per-address allowance and socket limit (meant for one office's network) are lifted
    total_rate = args.clients * args.rate
    env.update(COUNSEL_CHAT_RATE_PER_SECOND=str(math.ceil(args.rate * 2) + 2),
               COUNSEL_CHAT_RATE_BURST=str(math.ceil(args.rate * 4) + 10),
               COUNSEL_WS_MAX_SOCKETS_PER_ADDRESS=str(args.clients * 2 + 10),
               COUNSEL_CHAT_RATE_PER_ADDRESS_PER_SECOND=str(math.ceil(total_rate * 2) + 10),
               COUNSEL_CHAT_RATE_PER_ADDRESS_BURST=str(math.ceil(total_rate * 4) + 10))

    server = Server(env, workdir)
    clients: list[Client] = []
    try:
        await server.wait_ready()
        tally = Tally()
        url = f"ws://{HOST}:{server.port}"
        members: dict[str, set[str]] = {}
        for seat in seats:
            members.setdefault(seat.room_id, set()).add(seat.participant_id)
        clients = [Client(s, members[s.room_id] - {s.participant_id}, url, tally) for s in seats]

        rss_before = server.rss()
        connect_started = time.perf_counter()
        gate = asyncio.Semaphore(32)
        opening: list[float] = []

        async def open_one(client: Client) -> None:
            async with gate:
                began = time.perf_counter()
                await client.open()
                opening.append(time.perf_counter() - began)

        await asyncio.wait_for(asyncio.gather(*(open_one(c) for c in clients)),
                               args.connect_timeout)
        connect_s = time.perf_counter() - connect_started
        await asyncio.sleep(0.5)  # let the presence updates of the last joins settle
        rss_connected = server.rss()
        idle_cpu, idle_started = server.cpu(), time.perf_counter()
        await asyncio.sleep(args.idle)  # what the node spends with nobody chatting
        idle_pct = 100 * (server.cpu() - idle_cpu) / (time.perf_counter() - idle_started)

        cpu_before, bench_cpu_before = server.cpu(), time.process_time()
        started = time.perf_counter()
        send_budget = args.messages * 1.5 / args.rate + 5
        await asyncio.wait_for(asyncio.gather(
            *(c.chat(args.messages, args.rate, started) for c in clients)), send_budget)
        sent_done = time.perf_counter()
        tally.sending = False
        tally.check()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.all_in.wait(), args.deadline)
        finished = time.perf_counter()
        server_cpu = server.cpu() - cpu_before
        bench_cpu = time.process_time() - bench_cpu_before
    finally:
        await asyncio.gather(*(c.close() for c in clients))
        server.stop()

    lat = sorted(tally.latencies)
    acks = sorted(tally.ack_latencies)
    expected = sum(len(s.waiting_for) for s in tally.sent.values()) + len(lat)
    duration = finished - started
    return {
        "clients": len(clients),
        "rooms": args.rooms,
        "participants_per_room": per_room,
        "messages_per_client": args.messages,
        "rate_per_client": args.rate,
        "messages_sent": len(tally.sent),
        "deliveries_expected": expected,
        "delivered": len(lat),
        "delivered_via_history": tally.via_history,
        "lost": tally.outstanding,
        "duplicates": tally.duplicates,
        "p50_ms": ms(percentile(lat, 50)),
        "p90_ms": ms(percentile(lat, 90)),
        "p99_ms": ms(percentile(lat, 99)),
        "max_ms": ms(lat[-1] if lat else math.nan),
        "mean_ms": ms(sum(lat) / len(lat) if lat else math.nan),
        "ack_p50_ms": ms(percentile(acks, 50)),
        "ack_p99_ms": ms(percentile(acks, 99)),
        "errors": dict(tally.errors),
        "abnormal_closes": dict(tally.closes),
        "connect_s": round(connect_s, 2),
        "connect_p50_ms": ms(percentile(sorted(opening), 50)),
        "connect_p99_ms": ms(percentile(sorted(opening), 99)),
        "send_phase_s": round(sent_done - started, 2),
        "duration_s": round(duration, 2),
        "deadline_s": args.deadline,
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_pct": round(100 * server_cpu / duration, 1),
        "server_cpu_ms_per_message": round(1000 * server_cpu / max(1, len(tally.sent)), 3),
        "server_idle_cpu_pct": round(idle_pct, 2),
        "server_cpu_ms_per_message_above_idle": round(
            1000 * (server_cpu - idle_pct / 100 * duration) / max(1, len(tally.sent)), 3),
        "server_rss_mib": {"before_connect": round(rss_before / 2**20, 1),
                           "connected": round(rss_connected / 2**20, 1)},
        "memory_per_socket_kib": round((rss_connected - rss_before) / 1024 / len(clients), 1),
        "bench_cpu_s": round(bench_cpu, 2),
        "rate_limit": {"per_second": per_second, "burst": burst, "raised": raised,
                       "chat_allowances_lifted": True},
        "server": "counsel-room serve (uvicorn, ws=websockets-sansio), "
                  + ("PostgreSQL" if args.postgres_url else "SQLite") + ", "
                  + ("Redis bus" if args.redis_url else "in-process bus"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def summary(r: dict[str, Any]) -> str:
    return "\n".join([
        f"{r['clients']} clients in {r['rooms']} rooms, {r['messages_per_client']} messages each "
        f"at {r['rate_per_client']}/s: {r['messages_sent']} sent, "
        f"{r['delivered']}/{r['deliveries_expected']} delivered to peers "
        f"({r['delivered_via_history']} via history), {r['lost']} lost",
        f"delivery latency: p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms, "
        f"max {r['max_ms']} ms, mean {r['mean_ms']} ms",
        f"ack latency: p50 {r['ack_p50_ms']} ms, p99 {r['ack_p99_ms']} ms",
        f"server CPU {r['server_cpu_s']} s over {r['duration_s']} s ({r['server_cpu_pct']} %), "
        f"{r['server_cpu_ms_per_message']} ms per message "
        f"({r['server_cpu_ms_per_message_above_idle']} above its idle "
        f"{r['server_idle_cpu_pct']} %); "
        f"benchmark CPU {r['bench_cpu_s']} s, {r['cpus']} CPUs",
        f"server memory {r['server_rss_mib']['before_connect']} MiB before the clients, "
        f"{r['server_rss_mib']['connected']} MiB with them: "
        f"{r['memory_per_socket_kib']} KiB per socket",
        f"connect {r['connect_s']} s (per socket p50 {r['connect_p50_ms']} ms, "
        f"p99 {r['connect_p99_ms']} ms, 32 at a time); errors {r['errors'] or 'none'}; "
        f"abnormal closes {r['abnormal_closes'] or 'none'}; "
        f"rate limit {r['rate_limit']['per_second']}/s burst {r['rate_limit']['burst']}"
        f"{' (raised)' if r['rate_limit']['raised'] else ''}",
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", "--sockets", type=int, default=200,
                        help="sockets in all (default 200)")
    parser.add_argument("--rooms", type=int, default=None,
                        help="rooms (default: two clients in each)")
    parser.add_argument("--messages", type=int, default=None,
                        help="messages per client (default: about 20 seconds of them)")
    parser.add_argument("--rate", type=float, default=None,
                        help="messages per second per client, jittered ±50%% (default: "
                             f"{TOTAL_RATE:.0f} per second from all clients together)")
    parser.add_argument("--deadline", type=float, default=10.0,
                        help="seconds after the last send before a delivery counts as lost")
    parser.add_argument("--idle", type=float, default=5.0,
                        help="seconds the connected clients stay silent first, to measure the "
                             "server's CPU with nobody chatting (its sweeps and pings)")
    parser.add_argument("--connect-timeout", type=float, default=60.0,
                        help="seconds for all clients to connect")
    parser.add_argument("--postgres-url", default=None,
                        help="a PostgreSQL server (postgresql+asyncpg://user@host:port/db) to "
                             "run on instead of SQLite; the benchmark creates and drops its own "
                             "database there")
    parser.add_argument("--redis-url", default=None,
                        help="deliver through Redis pub/sub (redis://host:port/N) instead of "
                             "the in-process bus")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.clients < 2:
        parser.error("--clients must be at least 2")
    if args.rooms is None:
        args.rooms = args.clients // 2
    if args.rate is None:
        args.rate = TOTAL_RATE / args.clients
    if args.messages is None:
        args.messages = max(1, round(SEND_SECONDS * args.rate))
    if args.rooms < 1 or args.clients % args.rooms or args.clients // args.rooms < 2:
        parser.error("--clients must be a multiple of --rooms, at least two per room")
    if args.messages < 1 or args.rate <= 0:
        parser.error("--messages and --rate must be positive")
    return args


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    print(json.dumps(result) if args.json else summary(result))


if __name__ == "__main__":
    main()
