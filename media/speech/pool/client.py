"""The producer side of the ASR pool: submit utterance audio, await its transcript."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt
from redis.asyncio import Redis
from redis.exceptions import RedisError

from media.speech.audio import to_float32
from media.speech.errors import SpeechError
from media.speech.pool.protocol import Job, Reply, StreamKeys, TextJob
from media.speech.transcript import Transcript

log = logging.getLogger(__name__)

_LISTEN_BLOCK_MS = 200
_MAX_BACKOFF_S = 1.0


class PoolJobError(SpeechError):
    """A worker could not recognize the job, or no result came in time."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class AsrPoolClient:
    """Submits jobs to the pool's stream and routes the replies on its own reply stream.

    Use as ``async with AsrPoolClient(redis) as pool: await pool.transcribe_async(audio, "en")``.
    Redis errors become ``PoolJobError(retryable=True)``: a job that cannot be submitted fails
    at once, and losing the reply stream fails every job waiting on it; the reply listener
    reconnects with capped backoff, so the client works again once Redis is back.
    """

    def __init__(
        self,
        redis: Redis,
        keys: StreamKeys | None = None,
        *,
        max_jobs: int = 10_000,
        reply_ttl_s: int = 3600,
    ) -> None:
        self._redis = redis
        self._keys = keys or StreamKeys()
        self._id = uuid.uuid4().hex
        self._reply_key = self._keys.replies(self._id)
        self._max_jobs = max_jobs
        self._reply_ttl_s = reply_ttl_s
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._closing = False

    async def __aenter__(self) -> AsrPoolClient:
        self._listener = asyncio.create_task(self._listen(), name=f"asr-replies-{self._id}")
        return self

    async def __aexit__(self, *_: object) -> None:
        self._closing = True  # not cancel: redis-py may lose a cancel in a blocking read
        if self._listener is not None:
            await self._listener
        for future in self._waiting.values():
            future.cancel()
        with contextlib.suppress(RedisError):  # the stream expires on its own (reply_ttl_s)
            await self._redis.delete(self._reply_key)

    @property
    def pending(self) -> int:
        """Jobs of this client waiting for their result."""
        return len(self._waiting)

    async def transcribe_async(
        self,
        audio: npt.NDArray[np.generic],
        language: str | None = None,
        *,
        beam_size: int | None = None,
        task: str = "transcribe",
        max_wait_s: float = 30.0,
    ) -> Transcript:
        """Recognize the audio on some worker of the pool; raises PoolJobError."""
        job = Job(
            uuid.uuid4().hex,
            self._reply_key,
            to_float32(audio),
            language,
            beam_size,
            task,
            time.time() + max_wait_s,
        )
        reply = await self._submit(job, max_wait_s)
        if reply.transcript is None:
            raise PoolJobError(reply.error or "ASR job failed", retryable=reply.retryable)
        return reply.transcript

    async def translate_texts(
        self, texts: list[str], source: str, target: str, *, max_wait_s: float = 30.0
    ) -> list[str]:
        """Translate the texts on some worker of the pool that has translation models;
        raises PoolJobError."""
        job = TextJob(uuid.uuid4().hex, self._reply_key, tuple(texts), source, target,
                      time.time() + max_wait_s)
        reply = await self._submit(job, max_wait_s)
        if reply.texts is None or len(reply.texts) != len(texts):
            raise PoolJobError(reply.error or "translation job failed",
                               retryable=reply.retryable)
        return list(reply.texts)

    async def _submit(self, job: Job | TextJob, max_wait_s: float) -> Reply:
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[job.job_id] = future
        try:
            await self._redis.xadd(
                self._keys.jobs,
                job.encode(),
                maxlen=self._max_jobs,
                approximate=True,
            )
            return await asyncio.wait_for(future, max_wait_s)
        except RedisError as error:
            raise PoolJobError(f"cannot reach the ASR pool: {error}", retryable=True) from error
        except TimeoutError as error:
            raise PoolJobError(f"no result from the pool within {max_wait_s}s",
                               retryable=True) from error
        finally:
            self._waiting.pop(job.job_id, None)

    async def _listen(self) -> None:
        last: str | bytes = "0-0"
        failures = 0
        while not self._closing:
            jobs = list(self._waiting)  # submitted before this read: their replies may be lost
            try:
                last = await self._read_replies(last)
            except RedisError as error:
                failures += 1
                self._lost_redis(error, jobs, first=failures == 1)
                await asyncio.sleep(min(0.05 * 2**failures, _MAX_BACKOFF_S))
                continue
            if failures:
                log.info("ASR pool: Redis is reachable again")
                failures = 0

    async def _read_replies(self, last: str | bytes) -> str | bytes:
        response: Any = await self._redis.xread(
            {self._reply_key: last}, count=100, block=_LISTEN_BLOCK_MS
        )
        for _stream, messages in response or []:
            for message_id, fields in messages:
                last = message_id
                self._resolve(Reply.decode(fields))
        await self._redis.expire(self._reply_key, self._reply_ttl_s)
        return last

    def _lost_redis(self, error: RedisError, jobs: list[str], *, first: bool) -> None:
        """Replies may be lost with the connection: fail the jobs waiting for them now."""
        if first:
            log.warning("ASR pool: lost Redis (%s); reconnecting", error)
        for job_id in jobs:
            future = self._waiting.get(job_id)
            if future is not None and not future.done():
                message = f"lost the ASR pool's Redis: {error}"
                future.set_exception(PoolJobError(message, retryable=True))

    def _resolve(self, reply: Reply) -> None:
        future = self._waiting.get(reply.job_id)
        if future is not None and not future.done():
            future.set_result(reply)
