"""COUNSEL_LOG_FORMAT=json: one JSON object per line from uvicorn and the application, with
the access log's secrets removed as in text."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from server.app import create_app
from server.logs import json_formatter, log_config
from server.settings import Settings
from tests.conftest import app_settings
from tests.live import LiveServer

SECRET = "tok-very-secret-value"
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
CLIENT_LOGGERS = ("httpx", "httpcore", "websockets.client")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """uvicorn's dictConfig changes process-wide loggers: put them back afterwards."""
    saved = [(logger, list(logger.handlers), logger.level, logger.propagate)
             for logger in map(logging.getLogger, LOGGERS)]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


class JsonLoggingServer(LiveServer):
    def __init__(self, settings: Settings, stream: io.StringIO) -> None:
        super().__init__(settings)
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                                ws="websockets-sansio", log_level="info", lifespan="on",
                                log_config=log_config("json", stream))
        self.server = uvicorn.Server(config)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_logs_are_one_object_per_line_and_keep_tokens_out(
        sqlite_url: str, tmp_path: Path, restored_logging: None) -> None:
    stream = io.StringIO()
    settings = app_settings(sqlite_url, captions_enabled=False, translation_dir=tmp_path)
    server = JsonLoggingServer(settings, stream).start()
    try:
        assert httpx.get(f"{server.url}/join/{SECRET}").status_code >= 400
        httpx.get(f"{server.url}/healthz", params={"token": SECRET})
        ws_url = server.url.replace("http://", "ws://")
        try:
            with connect(f"{ws_url}/ws/rooms/some-room?token={SECRET}") as socket:
                socket.recv(timeout=10)
        except (InvalidStatus, OSError):
            pass
    finally:
        server.stop()

    lines = [line for line in _lines(stream)  # not this test's own clients
             if not line["logger"].startswith(CLIENT_LOGGERS)]
    assert lines and not [line for line in lines if SECRET in json.dumps(line)]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert "color_message" not in line
    messages: dict[str, list[str]] = {line["logger"]: [] for line in lines}
    for line in lines:
        messages[line["logger"]].append(line["message"])
    assert any("/join/[redacted]" in m for m in messages["uvicorn.access"])
    assert any("token=[redacted]" in m for m in messages["uvicorn.access"])
    assert any("WebSocket" in m and "token=[redacted]" in m for m in messages["uvicorn.error"])
    assert "server.translations" in messages  # the application's own loggers, as JSON too


def test_json_logs_carry_the_exception() -> None:
    record = logging.LogRecord("server.test", logging.ERROR, __file__, 1, "failed %s", ("x",),
                               None)
    try:
        raise ZeroDivisionError("nothing to divide")
    except ZeroDivisionError:
        record.exc_info = sys.exc_info()
    line = json.loads(json_formatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "server.test",
                                                                  "failed x")
    assert "ZeroDivisionError: nothing to divide" in line["exception"]
    assert line["time"].endswith("+00:00")


def test_text_logs_keep_uvicorns_format_and_add_the_applications() -> None:
    config = log_config("text")
    assert config["formatters"]["access"]["()"] == "uvicorn.logging.AccessFormatter"
    assert config["root"] == {"handlers": ["app"], "level": "INFO"}
    assert config["handlers"]["access"]["stream"] == "ext://sys.stdout"
