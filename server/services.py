"""Long-lived parts of a running server, opened and closed in the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rooms.bus import EventBus, InProcessBus, RedisBus
from rooms.chat_writer import ChatWriter, open_chat_writer
from rooms.db import make_engine, make_sessionmaker
from server.auth.tokens import TokenService
from server.background import Background
from server.captions import CaptionService
from server.events import RoomEvents
from server.instruments import Instruments
from server.media_rooms import MediaRooms
from server.placement import LocalPlacement, Owner, Placement, RedisPlacement
from server.presence import Presence
from server.settings import Settings
from server.throttle import Throttles, open_throttles
from server.translations import RoomTranslations
from server.ws import protocol as p
from server.ws.access_watch import AccessWatch
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
    access: AccessWatch
    media: MediaRooms
    captions: CaptionService
    translations: RoomTranslations
    background: Background
    chat: ChatWriter
    throttles: Throttles
    placement: Placement
    presence: Presence
    instruments: Instruments = field(default_factory=Instruments)
    draining: bool = False
    """The node is shutting down: readiness answers 503 so new sessions go elsewhere."""

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


async def open_placement(settings: Settings, bus: EventBus, hub: RoomHub) -> Placement:
    if not settings.redis_url:
        return LocalPlacement()
    placement = RedisPlacement(settings.redis_url, settings.node_url, hub.room_ids,
                               node_id=bus.node_id if isinstance(bus, RedisBus) else None)
    await placement.start()

    def lost(room_id: str, owner: Owner | None) -> None:  # another node took the room
        for connection in hub.connections_in(room_id):
            connection.move(p.Redirect(url=owner.url if owner else None))

    placement.on_lost(lost)
    return placement


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    bus = await open_bus(settings)
    hub = RoomHub(bus)
    access = AccessWatch(hub, sessions)
    events = RoomEvents(bus, sessions)
    placement = await open_placement(settings, bus, hub)
    presence = Presence(sessions, placement, events, one_writer=engine.dialect.name == "sqlite")
    if isinstance(placement, RedisPlacement):
        placement.on_revived(presence.revive)
    media = MediaRooms(settings, events)
    translations = await RoomTranslations.open(settings, sessions)
    # A presence forgets the room's reading languages; the next translation asks the database.
    # Taking them from the presence itself saved that query, but presences built concurrently
    # can arrive out of order, and an older one left a reader's language out for up to 30 s.
    hub.on_presence(lambda room_id, _presence: translations.readers_changed(room_id))
    captions = CaptionService(settings, sessions, events, translations=translations)
    if captions.enabled:
        media.on_audio_tap(captions.on_audio_tap)
        captions.start(on_state=lambda state: hub.broadcast_local(p.CaptionsStatus(state=state)))
    services = Services(
        settings=settings, engine=engine, sessions=sessions, bus=bus,
        tokens=TokenService(settings.secret_key.get_secret_value()),
        events=events, hub=hub, access=access, media=media, captions=captions,
        translations=translations, background=Background(), throttles=open_throttles(settings),
        chat=await open_chat_writer(settings.database_url, engine),
        placement=placement, presence=presence,
    )
    access.start()
    presence.start()
    try:
        yield services
    finally:
        await access.aclose()
        await placement.aclose()
        await presence.aclose()
        await services.background.aclose()
        await services.chat.aclose()
        await services.throttles.aclose()
        await services.captions.close()
        await services.translations.aclose()
        await services.media.close()
        await hub.close()
        await bus.close()
        await engine.dispose()
