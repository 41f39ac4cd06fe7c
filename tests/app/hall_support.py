"""Helpers of the hall tests: a database with the staff accounts, the example forms and the
example hall pages; the text of a page as a reader sees it."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

from rooms.migrate import upgrade
from server.cli_forms import load_into as load_forms
from server.cli_hall import load_into as load_hall
from server.settings import Settings
from tests.conftest import seed_staff

BODY = re.compile(r'<div class="hall-body">(.*?)</div>', re.S)
TAG = re.compile(r"<[^>]+>")


def database(root: Path) -> str:
    url = f"sqlite+aiosqlite:///{root / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    asyncio.run(load_forms(Settings(database_url=url)))
    asyncio.run(load_hall(Settings(database_url=url)))
    return url


def body_html(page: str) -> str:
    found = BODY.search(page)
    assert found, page[:500]
    return found.group(1)


def visible_text(page: str) -> str:
    """The page's words as a reader sees them (tags removed, entities decoded, one space)."""
    return " ".join(html.unescape(TAG.sub(" ", page)).split())
