"""A translator whose calls tests can count and hold (no model)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from translation.base import EngineOptions, Pair, Translator


class RecordingTranslator(Translator):
    """Translates ``text`` into ``"<target>:<text>"``; records every batch; ``gate`` (when
    set) holds each batch until the test releases it."""

    def __init__(self, pairs: set[Pair], name: str = "fake", multilingual: bool = False) -> None:
        self.name = name
        self.licence = "test"
        self._pairs = pairs
        self.multilingual = multilingual  # type: ignore[misc]
        self.batches: list[tuple[str, str, list[str]]] = []
        self.started = threading.Event()
        self.gate: threading.Event | None = None

    @classmethod
    def open(cls, path: Path, options: EngineOptions) -> Self:
        raise NotImplementedError

    def pairs(self) -> set[Pair]:
        return self._pairs

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        self.batches.append((source, target, list(texts)))
        self.started.set()
        if self.gate is not None:
            self.gate.wait(timeout=30)
        return [f"{target}:{text}" for text in texts]
