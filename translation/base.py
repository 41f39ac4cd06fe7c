"""The translator interface: one engine, the language pairs it serves, a blocking batch call."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How CTranslate2 runs a model (the same for every translator of a process)."""

    device: str = "cpu"
    compute_type: str = "default"
    inter_threads: int = 1
    intra_threads: int = 1
    """One thread per model: with all cores (0) a translation beside a loaded speech model took
    3x as long here (docs/translation.md)."""
    beam_size: int = 2
    max_decoding_length: int = 256


class Translator(ABC):
    """One loaded model. ``translate_batch`` blocks: call it from a worker thread.

    ``load`` opens a model once per process (per path and options) and returns the same object
    afterwards; the engine itself starts on the first batch (``warm`` starts it earlier).
    """

    name: str
    licence: str
    multilingual: ClassVar[bool] = False

    _loaded: ClassVar[dict[tuple[type, Path, EngineOptions], Translator]] = {}
    _loading: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def load(cls, path: Path, options: EngineOptions | None = None) -> Self:
        key = (cls, path.resolve(), options or EngineOptions())
        with Translator._loading:
            found = Translator._loaded.get(key)
            if found is None:
                found = Translator._loaded[key] = cls.open(key[1], key[2])
        assert isinstance(found, cls)
        return found

    @classmethod
    @abstractmethod
    def open(cls, path: Path, options: EngineOptions) -> Self:
        """Read the model's description (not its weights) from ``path``."""

    @abstractmethod
    def pairs(self) -> set[Pair]:
        """Every (source, target) this model translates directly."""

    @abstractmethod
    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate every text from ``source`` into ``target``, in order (blocking)."""

    def translate_pairs(
        self, requests: Sequence[tuple[Sequence[str], str, str]]
    ) -> list[list[str]]:
        """Several (texts, source, target) batches of this model at once; models that can mix
        pairs in one engine call (multilingual ones) override this."""
        return [self.translate_batch(texts, source, target) for texts, source, target in requests]

    def warm(self) -> None:  # noqa: B027 - optional: engines without a start cost keep it
        """Start the engine now rather than on the first batch."""

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.pairs()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def forget_loaded() -> None:
    """Drop every cached model (tests; a process that reinstalled models)."""
    with Translator._loading:
        Translator._loaded.clear()
