"""The hall's content as this node serves it: the published pages with their texts and the
search index over them, loaded from the database and kept until the content changes (checked
with one cheap query per use, so every node follows edits made on any node)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import hall as hall_repo
from server.hall.markdown import sections
from server.hall.search import LanguageIndex, Passage, sentences_of


@dataclass(frozen=True, slots=True)
class PageEntry:
    slug: str
    language: str
    """The language the page is first written in."""
    form_slug: str
    titles: dict[str, str]
    """Its title in each language it has a text in."""


@dataclass(frozen=True, slots=True)
class HallContent:
    pages: list[PageEntry]
    indexes: dict[str, LanguageIndex]

    @property
    def source_languages(self) -> list[str]:
        """The pages' own languages, the most common first."""
        return [lang for lang, _ in Counter(p.language for p in self.pages).most_common()]

    def page(self, slug: str) -> PageEntry | None:
        return next((p for p in self.pages if p.slug == slug), None)


async def load(session: AsyncSession) -> HallContent:
    pages = await hall_repo.list_pages(session)
    texts = await hall_repo.texts_of(session, [p.id for p in pages])
    entries: list[PageEntry] = []
    passages: dict[str, list[Passage]] = {}
    for page in pages:
        entries.append(PageEntry(page.slug, page.language, page.form_slug,
                                 {t.language: t.title for t in texts[page.id]}))
        for text in texts[page.id]:
            for section in sections(text.body, text.title):
                passages.setdefault(text.language, []).append(Passage(
                    page.slug, text.language, text.title, section.anchor, section.heading,
                    sentences_of(section.blocks)))
    indexes = await asyncio.to_thread(
        lambda: {lang: LanguageIndex(found) for lang, found in passages.items()})
    return HallContent(entries, indexes)


@dataclass
class ContentCache:
    _stamp: tuple[int, int, datetime | None] | None = None
    _content: HallContent | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, session: AsyncSession) -> HallContent:
        stamp = await hall_repo.stamp(session)
        async with self._lock:
            if self._content is None or stamp != self._stamp:
                self._content, self._stamp = await load(session), stamp
            return self._content
