"""A room's transcript as staff keep it: one validated model, three renderings.

In: the room and its stored transcript lines (`rooms.transcripts.with_corrections`: final
captions of consenting speakers, each with every interpreter's correction). Out: a
`TranscriptExport` — the documented JSON schema, also what the transcript page shows — and its
WebVTT and plain-text renderings. Every text of a line is kept: the machine's, each correction
(who, when, what it replaced) and the current one (the latest correction, else the machine's).
Session-clock times are seconds from the room's opening; wall-clock times are in the agency's
zone (`COUNSEL_TIMEZONE`)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from rooms.models import CaptionCorrection, Room, TranscriptEntry
from rooms.transcripts import TranscriptLine
from server.i18n import N_
from server.languages import LANGUAGES

SCHEMA_ID = "counsel-room/transcript"
CONSENT_NOTE = N_("Only final captions of participants who consented to transcription.")


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Language(_Schema):
    code: str = Field(description='ISO 639-1 code ("" when the speaker\'s language was unknown)')
    name: str = Field(description="Its name as the join page shows it")


class Correction(_Schema):
    text: str = Field(description="The corrected text")
    replaced_text: str = Field(description="What readers saw before: the machine's text or an "
                               "earlier correction")
    corrected_by: str = Field(description="The corrector's name")
    corrected_by_id: str = Field(description="The corrector's participant id in the room")
    at: datetime = Field(description="When, in the agency's zone")


class LanguageText(_Schema):
    """One language of a line: the original (source) text or a translation."""

    language: Language
    machine_text: str | None = Field(description="The machine's text (speech recognition or "
                                     "machine translation); null if only an interpreter wrote "
                                     "this language")
    route: str | None = Field(description="How the translation was made (null for the original)")
    text: str = Field(description="The current text: the latest correction, else the machine's")
    corrected_by: str | None = Field(description="Who made the latest correction, if any")
    corrections: list[Correction] = Field(description="Every correction, oldest first")


class Speaker(_Schema):
    id: str = Field(description="Participant id in the room")
    name: str


class Entry(_Schema):
    """One final caption (a sentence or so of one speaker)."""

    utterance_id: str | None
    speaker: Speaker
    start_s: float = Field(description="Start, seconds on the session clock (from the opening)")
    end_s: float = Field(description="End, seconds on the session clock")
    start: str = Field(description="Start as HH:MM:SS.mmm on the session clock")
    end: str = Field(description="End as HH:MM:SS.mmm on the session clock")
    said_at: datetime = Field(description="Wall-clock start, in the agency's zone")
    original: LanguageText
    translations: list[LanguageText] = Field(description="Other languages, by code")


class RoomInfo(_Schema):
    id: str
    title: str
    status: str = Field(description="scheduled, open or ended (when exported)")
    starts_at: datetime = Field(description="Scheduled start, in the agency's zone")
    opened_at: datetime | None = Field(description="The session clock's zero")
    ended_at: datetime | None


class TranscriptExport(_Schema):
    """A room's transcript (schema `counsel-room/transcript`, version 1)."""

    format: Literal["counsel-room/transcript"]
    version: Literal[1]
    room: RoomInfo
    timezone: str = Field(description="The agency's zone (IANA name) of every wall-clock time")
    exported_at: datetime
    exported_by: str
    note: str = Field(description="What the transcript holds (consent)")
    entries: list[Entry] = Field(description="In spoken order")


# ---- building -----------------------------------------------------------------------------


def language(code: str) -> Language:
    return Language(code=code, name=LANGUAGES.get(code, code or "unknown language"))


def session_clock(seconds: float) -> str:
    """HH:MM:SS.mmm (WebVTT's cue timestamp) of seconds on the session clock."""
    millis = max(round(seconds * 1000), 0)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _correction(correction: CaptionCorrection, zone: ZoneInfo) -> Correction:
    return Correction(text=correction.text, replaced_text=correction.replaced_text,
                      corrected_by=correction.corrected_by_name,
                      corrected_by_id=correction.corrected_by,
                      at=correction.created_at.astimezone(zone))


