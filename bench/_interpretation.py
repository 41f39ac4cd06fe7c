"""The interpretation figures of bench/translation.py, measured on the server it starts, after
its translation runs: correction delivery with many rooms active (bench/_corrections.py) and the
server CPU of an interpreter's voice channel next to an ordinary voice (bench/_voice_cpu.py).
Their rooms are seeded before the server starts (bench/_interpreted.py); nobody in them
consented to transcription, so they add no speech recognition."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import _repo  # noqa: F401 - before the project's imports: see bench/_repo.py
from _corrections import READER, RoomRun, deliver, seed_finals
from _interpreted import InterpretedRoom, interpreted_rooms
from _voice_cpu import CHANNEL, measure

from server.settings import Settings

HEADLINE = ("correction_delivery_p50_ms", "correction_delivery_p99_ms",
            "interpreter_audio_cpu_pct_per_listener", "ordinary_audio_cpu_pct_per_listener")
"""The keys bench/translation.py puts first (when their part ran)."""


@dataclass(frozen=True)
class Plan:
    corrections: list[RoomRun] | None
    source_corrections: list[RoomRun] | None
    """One room whose interpreter corrects only source texts (each re-translated)."""
    voices: tuple[InterpretedRoom, InterpretedRoom] | None
    """The ordinary room, then the interpreted one."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-corrections", action="store_true",
                        help="skip correction_delivery_*")
    parser.add_argument("--correction-rooms", type=int, default=10,
                        help="rooms correcting at once (default 10)")
    parser.add_argument("--correction-rate", type=float, default=2.0,
                        help="corrections per second in each room (default 2)")
    parser.add_argument("--correction-seconds", type=float, default=20.0,
                        help="how long the rooms correct (default 20)")
    parser.add_argument("--correction-source-every", type=int, default=5,
                        help="every Nth correction of the 10-room run is of the source text "
                             "(re-translated; default 5; 0: none)")
    parser.add_argument("--source-corrections", type=int, default=15,
                        help="source corrections of the one-room run, 1 per second (default "
                             "15; 0: none)")
    parser.add_argument("--no-interpreter-audio", action="store_true",
                        help="skip interpreter_audio_cpu_pct_per_listener")
    parser.add_argument("--listeners", type=int, default=8,
                        help="listeners of each voice in the CPU figures (default 8)")
    parser.add_argument("--audio-seconds", type=float, default=10.0,
                        help="measured seconds of each voice's forwarding (default 10)")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if min(args.correction_rooms, args.listeners) < 1 or min(
            args.correction_rate, args.correction_seconds, args.audio_seconds) <= 0:
        parser.error("--correction-rooms/-rate/-seconds, --listeners and --audio-seconds must "
                     "be positive")
    if min(args.correction_source_every, args.source_corrections) < 0:
        parser.error("--correction-source-every and --source-corrections must not be negative")


async def prepare(settings: Settings, args: argparse.Namespace) -> Plan:
    """The rooms and finals of the parts that run (the counselor must exist)."""
    corrections = source_corrections = voices = None
    if not args.no_corrections:
        rooms = await interpreted_rooms(settings, rooms=args.correction_rooms, workers=1,
                                        title="Corrections bench", languages=[READER])
        per_room = max(1, round(args.correction_rate * args.correction_seconds))
        corrections = await seed_finals(settings, rooms, per_room)
    if not args.no_corrections and args.source_corrections > 0:
        rooms = await interpreted_rooms(settings, rooms=1, workers=1,
                                        title="Source corrections bench", languages=[READER])
        source_corrections = await seed_finals(settings, rooms, args.source_corrections)
    if not args.no_interpreter_audio:
        ordinary, = await interpreted_rooms(settings, rooms=1, workers=args.listeners + 1,
                                            title="Voice bench (ordinary)", languages=[CHANNEL])
        interpreted, = await interpreted_rooms(settings, rooms=1, workers=args.listeners,
                                               others=1, title="Voice bench (interpreter)",
                                               languages=[CHANNEL])
        voices = (ordinary, interpreted)
    return Plan(corrections, source_corrections, voices)


async def run(plan: Plan, url: str, cpu: Callable[[], float],
              args: argparse.Namespace) -> dict[str, Any]:
    """The voices first (the server idle before), then the one room's source corrections
    (their re-translations not queued behind the ten rooms'), then the ten rooms."""
    figures: dict[str, Any] = {}
    if plan.voices is not None:
        figures.update(await measure(url, *plan.voices, cpu, seconds=args.audio_seconds))
    if plan.source_corrections is not None:
        alone = await deliver(url, plan.source_corrections, 1.0, source_every=1)
        figures["source_corrections_one_room"] = {
            key: alone["corrections"][key]
            for key in ("sent", "delivered", "sources_retranslated", "source_p50_ms",
                        "source_p99_ms", "source_retranslated_p50_ms",
                        "source_retranslated_p99_ms", "max_ms")}
    if plan.corrections is not None:
        figures.update(await deliver(url, plan.corrections, args.correction_rate,
                                     args.correction_source_every))
    return figures
