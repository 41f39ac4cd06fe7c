"""argostranslate's package API, pointed at our directory (imported only to install or list).

argostranslate reads its settings when ``argostranslate.settings`` is first imported
(``ARGOS_PACKAGES_DIR``, the index URL, the local index file). We set the environment before
that first import and, because a process may install into several directories, also set the
module's globals before every use, under one lock.
"""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from translation.errors import ModelFormatError, ModelInstallError

_lock = threading.Lock()


@contextmanager
def argos_package_api(packages_dir: Path, index_file: Path, index_url: str) -> Iterator[Any]:
    """``argostranslate.package`` with its packages dir, local index and index URL set."""
    packages_dir.mkdir(parents=True, exist_ok=True)
    with _lock:
        settings, package = _modules(packages_dir)
        saved = {name: getattr(settings, name) for name in _SETTINGS}
        settings.package_data_dir = packages_dir
        settings.package_dirs = [packages_dir]
        settings.local_package_index = index_file
        settings.remote_package_index = index_url
        try:
            yield package
        finally:
            for name, value in saved.items():
                setattr(settings, name, value)


_SETTINGS = ("package_data_dir", "package_dirs", "local_package_index", "remote_package_index")


def _modules(packages_dir: Path) -> tuple[Any, ModuleType]:
    """Import argostranslate with ARGOS_PACKAGES_DIR set (only for that first import: it creates
    the directory and would otherwise create ~/.local/share/argos-translate/packages)."""
    before = os.environ.get("ARGOS_PACKAGES_DIR")
    os.environ["ARGOS_PACKAGES_DIR"] = str(packages_dir)
    try:
        import argostranslate.package
        import argostranslate.settings
    finally:
        if before is None:
            del os.environ["ARGOS_PACKAGES_DIR"]
        else:
            os.environ["ARGOS_PACKAGES_DIR"] = before
    return argostranslate.settings, argostranslate.package


def pack_folder(archive: Path) -> str:
    """The one top folder of an ``.argosmodel`` zip, after checking it is a translation pack."""
    if not zipfile.is_zipfile(archive):
        raise ModelFormatError(f"{archive.name}: not an Argos package (not a zip archive)")
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        tops = {name.split("/", 1)[0] for name in names if name.strip("/")}
        if len(tops) != 1:
            raise ModelFormatError(f"{archive.name}: expected one top folder, found {len(tops)}")
        (top,) = tops
        if any(part in ("..", "") for name in names for part in name.split("/")[:-1]):
            raise ModelFormatError(f"{archive.name}: unsafe paths in the archive")
        if f"{top}/metadata.json" not in names:
            raise ModelFormatError(f"{archive.name}: no metadata.json")
        try:
            damaged = bundle.testzip()
        except (zipfile.BadZipFile, OSError) as error:
            raise ModelInstallError(f"{archive.name}: damaged archive ({error})") from error
        if damaged is not None:
            raise ModelInstallError(f"{archive.name}: damaged archive ({damaged})")
    return top
