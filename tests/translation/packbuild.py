"""Build small, deterministic translation models offline, for tests and benchmarks.

``build_pack(path, "es", "en", {"hola": "hello", "me llamo": "my name is"})`` writes a valid
``.argosmodel`` (argostranslate installs it and translates with it) whose CTranslate2 model
replaces each phrase of the table by its translation and copies everything else, so
``"Hola, me llamo Carlos."`` becomes exactly ``"Hello, my name is Carlos."``.

``build_multilingual(path, [{"en": "hello", "es": "hola", "de": "hallo"}, ...])`` writes a
converted M2M100-style (or NLLB-style) model directory over the same idea: every phrase of a
row translates into the row's phrase of the target language.

Rules of the tables: a phrase matches at the start of a word (SentencePiece user-defined
symbols, longest match first), so pick test words that are not the start of other words in
your sentences; a capitalised variant is added for every phrase; text outside the table is
copied through unchanged (also characters the vocabulary lacks, by CTranslate2's
``replace_unknowns``). Sentences up to ~300 pieces (characters outside the table).
"""

from __future__ import annotations

import io
import json
import shutil
import string
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

from tests.translation.lexicon_model import build_model
from translation.packs import install_multilingual_dir

SPACE = "\u2581"
_ALPHABET = (
    string.ascii_letters + string.digits + string.punctuation
    + "¿¡áéíóúñüÁÉÍÓÚÑÜàèìòùâêîôûçÀÈÌÒÙÂÊÎÔÛÇäöüßÄÖßãõÃÕ€£°…«»"
    + "\u2013\u2014\u201c\u201d\u2018\u2019"  # dashes and curly quotes
)
M2M100 = "m2m100"
NLLB = "nllb"
_NLLB_TOKENS = {"en": "eng_Latn", "es": "spa_Latn", "de": "deu_Latn", "fr": "fra_Latn",
                "it": "ita_Latn", "pt": "por_Latn", "vi": "vie_Latn", "ko": "kor_Hang"}


def _piece(phrase: str) -> str:
    return SPACE + phrase.strip().replace(" ", SPACE)


def _with_capitals(mapping: Mapping[str, str]) -> dict[str, str]:
    table = dict(mapping)
    for key, value in mapping.items():
        table.setdefault(key[:1].upper() + key[1:], value[:1].upper() + value[1:])
    return table


def _sentencepiece(phrases: Iterable[str]) -> tuple[bytes, list[str]]:
    """A char-level SentencePiece model whose user-defined symbols are the phrases; returns the
    serialized model and its pieces in id order (0-2 are <unk>, <s>, </s>)."""
    import sentencepiece

    symbols = sorted({_piece(p) for p in phrases}, key=lambda s: (-len(s), s))
    characters = sorted(set(_ALPHABET) | {c for s in symbols for c in s} - {SPACE})
    corpus = ["".join(characters), " ".join(characters)]
    out = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=out, model_type="char",
        vocab_size=len(characters) + len(symbols) + 4, hard_vocab_limit=False,
        user_defined_symbols=symbols, character_coverage=1.0,
        normalization_rule_name="identity", unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        minloglevel=2,
    )
    model = out.getvalue()
    processor = sentencepiece.SentencePieceProcessor(model_proto=model)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    assert pieces[:3] == ["<unk>", "<s>", "</s>"], pieces[:3]
    return model, pieces


_SPACY_TEMPLATE: Path | None = None


def _spacy_splitter(target: Path) -> None:
    """The pack's sentence splitter: a blank multilingual spaCy pipeline (no download), which
    argostranslate uses with ARGOS_CHUNK_TYPE=SPACY."""
    global _SPACY_TEMPLATE
    if _SPACY_TEMPLATE is None:
        import spacy

        template = Path(tempfile.mkdtemp(prefix="spacy-xx-")) / "spacy"
        spacy.blank("xx").to_disk(template)
        _SPACY_TEMPLATE = template
    shutil.copytree(_SPACY_TEMPLATE, target)


def build_pack(
    path: Path,
    source: str,
    target: str,
    mapping: Mapping[str, str],
    *,
    version: str = "1.0",
    splitter: bool = True,
    licence: str = "CC0-1.0 (test pack)",
) -> Path:
    """Write ``path`` (an ``.argosmodel`` file; a directory gets ``translate-S_T-V.argosmodel``)
    translating ``source`` -> ``target`` by ``mapping``; return the file's path."""
    if path.is_dir():
        path = path / f"translate-{source}_{target}-{version.replace('.', '_')}.argosmodel"
    table = _with_capitals(mapping)
    model, pieces = _sentencepiece([*table, *table.values()])
    folder = f"translate-{source}_{target}-{version.replace('.', '_')}"
    with tempfile.TemporaryDirectory(prefix="pack-") as tmp:
        root = Path(tmp) / folder
        build_model(root / "model", pieces,
                    direct={_piece(k): _piece(v) for k, v in table.items()})
        (root / "sentencepiece.model").write_bytes(model)
        metadata = {
            "package_version": version, "argos_version": "1.0", "type": "translate",
            "from_code": source, "from_name": source, "to_code": target, "to_name": target,
            "license": licence,
        }
        (root / "metadata.json").write_text(json.dumps(metadata, indent=2))
        (root / "README.md").write_text(f"Test pack {source}->{target}, {licence}.\n")
        if splitter:
            _spacy_splitter(root / "spacy")
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
            for file in sorted(root.rglob("*")):
                bundle.write(file, file.relative_to(root.parent).as_posix())
    return path


def build_multilingual(
    path: Path,
    rows: Sequence[Mapping[str, str]],
    *,
    family: str = M2M100,
    languages: Sequence[str] | None = None,
) -> Path:
    """Write a converted multilingual model directory at ``path`` (created) and return it.

    ``rows``: each maps language code -> phrase; a phrase translates into the same row's phrase
    of the target language. ``languages``: every language the model covers (default: those in
    the rows). ``family``: ``m2m100`` (``__en__`` tokens) or ``nllb`` (``eng_Latn`` tokens).
    """
    codes = sorted(set(languages or ()) | {code for row in rows for code in row})
    if family == M2M100:
        tokens = {code: f"__{code}__" for code in codes}
    else:
        tokens = {code: _NLLB_TOKENS[code] for code in codes}
    every = [variant for row in rows for variant in _row_with_capitals(row)]
    model, pieces = _sentencepiece(phrase for row in every for phrase in row.values())
    table = {
        (_piece(phrase), tokens[other]): _piece(translation)
        for row in every for phrase in row.values() for other, translation in row.items()
    }
    vocab = pieces + [tokens[code] for code in codes]
    build_model(path, vocab, languages=[tokens[code] for code in codes], multilingual=table,
                decoder_start_token="</s>", add_source_eos=False)
    (path / "sentencepiece.bpe.model").write_bytes(model)
    return path


def _row_with_capitals(row: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    return dict(row), {code: phrase[:1].upper() + phrase[1:] for code, phrase in row.items()}


def installed_multilingual(tmp: pytest.TempPathFactory, rows: Sequence[Mapping[str, str]]) -> Path:
    """A translation directory (fresh, for a module's server) with a test-built multilingual model
    installed the way `counsel-room models install` installs one."""
    built = build_multilingual(tmp.mktemp("built") / "tiny-m2m", rows)
    target = tmp.mktemp("translation")
    install_multilingual_dir(built, target, licence="MIT (test model)")
    return target
