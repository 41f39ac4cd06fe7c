"""Interpreters' corrections of final captions, and the room's finals as they are now.

In: `caption.correct {utterance_id, language, text}` from an interpreter assigned to the room
(the socket checks the role and the assignment). The language is the caption's own (the source
text) or a reading language in use (that translation). Out: the correction is stored
(`rooms.corrections`: every one kept, with what readers saw before, who and when), then the
utterance's next revision is published as a `caption`, so pages replace what they show.

A translation's correction goes to the readers of that language and to the room's
interpreters (the others have nothing new to see). A source correction goes to everyone at
once, without the machine translations of the old text and with the languages it is being
translated into again in `pending`; the re-translation runs in the background (not on the
interpreter's socket, whose next corrections would wait behind it) and lands as the next
revision, kept in the transcript entry (`retranslated_at` on the correction). A later source
correction makes an earlier one's re-translation moot: it is dropped. A re-translation a
stopped server never finished is started again when a page asks for the history.

Revisions: `CORRECTED_REV` plus one per correction of the utterance and one per re-translation
landed, so each step outranks the one before on every page, and `captions.sync` (`current()`,
from what is stored) gives a page that reconnects, or a server that restarted, what readers
last saw.

Two corrections of one utterance at once: the transcript entry's row is locked while a
correction or a re-translation is stored, so they are ordered; the later one has the higher
revision and wins on every page.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import corrections as corrections_repo
from rooms import interpreters as interpreters_repo
from rooms import participants as participants_repo
from rooms import transcripts
from rooms.errors import DomainError, NotFound
from rooms.models import Admission, CaptionCorrection, RoomRole, TranscriptEntry, utcnow
from server.events import ADMITTED, to_participant
from server.services import Services
from server.ws import protocol as p

INTERPRETER_ROUTE = "interpreter"
"""The `route` of a translation that is an interpreter's correction."""


class NotAssigned(DomainError):
    code = "forbidden"


class UnknownLanguage(DomainError):
    code = "unsupported_language"


@dataclass(frozen=True, slots=True)
class Correction:
    """A valid `caption.correct` by one participant."""

    room_id: str
    participant_id: str
    utterance_id: str
    language: str
    text: str


def current(entry: TranscriptEntry, fixes: Sequence[CaptionCorrection],
            readers: Collection[str] = ()) -> p.Caption:
    """The final caption as readers see it now: ``fixes`` are the corrections of its utterance,
    oldest first; the latest per language wins, and a translation corrected before the source's
    latest correction gives way to the source's re-translation (kept in the entry). While that
    re-translation has not landed, the ``readers``' languages it will bring are `pending`."""
    latest: dict[str, tuple[int, CaptionCorrection]] = {}
    for index, fix in enumerate(fixes):
        latest[fix.language] = (index, fix)
    source = latest.get(entry.language)
    waiting = source is not None and source[1].retranslated_at is None
    machine = _speech_translations(entry) if waiting else entry.translations  # else: old text's
    translations = {lang: p.MachineTranslation(text=t["text"], route=t["route"])
                    for lang, t in machine.items()}
    marks = {entry.language: _mark(source[1])} if source else {}
    for language, (index, fix) in latest.items():
        if language == entry.language or (source is not None and index < source[0]):
            continue
        translations[language] = p.MachineTranslation(text=fix.text, route=INTERPRETER_ROUTE)
        marks[language] = _mark(fix)
    pending = sorted(set(readers) - {entry.language, *translations}) if waiting else []
    landed = sum(1 for fix in fixes if fix.retranslated_at is not None)
    return p.Caption(
        speaker_id=entry.speaker_id, speaker_name=entry.speaker_name,
        utterance_id=entry.utterance_id or entry.id,
        rev=p.CORRECTED_REV + len(fixes) + landed,
        final=True, lang=entry.language, text=source[1].text if source else entry.text,
        t_start=entry.t_start, t_end=entry.t_end, translations=translations, corrections=marks,
        pending=pending,
    )


