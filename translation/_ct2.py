"""What the CTranslate2 translators share: opening an engine, splitting, batching, decoding."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from translation import sentences
from translation.base import EngineOptions
from translation.errors import InferenceError, ModelFormatError

Pieces = list[str]


class LazyEngine:
    """A ``ctranslate2.Translator`` opened on first use (thread-safe), then kept."""

    def __init__(self, model_dir: Path, options: EngineOptions) -> None:
        self.model_dir = model_dir
        self.options = options
        self._engine: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._engine is None:
                self._engine = self._open()
            return self._engine

    def _open(self) -> Any:
        import ctranslate2

        o = self.options
        try:
            return ctranslate2.Translator(
                str(self.model_dir), device=o.device, compute_type=o.compute_type,
                inter_threads=o.inter_threads, intra_threads=o.intra_threads,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelFormatError(f"cannot open {self.model_dir}: {error}") from error

    def run(self, batch: list[Pieces], prefixes: list[Pieces] | None) -> list[Pieces]:
        """Greedy/beam decoding of pre-tokenised sources; one hypothesis each."""
        o = self.options
        try:
            results = self.get().translate_batch(
                batch, target_prefix=prefixes, beam_size=o.beam_size,
                max_decoding_length=o.max_decoding_length, replace_unknowns=True,
                max_batch_size=64, batch_type="examples",
            )
        except (RuntimeError, ValueError) as error:
            raise InferenceError(f"{self.model_dir.name}: {error}") from error
        return [list(result.hypotheses[0]) for result in results]


@dataclass(frozen=True, slots=True)
class Codec:
    """How one (source, target) is tokenised: ``prefix`` is forced as the target prefix."""

    encode: Callable[[str], Pieces]
    decode: Callable[[Pieces], str]
    prefix: Pieces | None = None


def open_sentencepiece(path: Path) -> Any:
    """A SentencePiece processor; ModelFormatError when the file is not a model."""
    import sentencepiece

    try:
        return sentencepiece.SentencePieceProcessor(model_file=str(path))
    except (RuntimeError, OSError) as error:
        raise ModelFormatError(f"cannot open {path}: {error}") from error


def translate_texts(
    items: Sequence[tuple[str, Codec]],
    run: Callable[[list[Pieces], list[Pieces] | None], list[Pieces]],
) -> list[str]:
    """Split every text into sentences, translate all sentences in one engine call (each with
    its own codec: pairs may differ), reassemble each text with its own separators."""
    split = [sentences.split(text) for text, _ in items]
    jobs = [(i, j) for i, (segs, _) in enumerate(split) for j, seg in enumerate(segs)
            if seg.strip()]
    outputs: list[Pieces] = []
    if jobs:
        codecs = [items[i][1] for i, _ in jobs]
        batch = [codec.encode(split[i][0][j]) for codec, (i, j) in zip(codecs, jobs, strict=True)]
        prefixes = ([codec.prefix or [] for codec in codecs]
                    if any(codec.prefix for codec in codecs) else None)
        outputs = run(batch, prefixes)
    translated = [list(segs) for segs, _ in split]
    for (i, j), pieces in zip(jobs, outputs, strict=True):
        translated[i][j] = items[i][1].decode(pieces)
    return [sentences.join(segs, seps) for segs, (_, seps) in zip(translated, split, strict=True)]
