"""The transcript export's three renderings, without a server: the JSON schema round-trips, the
WebVTT passes a strict parser (written here, to the W3C WebVTT syntax), escaping holds for what
people say and are called, and file names are safe. `parse_vtt` is also used by the live tests."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from rooms.models import CaptionCorrection, Room, RoomStatus, TranscriptEntry
from rooms.transcripts import TranscriptLine
from server.transcript_export import (
    TranscriptExport,
    build_export,
    filename,
    session_clock,
    to_json,
    to_text,
    to_vtt,
)

# ---- a strict WebVTT parser ---------------------------------------------------------------

STAMP = r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"{STAMP}[ \t]+-->[ \t]+{STAMP}(?:[ \t]+\S.*)?")
TOKEN = re.compile(r"<[^<>]*>|&[^&<;\s]*;|[^<&>]+|[<&>]")
START_TAG = re.compile(r"<([a-z]+)((?:\.[^\s.<>]+)*)(?:[ \t]+([^<>]*))?>")
END_TAG = re.compile(r"</([a-z]+)>")
ENTITY = re.compile(r"&(?:amp|lt|gt|lrm|rlm|nbsp|#\d+|#x[0-9a-fA-F]+);")
TAGS = {"c", "i", "b", "u", "ruby", "rt", "v", "lang"}
NEEDS_ANNOTATION = {"v", "lang"}


class VttError(ValueError):
    pass


@dataclass
class CueLine:
    text: str
    voice: str | None
    lang: str | None
    classes: set[str] = field(default_factory=set)


@dataclass
class Cue:
    identifier: str | None
    start: float
    end: float
    lines: list[CueLine]


@dataclass
class Vtt:
    notes: list[list[str]]
    cues: list[Cue]


def _seconds(parts: tuple[str, ...]) -> float:
    hours, minutes, seconds, millis = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _entity(token: str) -> str:
    if not ENTITY.fullmatch(token):
        raise VttError(f"not a character reference: {token!r}")
    return html.unescape(token)


def _annotation(raw: str) -> str:
    return "".join(_entity(t) if t.startswith("&") else t
                   for t in re.findall(r"&[^;]*;|[^&]+", raw))


def _cue_line(line: str) -> CueLine:
    """One payload line: its text, with the voice, language and classes of the spans around
    the text; every span closes on its line (as the exporter writes them)."""
    stack: list[tuple[str, str | None, set[str]]] = []
    text, voice, lang, classes = "", None, None, set[str]()
    for token in TOKEN.findall(line):
        if token in ("<", "&", ">"):
            raise VttError(f"unescaped {token!r} in {line!r}")
        if (end := END_TAG.fullmatch(token)) is not None:
            if not stack or stack[-1][0] != end.group(1):
                raise VttError(f"unbalanced {token} in {line!r}")
            stack.pop()
        elif (start := START_TAG.fullmatch(token)) is not None:
            name, class_part, annotation = start.groups()
            if name not in TAGS or (name in NEEDS_ANNOTATION) != bool(annotation):
                raise VttError(f"bad tag {token!r}")
            stack.append((name, _annotation(annotation) if annotation else None,
                          set(filter(None, class_part.split(".")))))
        elif token.startswith("<"):
            raise VttError(f"bad tag {token!r}")
        else:
            text += _entity(token) if token.startswith("&") else token
            for name, annotation, span_classes in stack:
                voice = annotation if name == "v" else voice
                lang = annotation if name == "lang" else lang
                classes |= span_classes
    if stack:
        raise VttError(f"unclosed span in {line!r}")
    return CueLine(text, voice, lang, classes)


def _cue(block: list[str], previous_start: float) -> Cue:
    identifier = None
    if "-->" not in block[0]:
        identifier, block = block[0], block[1:]
    if not block or (timing := TIMING.fullmatch(block[0])) is None:
        raise VttError(f"bad cue timing in {block!r}")
    start, end = _seconds(timing.groups()[:4]), _seconds(timing.groups()[4:])
    if end <= start or start < previous_start:
        raise VttError(f"cue times out of order: {block[0]}")
    if any("-->" in line for line in block[1:]) or not block[1:]:
        raise VttError(f"bad cue payload in {block!r}")
    return Cue(identifier, start, end, [_cue_line(line) for line in block[1:]])


def parse_vtt(text: str) -> Vtt:
    """Parse a WebVTT file strictly: the signature, NOTE blocks and cues with valid timings in
    order, spans balanced, `&`, `<` and `>` escaped; anything else raises VttError."""
    lines = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))
    if not re.fullmatch(r"WEBVTT(?:[ \t].*)?", lines[0]):
        raise VttError("no WEBVTT signature")
    blocks: list[list[str]] = [[]]
    for line in lines[1:]:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    header, body = (blocks[0], blocks[1:]) if len(lines) > 1 and lines[1] else ([], blocks)
    if any("-->" in line for line in header):
        raise VttError("header lines may not hold -->")
    vtt = Vtt([], [])
    for block in filter(None, body):
        if re.fullmatch(r"NOTE(?:[ \t].*)?", block[0]):
            if any("-->" in line for line in block):
                raise VttError("a NOTE may not hold -->")
            vtt.notes.append(block)
        else:
            vtt.cues.append(_cue(block, vtt.cues[-1].start if vtt.cues else 0.0))
    return vtt


@pytest.mark.parametrize("bad", [
    "WEBVT\n\n1\n00:00:01.000 --> 00:00:02.000\nhi\n",
    "WEBVTT\n\n00:00:01.000 --> 00:00:01.000\nhi\n",
    "WEBVTT\n\n00:01.000 --> 00:00:02.000\nhi\n",
    "WEBVTT\n\n00:00:02.000 --> 00:00:03.000\na\n\n00:00:01.000 --> 00:00:04.000\nb\n",
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfish & chips\n",
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na <b> c\n",
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Kim>unclosed\n",
    "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<x>what</x>\n",
    "WEBVTT\n\nNOTE a --> b\n\n00:00:01.000 --> 00:00:02.000\nhi\n",
])
def test_the_parser_is_strict(bad: str) -> None:
    with pytest.raises(VttError):
        parse_vtt(bad)


# ---- the renderings ------------------------------------------------------------------------

OPENED = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)  # 10:00 in Seoul
SPEAKER = 'Kim "Jun" <& Co>'
SAID = "Tôi <b>không</b> & --> biết"


def _room() -> Room:
    return Room(id="a" * 32, title="Return-to-work plan: 진로 / ../x", status=RoomStatus.ENDED,
                starts_at=OPENED - timedelta(minutes=5), opened_at=OPENED,
                ended_at=OPENED + timedelta(hours=2))


def _correction(language: str, text: str, replaced: str, minute: int) -> CaptionCorrection:
    return CaptionCorrection(id=f"c{minute}", room_id="a" * 32, utterance_id="u1",
                             language=language, text=text, replaced_text=replaced,
                             corrected_by="p-interp", corrected_by_name="Interpreter Kim",
                             created_at=OPENED + timedelta(minutes=minute))


def _lines() -> list[TranscriptLine]:
    first = TranscriptEntry(
        id="e1", room_id="a" * 32, speaker_id="p1", speaker_name=SPEAKER, language="vi",
        text=SAID, t_start=3661.2, t_end=3661.2, utterance_id="u1",
        translations={"ko": {"text": "모르겠어요", "route": "argos"},
                      "en": {"text": "I don't know", "route": "whisper"}},
        created_at=OPENED + timedelta(seconds=3662))
    second = TranscriptEntry(
        id="e2", room_id="a" * 32, speaker_id="p2", speaker_name="Counselor Lee", language="xx",
        text="line\n\nwith a blank", t_start=3700.0, t_end=3702.5, utterance_id="u2",
        translations={}, created_at=OPENED + timedelta(seconds=3703))
    corrections = [_correction("ko", "잘 모르겠습니다", "모르겠어요", 70),
                   _correction("vi", "Tôi không biết", SAID, 71),
                   _correction("ko", "정말 모르겠습니다", "잘 모르겠습니다", 72),
                   _correction("th", "ไม่รู้", "", 73)]
    return [TranscriptLine(first, corrections), TranscriptLine(second, [])]


def _export() -> TranscriptExport:
    return build_export(_room(), _lines(), timezone="Asia/Seoul",
                        exported_at=OPENED + timedelta(days=1), exported_by="Admin Kim")


def test_session_clock_is_a_webvtt_timestamp() -> None:
    assert session_clock(0) == "00:00:00.000"
    assert session_clock(3661.2) == "01:01:01.200"
    assert session_clock(59.9996) == "00:01:00.000"
    assert session_clock(360_000) == "100:00:00.000"


def test_json_keeps_machine_text_translations_and_every_correction() -> None:
    export = TranscriptExport.model_validate_json(to_json(_export()))
    assert export == _export()
    first, second = export.entries
    assert first.said_at.isoformat() == "2026-11-23T11:01:01.200000+09:00"
    assert (first.start, first.end) == ("01:01:01.200", "01:01:01.200")
    assert first.original.language.name == "Tiếng Việt (Vietnamese)"
    assert (first.original.machine_text, first.original.text) == (SAID, "Tôi không biết")
    assert first.original.corrected_by == "Interpreter Kim"
    by_code = {t.language.code: t for t in first.translations}
    assert list(by_code) == ["en", "ko", "th"]
    assert (by_code["en"].text, by_code["en"].route, by_code["en"].corrections) == (
        "I don't know", "whisper", [])
    korean = by_code["ko"]
    assert (korean.machine_text, korean.text) == ("모르겠어요", "정말 모르겠습니다")
    assert [(c.replaced_text, c.text) for c in korean.corrections] == [
        ("모르겠어요", "잘 모르겠습니다"), ("잘 모르겠습니다", "정말 모르겠습니다")]
    assert korean.corrections[0].at.isoformat() == "2026-11-23T11:10:00+09:00"
    assert (by_code["th"].machine_text, by_code["th"].text) == (None, "ไม่รู้")
    assert second.original.language.name == "xx" and second.translations == []


def test_webvtt_is_valid_with_escaped_text_and_voices() -> None:
    vtt_text = to_vtt(_export())
    vtt = parse_vtt(vtt_text)
    assert "Return-to-work plan" in " ".join(vtt.notes[0])
    assert [cue.identifier for cue in vtt.cues] == ["1", "2"]
    first, second = vtt.cues
    assert (first.start, first.end) == (3661.2, 3661.201)  # a cue ends after it starts
    assert (first.lines[0].voice, first.lines[0].lang, first.lines[0].text) == (
        SPEAKER, "vi", "Tôi không biết")
    assert [(line.lang, line.text, line.classes) for line in first.lines[1:]] == [
        ("en", "I don't know", {"translation"}), ("ko", "정말 모르겠습니다", {"translation"}),
        ("th", "ไม่รู้", {"translation"})]
    assert second.lines[0].text == "line with a blank"
    notes = "\n".join("\n".join(note) for note in vtt.notes)
    assert "vi machine text: Tôi <b>không</b> & -- > biết" in notes
    assert "ko corrected by Interpreter Kim at 2026-11-23 11:12:00 KST" in notes
    assert "said at 2026-11-23 11:01:01 KST" in notes


def test_plain_text_reads_as_a_transcript() -> None:
    text = to_text(_export())
    assert "Transcript: Return-to-work plan: 진로 / ../x" in text
    assert f"[01:01:01.200 - 01:01:01.200] 2026-11-23 11:01:01 KST  {SPEAKER}" in text
    assert "Tiếng Việt (Vietnamese) [vi], corrected by Interpreter Kim: Tôi không biết" in text
    assert f"machine text: {SAID}" in text
    assert "English [en], machine translation (whisper): I don't know" in text
    assert ('2026-11-23 11:10:00 KST Interpreter Kim corrected "모르겠어요" to "잘 모르겠습니다"'
            in text)
    assert "xx [xx], original: line with a blank" in text


def test_file_names_are_safe() -> None:
    export = _export()
    assert filename(export, "vtt") == "transcript-return-to-work-plan-x-2026-11-23.vtt"
    korean = build_export(Room(id="b" * 32, title="진로 상담", status=RoomStatus.SCHEDULED,
                               starts_at=OPENED, opened_at=None, ended_at=None), [],
                          timezone="UTC", exported_at=OPENED, exported_by="x")
    assert filename(korean, "txt") == "transcript-room-bbbbbbbb-2026-11-23.txt"
    assert "Nothing has been transcribed" in to_text(korean)
    assert parse_vtt(to_vtt(korean)).cues == []
