"""`counsel-room hall ...`: the shipped example pages of the program hall."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from rooms.db import one_transaction
from server.hall.examples import load_examples
from server.settings import Settings

app = typer.Typer(help="The program hall: public pages about the programs.",
                  no_args_is_help=True)
console = Console(soft_wrap=True)


async def load_into(settings: Settings, *, update: bool = False) -> dict[str, str]:
    async with one_transaction(settings.database_url) as session:
        return await load_examples(session, update=update)


@app.command("load-examples")
def load_examples_command(
    update: Annotated[bool, typer.Option(
        help="Put the shipped texts back into example pages that exist.")] = False,
) -> None:
    """Create the example pages (the four stages of the return-to-work program and its
    services, in English and Korean) that are missing."""
    for slug, what in asyncio.run(load_into(Settings(), update=update)).items():
        console.print(f"{slug}: {what}")
