"""Interpreters' corrections of final captions, and the room's finals as they are now.

In: `caption.correct {utterance_id, language, text}` from an interpreter assigned to the room
(the socket checks the role and the assignment). The language is the caption's own (the source
text) or a reading language in use (that translation). Out: the correction is stored
(`rooms.corrections`: every one kept, with what readers saw before, who and when), then the
utterance's next revision is published as a `caption` whose `rev` is `CORRECTED_REV` plus the
number of corrections of the utterance, above anything the recognizer sends, so pages replace
what they show. A translation's correction goes to the readers of that language and to the
room's interpreters (the others have nothing new to see); a source correction goes to everyone:
it is re-translated into the other reading languages (machine, unless a language gets its own
correction later) and the transcript entry keeps the new translations.

`captions.sync` answers with the room's latest finals, corrections applied (`current()`), so a
page that reconnects, or a server that restarted, shows what readers last saw.

Two corrections of one utterance at once: the transcript entry's row is locked while a
correction is stored, so they are ordered; the later one has the higher revision and wins on
every page.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from server.translations import Translated
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


def current(entry: TranscriptEntry, fixes: Sequence[CaptionCorrection]) -> p.Caption:
    """The final caption as readers see it now: ``fixes`` are the corrections of its utterance,
    oldest first; the latest per language wins, and a translation corrected before the source's
    latest correction gives way to the source's re-translation (kept in the entry)."""
    latest: dict[str, tuple[int, CaptionCorrection]] = {}
    for index, fix in enumerate(fixes):
        latest[fix.language] = (index, fix)
    source = latest.get(entry.language)
    translations = {lang: p.MachineTranslation(text=t["text"], route=t["route"])
                    for lang, t in entry.translations.items()}
    marks = {entry.language: _mark(source[1])} if source else {}
    for language, (index, fix) in latest.items():
        if language == entry.language or (source is not None and index < source[0]):
            continue
        translations[language] = p.MachineTranslation(text=fix.text, route=INTERPRETER_ROUTE)
        marks[language] = _mark(fix)
    return p.Caption(
        speaker_id=entry.speaker_id, speaker_name=entry.speaker_name,
        utterance_id=entry.utterance_id or entry.id, rev=p.CORRECTED_REV + len(fixes),
        final=True, lang=entry.language, text=source[1].text if source else entry.text,
        t_start=entry.t_start, t_end=entry.t_end, translations=translations, corrections=marks,
    )


def _mark(fix: CaptionCorrection) -> p.CorrectionMark:
    return p.CorrectionMark(by=fix.corrected_by_name, by_id=fix.corrected_by, at=fix.created_at)


def _shown_text(caption: p.Caption, language: str) -> str:
    if language == caption.lang:
        return caption.text
    shown = caption.translations.get(language)
    return shown.text if shown is not None else ""


class CaptionCorrections:
    """Corrections of a room's final captions (stateless: built per use over the services)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def correct(self, correction: Correction) -> p.Caption:
        """Store the correction and publish the utterance's new revision; returns it."""
        entry = await self._checked_entry(correction)
        retranslated = await self._retranslate(entry, correction)
        async with self._services.transaction() as session:
            caption = await self._store(session, correction, retranslated)
            audience = await self._audience(session, correction, caption)
        for to in audience:
            await self._services.events.send(correction.room_id, to, caption)
        return caption

    async def history(self, room_id: str, limit: int) -> list[p.Caption]:
        """The room's last ``limit`` finals as they are now, in the order they were spoken."""
        async with self._services.sessions() as session:
            lines = (await transcripts.with_corrections(session, room_id))[-limit:]
            readers = await participants_repo.reading_languages(session, room_id)
        return [self._with_no_route(current(line.entry, line.corrections), readers)
                for line in lines]

    def _with_no_route(self, caption: p.Caption, readers: set[str]) -> p.Caption:
        can = self._services.translations.can_translate
        missing = sorted(r for r in readers if r != caption.lang and caption.lang
                         and r not in caption.translations and not can(caption.lang, r))
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

    async def _retranslate(self, entry: TranscriptEntry, correction: Correction
                           ) -> Translated | None:
        """A corrected source text in every other language its readers need (None when a
        translation is corrected)."""
        if correction.language != entry.language:
            return None
        translations = self._services.translations
        targets = await translations.targets(correction.room_id, online_only=False)
        return await translations.translate(
            correction.text, entry.language, targets | set(entry.translations), final=True)

    async def _store(self, session: AsyncSession, correction: Correction,
                     retranslated: Translated | None) -> p.Caption:
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
        if retranslated is not None:
            kept = {lang: t for lang, t in entry.translations.items()
                    if t.get("route") == "whisper"}  # Whisper's English is of the speech
            entry.translations = {**kept, **{
                lang: t.model_dump() for lang, t in retranslated.translations.items()}}
            await session.flush()
        caption = current(entry, [*fixes, fix])
        if retranslated is not None and retranslated.no_route:
            caption = caption.model_copy(update={"no_route": list(retranslated.no_route)})
        return caption

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

