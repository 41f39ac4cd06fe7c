"""The room WebSocket, `/ws/rooms/{room_id}?token=...`: authenticate, attach, read, dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from rooms import chat as chat_repo
from rooms import lifecycle
from rooms import participants as participants_repo
from rooms.errors import DomainError
from rooms.models import Admission, RoomStatus
from server.assignments import NOT_ASSIGNED, participant_assigned
from server.auth.tokens import TokenError
from server.events import participant_info, room_info
from server.permissions import Action, Role, allowed, role_in_room
from server.services import Services
from server.ws import protocol as p
from server.ws.actions import Context, chat_item, handle
from server.ws.connection import CLOSE_ENDED, CLOSE_REFUSED, Connection
from server.ws.ratelimit import TokenBucket
from server.ws.redirect import sent_elsewhere
from server.ws.rtc_actions import close_media, rtc_config

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNAUTHORIZED = 4401
CLOSE_POLICY = 1008
CLOSE_TOO_MANY = 4429
MAX_STRIKES = 50
LOBBY_MESSAGE = "Please wait: your counselor will let you in shortly."


class Refused(Exception):
    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.error = p.Error(code=code, message=message)
        self.close_code = close_code


@router.websocket("/ws/rooms/{room_id}")
async def room_socket(websocket: WebSocket, room_id: str, token: str = "",
                      after_seq: int = 0) -> None:
    services: Services = websocket.app.state.services
    await websocket.accept()
    address = websocket.client.host if websocket.client else "unknown"
    if not services.hub.address_opened(address, services.settings.ws_max_sockets_per_address):
        await _refuse(services, websocket, Refused(
            "too_many_connections", "too many connections from your network: try again later",
            CLOSE_TOO_MANY))
        return
    try:
        if await sent_elsewhere(services, websocket, room_id, token):
            return  # another node serves the room
        try:
            connection = await _authenticate(services, websocket, room_id, token)
        except Refused as refused:
            await _refuse(services, websocket, refused)
            return
        connection.last_seq = min(max(0, after_seq), p.MAX_SEQ)  # a number the database takes
        connection.address = address
        await _serve(services, connection)
    finally:
        services.hub.address_closed(address)


async def _refuse(services: Services, websocket: WebSocket, refused: Refused) -> None:
    services.instruments.socket_error(refused.error.code)
    await websocket.send_text(p.dump(refused.error))
    await websocket.close(refused.close_code, refused.error.message[:120])


async def _authenticate(services: Services, websocket: WebSocket, room_id: str,
                        token: str) -> Connection:
    try:
        claims = services.tokens.read_room_token(token, room_id)
    except TokenError as exc:
        raise Refused(exc.code, exc.message, CLOSE_UNAUTHORIZED) from exc
    async with services.sessions() as session:
        try:
            room = await lifecycle.get_room(session, room_id)
            person = await participants_repo.get_participant(session, room_id,
                                                             claims.participant_id)
        except DomainError as exc:
            raise Refused(exc.code, exc.message, CLOSE_UNAUTHORIZED) from exc
        if room.status is RoomStatus.ENDED:
            raise Refused("room_ended", "This session has ended.", CLOSE_ENDED)
        if person.admission is Admission.REMOVED:
            raise Refused("removed", "The host has removed you from this session.",
                          CLOSE_REFUSED)
        if person.admission is Admission.DENIED:
            raise Refused("not_admitted", "The host did not admit you to this session.",
                          CLOSE_REFUSED)
        if not await participant_assigned(session, person):
            raise Refused("forbidden", NOT_ASSIGNED, CLOSE_REFUSED)
    # counted in once the checks passed (a removal after them is found by `check_new`)
    socket_id = await services.presence.opened(person.id, room_id)
    role = role_in_room(person.role)
    connection = Connection(
        websocket=websocket, room_id=room_id, participant_id=person.id, role=role,
        admitted=person.admission is Admission.ADMITTED,
        load_history=lambda after: _load_history(services, room_id, after),
        queue_size=services.settings.ws_send_queue,
        write_deadline=services.settings.ws_write_deadline_s,
        rtc_config=lambda: rtc_config(services, person.id),
        reading_language=participants_repo.reading_language(person),
        every_translation=role is Role.INTERPRETER,
    )
    services.presence.bind(connection, socket_id)
    permissions = [a.value for a in Action if allowed(role, a)]
    connection.send(p.Welcome(you=participant_info(person), admission=person.admission.value,
                              room=room_info(room), permissions=permissions,
                              captions_available=services.captions.enabled,
                              captions_state=services.captions.state,
                              captions_languages=services.captions.languages))
    return connection


async def _load_history(services: Services, room_id: str,
                        after_seq: int) -> tuple[list[p.ChatItem], bool]:
    async with services.sessions() as session:
        messages = await chat_repo.history(session, room_id, after_seq=after_seq)
        people = {x.id: x for x in await participants_repo.list_participants(session, room_id)}
        stored = await chat_repo.translations_of(session, [m.id for m in messages])
    readers = {participants_repo.reading_language(x) for x in people.values()
               if x.admission is Admission.ADMITTED}
    translations = services.translations
    items = [
        chat_item(m, people[m.sender_id], {
            language: p.MachineTranslation(text=t.text, route=t.route)
            for language, t in stored[m.id].items()
        }).model_copy(update={"no_route": sorted(
            language for language in readers
            if m.language and language and language != m.language
            and language not in stored[m.id]
            and not translations.can_translate(m.language, language))})
        for m in messages
    ]
    return items, len(messages) < chat_repo.HISTORY_PAGE


async def _serve(services: Services, connection: Connection) -> None:
    limit = services.settings.ws_max_sockets_per_participant
    if services.hub.sockets_of(connection.participant_id) >= limit:  # checked and attached
        refused = p.Error(code="too_many_connections",  # with no await between
                          message=f"at most {limit} connections at once: close another tab")
        await connection.websocket.send_text(p.dump(refused))
        await connection.websocket.close(CLOSE_TOO_MANY, refused.message)
        await _disconnected(services, connection)
        return
    await services.hub.attach(connection)
    writer: asyncio.Task[None] | None = None
    reader: asyncio.Task[None] | None = None
    try:
        # a removal or an admission committed between the check in _authenticate and the
        # attach above was published before this socket could hear it: look again, now that it
        # hears everything, and write nothing before (a removal found here drops what was
        # queued meanwhile)
        await services.access.check_new(connection)
        writer = asyncio.create_task(connection.run_writer(), name="ws-writer")
        if connection.admitted:
            connection.resync()
            connection.send_rtc_config()
        else:
            connection.send(p.LobbyWaiting(message=LOBBY_MESSAGE))
        await services.events.people_changed(connection.room_id)
        reader = asyncio.create_task(_read(services, connection), name="ws-reader")
        # the writer ends on a final message or a client too slow to read: then the reader is
        # not waited for (a client that stopped reading may never send another frame)
        await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, writer):
            if task is not None:
                task.cancel()
        await close_media(services, connection)
        await services.hub.detach(connection)
        for task in (reader, writer):
            if task is None:
                continue
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await task
        await _disconnected(services, connection)


async def _disconnected(services: Services, connection: Connection) -> None:
    try:
        if connection.leaving is not None:  # they pressed Leave: shown as left, not dropped
            await asyncio.gather(connection.leaving, return_exceptions=True)
        await services.presence.closed(connection)
        await services.events.people_changed(connection.room_id)
    except Exception:
        log.exception("could not record that %s left", connection.participant_id)


async def _read(services: Services, connection: Connection) -> None:
    settings = services.settings
    bucket = TokenBucket(settings.ws_rate_per_second, settings.ws_rate_burst)
    ctx = Context(services, connection)
    strikes = 0
    websocket = connection.websocket
    while True:
        frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return
        raw = frame.get("text") or frame.get("bytes") or b""
        if not bucket.take():
            strikes += 1
            services.instruments.socket_error("rate_limited")
            connection.send(p.Error(code="rate_limited", message="slow down: too many messages"))
            if strikes > MAX_STRIKES:
                await websocket.close(CLOSE_POLICY, "too many messages")
                return
            continue
        await _dispatch(raw, ctx)
        if websocket.client_state is WebSocketState.DISCONNECTED:
            return


async def _dispatch(raw: str | bytes, ctx: Context) -> None:
    try:
        message = p.parse_client(raw, ctx.services.settings.ws_max_message_bytes)
        await handle(message, ctx)
    except p.ProtocolError as exc:
        ctx.services.instruments.socket_error(exc.code)
        ctx.connection.send(p.Error(code=exc.code, message=exc.message, ref=exc.ref))
    except DomainError as exc:
        ctx.services.instruments.socket_error(exc.code)
        ctx.connection.send(p.Error(code=exc.code, message=exc.message))
    except Exception:
        log.exception("room socket action failed")
        ctx.services.instruments.socket_error("internal")
        ctx.connection.send(p.Error(code="internal", message="something went wrong; try again"))
