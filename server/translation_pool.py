"""Translation on the ASR pool's workers (`COUNSEL_TRANSLATION_IN_POOL`): GPU machines translate
captions and chat for every node, as they recognize speech.

Node side: the node reads the descriptions of its installed translation models (which pairs,
which licence; their weights are never loaded here) and builds its registry over
`PooledTranslator`s, which hand each batch to the pool as a text job. Routes, batching, the
cache and skipping busy partials stay on the node (`translation.TranslationService`). Worker
side: `worker_translate` answers text jobs with the worker's own `TranslationService` over the
same models installed there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Self

from media.speech.pool import AsrPoolClient
from media.speech.pool.client import PoolJobError
from translation import TranslationService, Translator
from translation.base import EngineOptions, Pair
from translation.errors import InferenceError

POOL_WAIT_S = 20.0


class PooledTranslator(Translator):
    """An installed model whose batches the pool's workers translate (``translate_batch``
    blocks the node's translation thread until the reply comes)."""

    def __init__(self, local: Translator, pool: AsrPoolClient,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.name = local.name
        self.licence = local.licence
        self._pairs = local.pairs()
        self._pool = pool
        self._loop = loop

    @classmethod
    def open(cls, path: Path, options: EngineOptions) -> Self:
        raise TypeError("a pooled translator wraps an installed one: use pooled()")

    def pairs(self) -> set[Pair]:
        return self._pairs

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        return self.translate_pairs([(texts, source, target)])[0]

    def translate_pairs(
        self, requests: Sequence[tuple[Sequence[str], str, str]]
    ) -> list[list[str]]:
        """Every batch as one text job, all in flight at once."""
        jobs = [asyncio.run_coroutine_threadsafe(
            self._pool.translate_texts(list(texts), source, target, max_wait_s=POOL_WAIT_S),
            self._loop) for texts, source, target in requests]
        try:
            return [job.result(POOL_WAIT_S + 5) for job in jobs]
        except PoolJobError as error:
            raise InferenceError(f"{self.name} on the pool: {error}") from error


class PooledMultilingualTranslator(PooledTranslator):
    multilingual = True


def pooled(translators: Sequence[Translator], pool: AsrPoolClient,
           loop: asyncio.AbstractEventLoop) -> list[Translator]:
    """The installed translators, each run by the pool's workers."""
    return [
        (PooledMultilingualTranslator if local.multilingual else PooledTranslator)(
            local, pool, loop)
        for local in translators
    ]


def worker_translate(
    service: TranslationService,
) -> Callable[[list[str], str, str], Awaitable[list[str]]]:
    """A text-job handler for `AsrWorker` over the worker's own service: every text of the job
    at once (the service batches them); a text that does not translate fails the job."""

    async def handle(texts: list[str], source: str, target: str) -> list[str]:
        results = await asyncio.gather(*(
            service.translate(text, source, {target}, final=True) for text in texts))
        out = []
        for result in (r[target] for r in results):
            if not result.ok or result.text is None:
                raise InferenceError(
                    f"{source}->{target}: {result.error or 'no route on this worker'}")
            out.append(result.text)
        return out

    return handle
