"""One CTranslate2 multilingual model (M2M100 or NLLB-200) serving every pair of its languages.

A converted model directory holds ``model.bin``, its vocabulary (``shared_vocabulary.json`` or
``.txt``) and the SentencePiece model (``sentencepiece.bpe.model`` as the Hugging Face repos name
it). A source is ``[source token] + pieces + ["</s>"]`` and the target language is forced as
the target prefix (``__de__`` for M2M100, ``deu_Latn`` for NLLB); the prefix is dropped from the
output.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from translation import codes
from translation._ct2 import Codec, LazyEngine, Pieces, open_sentencepiece, translate_texts
from translation.base import EngineOptions, Pair, Translator
from translation.errors import ModelFormatError
from translation.manifest import read_manifest

SENTENCEPIECE_NAMES = ("sentencepiece.bpe.model", "sentencepiece.model", "spm.model")
VOCABULARY_NAMES = ("shared_vocabulary.json", "shared_vocabulary.txt",
                    "source_vocabulary.json", "source_vocabulary.txt")
LICENCES = {
    "m2m100": "MIT",
    "nllb": "CC-BY-NC-4.0 (non-commercial use only)",
}


@dataclass(frozen=True, slots=True)
class MultilingualModel:
    path: Path
    family: str  # "m2m100" or "nllb"
    tokens: dict[str, str]  # language code -> language token
    sentencepiece: Path
    licence: str
    name: str


def read_model(path: Path) -> MultilingualModel:
    """Describe the converted model in ``path``; ModelFormatError if something is missing."""
    if not (path / "model.bin").is_file():
        raise ModelFormatError(f"{path}: no model.bin (convert with ct2-transformers-converter)")
    spm = next((path / n for n in SENTENCEPIECE_NAMES if (path / n).is_file()), None)
    if spm is None:
        raise ModelFormatError(f"{path}: no SentencePiece model ({', '.join(SENTENCEPIECE_NAMES)})")
    vocabulary = _read_vocabulary(path)
    family, tokens = _family(vocabulary)
    if not tokens:
        raise ModelFormatError(f"{path}: the vocabulary has no language tokens")
    manifest = read_manifest(path)
    licence = str(manifest.get("licence") or LICENCES[family])
    return MultilingualModel(path, family, tokens, spm, licence,
                             str(manifest.get("name") or path.name))


def _read_vocabulary(path: Path) -> list[str]:
    for name in VOCABULARY_NAMES:
        file = path / name
        if not file.is_file():
            continue
        text = file.read_text(encoding="utf-8")
        if name.endswith(".json"):
            tokens = json.loads(text)
            if isinstance(tokens, list):
                return [str(token) for token in tokens]
            raise ModelFormatError(f"{file}: not a list of tokens")
        return text.splitlines()
    raise ModelFormatError(f"{path}: no vocabulary ({', '.join(VOCABULARY_NAMES)})")


def _family(vocabulary: list[str]) -> tuple[str, dict[str, str]]:
    m2m = codes.m2m100_languages(vocabulary)
    if m2m:
        return "m2m100", m2m
    return "nllb", codes.nllb_languages(vocabulary)


def discover(models_dir: Path) -> list[MultilingualModel]:
    """Every usable model directory under ``models_dir``, by name."""
    if not models_dir.is_dir():
        return []
    found = []
    for path in sorted(models_dir.iterdir()):
        if path.is_dir():
            try:
                found.append(read_model(path))
            except ModelFormatError:
                continue
    return found


class MultilingualTranslator(Translator):
    multilingual = True

    def __init__(self, model: MultilingualModel, options: EngineOptions) -> None:
        self.model = model
        self.name = f"{model.family}:{model.name}"
        self.licence = model.licence
        self._engine = LazyEngine(model.path, options)
        self._spm: Any = None
        self._spm_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, options: EngineOptions) -> Self:
        return cls(read_model(path), options)

    def languages(self) -> set[str]:
        return set(self.model.tokens)

    def pairs(self) -> set[Pair]:
        return {(s, t) for s in self.model.tokens for t in self.model.tokens if s != t}

    def supports(self, source: str, target: str) -> bool:
        tokens = self.model.tokens
        return source != target and source in tokens and target in tokens

    def warm(self) -> None:
        self._engine.get()
        self._processor()

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        codec = self._codec(source, target)
        return translate_texts([(text, codec) for text in texts], self._engine.run)

    def translate_pairs(
        self, requests: Sequence[tuple[Sequence[str], str, str]]
    ) -> list[list[str]]:
        """All requests in one engine call: each sentence carries its own target prefix, so
        one caption into ten languages costs one batch, not ten."""
        items = [(text, self._codec(source, target))
                 for texts, source, target in requests for text in texts]
        flat = translate_texts(items, self._engine.run)
        out, start = [], 0
        for texts, _, _ in requests:
            out.append(flat[start:start + len(texts)])
            start += len(texts)
        return out

    def _codec(self, source: str, target: str) -> Codec:
        if not self.supports(source, target):
            raise ValueError(f"{self.name} does not translate {source}->{target}")
        spm = self._processor()
        source_token, target_token = self.model.tokens[source], self.model.tokens[target]

        def encode(text: str) -> Pieces:
            return [source_token, *spm.encode(text, out_type=str), "</s>"]

        def decode(pieces: Pieces) -> str:
            if pieces and pieces[0] == target_token:
                pieces = pieces[1:]
            return str(spm.decode_pieces(pieces)).replace("\u2581", " ").strip()

        return Codec(encode, decode, [target_token])

    def _processor(self) -> Any:
        with self._spm_lock:
            if self._spm is None:
                self._spm = open_sentencepiece(self.model.sentencepiece)
            return self._spm
