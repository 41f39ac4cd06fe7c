"""Installing and listing translation models: Argos packs and multilingual models.

Argos packs are installed by argostranslate's own API (``install_from_path``; its package
index for the index route) into ``<translation_dir>/argos``. Multilingual models are copied or
downloaded into ``<translation_dir>/multilingual/<name>``. Each install records where the
model came from, its sha256 and its licence in ``counsel-manifest.json``.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from translation import argos, multilingual, paths
from translation._argos_api import argos_package_api, pack_folder
from translation.download import Downloaded, copy_verified, download, sha256_of
from translation.errors import ModelFormatError, ModelInstallError, PackageNotFound
from translation.manifest import read_manifest, write_manifest
from translation.progress import InstallProgress, InstallStep, ProgressCallback, ignore_progress


@dataclass(frozen=True, slots=True)
class InstalledModel:
    kind: str  # "argos" or "multilingual"
    name: str
    path: Path
    languages: tuple[str, ...]  # (source, target) for a pack; every language for a model
    licence: str
    source: str | None  # where it was installed from
    sha256: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ---- Argos packs -------------------------------------------------------------------------


def install_argos_file(
    archive: Path,
    translation_dir: Path,
    *,
    sha256: str | None = None,
    expect: tuple[str, str] | None = None,
    origin: str | None = None,
    index_url: str = paths.DEFAULT_INDEX_URL,
    progress: ProgressCallback = ignore_progress,
) -> argos.ArgosPack:
    """Install an ``.argosmodel`` file with argostranslate's ``install_from_path``.

    ``sha256``: refuse a file with another checksum. ``expect``: the (from, to) the pack must
    translate. A pack already installed for the same pair is replaced.
    """
    packages = paths.argos_dir(translation_dir)
    with tempfile.TemporaryDirectory(prefix=".argos-", dir=_mkdir(translation_dir)) as tmp:
        local = Path(tmp) / archive.name
        found = copy_verified(archive, local, sha256=sha256)
        return _install_pack(found, packages, translation_dir, expect=expect,
                             origin=origin or str(archive.resolve()), index_url=index_url,
                             progress=progress)


def install_argos_from_index(
    source: str,
    target: str,
    translation_dir: Path,
    *,
    index_url: str = paths.DEFAULT_INDEX_URL,
    progress: ProgressCallback = ignore_progress,
) -> argos.ArgosPack:
    """Download the package index, pick the newest pack for (source, target), download it
    (size/sha256 checked when the index gives them), install it."""
    index_file = paths.index_cache(translation_dir)
    _mkdir(translation_dir)
    fresh = index_file.with_suffix(".part")
    download(index_url, fresh, progress=progress, item="package index")
    fresh.replace(index_file)
    entry, links = _choose(index_file, source, target, index_url)
    with tempfile.TemporaryDirectory(prefix=".argos-", dir=translation_dir) as tmp:
        errors = []
        for link in links:
            local = Path(tmp) / f"translate-{source}_{target}.argosmodel"
            try:
                found = download(link, local, sha256=_str(entry, "sha256", "checksum"),
                                 size=_int(entry, "size"), progress=progress,
                                 item=f"{source}→{target}")
            except ModelInstallError as error:
                errors.append(error)
                if error.retryable:
                    continue
                raise
            return _install_pack(found, paths.argos_dir(translation_dir), translation_dir,
                                 expect=(source, target), origin=link, index_url=index_url,
                                 progress=progress)
    if errors:
        raise errors[-1]
    raise ModelInstallError(f"the index gives no link for {source}→{target}")


def _choose(
    index_file: Path, source: str, target: str, index_url: str
) -> tuple[dict[str, Any], list[str]]:
    """The raw index entry and links of the newest translate pack for the pair, found with
    argostranslate's index handling (``get_available_packages``)."""
    try:
        raw = json.loads(index_file.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelInstallError(f"the package index at {index_url} is not JSON: {error}") from error
    if not isinstance(raw, list):
        raise ModelInstallError(f"the package index at {index_url} is not a list of packages")
    with argos_package_api(paths.argos_dir(index_file.parent), index_file, index_url) as api:
        available = api.get_available_packages()
        from packaging.version import InvalidVersion, Version

        def version(position: int) -> Version:
            try:
                return Version(str(available[position].package_version or "0"))
            except InvalidVersion:
                return Version("0")

        matches = [i for i, pkg in enumerate(available)
                   if pkg.type == "translate" and (pkg.from_code, pkg.to_code) == (source, target)]
        if not matches:
            pairs = sorted({f"{p.from_code}→{p.to_code}" for p in available
                            if p.type == "translate"})
            raise PackageNotFound(
                f"the package index has no {source}→{target} pack "
                f"(it has {', '.join(pairs) or 'none'})")
        best = max(matches, key=version)
        return dict(raw[best]), [str(link) for link in available[best].links]


def _install_pack(
    found: Downloaded,
    packages: Path,
    translation_dir: Path,
    *,
    expect: tuple[str, str] | None,
    origin: str,
    index_url: str,
    progress: ProgressCallback,
) -> argos.ArgosPack:
    folder = pack_folder(found.path)
    progress(InstallProgress(InstallStep.INSTALL, folder, 0, 1))
    with argos_package_api(packages, paths.index_cache(translation_dir), index_url) as api:
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=translation_dir))
        try:
            with zipfile.ZipFile(found.path) as bundle:
                bundle.extractall(staging)
            pack = argos.read_pack(staging / folder)  # check it before replacing anything
            if expect is not None and pack.pair != expect:
                raise ModelFormatError(
                    f"{found.path.name} translates {pack.source}→{pack.target}, "
                    f"not {expect[0]}→{expect[1]}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for old in argos.discover(packages):
            if old.pair == pack.pair or old.path.name == folder:
                api.uninstall(api.Package(old.path))
        api.install_from_path(found.path)
    progress(InstallProgress(InstallStep.INSTALL, folder, 1, 1))
    installed = packages / folder
    write_manifest(installed, kind="argos", source=origin, sha256=found.sha256,
                   size=found.size, installed_at=_now(), licence=pack.licence)
    progress(InstallProgress(InstallStep.DONE, folder, 1, 1))
    return argos.read_pack(installed)


# ---- multilingual models -----------------------------------------------------------------


def install_multilingual_dir(
    directory: Path,
    translation_dir: Path,
    *,
    name: str | None = None,
    licence: str | None = None,
    progress: ProgressCallback = ignore_progress,
) -> multilingual.MultilingualModel:
    """Copy a converted model directory into ``<translation_dir>/multilingual/<name>``."""
    found = multilingual.read_model(directory)
    target_name = name or directory.resolve().name
    with tempfile.TemporaryDirectory(prefix=".ml-", dir=_mkdir(translation_dir)) as tmp:
        staging = Path(tmp) / target_name
        _copy_tree(directory, staging, progress, target_name)
        digest = sha256_of(staging / "model.bin")
        return _finish_multilingual(staging, translation_dir, target_name,
                                    licence=licence or found.licence,
                                    origin=str(directory.resolve()), sha256=digest,
                                    progress=progress)


def install_multilingual_url(
    url: str,
    translation_dir: Path,
    *,
    sha256: str | None = None,
    name: str | None = None,
    licence: str | None = None,
    progress: ProgressCallback = ignore_progress,
) -> multilingual.MultilingualModel:
    """Download a ``.tar.gz``/``.tgz``/``.tar``/``.zip`` of a converted model and install it."""
    archive_name = url.rstrip("/").rsplit("/", 1)[-1] or "model"
    target_name = name or _stem(archive_name)
    with tempfile.TemporaryDirectory(prefix=".ml-", dir=_mkdir(translation_dir)) as tmp:
        archive = Path(tmp) / archive_name
        found = download(url, archive, sha256=sha256, progress=progress, item=target_name)
        unpacked = Path(tmp) / "unpacked"
        _extract(archive, unpacked, progress, target_name)
        root = _model_root(unpacked)
        described = multilingual.read_model(root)
        return _finish_multilingual(root, translation_dir, target_name,
                                    licence=licence or described.licence, origin=url,
                                    sha256=found.sha256, progress=progress)


def _finish_multilingual(
    staging: Path, translation_dir: Path, name: str, *, licence: str, origin: str,
    sha256: str, progress: ProgressCallback,
) -> multilingual.MultilingualModel:
    described = multilingual.read_model(staging)
    write_manifest(staging, kind="multilingual", name=name, family=described.family,
                   licence=licence, source=origin, sha256=sha256, installed_at=_now(),
                   languages=sorted(described.tokens))
    target = paths.multilingual_dir(translation_dir) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(staging), str(target))
    progress(InstallProgress(InstallStep.DONE, name, 1, 1))
    return multilingual.read_model(target)