def _language_text(code: str, machine_text: str | None, route: str | None,
                   corrections: list[CaptionCorrection], zone: ZoneInfo) -> LanguageText:
    latest = corrections[-1] if corrections else None
    return LanguageText(
        language=language(code), machine_text=machine_text, route=route,
        text=latest.text if latest else machine_text or "",
        corrected_by=latest.corrected_by_name if latest else None,
        corrections=[_correction(c, zone) for c in corrections])


def _translations(entry: TranscriptEntry, by_language: dict[str, list[CaptionCorrection]],
                  zone: ZoneInfo) -> list[LanguageText]:
    codes = sorted((set(entry.translations) | set(by_language)) - {entry.language})
    made = entry.translations
    return [_language_text(code, made[code].get("text") if code in made else None,
                           made[code].get("route") if code in made else None,
                           by_language.get(code, []), zone) for code in codes]


def _entry(room: Room, line: TranscriptLine, zone: ZoneInfo) -> Entry:
    entry = line.entry
    by_language: dict[str, list[CaptionCorrection]] = defaultdict(list)
    for correction in line.corrections:
        by_language[correction.language].append(correction)
    origin = room.opened_at or entry.created_at - timedelta(seconds=entry.t_end)
    return Entry(
        utterance_id=entry.utterance_id,
        speaker=Speaker(id=entry.speaker_id, name=entry.speaker_name),
        start_s=entry.t_start, end_s=entry.t_end,
        start=session_clock(entry.t_start), end=session_clock(entry.t_end),
        said_at=(origin + timedelta(seconds=entry.t_start)).astimezone(zone),
        original=_language_text(entry.language, entry.text, None,
                                by_language.get(entry.language, []), zone),
        translations=_translations(entry, by_language, zone))


