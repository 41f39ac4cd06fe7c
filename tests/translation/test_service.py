"""The async front end: once per target language, batches, cache, partials under load."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from tests.translation.fakes import RecordingTranslator
from translation import Registry, Status, TranslationService, packs
from translation.base import forget_loaded
from translation.installed import open_registry
from translation.multilingual import MultilingualTranslator

LANGS = ("de", "fr", "ko", "vi")


async def _until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds (loop turns, not time)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def _service(fake: RecordingTranslator, **kwargs: int) -> TranslationService:
    return TranslationService(Registry([fake]), **kwargs)


def _multi() -> RecordingTranslator:
    return RecordingTranslator({("es", t) for t in LANGS} | {("es", "en")}, "m", multilingual=True)


async def test_fan_out_translates_once_per_target_language_for_many_readers() -> None:
    fake = _multi()
    service = _service(fake)
    readers = ["de", "fr", "de", "es", "fr", "de", "ko", "xx", "de", "fr"]  # 10 readers
    results = await service.translate("hola", "es", set(readers), final=True)
    assert sorted(fake.batches) == [("es", t, ["hola"]) for t in ("de", "fr", "ko")]
    assert results["de"].text == "de:hola" and results["es"].text == "hola"
    assert results["es"].route.kind == "identity" and results["xx"].status is Status.NO_ROUTE
    # The same caption asked for reader by reader, concurrently: still one call per language.
    fake.batches.clear()
    again = await asyncio.gather(*(service.translate("adiós", "es", {lang}, final=True)
                                   for lang in readers))
    assert sorted(fake.batches) == [("es", t, ["adiós"]) for t in ("de", "fr", "ko")]
    assert {r[lang].text for r, lang in zip(again, readers, strict=True)
            if lang in ("de", "fr", "ko")} == {"de:adiós", "fr:adiós", "ko:adiós"}
    assert service.stats().batch_calls == {("es", "de"): 2, ("es", "fr"): 2, ("es", "ko"): 2}
    await service.aclose()


async def test_requests_waiting_for_one_pair_share_one_batch() -> None:
    fake = _multi()
    fake.gate = threading.Event()
    service = _service(fake)
    first = asyncio.create_task(service.translate("uno", "es", {"de"}, final=True))
    await asyncio.to_thread(fake.started.wait, 10)  # the worker is busy with "uno"
    waiting = [asyncio.create_task(service.translate(f"frase {i}", "es", {"de"}, final=True))
               for i in range(5)]
    await _until(lambda: service.queued == 5)
    fake.gate.set()
    await first
    outs = await asyncio.gather(*waiting)
    assert [o["de"].text for o in outs] == [f"de:frase {i}" for i in range(5)]
    assert [len(texts) for _, _, texts in fake.batches] == [1, 5]
    assert service.stats().batch_sizes == {("es", "de"): [1, 5]}
    await service.aclose()


async def test_identical_text_is_served_from_the_cache() -> None:
    fake = _multi()
    service = _service(fake)
    cold = await service.translate("hola", "es", {"de", "fr"}, final=True)
    warm = await service.translate("hola", "es", {"de", "fr"}, final=True)
    assert not cold["de"].cached and warm["de"].cached and warm["fr"].text == "fr:hola"
    assert len(fake.batches) == 2
    stats = service.stats()
    assert (stats.cache_hits, stats.cache_misses) == (2, 2) and stats.cache_hit_ratio == 0.5
    await service.aclose()


async def test_partials_are_skipped_while_work_waits_and_finals_never() -> None:
    fake = _multi()
    fake.gate = threading.Event()
    service = _service(fake)
    running = asyncio.create_task(service.translate("uno", "es", {"de"}, final=True))
    await asyncio.to_thread(fake.started.wait, 10)
    partial_ok = asyncio.create_task(service.translate("dos", "es", {"de"}, final=False))
    await _until(lambda: service.queued == 1)  # with nothing waiting, a partial is queued
    skipped = await service.translate("tres", "es", {"de", "fr"}, final=False)
    assert {r.status for r in skipped.values()} == {Status.SKIPPED}
    final = asyncio.create_task(service.translate("cuatro", "es", {"de"}, final=True))
    await _until(lambda: service.queued == 2)  # finals are always queued
    fake.gate.set()
    await asyncio.gather(running, partial_ok, final)
    assert (await final)["de"].text == "de:cuatro" and (await partial_ok)["de"].text == "de:dos"
    assert service.stats().skipped == 2
    assert "tres" not in {t for _, _, texts in fake.batches for t in texts}
    # Under load, a partial the cache knows is still served.
    fake.gate.clear()
    fake.started.clear()
    busy = asyncio.create_task(service.translate("cinco", "es", {"de"}, final=True))
    await asyncio.to_thread(fake.started.wait, 10)
    queued = asyncio.create_task(service.translate("seis", "es", {"de"}, final=True))
    await _until(lambda: service.queued == 1)
    cached = await service.translate("dos", "es", {"de"}, final=False)
    assert cached["de"].status is Status.OK and cached["de"].cached
    fake.gate.set()
    await asyncio.gather(busy, queued)
    await service.aclose()


async def test_a_failing_engine_fails_its_targets_only() -> None:
    class Broken(RecordingTranslator):
        def translate_batch(self, texts: object, source: str, target: str) -> list[str]:
            raise RuntimeError("device lost")

    service = TranslationService(Registry([Broken({("es", "de")}, "broken"), _multi()]))
    results = await service.translate("hola", "es", {"de", "fr"}, final=True)
    assert results["de"].status is Status.FAILED and "device lost" in (results["de"].error or "")
    assert results["fr"].text == "fr:hola"
    await service.aclose()


async def test_pivot_through_english_gives_exact_text(
    tmp_path: Path, es_en_pack: Path, en_de_pack: Path
) -> None:
    forget_loaded()
    packs.install_argos_file(es_en_pack, tmp_path)
    packs.install_argos_file(en_de_pack, tmp_path)
    service = TranslationService(open_registry(tmp_path))
    await service.warm()
    text = "Hola, me llamo Ana. Tengo una pregunta."
    results = await service.translate(text, "es", {"en", "de", "es", "ko"}, final=True)
    assert results["en"].text == "Hello, my name is Ana. I have a question."
    # "I have" is capitalised in English, so the table's "ich habe" is used as it is.
    assert results["de"].text == "Hallo, ich heiße Ana. ich habe eine Frage."
    assert results["de"].route.kind == "pivot" and results["ko"].status is Status.NO_ROUTE
    assert results["es"].text == text
    assert service.stats().batch_calls == {("es", "en"): 1, ("en", "de"): 1}, (
        "the English leg is translated once for both readers")
    await service.aclose()


async def test_speech_into_english_by_whisper_is_left_to_the_caller() -> None:
    service = TranslationService(Registry([], whisper_translate=True))
    results = await service.translate("xin chào", "vi", {"en"}, final=True, speech=True)
    assert results["en"].status is Status.WHISPER and results["en"].text is None
    await service.aclose()


async def test_a_multilingual_model_fans_out_in_one_engine_call(m2m_model: Path) -> None:
    forget_loaded()
    translator = MultilingualTranslator.load(m2m_model)
    service = TranslationService(Registry([translator]))
    results = await service.translate("Hola, amigo. Gracias!", "es", {"en", "de", "fr"},
                                      final=True)
    assert {t: r.text for t, r in results.items()} == {
        "en": "Hello, friend. Thank you!", "de": "Hallo, Freund. Danke!",
        "fr": "Bonjour, ami. Merci!"}
    stats = service.stats()
    assert stats.engine_calls == {"m2m100:tiny-m2m": 1}
    assert stats.batch_calls == {("es", "en"): 1, ("es", "de"): 1, ("es", "fr"): 1}
    await service.aclose()


async def test_max_batch_splits_a_long_queue() -> None:
    fake = _multi()
    fake.gate = threading.Event()
    service = _service(fake, max_batch=2)
    first = asyncio.create_task(service.translate("cero", "es", {"de"}, final=True))
    await asyncio.to_thread(fake.started.wait, 10)
    rest = [asyncio.create_task(service.translate(f"t{i}", "es", {"de"}, final=True))
            for i in range(5)]
    await _until(lambda: service.queued == 5)
    fake.gate.set()
    await asyncio.gather(first, *rest)
    assert [len(texts) for _, _, texts in fake.batches] == [1, 2, 2, 1]
    await service.aclose()


async def test_a_broken_model_is_reported_at_warm_up_and_fails_its_pair(tmp_path: Path) -> None:
    forget_loaded()
    broken = tmp_path / "multilingual" / "broken"
    broken.mkdir(parents=True)
    (broken / "model.bin").write_bytes(b"not a model")
    (broken / "sentencepiece.bpe.model").write_bytes(b"")
    (broken / "shared_vocabulary.json").write_text('["<unk>", "__en__", "__es__"]')
    service = TranslationService(open_registry(tmp_path))
    problems = await service.warm()
    assert len(problems) == 1 and problems[0].startswith("m2m100:broken: cannot open")
    result = (await service.translate("hola", "es", {"en"}, final=True))["en"]
    assert result.status is Status.FAILED and "cannot open" in (result.error or "")
    await service.aclose()
