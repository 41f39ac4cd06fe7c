"""The worker side of the ASR pool: a consumer of the job stream's group, running an engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from media.speech.engines.base import SpeechEngine
from media.speech.errors import SpeechError
from media.speech.pool.protocol import (
    Fields,
    Job,
    StreamFields,
    StreamKeys,
    TextJob,
    decode_job,
    encode_error,
    encode_result,
    encode_texts,
)

TranslateTexts = Callable[[list[str], str, str], Awaitable[list[str]]]
"""Translate texts from a source into a target language (the worker's translation models)."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """``claim_after_s``: a job pending that long with another consumer (a crashed worker) is
    taken over; after ``max_deliveries`` tries it is answered with an error instead. A worker
    that loses Redis retries with backoff up to ``max_backoff_s``."""

    claim_after_s: float = 30.0
    block_s: float = 1.0
    max_deliveries: int = 3
    reply_maxlen: int = 1000
    max_backoff_s: float = 2.0


class AsrWorker:
    """Takes jobs from the pool's consumer group one at a time, recognizes (or, given
    ``translate``, translates text jobs), replies, acks."""

    def __init__(
        self,
        redis: Redis,
        engine: SpeechEngine,
        keys: StreamKeys | None = None,
        *,
        name: str | None = None,
        config: WorkerConfig | None = None,
        translate: TranslateTexts | None = None,
    ) -> None:
        self._redis = redis
        self._engine = engine
        self._translate = translate
        self._keys = keys or StreamKeys()
        self.name = name or f"asr-worker-{uuid.uuid4().hex[:8]}"
        self.config = config or WorkerConfig()
        self.done = 0
        self._stopping = asyncio.Event()

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                self._keys.jobs, self._keys.group, id="0", mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def run(self) -> None:
        """Serve jobs until ``stop``; a job being recognized when the task is cancelled (or
        the process dies) stays pending and another worker takes it over. Losing Redis does
        not end the loop: it retries, and recreates the group if Redis came back empty."""
        failures, grouped = 0, False
        while not self._stopping.is_set():
            try:
                if not grouped:
                    await self.ensure_group()
                    grouped = True
                await self._serve_next()
            except (RedisConnectionError, RedisTimeoutError) as error:
                failures += 1
                await self._wait_for_redis(error, failures)
                continue
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                grouped = False
            if failures:
                log.info("%s: Redis is reachable again", self.name)
                failures = 0

    async def _serve_next(self) -> None:
        for message_id, fields in await self._claim_stale() or await self._read_new():
            await self._handle(message_id, fields)

    async def _wait_for_redis(self, error: Exception, failures: int) -> None:
        if failures == 1:
            log.warning("%s: lost Redis (%s); retrying", self.name, error)
        delay = min(0.1 * 2**failures, self.config.max_backoff_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)

    def stop(self) -> None:
        """Let ``run`` return after the job in hand, within ``block_s`` when idle. (Prefer this
        to cancelling: redis-py may lose a cancellation that lands in a blocking read.)"""
        self._stopping.set()

    async def _read_new(self) -> list[tuple[bytes, Fields]]:
        block_ms = round(min(self.config.block_s, self.config.claim_after_s) * 1000)
        response: Any = await self._redis.xreadgroup(
            self._keys.group, self.name, {self._keys.jobs: ">"}, count=1, block=block_ms
        )
        return [message for _stream, messages in response or [] for message in messages]

    async def _claim_stale(self) -> list[tuple[bytes, Fields]]:
        response: Any = await self._redis.xautoclaim(
            self._keys.jobs,
            self._keys.group,
            self.name,
            min_idle_time=round(self.config.claim_after_s * 1000),
            count=1,
        )
        claimed = [m for m in response[1] if m[1] is not None]
        for message_id, _fields in claimed:
            log.info("%s: taking over job %s (pending over %gs)", self.name,
                     message_id.decode(), self.config.claim_after_s)
        return claimed

    async def _handle(self, message_id: bytes, fields: Fields) -> None:
        job = decode_job(fields)
        if job.expired:
            await self._finish(message_id, job, encode_error(job.job_id, "expired", retryable=True))
        elif await self._deliveries(message_id) > self.config.max_deliveries:
            reply = encode_error(job.job_id, "failed on every worker", retryable=False)
            await self._finish(message_id, job, reply)
        elif isinstance(job, TextJob):
            await self._finish(message_id, job, await self._translate_texts(job))
        else:
            await self._finish(message_id, job, await self._recognize(job))

    async def _translate_texts(self, job: TextJob) -> StreamFields:
        if self._translate is None:
            return encode_error(job.job_id, "this worker has no translation models",
                                retryable=True)
        try:
            texts = await self._translate(list(job.texts), job.source, job.target)
        except Exception as error:  # the node's translation of this job fails, not the worker
            log.exception("translation job %s failed", job.job_id)
            return encode_error(job.job_id, str(error), retryable=False)
        return encode_texts(job.job_id, texts)

    async def _recognize(self, job: Job) -> StreamFields:
        try:
            transcript = await self._engine.transcribe_async(
                job.audio, job.language, beam_size=job.beam_size, task=job.task
            )
        except (SpeechError, ValueError, RuntimeError) as error:
            log.exception("ASR job %s failed", job.job_id)
            retryable = isinstance(error, SpeechError) and error.retryable
            return encode_error(job.job_id, str(error), retryable=retryable)
        return encode_result(job.job_id, transcript)

    async def _finish(self, message_id: bytes, job: Job | TextJob, reply: StreamFields) -> None:
        await self._redis.xadd(
            job.reply_to,
            reply,
            maxlen=self.config.reply_maxlen,
            approximate=True,
        )
        await self._redis.xack(self._keys.jobs, self._keys.group, message_id)
        await self._redis.xdel(self._keys.jobs, message_id)
        self.done += 1

    async def _deliveries(self, message_id: bytes) -> int:
        pending: Any = await self._redis.xpending_range(
            self._keys.jobs, self._keys.group, min=message_id, max=message_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1
