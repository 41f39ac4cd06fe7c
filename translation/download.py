"""Downloads with progress reports and checksums (http, https and file URLs)."""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from translation.errors import ChecksumMismatch, ModelInstallError
from translation.progress import InstallProgress, InstallStep, ProgressCallback, ignore_progress

_CHUNK = 1 << 16
USER_AGENT = "counsel-room-translation"
TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Downloaded:
    path: Path
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    url: str,
    target: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    progress: ProgressCallback = ignore_progress,
    item: str | None = None,
) -> Downloaded:
    """Fetch ``url`` into ``target`` and check ``size``/``sha256`` when given.

    A file that fails a check is deleted and ChecksumMismatch raised.
    """
    if not url.startswith(("http://", "https://", "file:")):
        raise ModelInstallError(f"unsupported URL {url!r} (http, https or file)")
    label = item or url.rsplit("/", 1)[-1]
    digest, done = hashlib.sha256(), 0
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else size
            progress(InstallProgress(InstallStep.DOWNLOAD, label, 0, total))
            with target.open("wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    progress(InstallProgress(InstallStep.DOWNLOAD, label, done, total))
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response's socket
        target.unlink(missing_ok=True)
        raise ModelInstallError(
            f"cannot download {url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        target.unlink(missing_ok=True)
        raise ModelInstallError(f"cannot download {url}: {error}") from error
    result = Downloaded(target, done, digest.hexdigest())
    verify(result, sha256=sha256, size=size, what=url)
    return result


def verify(found: Downloaded, *, sha256: str | None, size: int | None, what: str) -> None:
    """Raise ChecksumMismatch (and delete the file) when size or sha256 differ."""
    problem = None
    if size is not None and found.size != size:
        problem = f"{found.size} bytes, expected {size}"
    elif sha256 is not None and found.sha256 != sha256.lower():
        problem = f"sha256 {found.sha256}, expected {sha256.lower()}"
    if problem is not None:
        found.path.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"{what}: corrupted or wrong download ({problem}); nothing installed")


def copy_verified(source: Path, target: Path, *, sha256: str | None) -> Downloaded:
    """Copy a local file and check its sha256 when given."""
    try:
        shutil.copyfile(source, target)
    except OSError as error:
        raise ModelInstallError(f"cannot read {source}: {error}") from error
    found = Downloaded(target, target.stat().st_size, sha256_of(target))
    verify(found, sha256=sha256, size=None, what=str(source))
    return found
