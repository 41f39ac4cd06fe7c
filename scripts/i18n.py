"""The interface's message catalogs: extract, update, list what is missing, fill, check.

    python scripts/i18n.py extract            # web/i18n/{messages,js}.pot from the code
    python scripts/i18n.py update             # merge the templates into every locale's .po
    python scripts/i18n.py missing [LOCALE…]  # untranslated or fuzzy entries, as JSON
    python scripts/i18n.py fill LOCALE FILE   # write translations from JSON {msgid: text}
    python scripts/i18n.py check              # exit 1 naming every locale/msgid not right

Domains: "messages" (Python code and Jinja2 templates, web/i18n/babel.cfg) and "js" (scripts'
`t("…")`, web/i18n/babel-js.cfg). Catalogs: web/i18n/locale/<locale>/LC_MESSAGES/<domain>.po,
one per interface language except English (the source text). See docs/i18n.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "web" / "i18n"
LOCALE_DIR = I18N / "locale"
DOMAINS = {"messages": I18N / "babel.cfg", "js": I18N / "babel-js.cfg"}
KEYWORDS: dict[str, dict[str, tuple[int, ...] | None]] = {
    "messages": {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    "js": {"t": None}}
LOCALES = ("ko", "vi", "zh", "ne", "uz", "id", "th", "tl", "km", "mn", "si", "my", "ru", "es")
"""Every interface language but English (server/locale.py UI_LOCALES)."""
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
STRAY_PERCENT = re.compile(r"(?<!%)%(?!\(\w+\)[sd]|%)")


def extract(domain: str) -> Catalog:
    """A fresh template of `domain` from the code as it is now."""
    with DOMAINS[domain].open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    catalog = Catalog(project="Counsel Room", charset="utf-8")
    found = extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS[domain],
                             strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments,
                    context=context, flags=_flags(message))
    return catalog


def _flags(message: str | tuple[str, ...]) -> tuple[str, ...]:
    texts = (message,) if isinstance(message, str) else message
    return ("python-format",) if any(PLACEHOLDER.search(text) for text in texts) else ()


def template_path(domain: str) -> Path:
    return I18N / f"{domain}.pot"


def po_path(locale: str, domain: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, omit_header=False,
             include_previous=False, no_location=True)
    path.write_bytes(buffer.getvalue())


def update(locales: Iterable[str] = LOCALES) -> None:
    """Bring every locale's catalogs in line with the templates (new entries empty, entries no
    longer used dropped; a changed source keeps its old translation marked fuzzy)."""
    for domain in DOMAINS:
        template = read(template_path(domain))
        for locale in locales:
            path = po_path(locale, domain)
            catalog = read(path, locale) if path.is_file() else Catalog(locale=locale)
            catalog.update(template, no_fuzzy_matching=False)
            catalog.obsolete.clear()
            _header(catalog)
            write(path, catalog)
    for locale in locales:
        share(locale)


def _header(catalog: Catalog) -> None:
    catalog.project, catalog.version = "Counsel Room", ""
    catalog.copyright_holder = "Counsel Room contributors"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "Counsel Room contributors"
    catalog.language_team = f"{catalog.locale} (docs/i18n.md)"
    catalog.fuzzy = False


def _done(message: Message) -> bool:
    return bool(message.id) and not message.fuzzy and all(_texts(message) or ("",))


def share(locale: str) -> None:
    """A message both domains have is translated once: an untranslated or fuzzy entry takes
    the other domain's translation of the same English."""
    catalogs = {domain: read(po_path(locale, domain), locale) for domain in DOMAINS}
    for domain, catalog in catalogs.items():
        others = [c for d, c in catalogs.items() if d != domain]
        changed = False
        for message in catalog:
            if not message.id or _done(message):
                continue
            for other in others:
                known = other.get(message.id, context=message.context)
                if known is not None and _done(known):
                    message.string, changed = known.string, True
                    message.flags.discard("fuzzy")
                    break
        if changed:
            write(po_path(locale, domain), catalog)


@dataclass(frozen=True, slots=True)
class Problem:
    locale: str
    domain: str
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.locale} [{self.domain}] {self.what}: {self.msgid!r}"


def _ids(message: Message) -> tuple[str, ...]:
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def _texts(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def problems(locale: str, domain: str, template: Catalog) -> Iterator[Problem]:
    """What `locale`'s catalog of `domain` lacks against `template`, or gets wrong."""
    path = po_path(locale, domain)
    catalog = read(path, locale) if path.is_file() else Catalog(locale=locale)
    for wanted in template:
        if not wanted.id:
            continue
        key = _ids(wanted)[0]
        message = catalog.get(wanted.id, context=wanted.context)
        texts = _texts(message) if message is not None else ()
        if message is None or not texts or not all(texts):
            yield Problem(locale, domain, key, "missing")
        elif message.fuzzy:
            yield Problem(locale, domain, key, "fuzzy")
        else:
            names = {name for text in _ids(wanted) for name in PLACEHOLDER.findall(text)}
            for text in texts:
                if set(PLACEHOLDER.findall(text)) != names:
                    yield Problem(locale, domain, key,
                                  f"placeholders differ ({sorted(names)} expected)")
                    break
                if STRAY_PERCENT.search(text):  # templates always %-format their messages
                    yield Problem(locale, domain, key, "a % that is no placeholder (write %%)")
                    break


def all_problems(templates: dict[str, Catalog], locales: Iterable[str] = LOCALES
                 ) -> list[Problem]:
    return [problem for locale in locales for domain, template in templates.items()
            for problem in problems(locale, domain, template)]


def fill(locale: str, translations: dict[str, str | list[str]]) -> int:
    """Write `translations` (msgid -> text, or the plural forms) into `locale`'s catalogs;
    how many entries were set."""
    count = 0
    for domain in DOMAINS:
        path = po_path(locale, domain)
        if not path.is_file():
            continue
        catalog = read(path, locale)
        for message in catalog:
            key = _ids(message)[0] if message.id else ""
            if key not in translations:
                continue
            text = translations[key]
            if isinstance(message.id, str):
                message.string = text if isinstance(text, str) else text[0]
            else:
                forms = [text] if isinstance(text, str) else list(text)
                message.string = tuple((forms + forms[-1:] * catalog.num_plurals)
                                       [:catalog.num_plurals])
            message.flags.discard("fuzzy")
            count += 1
        write(path, catalog)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract")
    commands.add_parser("update")
    missing = commands.add_parser("missing")
    missing.add_argument("locales", nargs="*")
    filler = commands.add_parser("fill")
    filler.add_argument("locale")
    filler.add_argument("file", type=Path)
    commands.add_parser("check")
    args = parser.parse_args(argv)
    if args.command == "extract":
        for domain in DOMAINS:
            write(template_path(domain), extract(domain))
    elif args.command == "update":
        update()
    elif args.command == "missing":
        found = all_problems({d: read(template_path(d)) for d in DOMAINS},
                             args.locales or LOCALES)
        report: dict[str, dict[str, str]] = {}
        for problem in found:
            report.setdefault(problem.locale, {})[problem.msgid] = problem.what
        print(json.dumps(report, ensure_ascii=False, indent=1))
    elif args.command == "fill":
        data = json.loads(args.file.read_text(encoding="utf-8"))
        print(f"{fill(args.locale, data)} entries set in {args.locale}")
    else:
        found = all_problems({d: extract(d) for d in DOMAINS})
        for problem in found:
            print(problem, file=sys.stderr)
        if found:
            print(f"{len(found)} catalog problems", file=sys.stderr)
            return 1
        print("every catalog has every message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
