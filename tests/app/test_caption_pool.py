"""Captions through the ASR worker pool: real `counsel-room asr-worker` processes on a private
Redis recognize what the node's VAD cut out, while the node has no speech model at all. A worker
killed in the middle of a job leaves it to the next worker; a pool Redis that is down costs the
captions, not the room, and captions come back with Redis."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from redis import Redis

from media.speech.models import install
from media.speech.pool import AsrPoolClient, StreamKeys
from rooms.migrate import upgrade
from server.speech_backend import SpeechModels
from tests.app.test_captions import SENTENCE, guest, on_server, open_tap, services_of, wait_idle
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import LiveServer, Socket
from tests.services import RedisServer
from tests.speech.conftest import (  # noqa: F401 - session fixture used here
    MODELS_DIR,
    Speak,
    Speech,
    silence,
    speak,
    words,
)

pytestmark = pytest.mark.redis

COMMAND = Path(sys.executable).with_name("counsel-room")
KEY_WORDS = {"open", "window", "meeting"}


class WorkerProcess:
    """`counsel-room asr-worker` in a subprocess (tiny.en, one CPU thread); a thread collects
    its log lines."""

    def __init__(self, redis_url: str, prefix: str, workdir: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNSEL_")}
        env.update(
            COUNSEL_SPEECH_POOL_URL=redis_url, COUNSEL_SPEECH_POOL_PREFIX=prefix,
            COUNSEL_SPEECH_POOL_CLAIM_AFTER_S="1", COUNSEL_MODELS_DIR=str(MODELS_DIR),
            COUNSEL_SPEECH_MODEL="tiny.en", COUNSEL_SPEECH_BEAM_SIZE="1",
            COUNSEL_SPEECH_CPU_THREADS="1", COUNSEL_DATA_DIR=str(workdir),
        )
        workdir.mkdir(parents=True, exist_ok=True)  # its cwd: no developer's .env is read
        self.process = subprocess.Popen(
            [str(COMMAND), "asr-worker"], cwd=workdir, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            ended = self.process.poll() is not None
            if ended:
                self._reader.join(5)
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if ended or time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} from the worker:\n{self.output}")
            time.sleep(0.05)

    def ready(self) -> str:
        """Wait for the startup line; the worker's consumer name."""
        return self.wait_for(r"ready: faster-whisper model tiny\.en on cpu, consumers (\S+),")[1]

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait()

    def wait(self) -> int:
        """The exit code, once the process has ended and its output is read."""
        code = self.process.wait(60)
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@contextlib.contextmanager
def worker_process(redis_url: str, prefix: str, workdir: Path) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(redis_url, prefix, workdir)
    try:
        yield worker
    finally:
        worker.stop(signal.SIGKILL)


@contextlib.contextmanager
def pool_server(database_dir: Path, redis_url: str, prefix: str) -> Iterator[LiveServer]:
    """A live server whose captions go to the pool; its models_dir is empty: it has no model."""
    url = f"sqlite+aiosqlite:///{database_dir / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    (database_dir / "no-models").mkdir()
    settings = app_settings(url, models_dir=database_dir / "no-models", speech_model="tiny.en",
                            speech_pool_url=redis_url, speech_pool_prefix=prefix)
    server = LiveServer(settings).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"test-pool-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def pool_live(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, prefix: str
) -> Iterator[LiveServer]:
    install("tiny.en", MODELS_DIR)  # for the workers
    with pool_server(tmp_path_factory.mktemp("pool"), redis_url, prefix) as server:
        yield server


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def open_room(live: LiveServer, speaker: str) -> tuple[Socket, str, str]:
    """A room with the counselor listening and a consenting guest: (listener, room, guest)."""
    host = staff_browser(live, "counselor")
    room_id = host.create_room(title=f"Pool {uuid.uuid4().hex[:4]}")
    listener = Socket(live.url, room_id, host.enter(room_id).token)
    listener.expect("welcome")
    return listener, room_id, guest(live, host, listener, room_id, speaker, transcription="yes")


def speech(say: Speak) -> Speech:
    return np.concatenate([silence(0.4), say(SENTENCE, "en-us", 0, 0), silence(1.0)])


def test_the_pool_recognizes_captions_for_a_node_without_a_model(
    pool_live: LiveServer, redis_url: str, prefix: str, tmp_path: Path, speak: Speak  # noqa: F811
) -> None:
    services = services_of(pool_live)
    with worker_process(redis_url, prefix, tmp_path / "worker") as worker:
        worker.ready()
        listener, room_id, pid = open_room(pool_live, "Dana Pool")
        on_server(pool_live, open_tap(services, room_id, pid, speech(speak)))

        final = listener.expect("caption", timeout=90, speaker_id=pid, final=True)
        assert set(words(final["text"])) >= KEY_WORDS and final["lang"] == "en"
        on_server(pool_live, wait_idle(services.captions, within_s=60))
        assert worker.stop() == 0
    done = int(worker.wait_for(r"stopped after (\d+) jobs")[1])
    assert done >= 1, worker.output
    models = on_server(pool_live, services.captions.models())
    assert isinstance(models, SpeechModels) and isinstance(models.engine, AsrPoolClient)
    assert not any(Path(services.settings.models_dir).iterdir()), "the node has no model"


