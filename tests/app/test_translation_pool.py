"""Translation on the ASR pool's workers over a real Redis: the node hands batches to the pool
as text jobs, a worker translates them with its own (test-built) models."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from media.speech import SpeechEngine
from media.speech.pool import AsrPoolClient, AsrWorker, PoolJobError, StreamKeys
from server.translation_pool import PooledTranslator, pooled, worker_translate
from tests.speech.conftest import (  # noqa: F401 - fixtures used here
    models_dir,
    tiny_en_dir,
    tiny_engine,
)
from tests.translation.packbuild import installed_multilingual
from translation import Registry, Status, TranslationService, open_registry

pytestmark = pytest.mark.redis

ROWS = [
    {"vi": "xin chào", "ko": "안녕하세요", "en": "hello"},
    {"vi": "cảm ơn", "ko": "감사합니다", "en": "thank you"},
]


@pytest.fixture(scope="module")
def translation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_multilingual(tmp_path_factory, ROWS)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@contextlib.asynccontextmanager
async def worker(redis: Redis, keys: StreamKeys, engine: SpeechEngine,
                 service: TranslationService | None) -> AsyncIterator[AsrWorker]:
    running = AsrWorker(redis, engine, keys, translate=(
        worker_translate(service) if service is not None else None))
    await running.ensure_group()
    task = asyncio.create_task(running.run())
    try:
        yield running
    finally:
        running.stop()
        await task


async def test_the_node_translates_on_the_pools_workers(
    redis: Redis, tiny_engine: SpeechEngine, translation_dir: Path,  # noqa: F811
) -> None:
    keys = StreamKeys(prefix=f"test-mt-{uuid.uuid4().hex[:8]}")
    on_worker = TranslationService(open_registry(translation_dir))
    async with worker(redis, keys, tiny_engine, on_worker) as serving, \
            AsrPoolClient(redis, keys) as pool:
        described = open_registry(translation_dir)  # the node reads descriptions only
        translators = pooled(described.translators, pool, asyncio.get_running_loop())
        assert all(isinstance(t, PooledTranslator) for t in translators)
        node = TranslationService(Registry(translators))
        results = await node.translate("Xin chào", "vi", {"ko", "en"}, final=True)
        assert {k: (r.text, r.kind) for k, r in results.items()} == {
            "ko": ("안녕하세요", "multilingual"), "en": ("Hello", "multilingual")}
        assert serving.done >= 1  # text jobs the worker answered
        assert on_worker.stats().cache_misses >= 2  # the worker's models did the work
        await node.aclose()
    await on_worker.aclose()


async def test_a_worker_without_translation_models_refuses_text_jobs(
    redis: Redis, tiny_engine: SpeechEngine, translation_dir: Path,  # noqa: F811
) -> None:
    keys = StreamKeys(prefix=f"test-mt-{uuid.uuid4().hex[:8]}")
    async with worker(redis, keys, tiny_engine, None), AsrPoolClient(redis, keys) as pool:
        with pytest.raises(PoolJobError, match="no translation models") as refused:
            await pool.translate_texts(["Xin chào"], "vi", "ko", max_wait_s=10)
        assert refused.value.retryable
        node = TranslationService(Registry(pooled(
            open_registry(translation_dir).translators, pool, asyncio.get_running_loop())))
        result = (await node.translate("Cảm ơn", "vi", {"ko"}, final=True))["ko"]
        assert result.status is Status.FAILED and "no translation models" in (result.error or "")
        await node.aclose()
