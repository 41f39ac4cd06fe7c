"""A CTranslate2 transformer with hand-set weights that translates piece by piece from a table.

Nothing is trained: every weight is written so that the model's greedy or beam output is known.
The residual stream of width ``d`` is split into one-hot blocks:

- ``D``: the input token (encoder and decoder embeddings);
- ``P``: the position (learned position encodings, one row per position);
- ``S``: the source piece the decoder's cross-attention copied from the aligned source position;
- ``L``: the target language, copied by the decoder's self-attention from the target prefix
  (multilingual models only);
- ``T``: the translated piece chosen by the feed-forward layer (multilingual models only).

Decoder step ``i`` attends source position ``i`` (the position blocks match), so the output has
one piece per source piece. For a pair model the output projection maps ``S`` straight to the
mapped piece; for a multilingual model each (source piece, target language) pair that the table
translates has one hidden unit of the feed-forward layer (an AND of the ``S`` and ``L`` blocks)
that writes the translated piece into ``T``. Pieces without an entry are copied. Source pieces
unknown to the vocabulary come out as ``<unk>`` and CTranslate2's ``replace_unknowns`` copies
the source piece, so any text round-trips except the table's entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
from numpy.typing import NDArray

MAX_POSITIONS = 320
_SHARP = 60.0  # attention logit scale: one position gets all the weight
_GAIN = 20.0  # output logit of the chosen piece

Matrix = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Layout:
    vocab: Sequence[str]
    languages: Sequence[str]  # target-language tokens; empty for a pair model

    @property
    def v(self) -> int:
        return len(self.vocab)

    @property
    def d(self) -> int:
        size = 2 * self.v + MAX_POSITIONS + len(self.languages)
        return size + (self.v if self.languages else 0)

    def block(self, name: str) -> int:
        """Offset of a block in the residual stream."""
        v, p, n = self.v, MAX_POSITIONS, len(self.languages)
        return {"D": 0, "P": v, "S": v + p, "L": 2 * v + p, "T": 2 * v + p + n}[name]


def _ln_hot(ones: int, d: int) -> tuple[float, float]:
    """Layer norm of a vector of ``ones`` ones in ``d`` zeros: (value at a one, value at a zero)."""
    mean = ones / d
    std = float(np.sqrt(ones / d - mean * mean + 1e-6))
    return (1 - mean) / std, -mean / std


def _zeros(*shape: int) -> Matrix:
    return np.zeros(shape, dtype=np.float32)


def _norm(spec: object, d: int) -> None:
    spec.gamma = np.ones(d, dtype=np.float32)  # type: ignore[attr-defined]
    spec.beta = _zeros(d)  # type: ignore[attr-defined]


def _embeddings(layout: Layout) -> Matrix:
    table = _zeros(layout.v, layout.d)
    table[np.arange(layout.v), np.arange(layout.v)] = 1.0
    return table


def _positions(layout: Layout) -> Matrix:
    table = _zeros(MAX_POSITIONS, layout.d)
    offset = layout.block("P")
    table[np.arange(MAX_POSITIONS), offset + np.arange(MAX_POSITIONS)] = 1.0
    return table


def _silence_encoder_layer(layer: object, d: int) -> None:
    attention = layer.self_attention  # type: ignore[attr-defined]
    _norm(attention.layer_norm, d)
    attention.linear[0].weight = _zeros(3 * d, d)
    attention.linear[0].bias = _zeros(3 * d)
    attention.linear[1].weight = _zeros(d, d)
    attention.linear[1].bias = _zeros(d)
    _silence_ffn(layer.ffn, d)  # type: ignore[attr-defined]


def _silence_ffn(ffn: object, d: int, hidden: int = 1) -> None:
    _norm(ffn.layer_norm, d)  # type: ignore[attr-defined]
    ffn.linear_0.weight = _zeros(hidden, d)  # type: ignore[attr-defined]
    ffn.linear_0.bias = _zeros(hidden)  # type: ignore[attr-defined]
    ffn.linear_1.weight = _zeros(d, hidden)  # type: ignore[attr-defined]
    ffn.linear_1.bias = _zeros(d)  # type: ignore[attr-defined]


def _language_attention(layer: object, layout: Layout) -> None:
    """Self-attention: every step reads the token at decoder position 1 (the target prefix)
    and writes its language into the ``L`` block (scaled to 1)."""
    d, attention = layout.d, layer.self_attention  # type: ignore[attr-defined]
    _norm(attention.layer_norm, d)
    fused, bias = _zeros(3 * d, d), _zeros(3 * d)
    hot, _ = _ln_hot(2, d)
    bias[0] = _SHARP  # query: a constant
    fused[d + 0, layout.block("P") + 1] = np.sqrt(d) / hot  # key: position 1
    for index, token in enumerate(layout.languages):
        row = 2 * d + layout.block("L") + index
        fused[row, layout.vocab.index(token)] = 1.0 / hot  # value: which language token
    attention.linear[0].weight, attention.linear[0].bias = fused, bias
    attention.linear[1].weight = np.eye(d, dtype=np.float32)
    attention.linear[1].bias = _zeros(d)


def _silence_self_attention(layer: object, d: int) -> None:
    attention = layer.self_attention  # type: ignore[attr-defined]
    _norm(attention.layer_norm, d)
    attention.linear[0].weight = _zeros(3 * d, d)
    attention.linear[0].bias = _zeros(3 * d)
    attention.linear[1].weight = _zeros(d, d)
    attention.linear[1].bias = _zeros(d)


def _aligned_attention(layer: object, layout: Layout) -> None:
    """Cross-attention: decoder position i reads source position i and copies its piece to S."""
    d, attention = layout.d, layer.attention  # type: ignore[attr-defined]
    _norm(attention.layer_norm, d)
    positions, p = layout.block("P"), np.arange(MAX_POSITIONS)
    ones = 4 if layout.languages else 3
    hot, _ = _ln_hot(ones - 1, d)  # the decoder's stream before the copy: D, P (and L)
    query = _zeros(d, d)
    query[positions + p, positions + p] = _SHARP * np.sqrt(d) / hot
    key_value = _zeros(2 * d, d)
    key_value[positions + p, positions + p] = 1.0
    v = np.arange(layout.v)
    key_value[d + layout.block("S") + v, v] = 1.0
    attention.linear[0].weight, attention.linear[0].bias = query, _zeros(d)
    attention.linear[1].weight, attention.linear[1].bias = key_value, _zeros(2 * d)
    attention.linear[2].weight, attention.linear[2].bias = np.eye(d, dtype=np.float32), _zeros(d)


def _translation_ffn(
    layer: object, layout: Layout, table: Mapping[tuple[int, int], int]
) -> None:
    """One hidden unit per (source piece, target language) entry: fires when both are set."""
    d, ffn = layout.d, layer.ffn  # type: ignore[attr-defined]
    if not table:
        _silence_ffn(ffn, d)
        return
    _norm(ffn.layer_norm, d)
    hot, _ = _ln_hot(4, d)
    w0, b0 = _zeros(len(table), d), _zeros(len(table))
    w1 = _zeros(d, len(table))
    for unit, ((piece, language), target) in enumerate(sorted(table.items())):
        w0[unit, layout.block("S") + piece] = 1.0 / hot
        w0[unit, layout.block("L") + language] = 1.0 / hot
        b0[unit] = -1.5
        w1[layout.block("T") + target, unit] = 2.0  # 0.5 activation -> 1.0 in T
    ffn.linear_0.weight, ffn.linear_0.bias = w0, b0
    ffn.linear_1.weight, ffn.linear_1.bias = w1, _zeros(d)


def _projection(
    layout: Layout, direct: Mapping[int, int], translated: set[int]
) -> Matrix:
    """Output logits: ``S`` piece s votes for ``direct[s]`` (itself by default), except pieces
    that the feed-forward layer translates, whose result is read from ``T``."""
    weight = _zeros(layout.v, layout.d)
    for piece in range(layout.v):
        if piece in translated:
            continue
        weight[direct.get(piece, piece), layout.block("S") + piece] = _GAIN
    if layout.languages:
        v = np.arange(layout.v)
        weight[v, layout.block("T") + v] = _GAIN
    return weight


def build_model(
    output_dir: Path,
    vocab: Sequence[str],
    *,
    direct: Mapping[str, str] | None = None,
    languages: Sequence[str] = (),
    multilingual: Mapping[tuple[str, str], str] | None = None,
    decoder_start_token: str = "<s>",
    add_source_eos: bool = True,
) -> Path:
    """Write a CTranslate2 model dir that maps pieces.

    ``direct``: source piece -> target piece (a pair model). ``languages`` + ``multilingual``:
    (source piece, target-language token) -> target piece (a multilingual model whose target
    language comes as the target prefix). Every piece must be in ``vocab``.
    """
    layout = Layout(tuple(vocab), tuple(languages))
    index = {piece: i for i, piece in enumerate(layout.vocab)}
    direct_ids = {index[s]: index[t] for s, t in (direct or {}).items()}
    table = {
        (index[s], layout.languages.index(lang)): index[t]
        for (s, lang), t in (multilingual or {}).items()
    }
    d = layout.d
    spec = ctranslate2.specs.TransformerSpec.from_config(
        1, 1, pre_norm=True, no_final_norm=True, alignment_layer=-1, alignment_heads=1
    )
    encoder, decoder = spec.encoder, spec.decoder
    encoder.scale_embeddings = False
    decoder.scale_embeddings = False
    encoder.embeddings[0].weight = _embeddings(layout)
    decoder.embeddings.weight = _embeddings(layout)
    encoder.position_encodings.encodings = _positions(layout)
    decoder.position_encodings.encodings = _positions(layout)
    _silence_encoder_layer(encoder.layer[0], d)
    layer = decoder.layer[0]
    if layout.languages:
        _language_attention(layer, layout)
    else:
        _silence_self_attention(layer, d)
    _aligned_attention(layer, layout)
    _translation_ffn(layer, layout, table)
    decoder.projection.weight = _projection(layout, direct_ids, {s for s, _ in table})
    decoder.projection.bias = _zeros(layout.v)
    spec.config.add_source_eos = add_source_eos
    spec.config.decoder_start_token = decoder_start_token
    spec.register_source_vocabulary(list(layout.vocab))
    spec.register_target_vocabulary(list(layout.vocab))
    spec.validate()
    output_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(output_dir))
    return output_dir
