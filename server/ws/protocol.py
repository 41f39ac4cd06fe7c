"""The room WebSocket protocol, version 1: typed messages in tagged unions, pure parse/dump.

Every inbound frame is validated here, once; the handler only ever sees a `ClientMessage`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1

Id = Annotated[str, Field(min_length=1, max_length=64)]
MAX_SEQ = 2**31 - 1
"""The largest chat sequence number a client may name (the databases' integer column)."""


class ProtocolError(Exception):
    """An inbound frame that is not a valid message; sent back as an `error` message."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = 1


# ---- client -> server -------------------------------------------------------------------------


class ChatSend(_Message):
    type: Literal["chat.send"] = "chat.send"
    client_id: Id
    text: Annotated[str, Field(min_length=1, max_length=20_000)]


class ChatSync(_Message):
    type: Literal["chat.sync"] = "chat.sync"
    after_seq: Annotated[int, Field(ge=0, le=MAX_SEQ)] = 0


class LobbyAdmit(_Message):
    type: Literal["lobby.admit"] = "lobby.admit"
    participant_id: Id


class LobbyDeny(_Message):
    type: Literal["lobby.deny"] = "lobby.deny"
    participant_id: Id
    reason: Annotated[str, Field(max_length=500)] = ""


class LobbyMessage(_Message):
    type: Literal["lobby.message"] = "lobby.message"
    participant_id: Id
    text: Annotated[str, Field(min_length=1, max_length=1000)]


class ParticipantRemove(_Message):
    type: Literal["participant.remove"] = "participant.remove"
    participant_id: Id


class RoomSetAutoAdmit(_Message):
    type: Literal["room.set_auto_admit"] = "room.set_auto_admit"
    enabled: bool


class ConsentSet(_Message):
    """The sender's own consent to the transcription (and translation) of what they say:
    captions of their speech start or stop at once."""

    type: Literal["consent.set"] = "consent.set"
    transcription: bool


class ReadingSet(_Message):
    """The sender's reading language: captions and chat reach them translated into it."""

    type: Literal["reading.set"] = "reading.set"
    language: Annotated[str, Field(min_length=2, max_length=16)]


class Ping(_Message):
    type: Literal["ping"] = "ping"
    nonce: Annotated[str, Field(max_length=64)] = ""


Sdp = Annotated[str, Field(min_length=1)]  # the frame size limit bounds it


class RtcOffer(_Message):
    """The client's offer: the first one after admission, or a later one of its own."""

    type: Literal["rtc.offer"] = "rtc.offer"
    sdp: Sdp
    restart: bool = False
    """A new peer connection: the server closes the old peer and starts a fresh one."""
    offer_id: Annotated[str, Field(max_length=64)] = ""
    """The client's name for this offer, echoed in the `rtc.answer`."""


class RtcAnswer(_Message):
    """The client's answer to the server's last `rtc.offer`."""

    type: Literal["rtc.answer"] = "rtc.answer"
    sdp: Sdp


class RtcCandidate(_Message):
    """A trickled ICE candidate; an empty `candidate` means end-of-candidates."""

    type: Literal["rtc.candidate"] = "rtc.candidate"
    candidate: Annotated[str, Field(max_length=1000)]
    sdp_mid: Annotated[str, Field(max_length=64)] | None = None
    sdp_mline_index: Annotated[int, Field(ge=0, le=1000)] | None = None


class InterpretChannel(_Message):
    """An interpreter speaks into the channel of `language` (None: into none; their voice then
    reaches nobody). Assigned interpreters only."""

    type: Literal["interpret.channel"] = "interpret.channel"
    language: Annotated[str, Field(min_length=2, max_length=16)] | None


CORRECTION_MAX_CHARS = 2000


class CaptionCorrect(_Message):
    """An assigned interpreter's correction of a final caption in one language: the caption's
    own (`lang`: the source text, re-translated for the other readers) or a reading language in
    use (that translation). The later correction of an (utterance, language) wins."""

    type: Literal["caption.correct"] = "caption.correct"
    utterance_id: Id
    language: Annotated[str, Field(min_length=2, max_length=16)]
    text: Annotated[str, Field(min_length=1, max_length=CORRECTION_MAX_CHARS)]


class CaptionsSync(_Message):
    """Ask for the room's latest final captions as they are now (corrections applied):
    answered by `captions.history`."""

    type: Literal["captions.sync"] = "captions.sync"
    limit: Annotated[int, Field(ge=1, le=1000)] = 200


MediaDeviceState = Literal["on", "off", "unavailable"]
"""A microphone or camera: sending, switched off by its owner, or absent (no device, or the
browser's permission refused)."""


class MediaStateSet(_Message):
    """The sender's own microphone and camera as their page has them now; relayed to everyone
    admitted as `media.state` (pages show a muted icon, or initials instead of video)."""

    type: Literal["media.state"] = "media.state"
    audio: MediaDeviceState
    video: MediaDeviceState


class FormPushSend(_Message):
    """A counselor pushes a form (not archived) to a worker admitted to the session: the
    worker's page opens it (`form.pushed`) until they send it. Pushing a form the worker has
    not sent yet again pushes nothing new."""

    type: Literal["form.push"] = "form.push"
    participant_id: Id
    form_id: Id


class FormSync(_Message):
    """Ask for the forms pushed in this session (a worker: theirs; staff: all, with the forms
    they may push): answered by `form.pushes`."""

    type: Literal["form.sync"] = "form.sync"


class Leave(_Message):
    """The sender is leaving on purpose (their page closes the socket next): `presence` then
    shows them as `left`, not as a connection that dropped. Answered by nothing."""

    type: Literal["leave"] = "leave"



ClientMessage = Annotated[
    ChatSend | ChatSync | LobbyAdmit | LobbyDeny | LobbyMessage | ParticipantRemove
    | RoomSetAutoAdmit | ConsentSet | ReadingSet | Ping | RtcOffer | RtcAnswer | RtcCandidate
    | InterpretChannel
    | CaptionCorrect | CaptionsSync
    | MediaStateSet
    | FormPushSend | FormSync
    | Leave,
    Field(discriminator="type"),
]

# ---- server -> client -------------------------------------------------------------------------


class ParticipantInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    name: str
    role: str
    language: str
    reading_language: str = ""
    """The language this person reads captions and chat in."""
    online: bool = False
    left: bool = False
    """Not online because they pressed Leave (not because their connection dropped)."""
    transcription_consent: bool | None = None
    interprets: list[str] = Field(default_factory=list)
    """An interpreter's languages in this room (as assigned): every page shows them."""


class RoomInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    title: str
    status: str
    auto_admit: bool
    languages: list[str]


class Welcome(_Message):
    type: Literal["welcome"] = "welcome"
    you: ParticipantInfo
    admission: str
    room: RoomInfo
    permissions: list[str]
    captions_available: bool = True
    """Whether this server can caption speech at all (captions switched on and a speech model
    installed, or an ASR pool configured): `captions_state` is not "unavailable"."""
    captions_state: CaptionsState = "ready"
    """Captions are "starting" while the speech model loads (no speech is lost meanwhile: it
    is captioned once the model is there, and every socket then gets `captions.status`)."""
    captions_languages: list[str] | None = None
    """The spoken languages this server captions (None: any); a speaker of another language is
    not captioned and pages say so."""


class RoomState(_Message):
    type: Literal["room.state"] = "room.state"
    room: RoomInfo


class RoomEnded(_Message):
    type: Literal["room.ended"] = "room.ended"
    message: str = "This session has ended. Thank you for joining."


class Presence(_Message):
    type: Literal["presence"] = "presence"
    participants: list[ParticipantInfo]


class WaitingList(_Message):
    type: Literal["lobby.waiting_list"] = "lobby.waiting_list"
    waiting: list[ParticipantInfo]


class LobbyWaiting(_Message):
    type: Literal["lobby.waiting"] = "lobby.waiting"
    message: str


class LobbyNote(_Message):
    type: Literal["lobby.note"] = "lobby.note"
    from_name: str
    text: str
    sent_at: datetime


class LobbyAdmitted(_Message):
    type: Literal["lobby.admitted"] = "lobby.admitted"
    participant_id: str


class LobbyDenied(_Message):
    type: Literal["lobby.denied"] = "lobby.denied"
    participant_id: str
    message: str


class Removed(_Message):
    type: Literal["participant.removed"] = "participant.removed"
    participant_id: str
    message: str = "The host has removed you from this session."


class MachineTranslation(BaseModel):
    """A machine translation of a caption or chat message into one reader's language;
    `route` says how it was made (`direct`, `pivot`, `multilingual`, `whisper`)."""

    model_config = ConfigDict(frozen=True)
    text: str
    route: str


class ChatItem(BaseModel):
    """A chat message in its original language (`lang`) with its translations. Each reader's
    socket keeps only the translation into their reading language; `no_route` lists reading
    languages this server has no translation route into from `lang`."""

    model_config = ConfigDict(frozen=True)
    id: str
    seq: int
    sender_id: str
    sender_name: str
    sender_role: str
    client_id: str
    text: str
    sent_at: datetime
    lang: str = ""
    translations: dict[str, MachineTranslation] = Field(default_factory=dict)
    no_route: list[str] = Field(default_factory=list)


class ChatMessageOut(_Message):
    type: Literal["chat.message"] = "chat.message"
    message: ChatItem


class ChatHistory(_Message):
    type: Literal["chat.history"] = "chat.history"
    messages: list[ChatItem]
    complete: bool


class ChatAck(_Message):
    type: Literal["chat.ack"] = "chat.ack"
    client_id: str
    id: str
    seq: int


class Pong(_Message):
    type: Literal["pong"] = "pong"
    nonce: str = ""


class Redirect(_Message):
    """This node does not serve the room (any more): reconnect at `url`, the node that does
    (None: the address you came in by). The socket closes next, with 4307."""

    type: Literal["redirect"] = "redirect"
    url: str | None = None


class Error(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None


class IceServerInfo(BaseModel):
    """One entry of the browser's `RTCConfiguration.iceServers`."""

    model_config = ConfigDict(frozen=True)
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class RtcConfig(_Message):
    """Sent once a participant is admitted (and on every admitted connect): ICE servers with
    fresh TURN credentials for this participant."""

    type: Literal["rtc.config"] = "rtc.config"
    ice_servers: list[IceServerInfo]


class RtcRoute(BaseModel):
    """Whose media the server sends on the m-line `mid` of its offer."""

    model_config = ConfigDict(frozen=True)
    mid: str
    participant_id: str
    kind: Literal["audio", "video"]
    channel: str | None = None
    """Set on an interpreter's voice: the language channel it interprets into (the reader's)."""


class RtcServerOffer(_Message):
    """A server-initiated (re)negotiation; the client answers with `rtc.answer`."""

    type: Literal["rtc.offer"] = "rtc.offer"
    sdp: str
    routes: list[RtcRoute]


class RtcServerAnswer(_Message):
    """The server's answer to the client's `rtc.offer`."""

    type: Literal["rtc.answer"] = "rtc.answer"
    sdp: str
    offer_id: str = ""
    """The `offer_id` of the offer answered: a page that has made another offer since (a new
    peer connection after "Try again") ignores an answer to an older one, whose m-lines are
    not its offer's."""


class RtcState(_Message):
    """A participant's server-side peer changed state (to everyone admitted)."""

    type: Literal["rtc.state"] = "rtc.state"
    participant_id: str
    state: Literal["new", "connecting", "connected", "failed", "closed"]


class RtcDropped(_Message):
    """The server closed this client's peer on its own (`ice_timeout` or `failed`); the client
    may start again with a fresh peer connection and offer."""

    type: Literal["rtc.dropped"] = "rtc.dropped"
    reason: str


class InterpretChannelState(_Message):
    """To an interpreter's socket: the channel their voice now goes into (None: nobody)."""

    type: Literal["interpret.channel"] = "interpret.channel"
    language: str | None


class CorrectionMark(BaseModel):
    """Who corrected a caption's text in one language, and when."""

    model_config = ConfigDict(frozen=True)
    by: str
    """The interpreter's name."""
    by_id: str
    at: datetime


class Caption(_Message):
    """Live caption of a consenting speaker (to everyone admitted), one message per revision
    of an utterance: partials while it grows, then its final (`final`), or `abandoned` when no
    final will come (consent withdrawn mid-sentence: pages remove its partial). A page keeps
    each `utterance_id`'s highest `rev` and never replaces a final by a partial. Times are
    seconds on the session's clock (from the room's opening)."""

    type: Literal["caption"] = "caption"
    speaker_id: str
    speaker_name: str
    utterance_id: str
    """Unique in the room, the same from the utterance's first partial to its final."""
    rev: int
    """Grows with every message about the utterance (partials, final, later updates)."""
    final: bool
    abandoned: bool = False
    lang: str
    text: str
    t_start: float
    t_end: float
    translations: dict[str, MachineTranslation] = Field(default_factory=dict)
    """Machine translations into the room's reading languages (each reader's socket keeps only
    theirs). A partial may lack one (the engine was busy: the next will have it); a final's
    translation by Whisper comes in a later revision of the same utterance."""
    no_route: list[str] = Field(default_factory=list)
    """Reading languages this server cannot translate `lang` into (pages show a note)."""
    pending: list[str] = Field(default_factory=list)
    """Reading languages whose translation of this final follows in a later revision."""
    corrections: dict[str, CorrectionMark] = Field(default_factory=dict)
    """Languages whose text here is an interpreter's correction (`lang`: the source `text`;
    another: `translations[language]`, route "interpreter"), with who and when."""


CORRECTED_REV = 1_000_000
"""Revisions of corrected captions start here, above any revision the recognizer gives
(partials, the final, Whisper's English), so pages show a correction over what they had."""


class CaptionsHistory(_Message):
    """The room's latest finals as they are now (corrections applied), oldest first; each is
    a `caption` a page treats like a live one (its `rev` is at least `CORRECTED_REV`)."""

    type: Literal["captions.history"] = "captions.history"
    captions: list[Caption]


CaptionsState = Literal["starting", "ready", "unavailable"]


class CaptionsStatus(_Message):
    """This server's captions changed state (sent to every socket of the node; e.g. "ready"
    once the speech model has loaded)."""

    type: Literal["captions.status"] = "captions.status"
    state: CaptionsState


class MediaState(_Message):
    """A participant's microphone and camera (to everyone admitted), from their `media.state`."""

    type: Literal["media.state"] = "media.state"
    participant_id: str
    audio: MediaDeviceState
    video: MediaDeviceState


class FormPushItem(BaseModel):
    """One form pushed to one worker. ``url``: to the worker, their page for filling it
    (`/f/{token}`); to staff, the review page of what they sent (empty until then)."""

    model_config = ConfigDict(frozen=True)
    id: str
    form_id: str
    title: str
    """In the worker's language where the form has it (to the worker)."""
    participant_id: str
    participant_name: str
    pushed_by: str
    pushed_at: datetime
    submission_id: str | None = None
    submitted_at: datetime | None = None
    url: str = ""


class FormChoice(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    title: str


class FormPushes(_Message):
    """The session's pushed forms (a worker's own; to staff, everyone's and the forms they
    may push)."""

    type: Literal["form.pushes"] = "form.pushes"
    pushes: list[FormPushItem]
    forms: list[FormChoice] = Field(default_factory=list)


class FormPushed(_Message):
    """A form was pushed: to the worker (who sees it open) and to the session's hosts."""

    type: Literal["form.pushed"] = "form.pushed"
    push: FormPushItem


class FormSubmitted(_Message):
    """The worker sent a pushed form: to the hosts (``push.url``: its review page) and to the
    worker's own sockets (their page closes it)."""

    type: Literal["form.submitted"] = "form.submitted"
    push: FormPushItem


ServerMessage = Annotated[
    Welcome | RoomState | RoomEnded | Presence | WaitingList | LobbyWaiting | LobbyNote
    | LobbyAdmitted | LobbyDenied | Removed | ChatMessageOut | ChatHistory | ChatAck | Pong
    | Error | RtcConfig | RtcServerOffer | RtcServerAnswer | RtcState | RtcDropped | Caption
    | InterpretChannelState
    | CaptionsStatus | CaptionsHistory
    | MediaState
    | FormPushes | FormPushed | FormSubmitted,
    Field(discriminator="type"),
]

_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
_server_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def parse_client(raw: str | bytes, max_bytes: int) -> ClientMessage:
    """Validate one inbound frame or raise `ProtocolError` with a precise code."""
    if len(raw) > max_bytes:
        raise ProtocolError("too_large", f"messages may be at most {max_bytes} bytes")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ProtocolError("bad_json", "the message is not valid JSON") from exc
    except RecursionError as exc:  # [[[[...]]]] deeper than the parser goes
        raise ProtocolError("bad_json", "the message is nested too deeply") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("invalid_message", "a message is a JSON object with a 'type'")
    if data.get("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        raise ProtocolError("unsupported_version", f"this server speaks version {PROTOCOL_VERSION}")
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        return _raise_validation(exc, data["type"])


def _raise_validation(exc: ValidationError, type_: str) -> ClientMessage:
    if any(e["type"] == "union_tag_invalid" for e in exc.errors()):
        raise ProtocolError("unknown_type", f"unknown message type {type_!r}") from exc
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"][1:]) or type_
    raise ProtocolError("invalid_message", f"{where}: {first['msg']}", ref=type_) from exc


def parse_server(raw: str | bytes) -> ServerMessage:
    """For clients and tests: read a server frame."""
    return _server_adapter.validate_json(raw)


def dump(message: _Message) -> str:
    return message.model_dump_json()
