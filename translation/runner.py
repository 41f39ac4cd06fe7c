"""One inference thread; requests waiting for the same model and pair go into one batch call."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from translation.base import Pair, Translator
from translation.errors import InferenceError, ServiceClosed, TranslationError

log = logging.getLogger(__name__)

# (engine name, source, target)
BatchKey = tuple[str, str, str]


@dataclass(slots=True)
class RunnerStats:
    calls: Counter[Pair] = field(default_factory=Counter)  # batches per pair
    engine_calls: Counter[str] = field(default_factory=Counter)  # engine calls per model
    batch_sizes: dict[Pair, list[int]] = field(default_factory=lambda: defaultdict(list))
    failures: int = 0


class BatchRunner:
    """Runs the translators' batches on one worker thread, off the event loop.

    ``submit`` returns a future for one text. While a batch runs, new texts for a pair wait
    in that pair's group; the next batch of the pair takes its whole group (up to
    ``max_batch``), so the number of calls grows with the number of pairs, not of requests.
    A text already waiting or running for the same pair shares that request's future. Groups
    of one model are run together (``Translator.translate_pairs``), so a multilingual model
    turns one caption into many languages in one engine call.
    """

    def __init__(self, max_batch: int = 32) -> None:
        self.max_batch = max_batch
        self.stats = RunnerStats()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translation")
        self._pending: dict[BatchKey, dict[str, asyncio.Future[str]]] = {}
        self._running: dict[BatchKey, dict[str, asyncio.Future[str]]] = {}
        self._engines: dict[str, Translator] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def queued(self) -> int:
        """Texts waiting for the worker (not counting the batch it is running)."""
        return sum(len(group) for group in self._pending.values())

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def submit(
        self, translator: Translator, source: str, target: str, text: str
    ) -> asyncio.Future[str]:
        if self._closed:
            raise ServiceClosed("the translation runner is closed")
        key = (translator.name, source, target)
        shared = self._running.get(key, {}).get(text) or self._pending.get(key, {}).get(text)
        if shared is not None:
            return shared
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        self._engines[translator.name] = translator
        self._pending.setdefault(key, {})[text] = future
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain(), name="translation-runner")
        return future

    async def warm(self, translator: Translator) -> None:
        """Run ``translator.warm()`` on the worker thread."""
        await asyncio.get_running_loop().run_in_executor(self._executor, translator.warm)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            work = self._take()
            name = work[0][0][0]
            self._running.update(work)
            self.stats.engine_calls[name] += 1
            for (_, source, target), group in work:
                self.stats.calls[(source, target)] += 1
                self.stats.batch_sizes[(source, target)].append(len(group))
            requests = [(list(group), source, target) for (_, source, target), group in work]
            try:
                outputs = await loop.run_in_executor(
                    self._executor, self._engines[name].translate_pairs, requests)
                if [len(out) for out in outputs] != [len(texts) for texts, _, _ in requests]:
                    raise InferenceError(f"{name} returned a wrong number of texts")
            except Exception as error:  # one failed batch must not stop the others
                self._fail(work, error)
            else:
                for (_, group), output in zip(work, outputs, strict=True):
                    for future, text in zip(group.values(), output, strict=True):
                        if not future.done():
                            future.set_result(text)
            finally:
                for key, _ in work:
                    del self._running[key]

    def _take(self) -> list[tuple[BatchKey, dict[str, asyncio.Future[str]]]]:
        """The oldest waiting group and every other group of the same model (a multilingual
        model mixes pairs in one call), ``max_batch`` texts at most; the rest waits."""
        name = next(iter(self._pending))[0]
        work, budget = [], self.max_batch
        for key in [k for k in self._pending if k[0] == name]:
            if budget <= 0:
                break
            group = self._pending.pop(key)
            items = list(group.items())
            if len(items) > budget:
                self._pending[key] = dict(items[budget:])  # back of the queue
                group = dict(items[:budget])
            work.append((key, group))
            budget -= len(group)
        return work

    def _fail(
        self, work: list[tuple[BatchKey, dict[str, asyncio.Future[str]]]], error: Exception
    ) -> None:
        self.stats.failures += 1
        name = work[0][0][0]
        log.warning("translation %s failed: %s", name, error)
        failure = error if isinstance(error, TranslationError) else InferenceError(
            f"{name}: {error}")
        for _, group in work:
            for future in group.values():
                if not future.done():
                    future.set_exception(failure)

    async def aclose(self) -> None:
        """Finish queued work, then stop the worker thread."""
        self._closed = True
        if self._task is not None:
            await asyncio.shield(self._task)
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)