def pending(redis: Redis, keys: StreamKeys) -> list[tuple[str, str]]:
    """(job id, consumer) of the jobs read from the pool and not acknowledged yet."""
    rows = redis.xpending_range(keys.jobs, keys.group, "-", "+", 10)
    return [(str(row["message_id"]), str(row["consumer"])) for row in rows]


def freeze_holding_a_job(worker: WorkerProcess, redis: Redis, keys: StreamKeys) -> str:
    """Freeze the worker (SIGSTOP) the moment it holds a job, so that a signal lands in the
    middle of that job; the job's id. A job it finished before it froze does not count."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if pending(redis, keys):
            worker.process.send_signal(signal.SIGSTOP)
            if held := pending(redis, keys):
                return held[0][0]
            worker.process.send_signal(signal.SIGCONT)
        time.sleep(0.002)
    raise AssertionError(f"the worker never held a job:\n{worker.output}")


def test_a_killed_workers_job_is_taken_over_by_the_next_worker(
    pool_live: LiveServer, redis_url: str, redis: Redis, prefix: str, tmp_path: Path,
    speak: Speak,  # noqa: F811
) -> None:
    services = services_of(pool_live)
    keys = StreamKeys(prefix)
    with worker_process(redis_url, prefix, tmp_path / "first") as first:
        crashed = first.ready()
        listener, room_id, pid = open_room(pool_live, "Eli Crash")
        on_server(pool_live, open_tap(services, room_id, pid, speech(speak)))
        job = freeze_holding_a_job(first, redis, keys)
        first.stop(signal.SIGKILL)
    assert pending(redis, keys) == [(job, crashed)]

    with worker_process(redis_url, prefix, tmp_path / "second") as second:
        second.ready()
        final = listener.expect("caption", timeout=120, speaker_id=pid, final=True)
        assert set(words(final["text"])) >= KEY_WORDS
        second.wait_for(rf"taking over job {job} ")
        on_server(pool_live, wait_idle(services.captions, within_s=60))
        assert second.stop() == 0
    assert pending(redis, keys) == []


def test_a_stopped_worker_finishes_the_job_in_hand(
    pool_live: LiveServer, redis_url: str, redis: Redis, prefix: str, tmp_path: Path,
    speak: Speak,  # noqa: F811
) -> None:
    services = services_of(pool_live)
    keys = StreamKeys(prefix)
    with worker_process(redis_url, prefix, tmp_path / "first") as first:
        first.ready()
        listener, room_id, pid = open_room(pool_live, "Gil Stop")
        on_server(pool_live, open_tap(services, room_id, pid, speech(speak)))
        job = freeze_holding_a_job(first, redis, keys)
        first.process.send_signal(signal.SIGTERM)  # delivered when it runs again
        first.process.send_signal(signal.SIGCONT)
        assert first.wait() == 0, first.output
    assert int(first.wait_for(r"stopped after (\d+) jobs")[1]) >= 1
    assert pending(redis, keys) == [], f"job {job} was left unfinished"

    with worker_process(redis_url, prefix, tmp_path / "second") as second:
        second.ready()
        final = listener.expect("caption", timeout=120, speaker_id=pid, final=True)
        assert set(words(final["text"])) >= KEY_WORDS
        on_server(pool_live, wait_idle(services.captions, within_s=60))
        assert second.stop() == 0
    assert "taking over" not in second.output


def test_a_pool_redis_that_is_down_costs_captions_not_the_room(
    tmp_path: Path, speak: Speak, caplog: pytest.LogCaptureFixture  # noqa: F811
) -> None:
    install("tiny.en", MODELS_DIR)
    pool = RedisServer()
    pool.start()
    prefix = f"test-down-{uuid.uuid4().hex[:8]}"
    with contextlib.ExitStack() as stack:
        stack.callback(pool.stop)
        worker = stack.enter_context(worker_process(pool.url, prefix, tmp_path / "worker"))
        live = stack.enter_context(pool_server(tmp_path, pool.url, prefix))
        worker.ready()
        services = services_of(live)
        listener, room_id, pid = open_room(live, "Fay Outage")
        pool.stop()

        on_server(live, open_tap(services, room_id, pid, speech(speak)))
        listener.send({"type": "ping", "nonce": "during"})
        listener.expect("pong", nonce="during")
        listener.send({"type": "chat.send", "client_id": "c-during", "text": "still here"})
        listener.expect("chat.ack", client_id="c-during")
        on_server(live, wait_idle(services.captions, within_s=60))
        listener.send({"type": "ping", "nonce": "after"})
        listener.expect("pong", nonce="after")
        assert not [m for m in listener.seen if m["type"] == "caption"]
        lost = [r for r in caplog.records if r.levelno == logging.WARNING
                and f"final caption of {pid} in room {room_id} lost" in r.getMessage()]
        assert lost, "the lost caption was not logged"
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert services.captions.enabled and worker.process.poll() is None

        pool.start()  # Redis is back (empty): the node and the worker carry on
        on_server(live, open_tap(services, room_id, pid, speech(speak)))
        final = listener.expect("caption", timeout=120, speaker_id=pid, final=True)
        assert set(words(final["text"])) >= KEY_WORDS
        on_server(live, wait_idle(services.captions, within_s=60))
        assert worker.stop() == 0
