"""The multilingual (M2M100-style) model: every pair of its languages, exact text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.translation.packbuild import NLLB, build_multilingual
from translation import ModelFormatError
from translation.multilingual import MultilingualTranslator, read_model


def test_every_pair_of_its_languages(m2m_model: Path) -> None:
    model = MultilingualTranslator.load(m2m_model)
    assert model.languages() == {"en", "es", "de", "fr"}
    assert ("es", "fr") in model.pairs() and ("es", "es") not in model.pairs()
    assert model.licence == "MIT" and model.name == "m2m100:tiny-m2m"
    assert model.translate_batch(["Hola, amigo. Gracias!", "hola"], "es", "de") == [
        "Hallo, Freund. Danke!", "hallo"]
    assert model.translate_batch(["thank you, friend"], "en", "fr") == ["merci, ami"]
    assert model.translate_batch(["Bonjour Carlos"], "fr", "en") == ["Hello Carlos"]


def test_nllb_style_tokens_and_licence(tmp_path: Path) -> None:
    path = build_multilingual(tmp_path / "nllb", [{"en": "hello", "es": "hola"}], family=NLLB)
    described = read_model(path)
    assert described.family == "nllb" and described.tokens == {"en": "eng_Latn",
                                                                  "es": "spa_Latn"}
    assert "non-commercial" in described.licence
    translator = MultilingualTranslator.load(path)
    assert translator.translate_batch(["Hola Ana"], "es", "en") == ["Hello Ana"]


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match=r"no model\.bin"):
        read_model(tmp_path)
