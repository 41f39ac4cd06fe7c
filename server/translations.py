"""Live translation on this node: chat messages and captions into each reader's language.

In: a text in its original language (a chat message just stored, a caption from the caption
service) and its room. Out: ``{language: MachineTranslation}`` for every reading language of
the room's admitted participants other than the text's own, and the reading languages this
server has no route into. Each text is translated once per target language, whatever the
number of readers (`translation.TranslationService` batches, caches and skips partials it
cannot keep up with); every socket then keeps only its reader's language
(`server/ws/reading.py`).

Chat translations are stored beside the message (`rooms.chat.add_translations`), so history,
reconnects and other nodes show the same text; a reader who picks a new language gets the
room's chat so far translated into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from media.speech.pool import AsrPoolClient, StreamKeys, pool_redis
from rooms import chat as chat_repo
from rooms import participants as participants_repo
from server.settings import Settings
from server.translation_pool import pooled
from server.ws import protocol as p
from translation import Registry, Status, TranslationService, open_registry

log = logging.getLogger(__name__)

READERS_TTL_S = 30.0
"""How long a room's set of reading languages is reused at most: it is forgotten at once when
the room's participant list changes (`readers_changed`, called for every `presence` a room of
this node gets, whichever node made the change)."""


@dataclass(frozen=True, slots=True)
class Translated:
    """A text's translations for a room's readers; ``no_route``: languages with no route;
    ``whisper``: languages only Whisper's speech translation reaches (captions only)."""

    translations: dict[str, p.MachineTranslation] = field(default_factory=dict)
    no_route: tuple[str, ...] = ()
    whisper: tuple[str, ...] = ()


