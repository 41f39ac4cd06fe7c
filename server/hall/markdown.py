"""Staff write hall pages in Markdown; this turns it into safe HTML and into sections.

Rendering: markdown-it-py (CommonMark, raw HTML off: a ``<script>`` or ``<img onerror=…>``
written in a page comes out as visible text), then nh3 (a maintained HTML sanitizer, Rust's
ammonia) with a short list of tags and attributes, as a second wall: no script, no event
handler, no ``style``, links only to http(s), mail, telephone or this site, each with
``rel="noopener noreferrer"``. Headings get ids (``section-1``, ``section-2``…) so that search
results and the chatbot link to the section they quote.

Sections: the same parse cut at each heading: its id, its heading and its blocks of plain text
(a paragraph, a list item), which the search index and the chatbot's answers are made of."""

from __future__ import annotations

from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "a", "code", "pre",
        "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href", "title"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
              "th": {"style"}, "td": {"style"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


_MD = _parser()


@dataclass
class Section:
    anchor: str
    """The heading's id on the page ("" for the text before the first heading)."""
    heading: str
    blocks: list[str] = field(default_factory=list)


def _plain(inline: Token) -> str:
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


def _tokens(body: str) -> list[Token]:
    tokens = _MD.parse(body)
    number = 0
    for token in tokens:
        if token.type == "heading_open":
            number += 1
            token.attrSet("id", f"section-{number}")
    return tokens


def render(body: str) -> str:
    """Sanitized HTML of a page's Markdown."""
    html = _MD.renderer.render(_tokens(body), _MD.options, {})
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     filter_style_properties={"text-align"}, link_rel="noopener noreferrer")


def sections(body: str, title: str) -> list[Section]:
    """The page cut at its headings; the text before the first heading is titled ``title``."""
    found = [Section("", title)]
    tokens = _tokens(body)
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener = tokens[index - 1] if index else None
        text = _plain(token)
        if opener is not None and opener.type == "heading_open":
            found.append(Section(str(opener.attrGet("id") or ""), text))
        elif text:
            found[-1].blocks.append(text)
    return [s for s in found if s.blocks or s.anchor]
