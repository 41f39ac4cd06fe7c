"""uvicorn's HTTP/1.1 protocol with a deadline for a request's head: against slowloris.

uvicorn closes a keep-alive connection that stays idle (`timeout_keep_alive`), but a client
that opens a connection and sends its request line and headers a byte at a time, or nothing at
all, is kept for ever: 400 such connections all stayed open. Here every request's head (request
line and headers, up to the end of the headers) must arrive within `HEAD_TIMEOUT_S` of its
first byte, or of the connection's start; then the connection is closed. Bodies, responses and
WebSockets (after the upgrade) are not affected. A reverse proxy in front does the same with
its own timeouts (docs/security.md).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT_S = 10.0


class GuardedH11Protocol(H11Protocol):
    head_timeout: float = HEAD_TIMEOUT_S
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if not self._in_request():
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self._in_request():
            self._disarm()  # its head is complete: the request is being served

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()  # the transport belongs to the WebSocket from here
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self) -> None:
        self._head_timer = None
        if not self._in_request() and not self.transport.is_closing():
            self.transport.close()


def guarded_http(head_timeout: float = HEAD_TIMEOUT_S) -> type[GuardedH11Protocol]:
    """The protocol class to give uvicorn (`http=`), with this deadline."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"head_timeout": head_timeout})
