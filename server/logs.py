"""How `counsel-room serve` logs: uvicorn's logging configuration, in text or as JSON lines.

Both formats cover uvicorn's loggers and the application's own (the root logger, INFO and up).
JSON (`COUNSEL_LOG_FORMAT=json`, python-json-logger) writes one object per line: `time` (ISO
8601, UTC), `level`, `logger`, `message`, `exception` (the traceback, when there is one) and any
`extra` fields a call gives. The access log's secrets are removed from records before any
handler formats them (`server.access_log`), so both formats are redacted alike.
"""

from __future__ import annotations

import copy
from typing import IO, Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from uvicorn.config import LOGGING_CONFIG

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = ("color_message", "taskName")
"""Record attributes left out of JSON: uvicorn's coloured copy of a message (not redacted)."""


def json_formatter() -> JsonFormatter:
    return JsonFormatter(
        ["levelname", "name", "message"], timestamp="time",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
        reserved_attrs=[*RESERVED_ATTRS, *HIDDEN],
    )


def log_config(log_format: LogFormat, stream: IO[str] | None = None) -> dict[str, Any]:
    """uvicorn's `log_config` for ``log_format``: uvicorn's streams (the access log on stdout,
    the rest on stderr), or everything on ``stream`` when one is given."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["app"] = {"class": "logging.StreamHandler", "formatter": "app",
                                 "stream": "ext://sys.stderr"}
    if stream is not None:
        for handler in config["handlers"].values():
            handler["stream"] = stream
    config["root"] = {"handlers": ["app"], "level": "INFO"}
    if log_format == "json":
        for name in ("default", "access", "app"):
            config["formatters"][name] = {"()": json_formatter}
    else:
        config["formatters"]["app"] = {"format": TEXT_FORMAT}
    return config