def _mark(fix: CaptionCorrection) -> p.CorrectionMark:
    return p.CorrectionMark(by=fix.corrected_by_name, by_id=fix.corrected_by, at=fix.created_at)


def _shown_text(caption: p.Caption, language: str) -> str:
    if language == caption.lang:
        return caption.text
    shown = caption.translations.get(language)
    return shown.text if shown is not None else ""


def _speech_translations(entry: TranscriptEntry) -> dict[str, dict[str, str]]:
    """Whisper's English is of the speech, not of the text: a corrected source keeps it."""
    return {lang: t for lang, t in entry.translations.items() if t.get("route") == "whisper"}


class CaptionCorrections:
    """Corrections of a room's final captions (stateless: built per use over the services)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def correct(self, correction: Correction) -> p.Caption:
        """Store the correction and publish the utterance's new revision; returns it. A source
        correction's re-translation is started, not waited for."""
        entry = await self._checked_entry(correction)
        source = correction.language == entry.language
        targets = await self._services.translations.targets(correction.room_id,
                                                            online_only=False)
        async with self._services.transaction() as session:
            caption, fix = await self._store(session, correction, targets)
            audience = await self._audience(session, correction, caption)
        for to in audience:
            await self._services.events.send(correction.room_id, to, caption)
        if source and fix.retranslated_at is None:
            self._retranslate_later(correction.room_id, correction.utterance_id, fix.id)
        return caption

    async def history(self, room_id: str, limit: int) -> list[p.Caption]:
        """The room's last ``limit`` finals as they are now, in the order they were spoken."""
        async with self._services.sessions() as session:
            lines = (await transcripts.with_corrections(session, room_id))[-limit:]
            readers = await participants_repo.reading_languages(session, room_id)
        captions = [self._with_no_route(current(line.entry, line.corrections, readers), readers)
                    for line in lines]
        for line in lines:  # a re-translation a stopped server never finished
            fix = _waiting_source_fix(line.entry, line.corrections)
            if fix is not None:
                self._retranslate_later(room_id, fix.utterance_id, fix.id)
        return captions

    def _with_no_route(self, caption: p.Caption, readers: Collection[str]) -> p.Caption:
        can = self._services.translations.can_translate
        missing = sorted(r for r in readers if r != caption.lang and caption.lang
                         and r not in caption.translations and r not in caption.pending
                         and not can(caption.lang, r))
        return caption.model_copy(update={"no_route": missing}) if missing else caption

    # -- steps ---------------------------------------------------------------------------------

    async def _checked_entry(self, correction: Correction) -> TranscriptEntry:
        """The utterance's final, once the corrector may correct it in that language."""
        async with self._services.sessions() as session:
            person = await participants_repo.get_participant(
                session, correction.room_id, correction.participant_id)
            if not await interpreters_repo.is_assigned(session, correction.room_id,
                                                       person.staff_id):
                raise NotAssigned("only an interpreter assigned to this room may correct "
                                  "its captions")
            entry = await _entry(session, correction.room_id, correction.utterance_id)
            readers = await participants_repo.reading_languages(session, correction.room_id)
        in_use = {entry.language, *readers, *entry.translations}
        if correction.language not in in_use:
            others = ", ".join(sorted(in_use - {entry.language})) or "none"
            raise UnknownLanguage(
                f"nobody in this room reads {correction.language!r}: correct the source "
                f"({entry.language}) or a reading language in use ({others})")
        return entry

    async def _store(self, session: AsyncSession, correction: Correction,
                     targets: Collection[str]) -> tuple[p.Caption, CaptionCorrection]:
        corrector = await participants_repo.get_participant(
            session, correction.room_id, correction.participant_id)
        # ordered from here: PostgreSQL by the entry's row lock, SQLite by its write lock
        # (taken by the insert, so what is read next is what the previous correction left)
        entry = await _entry(session, correction.room_id, correction.utterance_id, lock=True)
        fix = await corrections_repo.add(
            session, room_id=correction.room_id, utterance_id=correction.utterance_id,
            language=correction.language, text=correction.text, replaced_text="",
            by=corrector)
        # its time is taken now, under the lock: on SQLite the insert's parameters (with the
        # default time) were made before the insert waited for the write lock, so a
        # correction stored later could carry an earlier time and sort before the one it
        # replaced
        fix.created_at = utcnow()
        await session.refresh(entry)
        fixes = [f for f in await corrections_repo.of_utterance(
            session, correction.room_id, correction.utterance_id) if f.id != fix.id]
        fix.replaced_text = _shown_text(current(entry, fixes), correction.language)
        readers = {*targets, *entry.translations}
        if correction.language == entry.language:  # the old text's translations are moot
            entry.translations = _speech_translations(entry)
            if not readers - {entry.language}:
                fix.retranslated_at = fix.created_at  # nobody reads another language
        await session.flush()
        return current(entry, [*fixes, fix], readers), fix

    async def _audience(self, session: AsyncSession, correction: Correction,
                        caption: p.Caption) -> list[dict[str, str]]:
        """Everyone for a source correction; else that language's readers and interpreters."""
        if correction.language == caption.lang:
            return [ADMITTED]
        people = await participants_repo.list_participants(session, correction.room_id,
                                                           Admission.ADMITTED)
        return [to_participant(person.id) for person in people
                if person.role is RoomRole.INTERPRETER
                or participants_repo.reading_language(person) == correction.language]

    # -- re-translating a corrected source ----------------------------------------------------

    def _retranslate_later(self, room_id: str, utterance_id: str, fix_id: str) -> None:
        self._services.background.start(
            self._retranslate(room_id, utterance_id, fix_id),
            name=f"retranslate:{fix_id}", key=f"retranslate:{fix_id}")

    async def _retranslate(self, room_id: str, utterance_id: str, fix_id: str) -> None:
        """The corrected source text into the room's other reading languages, stored in the
        entry and published, unless a later source correction came first."""
        translations = self._services.translations
        async with self._services.sessions() as session:
            entry = await _entry(session, room_id, utterance_id)
            fix = _waiting_source_fix(entry, await corrections_repo.of_utterance(
                session, room_id, utterance_id))
        if fix is None or fix.id != fix_id:
            return
        targets = await translations.targets(room_id, online_only=False)
        wanted = frozenset({*targets, *_speech_translations(entry)} - {entry.language})
        done = await translations.translate(fix.text, entry.language, wanted, final=True)
        async with self._services.transaction() as session:
            entry = await _entry(session, room_id, utterance_id, lock=True)
            fixes = await corrections_repo.of_utterance(session, room_id, utterance_id)
            fix = _waiting_source_fix(entry, fixes)
            if fix is None or fix.id != fix_id:
                return  # a later source correction: its own re-translation follows
            entry.translations = {**_speech_translations(entry), **{
                lang: t.model_dump() for lang, t in done.translations.items()}}
            fix.retranslated_at = utcnow()
            await session.flush()
            caption = current(entry, fixes)
        if done.no_route:
            caption = caption.model_copy(update={"no_route": list(done.no_route)})
        await self._services.events.send(room_id, ADMITTED, caption)


def _waiting_source_fix(entry: TranscriptEntry,
                        fixes: Sequence[CaptionCorrection]) -> CaptionCorrection | None:
    """The entry's latest source correction, if its re-translation has not landed."""
    sources = [fix for fix in fixes if fix.language == entry.language]
    return sources[-1] if sources and sources[-1].retranslated_at is None else None


async def _entry(session: AsyncSession, room_id: str, utterance_id: str, *,
                 lock: bool = False) -> TranscriptEntry:
    query = select(TranscriptEntry).where(TranscriptEntry.room_id == room_id,
                                          TranscriptEntry.utterance_id == utterance_id)
    if lock:
        query = query.with_for_update()
    entry = (await session.execute(query)).scalar_one_or_none()
    if entry is None:
        raise NotFound("no final caption with this utterance_id in this room")
    return entry
