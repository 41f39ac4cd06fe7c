"""Caption final latency: from the end of an utterance's speech to its final being published,
observed by the caption service for the metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from media.speech import CaptionEvent, CaptionKind
from rooms.bus import InProcessBus
from rooms.db import make_engine, make_sessionmaker
from server.captions import CaptionService, Speaker
from server.events import RoomEvents
from server.instruments import Instruments
from tests.conftest import app_settings


def _samples(instruments: Instruments) -> dict[str, float]:
    return {s.name: s.value for m in instruments.caption_final_seconds.collect()
            for s in m.samples if not s.labels}


async def test_a_final_is_timed_from_the_end_of_its_speech(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    service = CaptionService(app_settings(sqlite_url, captions_enabled=False), sessions,
                             RoomEvents(InProcessBus(), sessions))
    instruments = Instruments()
    service.observe_final_latency = instruments.caption_final_seconds.observe
    opened = datetime.now(UTC) - timedelta(seconds=10)
    speaker = Speaker("room", "speaker", "Mai", "vi", opened_at=opened)
    partial = CaptionEvent("room", "speaker", "u1", 1, 0, "vi", "", CaptionKind.PARTIAL, 7.0, 8.0)
    final = CaptionEvent("room", "speaker", "u1", 2, 0, "vi", "", CaptionKind.FINAL, 7.0, 8.5)
    try:
        await service._publish(speaker, partial)
        assert _samples(instruments)["counsel_caption_final_seconds_count"] == 0
        await service._publish(speaker, final)  # 10 s after the opening, speech ended at 8.5 s
    finally:
        await service.close()
        await engine.dispose()
    samples = _samples(instruments)
    assert samples["counsel_caption_final_seconds_count"] == 1
    assert 1.5 <= samples["counsel_caption_final_seconds_sum"] < 3.0
