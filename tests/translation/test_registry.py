"""Routes: identity, direct (pack before multilingual), pivot through English, Whisper, none."""

from __future__ import annotations

from pathlib import Path

from tests.translation.fakes import RecordingTranslator
from translation import RouteKind, packs
from translation.base import forget_loaded
from translation.installed import open_registry
from translation.registry import Registry


def test_identity_direct_pivot_and_none() -> None:
    es_en = RecordingTranslator({("es", "en")}, "argos:es-en")
    en_de = RecordingTranslator({("en", "de")}, "argos:en-de")
    registry = Registry([es_en, en_de])
    assert registry.route("ko", "ko").kind is RouteKind.IDENTITY
    direct = registry.route("es", "en")
    assert direct.kind is RouteKind.DIRECT and direct.engines == ("argos:es-en",)
    pivot = registry.route("es", "de")
    assert pivot.kind is RouteKind.PIVOT
    assert [(s.source, s.target) for s in pivot.steps] == [("es", "en"), ("en", "de")]
    assert pivot.describe() == "es→en (argos:es-en) → de (argos:en-de)"
    for source, target in (("de", "es"), ("vi", "ko"), ("en", "es")):
        route = registry.route(source, target)
        assert route.kind is RouteKind.NONE and not route.available and route.steps == ()


def test_a_pack_is_preferred_to_the_multilingual_model() -> None:
    many = RecordingTranslator({(s, t) for s in "abc" for t in "abc" if s != t} | {
        ("es", "en"), ("en", "es")}, "m2m100:big", multilingual=True)
    pack = RecordingTranslator({("es", "en")}, "argos:es-en")
    registry = Registry([many, pack])
    assert registry.route("es", "en").engines == ("argos:es-en",)
    assert registry.route("en", "es").engines == ("m2m100:big",)


def test_direct_multilingual_beats_pivot() -> None:
    packs_only = [RecordingTranslator({("es", "en")}, "argos:es-en"),
                  RecordingTranslator({("en", "de")}, "argos:en-de")]
    many = RecordingTranslator({("es", "de")}, "m2m100:m", multilingual=True)
    route = Registry([*packs_only, many]).route("es", "de")
    assert route.kind is RouteKind.DIRECT and route.engines == ("m2m100:m",)


def test_whisper_only_for_speech_into_english_when_the_speech_model_can() -> None:
    registry = Registry([], whisper_translate=True)
    speech = registry.route("vi", "en", speech=True)
    assert speech.kind is RouteKind.WHISPER and speech.engines == ("whisper",)
    assert registry.route("vi", "en").kind is RouteKind.NONE, "chat text: no Whisper"
    assert registry.route("vi", "ko", speech=True).kind is RouteKind.NONE
    english_only = Registry([], whisper_translate=False)
    assert english_only.route("vi", "en", speech=True).kind is RouteKind.NONE
    text_first = Registry([RecordingTranslator({("vi", "en")}, "argos:vi-en")],
                          whisper_translate=True)
    assert text_first.route("vi", "en", speech=True).kind is RouteKind.DIRECT


def test_installed_models_give_routes(
    tmp_path: Path, es_en_pack: Path, en_de_pack: Path, m2m_model: Path
) -> None:
    forget_loaded()
    assert open_registry(tmp_path).route("es", "en").kind is RouteKind.NONE, "nothing installed"
    packs.install_argos_file(es_en_pack, tmp_path)
    packs.install_argos_file(en_de_pack, tmp_path)
    registry = open_registry(tmp_path)
    assert registry.route("es", "de").kind is RouteKind.PIVOT
    assert registry.route("de", "es").kind is RouteKind.NONE, "an uninstalled pair"
    assert [r.describe() for r in registry.routes()] == [
        "en→de (argos:en-de)", "es→en (argos:es-en) → de (argos:en-de)", "es→en (argos:es-en)"]
    packs.install_multilingual_dir(m2m_model, tmp_path)
    with_model = open_registry(tmp_path)
    assert with_model.route("es", "de").engines == ("m2m100:tiny-m2m",)
    assert with_model.route("es", "de").label == "multilingual"
    assert with_model.route("es", "en").label == "direct", "the pack, not the model"
    assert with_model.route("de", "fr").kind is RouteKind.DIRECT
    assert with_model.route("de", "ko").kind is RouteKind.NONE
