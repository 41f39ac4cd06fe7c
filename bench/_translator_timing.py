"""`translation.TranslationService` in this process, over installed test-built models: the
time to translate one final caption with a loaded model, and one final into 1, 5 and 10 target
languages at once (batched: the multilingual model translates a caption into every waiting
language in one CTranslate2 call) against the same targets asked one after another.

The cache is kept cold: every timed text is new (a counter in the sentence), so each figure
is engine work plus the service's queueing, never a cache hit. Each figure is the median of
`reps` timings after one untimed call of the same shape (engines started, code paths warm).
The models are built offline by `tests/translation/packbuild.py`: their figures are the
engine's overhead on a tiny transformer, not the speed of a real M2M100 or OPUS-MT model.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from tests.translation.packbuild import build_multilingual
from translation import TranslationService, open_registry
from translation.packs import install_argos_file, install_multilingual_dir

FANOUT_SIZES = (1, 5, 10)

MULTILINGUAL_ROWS: tuple[Mapping[str, str], ...] = (
    {"en": "good morning", "de": "guten Morgen", "es": "buenos días", "fr": "bonjour",
     "it": "buongiorno", "pt": "bom dia", "nl": "goedemorgen", "pl": "dzień dobry",
     "vi": "chào buổi sáng", "ko": "좋은 아침", "zh": "早上好"},
    {"en": "I have", "de": "ich habe", "es": "tengo", "fr": "j'ai", "it": "ho",
     "pt": "eu tenho", "nl": "ik heb", "pl": "mam", "vi": "tôi có", "ko": "저는", "zh": "我有"},
    {"en": "a question", "de": "eine Frage", "es": "una pregunta", "fr": "une question",
     "it": "una domanda", "pt": "uma pergunta", "nl": "een vraag", "pl": "pytanie",
     "vi": "một câu hỏi", "ko": "질문이 있습니다", "zh": "一个问题"},
    {"en": "about the appointment", "de": "zum Termin", "es": "sobre la cita",
     "fr": "sur le rendez-vous", "it": "sull'appuntamento", "pt": "sobre a consulta",
     "nl": "over de afspraak", "pl": "o wizytę", "vi": "về cuộc hẹn", "ko": "약속에 대해",
     "zh": "关于预约"},
)
SOURCE = "en"
TARGETS = ("de", "es", "fr", "it", "pt", "nl", "pl", "vi", "ko", "zh")


def install_models(translation_dir: Path, build_dir: Path, pack: Path) -> None:
    """An Argos pack (the live path's de->en) and a multilingual model over 11 languages."""
    install_argos_file(pack, translation_dir)
    model = build_multilingual(build_dir / "m2m-bench", MULTILINGUAL_ROWS)
    install_multilingual_dir(model, translation_dir, name="m2m-bench")


def _english(n: int) -> str:
    return f"Good morning, I have a question about the appointment number {n}."


def _german(n: int) -> str:
    return f"Guten Morgen, ich habe eine Frage zum Termin Nummer {n}."


async def _median_ms(reps: int, call: Callable[[], Awaitable[None]]) -> float:
    await call()  # untimed: engines started, same shape as the timed calls
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2)


class Timings:
    """Timed calls of one service, each on a text it has never seen."""

    def __init__(self, service: TranslationService, reps: int) -> None:
        self.service = service
        self.reps = reps
        self._texts = itertools.count(1)

    async def one_final(self, source: str, targets: tuple[str, ...]) -> float:
        """One final caption into every target at once (one request, as the server asks)."""
        async def call() -> None:
            text = (_german if source == "de" else _english)(next(self._texts))
            results = await self.service.translate(text, source, targets, final=True)
            assert all(r.ok and not r.cached for r in results.values()), results
        return await _median_ms(self.reps, call)

    async def one_by_one(self, source: str, targets: tuple[str, ...]) -> float:
        """The same final into the targets one after another (what batching saves)."""
        async def call() -> None:
            text = _english(next(self._texts))
            for target in targets:
                result = (await self.service.translate(text, source, {target},
                                                       final=True))[target]
                assert result.ok and not result.cached, result
        return await _median_ms(self.reps, call)

    def engine_calls(self) -> int:
        return sum(self.service.stats().engine_calls.values())


async def measure(translation_dir: Path, reps: int) -> dict[str, Any]:
    registry = open_registry(translation_dir)
    service = TranslationService(registry)
    try:
        problems = await service.warm()
        if problems:
            raise RuntimeError(f"translation models failed to load: {problems}")
        pack = registry.route("de", "en").steps[0].translator
        multilingual = registry.route(SOURCE, TARGETS[0]).steps[0].translator
        assert pack is not None and multilingual is not None
        sample = await service.translate(_german(0), "de", {"en"}, final=True)
        timings = Timings(service, reps)
        translate_ms = {pack.name: await timings.one_final("de", ("en",)),
                        multilingual.name: await timings.one_final(SOURCE, TARGETS[:1])}
        calls_before = timings.engine_calls()
        fanout = {str(k): await timings.one_final(SOURCE, TARGETS[:k]) for k in FANOUT_SIZES}
        fanout_calls = timings.engine_calls() - calls_before
        unbatched = {str(k): await timings.one_by_one(SOURCE, TARGETS[:k])
                     for k in FANOUT_SIZES if k > 1}
        return {
            "translate_p50_ms": translate_ms[pack.name],
            "translate_p50_ms_by_model": translate_ms,
            "fanout_ms": fanout,
            "fanout_unbatched_ms": unbatched,
            "fanout_engine_calls_per_final": round(
                fanout_calls / ((reps + 1) * len(FANOUT_SIZES)), 2),
            "fanout_model": multilingual.name,
            "fanout_source": SOURCE,
            "fanout_targets": list(TARGETS),
            "pack_model": pack.name,
            "reps": reps,
            "sample": {"de": _german(0), "en": sample["en"].text},
        }
    finally:
        await service.aclose()
