"""A form version's texts in the reader's language: the translation staff stored with the
version first, else a machine translation through the server's translation service (kept in
memory per version and language, and marked as machine-made), else the original text (when no
translation model serves the pair, e.g. none is installed)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from rooms.form_schema import FieldSpec, FormSpec
from server.translations import RoomTranslations

CACHE_LIMIT = 256


@dataclass(frozen=True, slots=True)
class Shown:
    text: str
    machine: bool = False
    original: bool = False
    """Shown in the form's own language because no translation was available."""


@dataclass(frozen=True, slots=True)
class ShownField:
    spec: FieldSpec
    label: Shown
    help: Shown
    choices: list[tuple[str, Shown]] = field(default_factory=list)

    def choice_label(self, value: object) -> str:
        return next((label.text for v, label in self.choices if v == value), str(value))


@dataclass(frozen=True, slots=True)
class ShownForm:
    language: str
    source: str
    title: Shown
    description: Shown
    fields: list[ShownField]

    @property
    def texts(self) -> list[Shown]:
        shown = [self.title, self.description]
        for item in self.fields:
            shown += [item.label, item.help, *(label for _, label in item.choices)]
        return [s for s in shown if s.text]

    @property
    def machine(self) -> bool:
        return any(s.machine for s in self.texts)

    @property
    def original(self) -> bool:
        return any(s.original for s in self.texts)

    def field(self, name: str) -> ShownField | None:
        return next((f for f in self.fields if f.spec.name == name), None)


async def machine_translation(translations: RoomTranslations | None, text: str, source: str,
                              target: str) -> tuple[str, str] | None:
    """(text, route) of ``text`` in ``target``, or None when nothing can translate it."""
    if translations is None or not text.strip() or not source or source == target:
        return None
    done = await translations.translate(text, source, frozenset({target}), final=True)
    result = done.translations.get(target)
    if result is None or result.text.strip() == text.strip():
        return None  # an engine that hands back its input did not translate it
    return result.text, result.route


class FormTexts:
    def __init__(self, translations: RoomTranslations | None) -> None:
        self._translations = translations
        self._machine: dict[tuple[str, str], dict[str, str | None]] = {}

    async def shown(self, version_id: str, spec: FormSpec, language: str) -> ShownForm:
        stored = spec.translations.get(language)
        wanted: dict[str, str] = {}  # key -> original text needing a machine translation

        def pick(key: str, original: str, translated: str | None) -> str:
            if language != spec.language and original and not translated:
                wanted[key] = original
            return translated or original

        pick("title", spec.title, stored.title if stored else None)
        pick("description", spec.description, stored.description if stored else None)
        for item in spec.fields:
            texts = stored.fields.get(item.name) if stored else None
            pick(f"{item.name}.label", item.label, texts.label if texts else None)
            pick(f"{item.name}.help", item.help, texts.help if texts else None)
            for choice in item.choices:
                pick(f"{item.name}.choice.{choice.value}", choice.label,
                     texts.choices.get(choice.value) if texts else None)
        machine = await self._machine_texts(version_id, spec.language, language, wanted)

        def show(key: str, original: str, translated: str | None) -> Shown:
            if translated or language == spec.language or not original:
                return Shown(translated or original)
            found = machine.get(key)
            return Shown(found, machine=True) if found else Shown(original, original=True)

        fields = []
        for item in spec.fields:
            texts = stored.fields.get(item.name) if stored else None
            fields.append(ShownField(
                item, show(f"{item.name}.label", item.label, texts.label if texts else None),
                show(f"{item.name}.help", item.help, texts.help if texts else None),
                [(c.value, show(f"{item.name}.choice.{c.value}", c.label,
                                texts.choices.get(c.value) if texts else None))
                 for c in item.choices]))
        return ShownForm(
            language, spec.language,
            show("title", spec.title, stored.title if stored else None),
            show("description", spec.description, stored.description if stored else None),
            fields)

    async def _machine_texts(self, version_id: str, source: str, target: str,
                             wanted: dict[str, str]) -> dict[str, str | None]:
        cached = self._machine.setdefault((version_id, target), {})
        missing = {k: v for k, v in wanted.items() if k not in cached}
        if missing:
            results = await asyncio.gather(*(
                machine_translation(self._translations, text, source, target)
                for text in missing.values()))
            for key, result in zip(missing, results, strict=True):
                cached[key] = None if result is None else result[0]
            if len(self._machine) > CACHE_LIMIT:
                self._machine.pop(next(iter(self._machine)))
        return cached
