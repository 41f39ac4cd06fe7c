"""Sockets go to the node that serves their room (`server/placement.py`).

A socket that reaches a node that does not own its room gets a `redirect` with the owner's
configured address (`COUNSEL_NODE_URL`, never anything the client sent) and a 4307 close; the
page connects there at once (`web/static/page-socket.js`) and, whenever that socket is lost,
goes back to the address it came in by. The same message moves a node's sockets when it loses
a room's lease or drains before it stops.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import WebSocket
from redis.exceptions import RedisError

from server.auth.tokens import TokenError
from server.placement import Owner
from server.services import Services
from server.ws import protocol as p
from server.ws.connection import CLOSE_MOVED

log = logging.getLogger(__name__)

DRAIN_WAIT_S = 3.0
"""How long a draining node waits for its pages to take the redirect before it goes on."""


async def sent_elsewhere(services: Services, websocket: WebSocket, room_id: str,
                         token: str) -> bool:
    """True when another node serves the room and the socket was sent there. A socket whose
    token is no good stays, to be refused with its reason; without Redis it stays too."""
    try:
        services.tokens.read_room_token(token, room_id)
    except TokenError:
        return False
    try:
        owner = await services.placement.owner(room_id)
    except (RedisError, OSError) as exc:
        log.warning("placement: Redis did not answer (%s); serving room %s here", exc, room_id)
        return False
    if owner is None:
        return False
    await websocket.send_text(p.dump(p.Redirect(url=owner.url)))
    await websocket.close(CLOSE_MOVED, "served by another node")
    return True


def move_room(services: Services, room_id: str, owner: Owner | None) -> None:
    """Send this node's sockets of the room to `owner` (None: back where they came in)."""
    for connection in services.hub.connections_in(room_id):
        connection.move(p.Redirect(url=owner.url if owner else None))


async def drain(services: Services) -> None:
    """Stop serving: hand every room to a live node and send the pages there, then wait
    (`DRAIN_WAIT_S` at most) until they have gone."""
    services.draining = True
    moved = await services.placement.drain()
    for room_id, owner in moved.items():  # a room nobody took (the last node): its pages
        move_room(services, room_id, owner)  # reconnect with backoff once the node has gone
    deadline = time.monotonic() + DRAIN_WAIT_S
    while moved and services.hub.connection_count() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # sockets leave through their own tasks; few polls, once
    log.info("drained: %d rooms handed over, %d sockets left", len(moved),
             services.hub.connection_count())
