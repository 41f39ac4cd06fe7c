"""The worker's side of forms in their language: the few sentences of the form pages (buttons,
errors, statuses) from the catalog `web/i18n/forms.json`; English where it has no entry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from server.templating import WEB_DIR

CATALOG = WEB_DIR / "i18n" / "forms.json"
FALLBACK = "en"


@cache
def catalog() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads(CATALOG.read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True, slots=True)
class Messages:
    """``messages("too_long", max=40)``: one sentence in ``language``."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        entry = catalog()[key]
        text = entry.get(self.language) or entry[FALLBACK]
        return text.format(**values) if values else text


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one answer: its catalog key and values, told in the reader's language."""

    key: str
    values: tuple[tuple[str, object], ...] = ()

    def text(self, messages: Messages) -> str:
        return messages(self.key, **dict(self.values))


def error(key: str, **values: object) -> FieldError:
    return FieldError(key, tuple(values.items()))
