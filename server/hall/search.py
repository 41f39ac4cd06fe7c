"""The hall's search index: BM25 (the `bm25s` library) over the sections of the hall's pages,
one index per language of the pages' own texts.

A passage is one section of one page in one language: the page's title, the section's heading
and its sentences. BM25 ranks the passages for a query. How well one answers it is a second
number, ``coverage``: the share of the query's weight (each query word weighted by its inverse
document frequency in that language's pages, words the pages never use weighing the most) that
the passage contains (words found only in the page's title count half). The best ten by BM25
are ordered by coverage, then BM25. BM25 scores grow with the length of the query and have no
fixed scale; coverage is relative to the query, between 0 and 1, so one threshold serves short
and long questions alike (`server/hall/chatbot.py`)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import bm25s
import numpy as np

from server.hall.tokens import tokenize
from translation.sentences import split


@dataclass(frozen=True, slots=True)
class Passage:
    slug: str
    language: str
    page_title: str
    anchor: str
    heading: str
    sentences: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"/hall/{self.slug}?lang={self.language}" + (
            f"#{self.anchor}" if self.anchor else "")


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    score: float
    coverage: float


def sentences_of(blocks: list[str]) -> tuple[str, ...]:
    found: list[str] = []
    for block in blocks:
        segments, _ = split(block)
        found += [s.strip() for s in segments if s.strip()]
    return tuple(found)


@dataclass
class LanguageIndex:
    """BM25 over the passages of one language."""

    passages: list[Passage]
    _bm25: bm25s.BM25 = field(init=False)
    _df: Counter[str] = field(init=False)
    _own: list[frozenset[str]] = field(init=False)
    _titles: list[frozenset[str]] = field(init=False)

    def __post_init__(self) -> None:
        documents = [tokenize(" ".join((p.page_title, p.heading, *p.sentences)))
                     for p in self.passages]
        self._own = [frozenset(tokenize(" ".join((p.heading, *p.sentences))))
                     for p in self.passages]
        self._titles = [frozenset(tokenize(p.page_title)) for p in self.passages]
        self._df = Counter(word for words in documents for word in set(words))
        self._bm25 = bm25s.BM25()
        self._bm25.index([d or [""] for d in documents], show_progress=False)

    def weight(self, word: str) -> float:
        """Inverse document frequency (a word no passage has weighs the most)."""
        n, df = len(self.passages), self._df.get(word, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def coverage(self, query: list[str], index: int) -> float:
        """The share of the query's weight found in the passage: in full for words of its
        heading and sentences, half for words only in its page's title."""
        own, title = self._own[index], self._titles[index]
        total = sum(self.weight(w) for w in set(query))
        found = sum(self.weight(w) * (1.0 if w in own else 0.5 if w in title else 0.0)
                    for w in set(query))
        return found / total if total else 0.0

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """Passages with at least one of the query's words: BM25's best `limit`, ordered by
        coverage, then BM25 score."""
        words = tokenize(query)
        known = [w for w in words if w in self._df]
        if not known:
            return []
        scores = np.asarray(self._bm25.get_scores(known))
        order = np.argsort(-scores, kind="stable")[:limit]
        hits = [Hit(self.passages[i], float(scores[i]), self.coverage(words, int(i)))
                for i in order if scores[i] > 0]
        return sorted(hits, key=lambda h: (-round(h.coverage, 2), -h.score))

    def best_sentences(self, query: str, passage: Passage, most: int = 2) -> list[str]:
        """The passage's sentences that carry most of the query's weight, in page order (its
        first sentences when only the title or heading matched)."""
        words = set(tokenize(query))
        scored = [(sum(self.weight(w) for w in words & set(tokenize(s))), i)
                  for i, s in enumerate(passage.sentences)]
        chosen = sorted(i for score, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:most]
                        if score > 0)
        return [passage.sentences[i] for i in chosen or range(min(most, len(passage.sentences)))]
