"""Correction delivery through a live server: an assigned interpreter corrects a final caption's
translation -> the reader of that language gets the corrected `caption` on their room socket.

Each room (bench/_interpreted.py) has the interpreter and one listener who reads English, both
on room sockets; its transcript holds German finals with machine English translations, written
straight into the database (no speech is needed). Every room's interpreter sends
`caption.correct {utterance_id, language, text}` at a steady rate, each for the next final,
with a text never sent before; all rooms at once, their starts spread over one period. Most
correct the English translation (`language: "en"`: stored and sent to the English readers);
every `source_every`-th corrects the German source instead (`language: "de"`: stored, sent
to everyone at once, then translated again into English by the server's translation service
and sent again). The
figure of a correction is its send time -> the arrival of the first `caption` of that utterance
at the listener that shows the corrected text (`translations["en"].text`, or `text` for the
source: the corrected original, which the server sends at once), both read from this
process's monotonic clock (`server/corrections.py` says what is published and to whom);
`source_retranslated_*` is the same up to the arrival of the source correction's machine
English, which follows in the background.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from _interpreted import InterpretedRoom
from _latency import percentile
from _peer import Person

from rooms import transcripts
from rooms.db import make_engine, make_sessionmaker
from server.settings import Settings

SOURCE = "de"
READER = "en"
FINALS = (  # German finals with their machine English, and what an interpreter makes of it
    ("Ich möchte den nächsten Termin verschieben.", "I want the next date to move.",
     "I would like to move the next appointment."),
    ("Ich habe eine Frage zu meiner Arbeit.", "I have a question to my work.",
     "I have a question about my work."),
    ("Vielen Dank, bis nächste Woche.", "Many thanks, until next week.",
     "Thank you very much, see you next week."),
)


@dataclass(frozen=True)
class Sent:
    room_id: str
    utterance_id: str
    language: str
    text: str
    at: float


@dataclass
class RoomRun:
    room: InterpretedRoom
    utterances: list[str]
    sent: list[Sent] = field(default_factory=list)


async def seed_finals(settings: Settings, rooms: list[InterpretedRoom],
                      per_room: int) -> list[RoomRun]:
    """`per_room` German finals of the host in each room's transcript, translated to English."""
    runs = []
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for room in rooms:
                utterances = []
                for k in range(per_room):
                    text, machine, _ = FINALS[k % len(FINALS)]
                    utterance_id = uuid.uuid4().hex
                    await transcripts.add_entry(
                        session, room_id=room.room_id, speaker_id=room.host.participant_id,
                        speaker_name="Bench Counselor", utterance_id=utterance_id,
                        language=SOURCE, text=text, t_start=2.0 * k, t_end=2.0 * k + 1.5,
                        translations={READER: {"text": machine, "route": "direct"}})
                    utterances.append(utterance_id)
                runs.append(RoomRun(room, utterances))
    finally:
        await engine.dispose()
    return runs


async def _correct(run: RoomRun, interpreter: Person, start: float, rate: float,
                   source_every: int) -> None:
    """One correction every 1/rate s from `start`, each of the next final."""
    assert interpreter.ws is not None
    for k, utterance_id in enumerate(run.utterances):
        await asyncio.sleep(max(start + k / rate - time.monotonic(), 0))
        source = source_every > 0 and k % source_every == source_every - 1
        german, _, english = FINALS[k % len(FINALS)]
        language = SOURCE if source else READER
        text = f"{german if source else english} ({run.room.room_id[:8]}.{k})"
        message = {"type": "caption.correct", "utterance_id": utterance_id,
                   "language": language, "text": text}
        at = time.monotonic()
        await interpreter.ws.send(json.dumps(message))
        run.sent.append(Sent(run.room.room_id, utterance_id, language, text, at))


def _delivered(run: RoomRun, listener: Person, *,
               retranslated: bool = False) -> list[tuple[Sent, float]]:
    """Each correction that arrived at the listener, with send -> arrival in seconds; with
    ``retranslated``, each source correction whose re-translation arrived."""
    arrivals: dict[tuple[str, str, str], float] = {}
    for caption in listener.captions:
        shown = caption.translations.get(READER)
        if retranslated:
            if shown is not None and shown.route != "interpreter":
                arrivals.setdefault((caption.utterance_id, SOURCE, caption.text), caption.at)
            continue
        if shown is not None:
            arrivals.setdefault((caption.utterance_id, READER, shown.text), caption.at)
        arrivals.setdefault((caption.utterance_id, SOURCE, caption.text), caption.at)
    keys = [(s, (s.utterance_id, s.language, s.text)) for s in run.sent
            if not retranslated or s.language == SOURCE]
    return [(s, arrivals[key] - s.at) for s, key in keys if key in arrivals]


async def deliver(url: str, runs: list[RoomRun], rate: float, source_every: int = 0,
                  deadline: float = 10.0) -> dict[str, Any]:
    """Every room's interpreter corrects at `rate` per second until its finals are used up;
    `deadline` s after the last send, what has not arrived is lost."""
    listeners = [Person(url, r.room.room_id, r.room.workers[0].token, None) for r in runs]
    interpreters = [Person(url, r.room.room_id, r.room.interpreter.token, None) for r in runs]
    people = [*listeners, *interpreters]
    pairs = list(zip(runs, listeners, strict=True))
    try:
        await asyncio.gather(*(p.open() for p in people))
        start = time.monotonic() + 1.0
        await asyncio.gather(*(
            _correct(run, interpreter, start + i / rate / len(runs), rate, source_every)
            for i, (run, interpreter) in enumerate(zip(runs, interpreters, strict=True))))
        sent = sum(len(r.sent) for r in runs)
        sources = sum(1 for r in runs for s in r.sent if s.language == SOURCE)
        until = time.monotonic() + deadline
        while (time.monotonic() < until  # noqa: ASYNC110 - arrivals are recorded by the readers
               and (sum(len(_delivered(r, listener)) for r, listener in pairs) < sent
                    or sum(len(_delivered(r, listener, retranslated=True))
                           for r, listener in pairs) < sources)):
            await asyncio.sleep(0.1)
    finally:
        for person in people:
            await person.close()
    delivered = list(itertools.chain.from_iterable(_delivered(r, lst) for r, lst in pairs))
    errors = sorted(e for p in people for e in p.errors)
    ms = [d * 1000 for _, d in delivered]
    by_kind = {kind: [d * 1000 for s, d in delivered if s.language == language]
               for kind, language in (("translation", READER), ("source", SOURCE))}
    by_kind["source_retranslated"] = [d * 1000 for r, lst in pairs
                                      for _, d in _delivered(r, lst, retranslated=True)]
    return {
        "correction_delivery_p50_ms": percentile(ms, 50),
        "correction_delivery_p99_ms": percentile(ms, 99),
        "corrections": {
            "rooms": len(runs), "rate_per_room_per_s": rate, "sent": sent,
            "delivered": len(delivered), "lost": sent - len(delivered),
            "max_ms": round(max(ms), 1) if ms else None,
            "errors": {code: errors.count(code) for code in sorted(set(errors))},
            **{f"{kind}_p{q}_ms": percentile(values, q)
               for kind, values in by_kind.items() for q in (50, 99)},
            "source_every": source_every,
            "sources_retranslated": len(by_kind["source_retranslated"]),
        },
    }
