"""A test-built .argosmodel installed by argostranslate's own API translates exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from translation import argos, paths
from translation._argos_api import argos_package_api
from translation.argos import ArgosTranslator
from translation.base import forget_loaded


@pytest.fixture
def installed(es_en_pack: Path, tmp_path: Path) -> Path:
    """The pack installed with argostranslate.package.install_from_path into our directory."""
    packages = paths.argos_dir(tmp_path)
    with argos_package_api(packages, paths.index_cache(tmp_path), paths.DEFAULT_INDEX_URL) as api:
        api.install_from_path(es_en_pack)
        listed = api.get_installed_packages()
    assert [(p.from_code, p.to_code) for p in listed] == [("es", "en")]
    forget_loaded()
    return packages


def test_installed_pack_translates_exactly(installed: Path) -> None:
    (pack,) = argos.discover(installed)
    assert pack.pair == ("es", "en") and pack.tokenizer == "sentencepiece"
    translator = ArgosTranslator.load(pack.path)
    assert translator.pairs() == {("es", "en")}
    out = translator.translate_batch(
        ["Hola, me llamo Carlos.", "Buenos días. Tengo una pregunta, amigo.", "", "gracias"],
        "es", "en")
    assert out == ["Hello, my name is Carlos.", "Good morning. I have a question, friend.", "",
                   "thank you"]
    assert ArgosTranslator.load(pack.path) is translator, "a model loads once per process"


def test_text_outside_the_table_is_copied(installed: Path) -> None:
    translator = ArgosTranslator.load(argos.discover(installed)[0].path)
    assert translator.translate_batch(["Hola 漢字 ok!\nmesa"], "es", "en") == [
        "Hello 漢字 ok!\nmesa"]


def test_the_wrong_pair_is_refused(installed: Path) -> None:
    translator = ArgosTranslator.load(argos.discover(installed)[0].path)
    with pytest.raises(ValueError, match="does not translate"):
        translator.translate_batch(["hola"], "en", "es")


def test_argostranslate_itself_translates_the_pack_offline(installed: Path, tmp_path: Path) -> None:
    """The pack is a real one: argostranslate.translate gives the same text with the pack's own
    spaCy splitter (run in a subprocess: it imports torch and stanza)."""
    home = tmp_path / "home"
    # argostranslate's SPACY mode looks for a cached multilingual model at import time and
    # would try to download one: an existing cache directory keeps it offline.
    (home / "cache" / "argos-translate" / "spacy" / "senter" / "model").mkdir(parents=True)
    env = {**os.environ, "ARGOS_PACKAGES_DIR": str(installed), "ARGOS_CHUNK_TYPE": "SPACY",
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache"), "PYTHONWARNINGS": "ignore"}
    code = ("import json, argostranslate.translate as t;"
            "print(json.dumps(t.translate('Hola, me llamo Carlos. Gracias, amigo.', 'es', 'en')))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == (
        "Hello, my name is Carlos. Thank you, friend.")
