"""`counsel-room forms ...`: the shipped example forms."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from rooms.db import one_transaction
from server.forms.examples import load_examples
from server.settings import Settings

app = typer.Typer(help="Forms workers fill from a link.", no_args_is_help=True)
console = Console(soft_wrap=True)


async def load_into(settings: Settings, *, update: bool = False) -> dict[str, str]:
    async with one_transaction(settings.database_url) as session:
        return await load_examples(session, update=update)


@app.command("load-examples")
def load_examples_command(
    update: Annotated[bool, typer.Option(
        help="Save a new version of example forms that differ from the shipped ones.")] = False,
) -> None:
    """Create the example forms (vocational training, return-to-work plan consultation,
    re-employment support, consent to transcription and translation) that are missing."""
    for slug, what in asyncio.run(load_into(Settings(), update=update)).items():
        console.print(f"{slug}: {what}")
