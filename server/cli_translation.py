"""`counsel-room models install argos|multilingual` and the translation part of `models list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from server.cli_progress import progress_bar
from server.settings import Settings
from translation import TranslationError, packs
from translation.installed import open_registry

console = Console(soft_wrap=True)


def _fail(error: TranslationError) -> typer.Exit:
    console.print(f"[red]{error}[/red]")
    return typer.Exit(1)


def install_argos(
    source: Annotated[str, typer.Argument(metavar="FROM", help="Source language, e.g. es")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Target language, e.g. en")],
    file: Annotated[Path | None, typer.Option(
        "--file", exists=True, dir_okay=False, help="A local .argosmodel file.")] = None,
    index_url: Annotated[str | None, typer.Option(
        help="Argos package index (JSON); COUNSEL_TRANSLATION_INDEX_URL by default.")] = None,
    sha256: Annotated[str | None, typer.Option(help="Expected sha256 of the pack.")] = None,
    keep: Annotated[bool, typer.Option(
        "--keep", help="Do nothing when a pack for FROM→TO is installed already.")] = False,
) -> None:
    """Install an Argos Translate pack FROM→TO: from the package index, or --file (a pack
    installed for the pair is replaced, unless --keep)."""
    settings = Settings()
    url = index_url or settings.translation_index_url
    if keep and any(item.kind == "argos" and item.languages == (source, target)
                    for item in packs.list_installed(settings.translation_path)):
        console.print(f"{source}→{target} is installed already")
        return
    try:
        with progress_bar(console) as report:
            if file is not None:
                pack = packs.install_argos_file(file, settings.translation_path, sha256=sha256,
                                                expect=(source, target), index_url=url,
                                                progress=report)
            else:
                pack = packs.install_argos_from_index(source, target, settings.translation_path,
                                                      index_url=url, progress=report)
    except TranslationError as error:
        raise _fail(error) from error
    console.print(f"[green]Installed {pack.source}→{pack.target} in {pack.path}[/green]")


def install_multilingual(
    url: Annotated[str | None, typer.Option(
        help="A .tar.gz/.zip of a converted M2M100 or NLLB-200 model.")] = None,
    directory: Annotated[Path | None, typer.Option(
        "--dir", exists=True, file_okay=False, help="A converted model directory.")] = None,
    sha256: Annotated[str | None, typer.Option(help="Expected sha256 of the archive.")] = None,
    name: Annotated[str | None, typer.Option(help="Name to install it under.")] = None,
    licence: Annotated[str | None, typer.Option(
        help="Licence to record (default: MIT for M2M100, CC-BY-NC-4.0 for NLLB).")] = None,
) -> None:
    """Install a multilingual CTranslate2 model (M2M100 or NLLB-200) from --url or --dir."""
    if (url is None) == (directory is None):
        console.print("[red]Give exactly one of --url and --dir.[/red]")
        raise typer.Exit(2)
    root = Settings().translation_path
    try:
        with progress_bar(console) as report:
            if directory is not None:
                model = packs.install_multilingual_dir(directory, root, name=name,
                                                       licence=licence, progress=report)
            else:
                assert url is not None
                model = packs.install_multilingual_url(url, root, sha256=sha256, name=name,
                                                       licence=licence, progress=report)
    except TranslationError as error:
        raise _fail(error) from error
    console.print(f"[green]Installed {model.name} ({model.family}, {len(model.tokens)} "
                  f"languages, licence {model.licence}) in {model.path}[/green]")


def print_translation(settings: Settings) -> None:
    """Tables of installed translation models and of the pairs they serve, with licences."""
    root = settings.translation_path
    installed = packs.list_installed(root)
    models = Table("translation model", "kind", "languages", "licence", "source",
                   title=f"Translation models ({root})")
    for item in installed:
        languages = ("→".join(item.languages) if item.kind == "argos"
                     else f"{len(item.languages)}: {' '.join(item.languages[:12])}"
                     + (" …" if len(item.languages) > 12 else ""))
        models.add_row(item.name, item.kind, languages, item.licence, item.source or "—")
    console.print(models)
    registry = open_registry(root)
    pack_languages = {code for item in installed if item.kind == "argos"
                      for code in item.languages}
    pairs = Table("from", "to", "route", "engines", "licence", title="Translation pairs")
    for route in registry.routes(pack_languages):
        pairs.add_row(route.source, route.target, route.kind.value, " + ".join(route.engines),
                      "; ".join(route.licences))
    for item in installed:
        if item.kind == "multilingual":
            pairs.add_row("any of its", f"{len(item.languages)} languages", "direct",
                          f"multilingual:{item.name}", item.licence)
    console.print(pairs)
