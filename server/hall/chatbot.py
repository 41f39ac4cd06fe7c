"""The help chatbot: a question in, sentences quoted from one hall page out, or "no good answer".

It never writes text of its own. Retrieval picks the section of a hall page that best answers
the question (`server/hall/search.py`, BM25 over the pages' sections); the answer is that
section's best-matching sentences, quoted as written, with the page and section they come from.

Languages: a question is searched among the pages' texts in the asker's language first. When
the asker's language has no page texts, or none answers well, the question is machine-
translated into the pages' own language(s) and searched there; the quoted sentences are then
machine-translated back, and marked so (or, with no translation model for the pair, given as
written, marked as the original). The page linked is the page in the asker's language (which
shows the same machine translation when the page has no text of its own in that language).

Declining: the best section must contain at least `MIN_COVERAGE` of the question's weight
(see `LanguageIndex.coverage`); otherwise the answer is that there is no good answer, and the
page offers to ask a counselor."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from server.forms.texts import machine_translation
from server.hall.content import HallContent
from server.hall.search import Hit, LanguageIndex
from server.translations import RoomTranslations

MIN_COVERAGE = 0.6
MAX_QUESTION = 500


@dataclass(frozen=True, slots=True)
class Answer:
    language: str
    answered: bool
    sentences: list[str] = field(default_factory=list)
    machine: bool = False
    """The sentences are a machine translation of the page's."""
    original: bool = False
    """The sentences are in the page's language: nothing could translate them."""
    slug: str = ""
    title: str = ""
    heading: str = ""
    url: str = ""
    coverage: float = 0.0

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"answered": self.answered, "language": self.language}
        if self.answered:
            data.update(sentences=self.sentences, machine=self.machine, original=self.original,
                        source={"slug": self.slug, "title": self.title,
                                "section": self.heading, "url": self.url})
        return data


@dataclass(frozen=True, slots=True)
class Found:
    """A search result: the best section of one page for the query."""

    hit: Hit
    sentences: list[str]


def _by_page(index: LanguageIndex, hits: list[Hit], query: str) -> list[Found]:
    seen: set[str] = set()
    found = []
    for hit in hits:
        if hit.passage.slug not in seen:
            seen.add(hit.passage.slug)
            found.append(Found(hit, index.best_sentences(query, hit.passage)))
    return found


def _strong(hits: list[Hit]) -> Hit | None:
    return hits[0] if hits and hits[0].coverage >= MIN_COVERAGE else None


class Chatbot:
    def __init__(self, translations: RoomTranslations | None) -> None:
        self._translations = translations

    async def _translate(self, text: str, source: str, target: str) -> str | None:
        done = await machine_translation(self._translations, text, source, target)
        return done[0] if done else None

    async def ask(self, content: HallContent, question: str, language: str) -> Answer:
        question = question.strip()[:MAX_QUESTION]
        own = content.indexes.get(language)
        if own is not None and (hit := _strong(own.search(question))):
            return self._answer(content, own, hit, question, language)
        for source in content.source_languages:
            index = content.indexes.get(source)
            if source == language or index is None:
                continue
            asked = await self._translate(question, language, source)
            if asked is None and own is not None:
                continue  # the asker's language has pages, and they did not answer
            hit = _strong(index.search(asked or question))
            if hit is not None:
                return await self._translated(content, index, hit, asked or question, language)
        return Answer(language, answered=False)

    async def search(self, content: HallContent, query: str, language: str) -> list[Found]:
        """Pages whose sections share words with the query, best first: among the texts in
        the reader's language, else (none there) among the pages' own texts, the query
        machine-translated into their language when a model serves the pair."""
        query = query.strip()[:MAX_QUESTION]
        own = content.indexes.get(language)
        if own is not None:
            return _by_page(own, own.search(query, limit=30), query)
        for source in content.source_languages:
            index = content.indexes.get(source)
            if index is not None:
                asked = await self._translate(query, language, source) or query
                return _by_page(index, index.search(asked, limit=30), asked)
        return []

    def _answer(self, content: HallContent, index: LanguageIndex, hit: Hit, question: str,
                language: str) -> Answer:
        passage = hit.passage
        return Answer(language, True, index.best_sentences(question, passage),
                      slug=passage.slug, title=passage.page_title, heading=passage.heading,
                      url=passage.url, coverage=round(hit.coverage, 3))

    async def _translated(self, content: HallContent, index: LanguageIndex, hit: Hit,
                          question: str, language: str) -> Answer:
        found = self._answer(content, index, hit, question, language)
        passage = hit.passage
        translated = await asyncio.gather(*(
            self._translate(s, passage.language, language) for s in found.sentences))
        url = found.url.replace(f"?lang={passage.language}", f"?lang={language}")
        page = content.page(passage.slug)
        title = page.titles.get(language) if page else None
        if all(t is not None for t in translated):
            heading = await self._translate(passage.heading, passage.language, language)
            return Answer(language, True, [t for t in translated if t is not None],
                          machine=True, slug=passage.slug,
                          title=title or await self._translate(passage.page_title,
                                                               passage.language, language)
                          or passage.page_title,
                          heading=heading or passage.heading, url=url,
                          coverage=found.coverage)
        return Answer(language, True, found.sentences, original=True, slug=passage.slug,
                      title=title or passage.page_title, heading=passage.heading, url=url,
                      coverage=found.coverage)
