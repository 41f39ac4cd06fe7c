"""scripts/system-packages.sh (what `make test` installs first), run with stand-ins for
dpkg-query, apt-get, id and sudo on its PATH: it installs what is missing, and where it cannot it
says why in one line and exits 1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-packages.sh"


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A PATH of the real grep and env only; each test adds its stand-ins."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("grep", "env"):
        real = shutil.which(tool)
        assert real is not None
        (folder / tool).symlink_to(real)
    return folder


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def run(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/bash", str(SCRIPT)], env={"PATH": str(folder), **env},
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                          check=False)


def nothing_installed(folder: Path) -> None:
    fake(folder, "dpkg-query", "exit 1")


def refusal(folder: Path) -> str:
    """The one line the script says when it cannot install (it exits 1)."""
    done = run(folder)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    return line


def test_nothing_to_do_when_every_package_is_there(bin_dir: Path) -> None:
    fake(bin_dir, "dpkg-query", "printf 'install ok installed'")
    done = run(bin_dir)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_as_root_it_installs_what_is_missing(bin_dir: Path, tmp_path: Path) -> None:
    nothing_installed(bin_dir)
    fake(bin_dir, "id", "echo 0")
    calls = tmp_path / "apt-get.calls"
    fake(bin_dir, "apt-get", f'echo "$DEBIAN_FRONTEND $*" >> {calls}')
    done = run(bin_dir)
    assert done.returncode == 0, done.stderr
    update, install = calls.read_text().splitlines()
    assert update.split() == ["update", "-qq"]
    assert install.startswith("noninteractive install -y")
    assert {"redis-server", "postgresql", "chromium", "espeak-ng"} <= set(install.split())


def test_without_apt_get_it_says_so_in_one_line(bin_dir: Path) -> None:
    nothing_installed(bin_dir)
    line = refusal(bin_dir)
    assert "no apt-get" in line and "redis-server" in line


def test_not_root_and_no_sudo(bin_dir: Path) -> None:
    nothing_installed(bin_dir)
    fake(bin_dir, "apt-get", "exit 0")
    fake(bin_dir, "id", "echo 1000")
    line = refusal(bin_dir)
    assert "Run as root, or install sudo" in line


def test_a_sudo_that_wants_a_password_with_nobody_to_type_it(bin_dir: Path) -> None:
    nothing_installed(bin_dir)
    fake(bin_dir, "apt-get", "exit 0")
    fake(bin_dir, "id", "echo 1000")
    fake(bin_dir, "sudo", 'echo "sudo: a password is required" >&2; exit 1')
    line = refusal(bin_dir)
    assert "sudo needs a password" in line


def test_a_failed_install_is_an_error(bin_dir: Path) -> None:
    nothing_installed(bin_dir)
    fake(bin_dir, "id", "echo 0")
    fake(bin_dir, "apt-get", '[ "$1" = update ] || exit 100')
    done = run(bin_dir)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("The tests need these packages")
    assert "apt-get install failed" in done.stderr


def test_it_can_be_skipped(bin_dir: Path) -> None:
    nothing_installed(bin_dir)
    assert run(bin_dir, COUNSEL_SKIP_SYSTEM_PACKAGES="1").returncode == 0


def test_not_root_it_installs_through_sudo(bin_dir: Path, tmp_path: Path) -> None:
    nothing_installed(bin_dir)
    fake(bin_dir, "id", "echo 1000")
    sudo_calls = tmp_path / "sudo.calls"
    fake(bin_dir, "sudo", f'[ "$1" = -n ] && exit 0; echo sudo >> {sudo_calls}; exec "$@"')
    calls = tmp_path / "apt-get.calls"
    fake(bin_dir, "apt-get", f'echo "$DEBIAN_FRONTEND $*" >> {calls}')
    done = run(bin_dir)
    assert done.returncode == 0, done.stderr
    assert sudo_calls.read_text().split() == ["sudo", "sudo"]
    assert calls.read_text().splitlines()[1].startswith("noninteractive install -y")
