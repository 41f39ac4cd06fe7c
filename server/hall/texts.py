"""A hall page in the reader's language: the text staff wrote in that language first; else a
machine translation of the page's own text (through the server's translation service, kept in
memory per text and language, and marked as machine-made); else the page's own text, marked as
such (no translation model serves the pair).

A page is translated one Markdown line at a time, keeping each line's structure (heading
marks, list bullets, numbers, quotes) and translating only its words, so the translated page
has the same sections, in the same order, with the same ids as the original."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from rooms.hall_models import HallPage, HallPageText
from server.forms.texts import machine_translation
from server.hall.markdown import render
from server.translations import RoomTranslations

CACHE_LIMIT = 256
_LINE = re.compile(r"^(\s*(?:#{1,6}\s+|[-*+]\s+|\d{1,3}[.)]\s+|>\s*)*)(.*?)(\s*)$")


@dataclass(frozen=True, slots=True)
class ShownPage:
    language: str
    """The language asked for."""
    source: str
    """The language of the text it was made from."""
    title: str
    summary: str
    body: str
    machine: bool = False
    original: bool = False

    @property
    def html(self) -> str:
        return render(self.body)


def pick_text(page: HallPage, texts: list[HallPageText], language: str
              ) -> tuple[HallPageText | None, bool]:
    """(text, own): the text in ``language`` (own), else the page's source text."""
    by_language = {t.language: t for t in texts}
    if language in by_language:
        return by_language[language], True
    return by_language.get(page.language) or (texts[0] if texts else None), False


class HallTexts:
    def __init__(self, translations: RoomTranslations | None) -> None:
        self._translations = translations
        self._machine: dict[tuple[str, datetime, str], ShownPage] = {}

    async def shown(self, page: HallPage, texts: list[HallPageText], language: str
                    ) -> ShownPage | None:
        text, own = pick_text(page, texts, language)
        if text is None:
            return None
        plain = ShownPage(language, text.language, text.title, text.summary, text.body)
        if own:
            return plain
        key = (text.id, text.updated_at, language)
        machine = self._machine.get(key) or await self._translate(text, language)
        if machine is not None and key not in self._machine:  # a failure is tried again
            self._machine[key] = machine
            if len(self._machine) > CACHE_LIMIT:
                self._machine.pop(next(iter(self._machine)))
        return machine or ShownPage(language, text.language, text.title, text.summary,
                                    text.body, original=True)

    async def _one(self, text: str, source: str, target: str) -> str | None:
        done = await machine_translation(self._translations, text, source, target)
        return done[0] if done else None

    async def _translate(self, text: HallPageText, language: str) -> ShownPage | None:
        lines = [_LINE.match(line) for line in text.body.split("\n")]
        wanted = [m.group(2) if m else "" for m in lines]
        done = await asyncio.gather(
            self._one(text.title, text.language, language),
            self._one(text.summary, text.language, language),
            *(self._one(w, text.language, language) for w in wanted if w.strip()))
        title, summary, rest = done[0], done[1], iter(done[2:])
        if title is None and not any(done):
            return None
        body = []
        for match, words in zip(lines, wanted, strict=True):
            translated = next(rest) if words.strip() else None
            if match is None or translated is None:
                body.append(match.group(0) if match else "")
            else:
                body.append(match.group(1) + translated + match.group(3))
        return ShownPage(language, text.language, title or text.title,
                         summary or text.summary, "\n".join(body), machine=True)
