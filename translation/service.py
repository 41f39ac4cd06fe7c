"""The async front end the server calls: one text into every target language that readers need."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from translation.base import Pair
from translation.cache import TranslationCache
from translation.errors import TranslationError
from translation.registry import Registry, Route, RouteKind
from translation.runner import BatchRunner

log = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"  # ``text`` is the translation (or the original, for the identity route)
    SKIPPED = "skipped"  # a partial dropped because the engine is busy; a final will follow
    NO_ROUTE = "no_route"  # no installed model translates the pair
    WHISPER = "whisper"  # the caller uses Whisper's own translation of the speech
    FAILED = "failed"  # the engine failed; ``error`` says why


@dataclass(frozen=True, slots=True)
class Result:
    target: str
    status: Status
    route: Route
    text: str | None = None
    cached: bool = False  # every step came from the cache
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def no_route(self) -> bool:
        """No installed model translates the pair (show the original with a note)."""
        return self.status is Status.NO_ROUTE

    @property
    def kind(self) -> str:
        """How it was made, as a word: identity, direct, multilingual, pivot, whisper, none."""
        return self.route.label


@dataclass(frozen=True, slots=True)
class ServiceStats:
    cache_hits: int
    cache_misses: int
    cache_hit_ratio: float
    batch_calls: dict[Pair, int]  # batches per pair
    batch_sizes: dict[Pair, list[int]]
    engine_calls: dict[str, int]  # engine calls per model (a multilingual call mixes pairs)
    skipped: int
    failed: int


@dataclass(slots=True)
class _Counters:
    skipped: int = 0
    failed: int = 0


class TranslationService:
    """Translate once per target language, whatever the number of readers.

    Finals are always translated. Partials (``final=False``) are best effort: when the worker
    already has texts waiting, a partial that the cache cannot answer is ``SKIPPED`` instead of
    queued, so the queue never grows while people speak.
    """

    def __init__(self, registry: Registry, *, cache_size: int = 4096, max_batch: int = 32) -> None:
        self.registry = registry
        self.cache = TranslationCache(cache_size)
        self._runner = BatchRunner(max_batch)
        self._counters = _Counters()

    async def translate(
        self,
        text: str,
        source: str,
        targets: Iterable[str],
        *,
        final: bool,
        speech: bool = False,
    ) -> dict[str, Result]:
        """``{target: Result}`` for every target; ``speech`` allows the Whisper route."""
        may_queue = final or self._runner.queued() == 0
        wanted = sorted(set(targets))
        routes = [self.registry.route(source, target, speech=speech) for target in wanted]
        results = await asyncio.gather(*(self._follow(r, text, may_queue) for r in routes))
        for result in results:
            if result.status is Status.SKIPPED:
                self._counters.skipped += 1
            elif result.status is Status.FAILED:
                self._counters.failed += 1
        return {result.target: result for result in results}

    async def _follow(self, route: Route, text: str, may_queue: bool) -> Result:
        if route.kind is RouteKind.IDENTITY:
            return Result(route.target, Status.OK, route, text)
        if route.kind is RouteKind.NONE:
            return Result(route.target, Status.NO_ROUTE, route)
        if route.kind is RouteKind.WHISPER:
            return Result(route.target, Status.WHISPER, route)
        current, cached = text, True
        for step in route.steps:
            assert step.translator is not None
            key = (step.engine, step.source, step.target, current)
            hit = self.cache.get(key)
            if hit is not None:
                current = hit
                continue
            if not may_queue:
                return Result(route.target, Status.SKIPPED, route)
            cached = False
            try:
                future = self._runner.submit(step.translator, step.source, step.target, current)
                current = await asyncio.shield(future)
            except TranslationError as error:
                return Result(route.target, Status.FAILED, route, error=str(error))
            self.cache.put(key, current)
        return Result(route.target, Status.OK, route, current, cached=cached)

    async def warm(self) -> list[str]:
        """Load every model now, on the worker thread (so the first caption is not late).
        Returns the problems of models that failed to load (their pairs fail later too)."""
        problems = []
        for translator in self.registry.translators:
            try:
                await self._runner.warm(translator)
            except TranslationError as error:
                log.warning("cannot load translation model %s: %s", translator.name, error)
                problems.append(f"{translator.name}: {error}")
        return problems

    def stats(self) -> ServiceStats:
        runner, cache = self._runner.stats, self.cache.stats
        return ServiceStats(
            cache_hits=cache.hits, cache_misses=cache.misses, cache_hit_ratio=cache.hit_ratio,
            batch_calls=dict(runner.calls),
            batch_sizes={pair: list(sizes) for pair, sizes in runner.batch_sizes.items()},
            engine_calls=dict(runner.engine_calls),
            skipped=self._counters.skipped, failed=self._counters.failed,
        )

    @property
    def queued(self) -> int:
        return self._runner.queued()

    async def aclose(self) -> None:
        await self._runner.aclose()
