"""What each client message does: permission check, domain change, then events."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rooms import lifecycle
from rooms import participants as participants_repo
from rooms.chat_writer import Post
from rooms.errors import Conflict, DomainError, NotAdmitted
from rooms.models import Admission, ChatMessage, Participant, utcnow
from server.corrections import CaptionCorrections, Correction
from server.events import ADMITTED, HOSTS, to_participant
from server.form_pushes import FormPushes
from server.languages import is_supported
from server.permissions import Action, allowed
from server.services import Services
from server.ws import protocol as p
from server.ws.connection import Connection
from server.ws.ratelimit import TokenBucket
from server.ws.rtc_actions import handle_interpret_channel, handle_rtc


class Forbidden(DomainError):
    code = "forbidden"


@dataclass
class Context:
    services: Services
    connection: Connection

    @property
    def room_id(self) -> str:
        return self.connection.room_id

    def require(self, action: Action) -> None:
        if not allowed(self.connection.role, action):
            raise Forbidden(f"your role may not {action.value.replace('_', ' ')}")
        if not self.connection.admitted:
            raise Forbidden("wait until the host admits you")


def chat_item(
    message: ChatMessage,
    sender: Participant,
    translations: dict[str, p.MachineTranslation] | None = None,
) -> p.ChatItem:
    return p.ChatItem(
        id=message.id, seq=message.seq, sender_id=sender.id, sender_name=sender.display_name,
        sender_role=sender.role.value, client_id=message.client_id, text=message.text,
        sent_at=message.sent_at, lang=message.language, translations=translations or {},
    )


async def handle(message: p.ClientMessage, ctx: Context) -> None:
    match message:
        case p.Ping(nonce=nonce):
            ctx.connection.send(p.Pong(nonce=nonce))
        case p.ChatSend():
            await send_chat(message, ctx)
        case p.ChatSync(after_seq=after_seq):
            ctx.require(Action.READ_CHAT)
            ctx.connection.resync(after_seq)
        case p.LobbyAdmit(participant_id=pid):
            await admit(pid, ctx)
        case p.LobbyDeny(participant_id=pid, reason=reason):
            await deny(pid, reason, ctx)
        case p.LobbyMessage(participant_id=pid, text=text):
            await message_lobby(pid, text, ctx)
        case p.ParticipantRemove(participant_id=pid):
            await remove(pid, ctx)
        case p.RoomSetAutoAdmit(enabled=enabled):
            await set_auto_admit(enabled, ctx)
        case p.ConsentSet(transcription=consent):
            await set_consent(consent, ctx)
        case p.ReadingSet(language=language):
            await set_reading_language(language, ctx)
        case p.CaptionCorrect():
            await correct_caption(message, ctx)
        case p.CaptionsSync(limit=limit):
            await sync_captions(limit, ctx)
        case p.RtcOffer() | p.RtcAnswer() | p.RtcCandidate():
            if isinstance(message, p.RtcOffer):
                await still_admitted(ctx)
            await handle_rtc(message, ctx.services, ctx.connection)
        case p.InterpretChannel():
            await handle_interpret_channel(message, ctx.services, ctx.connection)
        case p.FormPushSend(participant_id=pid, form_id=form_id):
            ctx.require(Action.SEND_FORM_LINK)
            await FormPushes(ctx.services).push(
                room_id=ctx.room_id, by_participant_id=ctx.connection.participant_id,
                participant_id=pid, form_id=form_id)
        case p.FormSync():
            await sync_forms(ctx)
        case p.MediaStateSet():
            await relay_media_state(message, ctx)
        case p.Leave():
            await leave(ctx)


async def leave(ctx: Context) -> None:
    """Recorded in a task of its own: the page closes the socket right after sending, and the
    reader may be cancelled then; the close waits for it (`Connection.leaving`) before it
    counts the socket out and sends the `presence` that shows them as left."""
    async def record() -> None:
        async with ctx.services.transaction() as session:
            person = await participants_repo.get_participant(
                session, ctx.room_id, ctx.connection.participant_id)
            await participants_repo.leave(session, person)
    task = ctx.services.background.start(record(), name="leave")
    assert task is not None  # no key: always started
    ctx.connection.leaving = task
    await asyncio.shield(task)


async def relay_media_state(message: p.MediaStateSet, ctx: Context) -> None:
    """Nothing is stored: each page sends its state again when someone new is present."""
    if not ctx.connection.admitted:
        raise NotAdmitted("wait until the host admits you")
    await ctx.services.events.send(ctx.room_id, ADMITTED, p.MediaState(
        participant_id=ctx.connection.participant_id, audio=message.audio, video=message.video))


async def still_admitted(ctx: Context) -> None:
    """The database's word, not the socket's flag, before media is set up: a removal may not
    have reached this socket yet."""
    async with ctx.services.sessions() as session:
        person = await participants_repo.get_participant(
            session, ctx.room_id, ctx.connection.participant_id)
    if person.admission is not Admission.ADMITTED:
        raise NotAdmitted("you are not admitted to this session")


async def send_chat(message: p.ChatSend, ctx: Context) -> None:
    """Stored (with the node's other waiting messages: `rooms.chat_writer`), acknowledged,
    translated for the room's readers, then published."""
    ctx.require(Action.SEND_CHAT)
    limit = ctx.services.settings.chat_max_chars
    text = message.text.strip()
    if not text or len(text) > limit:
        raise p.ProtocolError("invalid_message", f"a chat message has 1 to {limit} characters",
                              ref="chat.send")
    settings, hub = ctx.services.settings, ctx.services.hub
    mine = hub.chat_bucket(ctx.connection.participant_id, lambda: TokenBucket(
        settings.chat_rate_per_second, settings.chat_rate_burst))
    network = hub.address_chat_bucket(ctx.connection.address, lambda: TokenBucket(
        settings.chat_rate_per_address_per_second, settings.chat_rate_per_address_burst))
    if not mine.take() or not network.take():
        raise p.ProtocolError("rate_limited", "you are sending messages too fast: wait a moment",
                              ref="chat.send")
    stored = await ctx.services.chat.post(Post(
        room_id=ctx.room_id, sender_id=ctx.connection.participant_id,
        client_id=message.client_id, text=text))
    ctx.connection.send(p.ChatAck(client_id=stored.client_id, id=stored.id, seq=stored.seq))
    if not stored.created:
        ctx.connection.resync()
        return
    item = p.ChatItem(
        id=stored.id, seq=stored.seq, sender_id=stored.sender_id,
        sender_name=stored.sender_name, sender_role=stored.sender_role,
        client_id=stored.client_id, text=stored.text, sent_at=stored.sent_at,
        lang=stored.language)
    item = await ctx.services.translations.chat_item(ctx.room_id, item)
    await ctx.services.events.send(ctx.room_id, ADMITTED, p.ChatMessageOut(message=item))


async def admit(participant_id: str, ctx: Context) -> None:
    ctx.require(Action.ADMIT)
    async with ctx.services.transaction() as session:
        room = await lifecycle.get_room(session, ctx.room_id)
        person = await participants_repo.get_participant(session, ctx.room_id, participant_id)
        await participants_repo.admit(session, room, person)
    await ctx.services.events.admitted(ctx.room_id, [person])


async def deny(participant_id: str, reason: str, ctx: Context) -> None:
    ctx.require(Action.DENY)
    async with ctx.services.transaction() as session:
        room = await lifecycle.get_room(session, ctx.room_id)
        person = await participants_repo.get_participant(session, ctx.room_id, participant_id)
        await participants_repo.deny(session, room, person)
    text = reason.strip() or "The host could not admit you to this session."
    await ctx.services.events.send(ctx.room_id, to_participant(person.id),
                                   p.LobbyDenied(participant_id=person.id, message=text))
    await ctx.services.events.people_changed(ctx.room_id)


async def message_lobby(participant_id: str, text: str, ctx: Context) -> None:
    ctx.require(Action.MESSAGE_LOBBY)
    async with ctx.services.sessions() as session:
        person = await participants_repo.get_participant(session, ctx.room_id, participant_id)
        host = await participants_repo.get_participant(
            session, ctx.room_id, ctx.connection.participant_id)
    if person.admission is not Admission.WAITING:
        raise Conflict("this person is no longer waiting")
    note = p.LobbyNote(from_name=host.display_name, text=text.strip(),
                       sent_at=utcnow())
    await ctx.services.events.send(ctx.room_id, to_participant(person.id), note)
    await ctx.services.events.send(ctx.room_id, HOSTS, note)


async def remove(participant_id: str, ctx: Context) -> None:
    ctx.require(Action.REMOVE_PARTICIPANT)
    async with ctx.services.transaction() as session:
        room = await lifecycle.get_room(session, ctx.room_id)
        person = await participants_repo.get_participant(session, ctx.room_id, participant_id)
        await participants_repo.remove(session, room, person)
    await ctx.services.events.send(ctx.room_id, to_participant(person.id),
                                   p.Removed(participant_id=person.id))
    await ctx.services.media.leave(ctx.room_id, person.id)
    await ctx.services.events.people_changed(ctx.room_id)


async def set_auto_admit(enabled: bool, ctx: Context) -> None:
    ctx.require(Action.SET_AUTO_ADMIT)
    async with ctx.services.transaction() as session:
        room = await lifecycle.get_room(session, ctx.room_id)
        await lifecycle.set_auto_admit(session, room, enabled)
        admitted = await participants_repo.admit_all_waiting(session, room) if enabled else []
    await ctx.services.events.room_changed(room)
    await ctx.services.events.admitted(ctx.room_id, admitted)


async def set_consent(consent: bool, ctx: Context) -> None:
    """The sender's own consent: stored, captions of their speech started or stopped here (the
    node that holds their peer), and everyone shown who is transcribed."""
    ctx.require(Action.SET_OWN_CONSENT)
    async with ctx.services.transaction() as session:
        person = await participants_repo.get_participant(
            session, ctx.room_id, ctx.connection.participant_id)
        changed = person.transcription_consent is not consent
        await participants_repo.set_transcription_consent(session, person, consent)
    if changed:
        await ctx.services.captions.consent_changed(ctx.room_id, person.id, consent)
    await ctx.services.events.people_changed(ctx.room_id)


async def set_reading_language(language: str, ctx: Context) -> None:
    """The sender's own reading language: stored, and the room's chat so far translated into
    it (kept beside each message) before everyone is told (`presence`): a page that sees its
    reading language change asks for the chat again (`chat.sync`) and gets it translated."""
    ctx.require(Action.SET_READING_LANGUAGE)
    if not is_supported(language):
        raise p.ProtocolError("unsupported_language",
                              f"{language!r} is not a language this service offers",
                              ref="reading.set")
    async with ctx.services.transaction() as session:
        person = await participants_repo.get_participant(
            session, ctx.room_id, ctx.connection.participant_id)
        await participants_repo.set_reading_language(session, person, language)
    ctx.connection.reading_language = language
    ctx.services.translations.readers_changed(ctx.room_id)
    await ctx.services.translations.translate_history(ctx.room_id, language)
    await ctx.services.events.people_changed(ctx.room_id)


async def correct_caption(message: p.CaptionCorrect, ctx: Context) -> None:
    """An assigned interpreter corrects a final caption in one language: stored, then its new
    revision published (`server/corrections.py`)."""
    ctx.require(Action.CORRECT_CAPTIONS)
    text = message.text.strip()
    if not text:
        raise p.ProtocolError("invalid_message", "a correction has some text",
                              ref="caption.correct")
    await CaptionCorrections(ctx.services).correct(Correction(
        room_id=ctx.room_id, participant_id=ctx.connection.participant_id,
        utterance_id=message.utterance_id, language=message.language, text=text))


async def sync_captions(limit: int, ctx: Context) -> None:
    """The room's latest finals as they are now (corrections applied), to the sender."""
    ctx.require(Action.READ_CAPTIONS)
    captions = await CaptionCorrections(ctx.services).history(ctx.room_id, limit)
    ctx.connection.send(p.CaptionsHistory(captions=captions))


async def sync_forms(ctx: Context) -> None:
    """The forms pushed in this session, as the sender may see them (`server/form_pushes.py`)."""
    if not ctx.connection.admitted:
        raise Forbidden("wait until the host admits you")
    ctx.connection.send(await FormPushes(ctx.services).snapshot(
        room_id=ctx.room_id, participant_id=ctx.connection.participant_id,
        role=ctx.connection.role))
