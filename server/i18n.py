"""The interface's language: gettext catalogs (Babel .po files, web/i18n/locale) for pages, scripts.

Templates call `_("Text")` / `_("Hello %(name)s", name=x)` / `ngettext(...)` (Jinja2's i18n
extension, new-style); scripts call `t("Text", {name: x})` (web/static/i18n.js) with the page's
catalog embedded by base.html. The locale of the page being rendered is a context variable set by
`render()`; with no catalog for it the English source text is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "web" / "i18n" / "locale"
DEFAULT_LOCALE = "en"
_current: ContextVar[str] = ContextVar("ui_locale", default=DEFAULT_LOCALE)
_timezone: ContextVar[str] = ContextVar("ui_timezone", default="UTC")


def _load(locale: str, domain: str) -> NullTranslations:
    """Read the .po file straight (no compiled .mo to keep in step): compile it in memory."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    for message in list(catalog):  # an untranslated plural would come out as empty text
        if message.id and not isinstance(message.string, str) and not all(message.string or ()):
            catalog.delete(message.id, context=message.context)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out
    compiled.seek(0)
    return Translations(compiled, domain=domain)


@lru_cache(maxsize=64)
def translations(locale: str, domain: str = "messages") -> NullTranslations:
    return _load(locale, domain)


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """For the rest of this request (its context), as the middleware's `use_locale` began it."""
    _current.set(locale)


def current_timezone() -> str:
    return _timezone.get()


@contextmanager
def use_locale(locale: str, timezone: str | None = None) -> Iterator[None]:
    token = _current.set(locale)
    zone = _timezone.set(timezone or _timezone.get())
    try:
        yield
    finally:
        _timezone.reset(zone)
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def gettext_noop(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where shown."""
    return message


N_ = gettext_noop


def script_catalog(locale: str) -> dict[str, str]:
    """The scripts' messages translated into `locale` (msgid -> text), for embedding in a page."""
    catalog = translations(locale, "js")
    return {key: value for key, value in getattr(catalog, "_catalog", {}).items()
            if isinstance(key, str) and key}
