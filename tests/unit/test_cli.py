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
    assert "http://127.0.0.1:9999/j/" in demo.output, "the short link people can type"
    twice = runner.invoke(app, ["demo"])
    assert twice.exit_code == 0, "the demo can be created again on the same database"


def test_models_list_and_unknown_model(env: Path) -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["models", "list"])
    assert listing.exit_code == 0
    wrong = runner.invoke(app, ["models", "convert", "whisper-base", "--to", "onnx"])
    assert wrong.exit_code == 2


def test_asr_worker_help_names_its_options() -> None:
    shown = CliRunner().invoke(app, ["asr-worker", "--help"])
    assert shown.exit_code == 0, shown.output
    for option in ("--model", "--engine", "--device", "--concurrency", "--claim-after"):
        assert option in shown.output


def test_asr_worker_needs_the_pool_url(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNSEL_SPEECH_POOL_URL", "")
    missing = CliRunner().invoke(app, ["asr-worker"])
    assert missing.exit_code == 2 and "set COUNSEL_SPEECH_POOL_URL" in missing.output


def test_asr_worker_names_the_install_command_for_a_missing_model(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COUNSEL_SPEECH_POOL_URL", "redis://127.0.0.1:1/0")
    missing = CliRunner().invoke(app, ["asr-worker", "--model", "whisper-base"])
    assert missing.exit_code == 1
    assert "counsel-room models install whisper-base" in missing.output
