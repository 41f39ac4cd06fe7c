"""Progress reports of model installation, for a CLI progress bar (speech model installs in
`media.speech.models` report with the same types)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class InstallStep(StrEnum):
    DOWNLOAD = "download"
    VERIFY = "verify"
    EXTRACT = "extract"
    INSTALL = "install"
    CONVERT = "convert"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class InstallProgress:
    """``done`` of ``total`` units (bytes for DOWNLOAD; variables for CONVERT); total None
    when unknown."""

    step: InstallStep
    item: str
    done: int
    total: int | None


ProgressCallback = Callable[[InstallProgress], None]


def ignore_progress(_: InstallProgress) -> None:
    """The default callback: report nothing."""
