"""A rich progress bar for model installs (speech and translation report the same shape)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Protocol

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


class ProgressEvent(Protocol):
    @property
    def step(self) -> Enum: ...
    @property
    def item(self) -> str: ...
    @property
    def done(self) -> int: ...
    @property
    def total(self) -> int | None: ...


@contextmanager
def progress_bar(console: Console) -> Iterator[Callable[[ProgressEvent], None]]:
    """A callback that draws one bar per (step, item); ``done`` events draw nothing."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    tasks: dict[tuple[str, str], TaskID] = {}
    with Progress(*columns, console=console, transient=False) as bar:

        def report(event: ProgressEvent) -> None:
            if event.step.value == "done":
                return
            key = (str(event.step.value), event.item)
            if key not in tasks:
                tasks[key] = bar.add_task(f"{event.step.value} {event.item}", total=event.total)
            bar.update(tasks[key], completed=event.done, total=event.total)

        yield report
