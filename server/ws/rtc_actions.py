"""Media signaling on the room socket: `rtc.*` messages to and from the room's media router.

Only admitted participants get a peer. A client's first `rtc.offer` (or one with
`restart: true`) creates its peer on this node; later offers, answers and candidates go to that
peer. A refused signal is a typed `error` (the `MediaError`'s code) and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from media.rtc import IceCandidate, MediaError, OutOfOrderSignal, SdpOffer, Signal
from rooms.errors import NotAdmitted
from server.services import Services
from server.ws import protocol as p
from server.ws.connection import Connection

log = logging.getLogger(__name__)

RtcMessage = p.RtcOffer | p.RtcAnswer | p.RtcCandidate


def rtc_config(services: Services, participant_id: str) -> p.RtcConfig:
    servers = services.media.ice_servers(participant_id)
    return p.RtcConfig(ice_servers=[
        p.IceServerInfo(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in servers
    ])


def to_wire(signal: Signal) -> p.RtcServerOffer | p.RtcServerAnswer:
    if isinstance(signal, SdpOffer):
        routes = [p.RtcRoute(mid=r.mid, participant_id=r.participant_id, kind=r.kind.value)
                  for r in signal.routes]
        return p.RtcServerOffer(sdp=signal.sdp, routes=routes)
    return p.RtcServerAnswer(sdp=signal.sdp)


async def handle_rtc(message: RtcMessage, services: Services, connection: Connection) -> None:
    if not connection.admitted:
        raise NotAdmitted("media starts once the host admits you")
    try:
        await _signal(message, services, connection)
    except MediaError as exc:
        text = str(exc) or type(exc).__name__
        connection.send(p.Error(code=exc.code, message=text, ref=message.type))


async def _signal(message: RtcMessage, services: Services, connection: Connection) -> None:
    media, room_id, pid = services.media, connection.room_id, connection.participant_id
    session = media.session(room_id, pid, owner=connection)
    match message:
        case p.RtcOffer(sdp=sdp, restart=restart):
            if session is not None and not restart:
                await session.handle_offer(sdp)
                return
            session = await media.join(room_id, pid, connection, _sender(connection),
                                       lambda reason: _dropped(connection, reason))
            try:
                await session.handle_offer(sdp)
            except MediaError:
                await media.leave(room_id, pid, owner=connection)  # a peer that never offered
                raise
        case p.RtcAnswer(sdp=sdp):
            if session is None:
                raise OutOfOrderSignal("no media session: send rtc.offer first")
            await session.handle_answer(sdp)
        case p.RtcCandidate(candidate=candidate, sdp_mid=mid, sdp_mline_index=index):
            if session is None:
                raise OutOfOrderSignal("no media session: send rtc.offer first")
            await session.add_ice_candidate(IceCandidate(candidate, mid, index))


def _sender(connection: Connection) -> Callable[[Signal], Awaitable[None]]:
    async def send(signal: Signal) -> None:
        connection.send(to_wire(signal))

    return send


def _dropped(connection: Connection, reason: str) -> None:
    connection.send(p.RtcDropped(reason=reason))


async def close_media(services: Services, connection: Connection) -> None:
    """The socket closed: remove the peer it created (if another socket has not replaced it)."""
    try:
        await services.media.leave(connection.room_id, connection.participant_id,
                                   owner=connection)
    except Exception:
        log.exception("could not close the media peer of %s", connection.participant_id)
