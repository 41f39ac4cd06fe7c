"""Every benchmark starts as the docs say (`python bench/NAME.py`), with the project's packages
importable: `bench/media.py` must not shadow the `media` package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("[a-z]*.py")))
def test_benchmark_script_starts(script: str) -> None:
    result = subprocess.run([sys.executable, str(BENCH / script), "--help"],
                            capture_output=True, text=True, timeout=120, cwd=BENCH)
    assert result.returncode == 0, result.stderr
    assert "--json" in result.stdout
