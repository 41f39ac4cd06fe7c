"""`counsel-room serve`'s uvicorn server, which drains before it stops.

On SIGTERM (or SIGINT) uvicorn closes its listeners and then every connection, a socket with
1012 and no word on where to go. Before that, this server hands the node's rooms to live nodes
and sends each page a `redirect` to its room's new owner (`server/ws/redirect.py: drain`), so
pages move while this node still answers, and the readiness probe says 503 meanwhile.
"""

from __future__ import annotations

import logging
import socket

import uvicorn
from fastapi import FastAPI

from server.services import Services
from server.ws.redirect import drain

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        services: Services | None = getattr(self._app.state, "services", None)
        if services is not None:
            try:
                await drain(services)
            except Exception:
                log.exception("draining failed; stopping anyway")
        await super().shutdown(sockets)
