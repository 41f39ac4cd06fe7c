"""Long-lived parts of a running server, opened and closed in the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rooms.bus import EventBus, InProcessBus, RedisBus
from rooms.chat_writer import ChatWriter, open_chat_writer
from rooms.db import make_engine, make_sessionmaker
from server.auth.tokens import TokenService
from server.background import Background
from server.captions import CaptionService
from server.events import RoomEvents
from server.media_rooms import MediaRooms
from server.settings import Settings
from server.translations import RoomTranslations
from server.ws import protocol as p
from server.ws.hub import RoomHub


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus
    tokens: TokenService
    events: RoomEvents
    hub: RoomHub
    media: MediaRooms
    captions: CaptionService
    translations: RoomTranslations
    background: Background
    chat: ChatWriter

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session


async def open_bus(settings: Settings) -> EventBus:
    if not settings.redis_url:
        return InProcessBus()
    bus = RedisBus(settings.redis_url)
    await bus.start()
    return bus


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    bus = await open_bus(settings)
    hub = RoomHub(bus)
    events = RoomEvents(bus, sessions)
    media = MediaRooms(settings, events)
    translations = await RoomTranslations.open(settings, sessions)
    hub.on_presence(translations.readers_changed)
    captions = CaptionService(settings, sessions, events, translations=translations)
    if captions.enabled:
        media.on_audio_tap(captions.on_audio_tap)
        captions.start(on_state=lambda state: hub.broadcast_local(p.CaptionsStatus(state=state)))
    services = Services(
        settings=settings, engine=engine, sessions=sessions, bus=bus,
        tokens=TokenService(settings.secret_key.get_secret_value()),
        events=events, hub=hub, media=media, captions=captions,
        translations=translations, background=Background(),
        chat=await open_chat_writer(settings.database_url, engine),
    )
    try:
        yield services
    finally:
        await services.background.aclose()
        await services.chat.aclose()
        await services.captions.close()
        await services.translations.aclose()
        await services.media.close()
        await hub.close()
        await bus.close()
        await engine.dispose()
