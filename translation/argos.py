"""Argos Translate packs (``.argosmodel``), run directly on CTranslate2 + SentencePiece.

A pack installed by argostranslate is a directory holding ``metadata.json``, ``model/`` (a
CTranslate2 model whose ``config.json`` says e.g. ``add_source_eos``), ``sentencepiece.model``
(or ``bpe.model``) and a sentence splitter. Reading a pack needs no argostranslate; inference
uses the model and tokenizer only (see docs/translation.md: argostranslate's own translate
path loads stanza/torch and a sentence splitter that downloads at run time).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from translation._ct2 import Codec, LazyEngine, Pieces, open_sentencepiece, translate_texts
from translation.base import EngineOptions, Pair, Translator
from translation.errors import ModelFormatError
from translation.manifest import read_manifest

UNKNOWN_LICENCE = "see the pack's README.md"


@dataclass(frozen=True, slots=True)
class ArgosPack:
    """What ``metadata.json`` (and our install manifest) say about an installed pack."""

    path: Path
    source: str
    target: str
    version: str
    target_prefix: str
    tokenizer: str  # "sentencepiece" or "bpe"
    licence: str

    @property
    def pair(self) -> Pair:
        return (self.source, self.target)


def read_pack(path: Path) -> ArgosPack:
    """Describe the pack in directory ``path``; ModelFormatError if it is not a usable one."""
    try:
        meta = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelFormatError(f"{path}: no readable metadata.json ({error})") from error
    if not isinstance(meta, dict) or meta.get("type", "translate") != "translate":
        raise ModelFormatError(f"{path}: not a translation package")
    source, target = meta.get("from_code"), meta.get("to_code")
    if not isinstance(source, str) or not isinstance(target, str):
        raise ModelFormatError(f"{path}: metadata.json lacks from_code/to_code")
    if not (path / "model" / "model.bin").is_file():
        raise ModelFormatError(f"{path}: no CTranslate2 model in model/")
    tokenizer = _tokenizer_kind(path)
    manifest = read_manifest(path)
    licence = str(manifest.get("licence") or meta.get("license") or UNKNOWN_LICENCE)
    return ArgosPack(path, source, target, str(meta.get("package_version", "")),
                     str(meta.get("target_prefix", "")), tokenizer, licence)


def _tokenizer_kind(path: Path) -> str:
    if (path / "sentencepiece.model").is_file():
        return "sentencepiece"
    if (path / "bpe.model").is_file():
        return "bpe"
    raise ModelFormatError(f"{path}: neither sentencepiece.model nor bpe.model")


def discover(packages_dir: Path) -> list[ArgosPack]:
    """Every usable pack under ``packages_dir`` (others are skipped), sorted by pair."""
    if not packages_dir.is_dir():
        return []
    packs = []
    for path in sorted(packages_dir.iterdir()):
        if not path.is_dir():
            continue
        try:
            packs.append(read_pack(path))
        except ModelFormatError:
            continue
    return sorted(packs, key=lambda pack: (pack.pair, pack.version))


class ArgosTranslator(Translator):
    """One Argos pack: one (source, target) pair."""

    def __init__(self, pack: ArgosPack, options: EngineOptions) -> None:
        self.pack = pack
        self.name = f"argos:{pack.source}-{pack.target}"
        self.licence = pack.licence
        self._engine = LazyEngine(pack.path / "model", options)
        self._codec: tuple[Callable[[str], Pieces], Callable[[Pieces], str]] | None = None
        self._codec_lock = threading.Lock()

    @classmethod
    def open(cls, path: Path, options: EngineOptions) -> Self:
        return cls(read_pack(path), options)

    def pairs(self) -> set[Pair]:
        return {self.pack.pair}

    def warm(self) -> None:
        self._engine.get()
        self._tokenizer()

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if (source, target) != self.pack.pair:
            raise ValueError(f"{self.name} does not translate {source}->{target}")
        encode, decode = self._tokenizer()
        prefix = self.pack.target_prefix

        def finish(pieces: Pieces) -> str:
            text = decode(pieces)
            if prefix and text.startswith(prefix):
                text = text[len(prefix):]
            return text.strip()

        codec = Codec(encode, finish, [prefix] if prefix else None)
        return translate_texts([(text, codec) for text in texts], self._engine.run)

    def _tokenizer(self) -> tuple[Callable[[str], Pieces], Callable[[Pieces], str]]:
        with self._codec_lock:
            if self._codec is None:
                self._codec = _open_tokenizer(self.pack)
            return self._codec


def _open_tokenizer(pack: ArgosPack) -> tuple[Callable[[str], Pieces], Callable[[Pieces], str]]:
    if pack.tokenizer == "sentencepiece":
        model = open_sentencepiece(pack.path / "sentencepiece.model")

        def encode(text: str) -> Pieces:
            return list(model.encode(text, out_type=str))

        def decode(pieces: Pieces) -> str:
            return str(model.decode_pieces(pieces)).replace("\u2581", " ")

        return encode, decode
    # Old packs: Moses tokenisation + BPE, as argostranslate does it (no torch involved).
    from argostranslate.tokenizer import BPETokenizer

    bpe: Any = BPETokenizer(pack.path / "bpe.model", pack.source, pack.target)
    return (lambda text: list(bpe.encode(text))), (lambda pieces: str(bpe.decode(pieces)))