def _copy_tree(source: Path, target: Path, progress: ProgressCallback, item: str) -> None:
    files = [path for path in sorted(source.rglob("*")) if path.is_file()]
    total, done = sum(path.stat().st_size for path in files), 0
    for path in files:
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        done += path.stat().st_size
        progress(InstallProgress(InstallStep.EXTRACT, item, done, total))


def _extract(archive: Path, target: Path, progress: ProgressCallback, item: str) -> None:
    target.mkdir()
    progress(InstallProgress(InstallStep.EXTRACT, item, 0, 1))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(target)  # zipfile drops absolute and ".." parts
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as bundle:
                bundle.extractall(target, filter="data")
        else:
            raise ModelFormatError(f"{archive.name}: neither a zip nor a tar archive")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as error:
        raise ModelInstallError(f"cannot unpack {archive.name}: {error}") from error
    progress(InstallProgress(InstallStep.EXTRACT, item, 1, 1))


def _model_root(unpacked: Path) -> Path:
    """The directory holding model.bin: the archive's root or its single top folder."""
    for candidate in (unpacked, *sorted(p for p in unpacked.iterdir() if p.is_dir())):
        if (candidate / "model.bin").is_file():
            return candidate
    raise ModelFormatError("the archive holds no model.bin at its root or in its top folder")


def _stem(archive_name: str) -> str:
    for suffix in (".tar.gz", ".tgz", ".tar", ".zip"):
        if archive_name.endswith(suffix):
            return archive_name[: -len(suffix)]
    return archive_name


# ---- listing -----------------------------------------------------------------------------


def list_installed(translation_dir: Path) -> list[InstalledModel]:
    """Every installed pack and multilingual model, packs first."""
    found = [
        InstalledModel("argos", pack.path.name, pack.path, pack.pair, pack.licence,
                       _manifest_str(pack.path, "source"), _manifest_str(pack.path, "sha256"))
        for pack in argos.discover(paths.argos_dir(translation_dir))
    ]
    for model in multilingual.discover(paths.multilingual_dir(translation_dir)):
        found.append(InstalledModel(
            "multilingual", model.name, model.path, tuple(sorted(model.tokens)), model.licence,
            _manifest_str(model.path, "source"), _manifest_str(model.path, "sha256")))
    return found


def _manifest_str(path: Path, key: str) -> str | None:
    value = read_manifest(path).get(key)
    return None if value is None else str(value)


def _str(entry: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value.removeprefix("sha256:")
    return None


def _int(entry: dict[str, Any], key: str) -> int | None:
    value = entry.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
