"""The node's figures counted as things happen: the few that cannot be read from the services
when scraped (latencies, errors). Everything else is read at scrape time (`server.metrics`).

One `Instruments` per app, kept by its `Services`; its metrics belong to no global registry
(several servers run in one process in tests), and `server.metrics` collects them. Where they
are observed: the chat writer's and the caption service's hooks (`watch`), the room socket's
`error` messages (`socket_error`) and HTTP answers of 400 and above (`HttpErrors`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from server.services import Services

CHAT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CAPTION_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0)
UNMATCHED = "unmatched"
"""The route label of a request no route took (404s of unknown paths, refused hosts)."""


class Instruments:
    def __init__(self) -> None:
        self.chat_commit_seconds = Histogram(
            "counsel_chat_commit_seconds",
            "From a chat message handed to the writer to its commit (or refusal)",
            buckets=CHAT_BUCKETS, registry=None)
        self.caption_final_seconds = Histogram(
            "counsel_caption_final_seconds",
            "From the end of an utterance's speech to its final caption being published",
            buckets=CAPTION_BUCKETS, registry=None)
        self.socket_errors = Counter(
            "counsel_socket_errors", "error messages sent to room sockets, by code",
            ["code"], registry=None)
        self.http_errors = Counter(
            "counsel_http_errors", "HTTP answers with status 400 or above, by route template",
            ["route", "status"], registry=None)

    def watch(self, services: Services) -> None:
        """Hear the chat writer's commits and the caption service's finals."""
        services.chat.observe_commit = self.chat_commit_seconds.observe
        services.captions.observe_final_latency = self.caption_final_seconds.observe

    def socket_error(self, code: str) -> None:
        self.socket_errors.labels(code).inc()

    def collect(self) -> Iterator[Metric]:
        for metric in (self.chat_commit_seconds, self.caption_final_seconds,
                       self.socket_errors, self.http_errors):
            yield from metric.collect()


class HttpErrors:
    """Pure ASGI middleware: counts HTTP answers of 400 and above by route template
    (``/join/{token}``, never the path itself: no secrets and a bounded number of labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception before the answer began: the server's error page

        async def send_and_see(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            if status >= 400:
                _count(scope, status)


def _count(scope: Scope, status: int) -> None:
    services: Services | None = getattr(scope["app"].state, "services", None)
    if services is not None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        services.instruments.http_errors.labels(template, str(status)).inc()
