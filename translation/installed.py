"""The translators installed under a translation directory, and a registry over them."""

from __future__ import annotations

from pathlib import Path

from translation import argos, multilingual, paths
from translation.argos import ArgosTranslator
from translation.base import EngineOptions, Translator
from translation.multilingual import MultilingualTranslator
from translation.registry import Registry


def load_translators(
    translation_dir: Path, options: EngineOptions | None = None
) -> list[Translator]:
    """Every installed pack and multilingual model (engines start on first use)."""
    found: list[Translator] = [
        ArgosTranslator.load(pack.path, options)
        for pack in argos.discover(paths.argos_dir(translation_dir))
    ]
    found += [
        MultilingualTranslator.load(model.path, options)
        for model in multilingual.discover(paths.multilingual_dir(translation_dir))
    ]
    return found


def open_registry(
    translation_dir: Path,
    *,
    whisper_translate: bool = False,
    options: EngineOptions | None = None,
) -> Registry:
    """A registry over what is installed; ``whisper_translate``: the speech model is
    multilingual, so speech can reach English through Whisper when no text model can."""
    return Registry(load_translators(translation_dir, options), whisper_translate=whisper_translate)
