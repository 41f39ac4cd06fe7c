"""The `counsel-room` command on a fresh database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COUNSEL_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COUNSEL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COUNSEL_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path


def test_upgrade_staff_and_demo(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    made = runner.invoke(app, ["create-staff", "lee@example.org", "--name", "Lee",
                               "--role", "admin", "--password", "a-long-password"])
    assert made.exit_code == 0, made.output
    again = runner.invoke(app, ["create-staff", "LEE@example.org", "--name", "Lee",
                                "--password", "a-long-password"])
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(app, ["create-staff", "kim@example.org", "--name", "Kim",
                                "--password", "short"])
    assert short.exit_code == 1 and "at least 10" in short.output
    demo = runner.invoke(app, ["demo", "--base-url", "http://127.0.0.1:9999"])
    assert demo.exit_code == 0, demo.output
    assert "http://127.0.0.1:9999/join/" in demo.output and "Verification code" in demo.output
    twice = runner.invoke(app, ["demo"])
    assert twice.exit_code == 0, "the demo can be created again on the same database"


def test_models_list_and_unknown_model(env: Path) -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["models", "list"])
    assert listing.exit_code == 0
    wrong = runner.invoke(app, ["models", "convert", "whisper-base", "--to", "onnx"])
    assert wrong.exit_code == 2