def _in_zone(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment else None


def build_export(room: Room, lines: list[TranscriptLine], *, timezone: str,
                 exported_at: datetime, exported_by: str) -> TranscriptExport:
    zone = ZoneInfo(timezone)
    info = RoomInfo(id=room.id, title=room.title, status=room.status.value,
                    starts_at=room.starts_at.astimezone(zone),
                    opened_at=_in_zone(room.opened_at, zone),
                    ended_at=_in_zone(room.ended_at, zone))
    return TranscriptExport(
        format=SCHEMA_ID, version=1, room=info, timezone=timezone,
        exported_at=exported_at.astimezone(zone), exported_by=exported_by, note=CONSENT_NOTE,
        entries=[_entry(room, line, zone) for line in lines])


# ---- renderings ---------------------------------------------------------------------------


def wall_clock(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "—"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_json(export: TranscriptExport) -> str:
    return export.model_dump_json(indent=2) + "\n"


def _vtt_escape(text: str) -> str:
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _note_safe(text: str) -> str:
    """A NOTE block may hold neither "-->" nor a blank line."""
    return _one_line(text).replace("-->", "-- >")


def _note_lines(text: LanguageText, kind: str) -> list[str]:
    code = text.language.code or "?"
    machine = [f"{code} {kind}: {text.machine_text}"] if text.machine_text is not None else []
    return machine + [f"{code} corrected by {c.corrected_by} at {wall_clock(c.at)}: "
                      f"{c.replaced_text} => {c.text}" for c in text.corrections]


def _vtt_note(entry: Entry) -> str:
    lines = [f"said at {wall_clock(entry.said_at)} by {entry.speaker.name} in "
             f"{entry.original.language.name} ({entry.original.language.code or '?'})",
             *_note_lines(entry.original, "machine text")]
    for text in entry.translations:
        lines += _note_lines(text, f"machine translation ({text.route or 'unknown route'})")
    return "NOTE\n" + "\n".join(_note_safe(line) for line in lines)


def _vtt_lang(text: LanguageText) -> str:
    code = _vtt_escape(text.language.code) or "und"
    return f"<lang {code}>{_vtt_escape(text.text)}</lang>"


def _vtt_cue(number: int, entry: Entry) -> str:
    start_ms = round(entry.start_s * 1000)
    end = session_clock(max(entry.end_s, (start_ms + 1) / 1000))  # a cue must end after it starts
    speaker = _vtt_escape(entry.speaker.name)
    lines = [f"{number}", f"{entry.start} --> {end}",
             f"<v {speaker}>{_vtt_lang(entry.original)}</v>"]
    lines += [f"<c.translation>{_vtt_lang(t)}</c>" for t in entry.translations]
    return "\n".join(lines)


def to_vtt(export: TranscriptExport) -> str:
    """WebVTT: a NOTE header, then for each entry a NOTE (wall clock, languages, machine text,
    corrections) and a cue on the session clock: the speaker's current text in a voice span,
    then each translation's current text on its own line."""
    header = [f"Counsel Room transcript: {export.room.title} (room {export.room.id})",
              f"Opened {wall_clock(export.room.opened_at)}, ended "
              f"{wall_clock(export.room.ended_at)}; zone {export.timezone}",
              f"Exported {wall_clock(export.exported_at)} by {export.exported_by}",
              "Cue times are on the session clock, from the opening. " + export.note]
    blocks = ["WEBVTT", "NOTE\n" + "\n".join(_note_safe(line) for line in header)]
    for number, entry in enumerate(export.entries, 1):
        blocks += [_vtt_note(entry), _vtt_cue(number, entry)]
    return "\n\n".join(blocks) + "\n"


def _text_language(text: LanguageText, kind: str) -> list[str]:
    label = f"{text.language.name} [{text.language.code or '?'}]"
    status = f"corrected by {text.corrected_by}" if text.corrected_by else kind
    lines = [f"    {label}, {status}: {_one_line(text.text)}"]
    if text.corrections:
        machine = _one_line(text.machine_text) if text.machine_text is not None else "(none)"
        lines.append(f"        machine text: {machine}")
    lines += [f"        {wall_clock(c.at)} {c.corrected_by} corrected "
              f"\"{_one_line(c.replaced_text)}\" to \"{_one_line(c.text)}\""
              for c in text.corrections]
    return lines


def _text_entry(entry: Entry) -> list[str]:
    lines = [f"[{entry.start} - {entry.end}] {wall_clock(entry.said_at)}  {entry.speaker.name}"]
    lines += _text_language(entry.original, "original")
    for text in entry.translations:
        lines += _text_language(text, f"machine translation ({text.route or 'unknown route'})")
    return lines


def to_text(export: TranscriptExport) -> str:
    room = export.room
    lines = [f"Transcript: {room.title}",
             f"Session opened {wall_clock(room.opened_at)}, ended {wall_clock(room.ended_at)}",
             f"Times: [session clock from the opening] and wall clock in {export.timezone}",
             f"Exported {wall_clock(export.exported_at)} by {export.exported_by}",
             export.note, ""]
    for entry in export.entries:
        lines += [*_text_entry(entry), ""]
    if not export.entries:
        lines.append("Nothing has been transcribed in this session.")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    media_type: str
    render: Callable[[TranscriptExport], str]


FORMATS: dict[str, ExportFormat] = {
    "json": ExportFormat("json", "application/json", to_json),
    "vtt": ExportFormat("vtt", "text/vtt", to_vtt),
    "txt": ExportFormat("txt", "text/plain", to_text),
}


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:40].strip("-")


def filename(export: TranscriptExport, extension: str) -> str:
    """`transcript-<title>-<date>.<ext>`, ASCII letters, digits and dashes only."""
    room = export.room
    day = (room.opened_at or room.starts_at).strftime("%Y-%m-%d")
    return f"transcript-{_slug(room.title) or 'room-' + room.id[:8]}-{day}.{extension}"


def attachment(name: str) -> str:
    return f'attachment; filename="{name}"'
