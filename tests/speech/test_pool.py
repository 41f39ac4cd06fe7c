"""The ASR worker pool over a real Redis server."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing

import numpy as np
import pytest
from redis.asyncio import Redis

from media.speech import SileroVad, SpeechEngine, StreamingRecognizer
from media.speech.pool import (
    AsrPoolClient,
    AsrWorker,
    PoolJobError,
    StreamKeys,
    WorkerConfig,
    pool_redis,
)
from tests.services import RedisServer
from tests.speech.conftest import Speak, frames_of, silence, words

pytestmark = pytest.mark.redis

FIRST = "Please open the window before the meeting starts."
SECOND = "My brother works at the hospital in the city center."


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def keys() -> StreamKeys:
    return StreamKeys(prefix=f"test-asr-{uuid.uuid4().hex[:8]}")


@contextlib.asynccontextmanager
async def running(worker: AsrWorker) -> AsyncIterator[asyncio.Task[None]]:
    await worker.ensure_group()
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        worker.stop()
        await task


async def test_jobs_are_recognized_by_the_pool(
    redis: Redis, keys: StreamKeys, tiny_engine: SpeechEngine, speak: Speak
) -> None:
    workers = [AsrWorker(redis, tiny_engine, keys, name=f"w{i}") for i in range(2)]
    async with running(workers[0]), running(workers[1]), AsrPoolClient(redis, keys) as pool:
        first, second = await asyncio.gather(
            pool.transcribe_async(speak(FIRST, "en-us"), "en"),
            pool.transcribe_async(speak(SECOND, "en-gb"), "en"),
        )
    assert words(first.text) == words(FIRST)
    assert {"brother", "hospital"} <= set(words(second.text))
    assert first.language == "en" and first.segments
    assert sum(w.done for w in workers) == 2
    pending = await redis.xpending(keys.jobs, keys.group)
    assert pending["pending"] == 0


async def take_and_die(redis: Redis, keys: StreamKeys, consumer: str) -> None:
    """What a worker that crashes mid-job leaves behind: the job read, never acked."""
    response = await redis.xreadgroup(keys.group, consumer, {keys.jobs: ">"}, count=1, block=10_000)
    assert response, "no job arrived"


async def test_a_crashed_workers_job_is_taken_over(
    redis: Redis, keys: StreamKeys, tiny_engine: SpeechEngine, speak: Speak
) -> None:
    config = WorkerConfig(claim_after_s=0.3, block_s=0.1)
    rescuer = AsrWorker(redis, tiny_engine, keys, name="rescuer", config=config)
    await rescuer.ensure_group()
    async with AsrPoolClient(redis, keys) as pool:
        job = asyncio.create_task(pool.transcribe_async(speak(FIRST, "en-us"), "en"))
        await take_and_die(redis, keys, "crashed")
        pending = await redis.xpending(keys.jobs, keys.group)
        assert pending["pending"] == 1 and pending["consumers"][0]["name"] == b"crashed"
        assert not job.done()
        async with running(rescuer):
            result = await job
    assert words(result.text) == words(FIRST)
    assert rescuer.done == 1
    assert (await redis.xpending(keys.jobs, keys.group))["pending"] == 0


async def test_a_job_failing_on_every_worker_is_answered_with_an_error(
    redis: Redis, keys: StreamKeys, tiny_engine: SpeechEngine
) -> None:
    config = WorkerConfig(claim_after_s=0.05, block_s=0.05, max_deliveries=3)
    worker = AsrWorker(redis, tiny_engine, keys, name="last", config=config)
    await worker.ensure_group()
    async with AsrPoolClient(redis, keys) as pool:
        job = asyncio.create_task(pool.transcribe_async(np.zeros(16000, np.int16), "en"))
        await take_and_die(redis, keys, "first")
        for consumer in ("second", "third"):  # two more workers took it over and died
            await redis.xautoclaim(keys.jobs, keys.group, consumer, min_idle_time=0, count=1)
        async with running(worker):
            with pytest.raises(PoolJobError) as failure:
                await job
    assert not failure.value.retryable
    assert worker.done == 1


async def test_no_worker_means_a_retryable_timeout(redis: Redis, keys: StreamKeys) -> None:
    async with AsrPoolClient(redis, keys) as pool:
        with pytest.raises(PoolJobError) as failure:
            await pool.transcribe_async(np.zeros(1600, np.int16), "en", max_wait_s=0.3)
    assert failure.value.retryable


async def test_a_redis_that_went_away_fails_jobs_at_once_and_the_client_recovers(
    keys: StreamKeys, tiny_engine: SpeechEngine, speak: Speak
) -> None:
    server = RedisServer()
    server.start()
    redis = pool_redis(server.url)
    worker = AsrWorker(redis, tiny_engine, keys, config=WorkerConfig(block_s=0.1))
    try:
        async with running(worker), AsrPoolClient(redis, keys) as pool:
            server.stop()
            started = asyncio.get_running_loop().time()
            with pytest.raises(PoolJobError) as failure:
                await pool.transcribe_async(np.zeros(1600, np.int16), "en", max_wait_s=20)
            assert failure.value.retryable
            assert asyncio.get_running_loop().time() - started < 5
            server.start()  # empty: the worker makes the group again
            result = await pool.transcribe_async(speak(FIRST, "en-us"), "en", max_wait_s=60)
        assert words(result.text) == words(FIRST)
    finally:
        await redis.aclose()
        server.stop()


async def test_streaming_captions_through_the_pool(
    redis: Redis,
    keys: StreamKeys,
    tiny_engine: SpeechEngine,
    vad_model: SileroVad,
    speak: Speak,
) -> None:
    audio = np.concatenate([silence(0.3), speak(FIRST, "en-us"), silence(0.8)])
    worker = AsrWorker(redis, tiny_engine, keys)
    async with running(worker), AsrPoolClient(redis, keys) as pool:
        recognizer = StreamingRecognizer(pool, vad_model, room_id="r", speaker_id="s")
        async with aclosing(recognizer.captions(frames_of(audio, speed=2.0))) as captions:
            events = [event async for event in captions]
    assert events[-1].is_final and words(events[-1].text) == words(FIRST)
    assert any(not e.is_final for e in events)
