"""Form submission latency on one node, over the real path: server, multipart upload, content
check, file on disk, database.

    python bench/forms.py --json                     # 100 workers at once, 1 MB attachment each
    python bench/forms.py --workers 20 --attachment-kb 256
    python bench/forms.py --json --postgres-url postgresql+asyncpg://postgres@127.0.0.1/test

The server is the `counsel-room serve` command in a subprocess on a free loopback port (see
bench/_serve.py), with a temporary SQLite database (or, with --postgres-url, a temporary
database on that PostgreSQL server) migrated by `rooms.migrate.upgrade`, and its data directory
(where attachments are kept) in a temporary folder. Set-up goes straight to the database
(bench/_forms_seed.py): the shipped example forms and one submitter per worker with the signed
form link staff would send.

Each worker first opens its link (the page makes its draft), then all of them at once send the
vocational-training application (answers plus a PDF of --attachment-kb in the same multipart
POST, as a browser without scripts does). Latency is from the start of that POST to its answer
(201: stored). Afterwards the server is stopped and the database and the data directory are
read back: a worker whose submission is not stored exactly once, with its file's checksum
matching the bytes sent and on disk, counts as `lost`. One JSON object goes to stdout with
--json, a readable summary otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import platform
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import _repo  # noqa: F401 - before the project's imports: see bench/_repo.py
import httpx
from _chatbot import CHATBOT_ENV, measure_chatbot, seed_hall
from _database import database
from _forms_seed import FormWorker, seed_workers, stored
from _serve import HOST, Server
from pydantic import SecretStr

from rooms.migrate import upgrade
from server.settings import Settings

SLUG = "vocational-training"
ANSWERS = {"full_name": "Nguyen Van An", "birth_date": "1988-04-12", "phone": "010-1234-5678",
           "former_job": "construction", "treatment_finished": "yes",
           "course_field": "welding", "hours_per_week": "20", "consent": "yes"}
DRAFT = re.compile(r'name="draft_id" value="(\w+)"')


def attachment(index: int, size: int) -> bytes:
    head = b"%PDF-1.4\n%bench " + str(index).encode() + b"\n"
    return head + os.urandom(max(0, size - len(head) - 6)) + b"\n%%EOF"


async def open_page(client: httpx.AsyncClient, worker: FormWorker) -> str | None:
    """The worker opens the link; the page carries their draft's id (None: it failed)."""
    page = await client.get(worker.path)
    found = DRAFT.search(page.text)
    return found.group(1) if page.status_code == 200 and found else None


async def submit_one(client: httpx.AsyncClient, worker: FormWorker, draft_id: str, index: int,
                     pdf: bytes) -> tuple[float | None, str]:
    started = time.perf_counter()
    try:
        response = await client.post(
            worker.path, data={"draft_id": draft_id, **ANSWERS},
            files={"medical_certificate": (f"certificate-{index}.pdf", pdf, "application/pdf")},
            headers={"accept": "application/json"})
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    elapsed = time.perf_counter() - started
    return (elapsed, "201") if response.status_code == 201 else (None, str(response.status_code))


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[max(1, math.ceil(q / 100 * len(sorted_values))) - 1]


def ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    async with database(args.postgres_url, workdir) as db_url:
        return await run_on(args, workdir, db_url)


