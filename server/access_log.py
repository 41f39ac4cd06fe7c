"""Keeps bearer secrets out of the server's logs: uvicorn writes every request's path and query
string (the access log) and every WebSocket's (its error log), and invitation links
(`/join/<token>`) and room sockets (`?token=`) carry tokens there."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

REDACTED = "[redacted]"
_JOIN = re.compile(r"(/join/)[^/?#\s\"]+")
_QUERY = re.compile(r"([?&](?:token|code)=)[^&#\s\"]*", re.IGNORECASE)
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    return _QUERY.sub(rf"\g<1>{REDACTED}", _JOIN.sub(rf"\g<1>{REDACTED}", text))


class RedactTokens(logging.Filter):
    """Rewrites a record's message and arguments before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


@contextmanager
def redacted_server_logs() -> Iterator[None]:
    """While the app runs (its lifespan): uvicorn configures its loggers before that."""
    loggers = [logging.getLogger(name) for name in LOGGERS]
    redactor = RedactTokens()
    for logger in loggers:
        logger.addFilter(redactor)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redactor)