class RoomTranslations:
    """Translation of a room's captions and chat into its readers' languages."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], service: TranslationService | None
    ) -> None:
        self._sessions = sessions
        self.service = service
        self._readers: dict[tuple[str, bool], tuple[float, frozenset[str]]] = {}
        self._warming: asyncio.Task[list[str]] | None = None
        self._resources = contextlib.AsyncExitStack()

    @classmethod
    async def open(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> RoomTranslations:
        """Over the models installed in ``settings.translation_path`` (none: every pair has
        no route, and readers are told so); models start loading at once, off the loop."""
        registry = await asyncio.to_thread(
            open_registry, settings.translation_path,
            whisper_translate=settings.speech_multilingual,
            options=settings.translation_options())
        resources = contextlib.AsyncExitStack()
        if settings.translation_in_pool and registry.translators:
            assert settings.speech_pool_url
            redis = pool_redis(settings.speech_pool_url)
            resources.push_async_callback(redis.aclose)
            pool = await resources.enter_async_context(
                AsrPoolClient(redis, StreamKeys(settings.speech_pool_prefix)))
            registry = Registry(pooled(registry.translators, pool, asyncio.get_running_loop()),
                                whisper_translate=registry.whisper_translate)
            log.info("translation: on the ASR pool's workers")
        service = TranslationService(registry)
        room_translations = cls(sessions, service)
        room_translations._resources = resources
        if not registry.translators:
            log.info("translation: no models installed in %s (counsel-room models install "
                     "argos FROM TO)", settings.translation_path)
        elif not settings.translation_in_pool:  # the pool's workers load their own
            log.info("translation: %s", ", ".join(t.name for t in registry.translators))
            room_translations._warming = asyncio.get_running_loop().create_task(
                service.warm(), name="translation-warm")
        return room_translations

    @property
    def warmed(self) -> bool:
        """Whether the models this node loads have loaded (or failed to: that is logged)."""
        return self._warming is None or self._warming.done()

    def can_translate(self, source: str, target: str, *, speech: bool = False) -> bool:
        """Whether some route (or Whisper, for ``speech``) serves the pair."""
        if self.service is None:
            return source == target
        return self.service.registry.route(source, target, speech=speech).available

    async def aclose(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        if self.service is not None:
            await self.service.aclose()
        await self._resources.aclose()

    # -- who reads what ------------------------------------------------------------------------

    async def targets(self, room_id: str, *, online_only: bool) -> frozenset[str]:
        """The reading languages of the room's admitted participants (cached briefly)."""
        key = (room_id, online_only)
        cached = self._readers.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < READERS_TTL_S:
            return cached[1]
        async with self._sessions() as session:
            languages = frozenset(await participants_repo.reading_languages(
                session, room_id, online_only=online_only))
        self._readers[key] = (now, languages)
        return languages

    def readers_changed(self, room_id: str) -> None:
        """Someone joined, left, was admitted or changed their reading language."""
        for key in [k for k in self._readers if k[0] == room_id]:
            del self._readers[key]

    # -- translating -------------------------------------------------------------------------

    async def translate(
        self, text: str, source: str, targets: frozenset[str], *, final: bool,
        speech: bool = False,
    ) -> Translated:
        """``text`` into every target but its own language. A partial (``final`` False) the
        engine cannot keep up with is left out (the next one will do); with ``speech``, targets
        that only Whisper can reach are in ``whisper`` (the caller asks Whisper)."""
        wanted = {t for t in targets if t and t != source}
        if not wanted or not text.strip() or not source:
            return Translated()
        if self.service is None:
            return Translated(no_route=tuple(sorted(wanted)))
        results = await self.service.translate(text, source, wanted, final=final,
                                               speech=speech)
        translations: dict[str, p.MachineTranslation] = {}
        no_route: list[str] = []
        whisper: list[str] = []
        for language, result in sorted(results.items()):
            if result.ok and result.text is not None:
                translations[language] = p.MachineTranslation(text=result.text,
                                                              route=result.kind)
            elif result.no_route:
                no_route.append(language)
            elif result.status is Status.WHISPER:
                whisper.append(language)
            elif result.status is Status.FAILED:
                log.warning("translation %s->%s failed: %s", source, language, result.error)
        return Translated(translations, tuple(no_route), tuple(whisper))

    async def chat_item(self, room_id: str, item: p.ChatItem) -> p.ChatItem:
        """A stored chat message with its translations for the room's readers, kept beside
        it. Translation failing leaves the message untranslated, never undelivered."""
        try:
            targets = await self.targets(room_id, online_only=False)
            done = await self.translate(item.text, item.lang, targets, final=True)
            if done.translations:
                async with self._sessions() as session, session.begin():
                    await chat_repo.add_translations(session, item.id, {
                        lang: (t.text, t.route) for lang, t in done.translations.items()
                    })
        except Exception:
            log.exception("could not translate chat message %s of room %s", item.id, room_id)
            return item
        if not done.translations and not done.no_route:  # the room reads the original only
            return item
        return item.model_copy(update={
            "translations": done.translations, "no_route": list(done.no_route),
        })

    async def translate_history(self, room_id: str, language: str, *, limit: int = 500) -> int:
        """Translate the room's latest chat messages that have no ``language`` translation
        yet into it, and keep them; returns how many were translated."""
        if self.service is None:
            return 0
        async with self._sessions() as session:
            messages = await chat_repo.latest(session, room_id, limit=limit)
            stored = await chat_repo.translations_of(session, [m.id for m in messages])
        missing = [m for m in messages
                   if m.language and m.language != language and language not in stored[m.id]]
        results = await asyncio.gather(*(  # concurrent requests of a pair share batches
            self.translate(m.text, m.language, frozenset({language}), final=True)
            for m in missing
        ))
        translated = {
            message.id: (result.text, result.route)
            for message, done in zip(missing, results, strict=True)
            if (result := done.translations.get(language)) is not None
        }
        if translated:
            async with self._sessions() as session, session.begin():
                for message_id, (text, route) in translated.items():
                    await chat_repo.add_translations(session, message_id,
                                                     {language: (text, route)})
        return len(translated)