async def run_on(args: argparse.Namespace, workdir: Path, db_url: str) -> dict[str, Any]:
    secret = "bench-" + os.urandom(24).hex()
    data_dir = workdir / "data"
    settings = Settings(database_url=db_url, secret_key=SecretStr(secret), data_dir=data_dir)
    await asyncio.to_thread(upgrade, db_url)
    workers = await seed_workers(settings, workers=args.workers, slug=SLUG)
    await seed_hall(settings)
    pdfs = [attachment(i, args.attachment_kb * 1024) for i in range(len(workers))]

    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNSEL_")}
    env.update(COUNSEL_DATABASE_URL=db_url, COUNSEL_SECRET_KEY=secret,
               COUNSEL_DATA_DIR=str(data_dir), COUNSEL_CAPTIONS_ENABLED="false",
               COUNSEL_MODELS_DIR=str(workdir / "no-models"), **CHATBOT_ENV)
    server = Server(env, workdir)
    try:
        await server.wait_ready()
        limits = httpx.Limits(max_connections=len(workers) + 10,
                              max_keepalive_connections=len(workers) + 10)
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{server.port}", limits=limits,
                                     timeout=args.timeout) as client:
            drafts = await asyncio.gather(*(open_page(client, w) for w in workers))
            cpu_before, bench_cpu_before = server.cpu(), time.process_time()
            started = time.perf_counter()
            results = await asyncio.gather(*(
                submit_one(client, w, d, i, pdfs[i]) if d else _failed("page")
                for i, (w, d) in enumerate(zip(workers, drafts, strict=True))))
            duration = time.perf_counter() - started
            server_cpu = server.cpu() - cpu_before
            bench_cpu = time.process_time() - bench_cpu_before
            chatbot = await measure_chatbot(client)
    finally:
        server.stop()

    kept = await stored(settings, [w.submitter_id for w in workers])
    lost = 0
    for worker, pdf in zip(workers, pdfs, strict=True):
        record = kept[worker.submitter_id]
        expected = hashlib.sha256(pdf).hexdigest()
        on_disk = [hashlib.sha256((data_dir / "attachments" / key).read_bytes()).hexdigest()
                   for key in record.storage_keys if (data_dir / "attachments" / key).exists()]
        if record.submissions != 1 or record.sha256 != (expected,) or on_disk != [expected]:
            lost += 1
    latencies = sorted(r[0] for r in results if r[0] is not None)
    return {
        "workers": len(workers),
        "attachment_bytes": args.attachment_kb * 1024,
        "acknowledged": len(latencies),
        "answers": dict(Counter(r[1] for r in results)),
        "lost": lost,
        "submit_p50_ms": ms(percentile(latencies, 50)),
        "submit_p90_ms": ms(percentile(latencies, 90)),
        "submit_p99_ms": ms(percentile(latencies, 99)),
        "submit_max_ms": ms(latencies[-1] if latencies else math.nan),
        "duration_s": round(duration, 2),
        "server_cpu_s": round(server_cpu, 2),
        "bench_cpu_s": round(bench_cpu, 2),
        "server": "counsel-room serve (uvicorn), "
                  + ("PostgreSQL" if args.postgres_url else "SQLite"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        **chatbot,
    }


async def _failed(why: str) -> tuple[float | None, str]:
    return None, why


def summary(r: dict[str, Any]) -> str:
    return "\n".join([
        f"{r['workers']} workers at once, {r['attachment_bytes'] // 1024} KB attachment each: "
        f"{r['acknowledged']} acknowledged, {r['lost']} lost, answers {r['answers']}",
        f"submit latency: p50 {r['submit_p50_ms']} ms, p90 {r['submit_p90_ms']} ms, "
        f"p99 {r['submit_p99_ms']} ms, max {r['submit_max_ms']} ms",
        f"{r['duration_s']} s in all; server CPU {r['server_cpu_s']} s, benchmark client CPU "
        f"{r['bench_cpu_s']} s; {r['server']}, "
        f"{r['cpus']} CPUs",
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=100,
                        help="workers submitting at once (default 100)")
    parser.add_argument("--attachment-kb", type=int, default=1024,
                        help="size of each worker's PDF attachment in KiB (default 1024)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds a request may take before it counts as failed")
    parser.add_argument("--postgres-url", default=None,
                        help="a PostgreSQL server (postgresql+asyncpg://user@host:port/db) to "
                             "run on instead of SQLite; the benchmark creates and drops its own "
                             "database there")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.attachment_kb < 1:
        parser.error("--workers and --attachment-kb must be positive")
    return args


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="counsel-bench-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    print(json.dumps(result) if args.json else summary(result))


if __name__ == "__main__":
    main()
