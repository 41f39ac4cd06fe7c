"""Media signaling on the room socket: `rtc.*` messages to and from the room's media router.

Only admitted participants get a peer. A client's first `rtc.offer` (or one with
`restart: true`) creates its peer on this node; later offers, answers and candidates go to that
peer. A refused signal is a typed `error` (the `MediaError`'s code) and changes nothing.

`interpret.channel` sets the language channel an assigned interpreter's voice goes into; the
room's media router forwards it only to the peers whose reading language is that channel's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from media.rtc import IceCandidate, MediaError, OutOfOrderSignal, SdpOffer, Signal
from rooms import interpreters as interpreters_repo
from rooms import participants as participants_repo
from rooms.errors import DomainError, NotAdmitted
from server.languages import is_supported
from server.media_rooms import Listener
from server.permissions import Action, Role, allowed
from server.services import Services
from server.ws import protocol as p
from server.ws.connection import Connection

log = logging.getLogger(__name__)

RtcMessage = p.RtcOffer | p.RtcAnswer | p.RtcCandidate


class ChannelForbidden(DomainError):
    code = "forbidden"


def rtc_config(services: Services, participant_id: str) -> p.RtcConfig:
    servers = services.media.ice_servers(participant_id)
    return p.RtcConfig(ice_servers=[
        p.IceServerInfo(urls=list(s.urls), username=s.username, credential=s.credential)
        for s in servers
    ])


def to_wire(signal: Signal) -> p.RtcServerOffer | p.RtcServerAnswer:
    if isinstance(signal, SdpOffer):
        routes = [p.RtcRoute(mid=r.mid, participant_id=r.participant_id, kind=r.kind.value,
                             channel=r.channel)
                  for r in signal.routes]
        return p.RtcServerOffer(sdp=signal.sdp, routes=routes)
    return p.RtcServerAnswer(sdp=signal.sdp, offer_id=signal.offer_id)


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
        case p.RtcOffer(sdp=sdp, restart=restart, offer_id=offer_id):
            if session is not None and not restart:
                await session.handle_offer(sdp, offer_id)
                return
            session = await media.join(room_id, pid, connection, _sender(connection),
                                       lambda reason: _dropped(connection, reason),
                                       _listener(connection))
            await media.follow_readers(room_id, services.bus)
            try:
                await session.handle_offer(sdp, offer_id)
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


def _listener(connection: Connection) -> Listener:
    return Listener(connection.reading_language,
                    interpreter=connection.role is Role.INTERPRETER)


async def handle_interpret_channel(message: p.InterpretChannel, services: Services,
                                   connection: Connection) -> None:
    """An interpreter chooses the channel their voice goes into (None: none); a refusal is an
    `error` with `ref: "interpret.channel"` and changes nothing."""
    try:
        await _check_channel(message.language, services, connection)
    except ChannelForbidden as exc:
        connection.send(p.Error(code=exc.code, message=exc.message, ref=message.type))
        return
    services.media.set_channel(connection.room_id, connection.participant_id, message.language)
    connection.send(p.InterpretChannelState(language=message.language))


async def _check_channel(language: str | None, services: Services,
                         connection: Connection) -> None:
    if not allowed(connection.role, Action.SPEAK_INTERPRETATION) or not connection.admitted:
        raise ChannelForbidden("only an interpreter in the room may speak into a channel")
    if language is not None and not is_supported(language):
        raise p.ProtocolError("unsupported_language",
                              f"{language!r} is not a language this service offers",
                              ref="interpret.channel")
    await _check_assigned(services, connection, language)


async def _check_assigned(services: Services, connection: Connection,
                          language: str | None) -> None:
    """Only interpreters assigned to the room, and into the languages they are assigned."""
    async with services.sessions() as session:
        person = await participants_repo.get_participant(
            session, connection.room_id, connection.participant_id)
        assignment = (await interpreters_repo.find(session, connection.room_id, person.staff_id)
                      if person.staff_id is not None else None)
    if assignment is None:
        raise ChannelForbidden("you are not assigned to interpret this session")
    if language is not None and assignment.languages and language not in assignment.languages:
        raise ChannelForbidden("you are not assigned to interpret into this language")


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
        services.media.forget_channel(connection.room_id, connection.participant_id)
    except Exception:
        log.exception("could not close the media peer of %s", connection.participant_id)
