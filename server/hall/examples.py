"""The hall pages shipped as examples (`server/hall/examples/<slug>.<language>.md`): the four
stages of the return-to-work program and its sub-services, in English and Korean, each naming
the shipped form people apply with. Loaded by `counsel-room hall load-examples` and
`counsel-room demo`.

A file is Markdown after a short header between ``---`` lines: ``title``, ``summary``, and in
the English file (the pages' own language) ``position`` and ``form``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import hall as hall_repo

EXAMPLES = Path(__file__).resolve().parent / "examples"
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class ExampleText:
    title: str
    summary: str
    body: str
    header: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> ExampleText:
    _, header, body = text.split("---\n", 2)
    fields = dict(line.split(":", 1) for line in header.strip().splitlines())
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    return ExampleText(fields.get("title", ""), fields.get("summary", ""), body.strip() + "\n",
                       fields)


def example_pages() -> dict[str, dict[str, ExampleText]]:
    """slug -> language -> text."""
    pages: dict[str, dict[str, ExampleText]] = {}
    for path in sorted(EXAMPLES.glob("*.md")):
        slug, language = path.stem.rsplit(".", 1)
        pages.setdefault(slug, {})[language] = parse(path.read_text(encoding="utf-8"))
    return pages


async def load_examples(session: AsyncSession, *, update: bool = False) -> dict[str, str]:
    """Create the example pages that are missing (with ``update``, put back the shipped texts
    of those that exist); returns what happened to each slug."""
    done: dict[str, str] = {}
    for slug, texts in example_pages().items():
        source = texts[SOURCE_LANGUAGE]
        page = await hall_repo.find_page(session, slug)
        if page is not None and not update:
            done[slug] = "kept"
            continue
        if page is None:
            page = await hall_repo.create_page(
                session, slug=slug, language=SOURCE_LANGUAGE,
                position=int(source.header.get("position", "0")),
                form_slug=source.header.get("form", ""))
            done[slug] = "created"
        else:
            done[slug] = "updated"
        for language, text in texts.items():
            await hall_repo.save_text(session, page, language=language, title=text.title,
                                      summary=text.summary, body=text.body, updated_by=None)
    return done
