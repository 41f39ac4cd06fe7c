"""Live translation latency through the real path: peer audio -> captions -> translation -> reader.

    python bench/translation.py --json                    # 20 German + 10 Spanish sentences
    python bench/translation.py --utterances 24 --whisper-utterances 12 --reps 40 --details

The server is the `counsel-room serve` command in a subprocess on a free loopback port (see
bench/captions.py: SQLite, in-process bus, faster-whisper int8 with the settings' defaults,
`--model` whisper-base, ICE host candidates on 127.0.0.1), with `COUNSEL_TRANSLATION_DIR`
holding one Argos Translate pack, de->en, and nothing else. Rooms are written straight into the
database (bench/_seed.py); each has the counselor, who reads English (`COUNSEL_STAFF_LANGUAGE`
en), and one worker who speaks and reads the run's language and consented to transcription.

Two runs, one speaker each (an aiortc peer playing espeak-ng sentences in real time, 1-2 s of
silence between), after a warm-up sentence of each language:
- text route: German sentences ("Guten Morgen, ich habe eine Frage.", ...) through the de->en
  pack. `translated_final_*` = end of speech -> the final caption at the counselor's socket
  carrying `translations["en"]` (bench/_talk.py says how sentences are matched).
- Whisper route: Spanish sentences; no text model translates es->en, so the final goes out
  with "en" pending and Whisper's own speech->English translation comes in its next revision.
  `whisper_route_final_*` = end of speech -> that revision.
`cache_hit_ratio` is the server's translation cache over both runs (warm-ups excluded), read from
its `GET /metrics`: captions repeat the text of the early final as the final, and the runs repeat
their sentences (hits), while every growing partial is new (misses).

Then, in this process with the server stopped: `translate_p50_ms` (one final caption through
`translation.TranslationService` with the de->en pack loaded, cache cold) and `fanout_ms` (one
final into 1, 5 and 10 languages with a multilingual model over 11 languages; see
bench/_translator_timing.py). Every translation model here is built offline by
tests/translation/packbuild.py (no real weights can be downloaded on this machine): the speech
model and the path are real, the translation figures are the engine's overhead on tiny
deterministic transformers, not the speed of real OPUS-MT or M2M100 models. One JSON object goes
to stdout with --json (`--details` adds every sentence).

Interpretation, on the same server after the runs above (bench/_interpretation.py; skip with
--no-interpreter-audio, --no-corrections): `interpreter_audio_cpu_pct_per_listener` next to
`ordinary_audio_cpu_pct_per_listener` (server CPU of forwarding one voice to 8 listeners, per
listener: bench/_voice_cpu.py), then `correction_delivery_p50_ms`/`_p99_ms` (10 rooms, each
interpreter correcting twice a second for 20 s, four in five of an English translation, one in
five of the German source -> the English reader's socket: bench/_corrections.py) and
`source_corrections_one_room` (one room, German source texts corrected once a second: the
corrected original, then its re-translation by the test-built pack).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

from _interpretation import HEADLINE, add_arguments, check_arguments, prepare  # _repo first
from _interpretation import run as run_interpretation
from _repo import ROOT  # before the project's imports: see bench/_repo.py
from _seed import SeededRoom, seed_rooms
from _serve import HOST, Server
from _speech import Clip, program, synthesize
from _talk import converse, summary
from _translator_timing import install_models, measure
from pydantic import SecretStr

from media.rtc import use_host_addresses
from media.speech.models import install, model_dir
from rooms.db import make_engine, make_sessionmaker
from rooms.migrate import upgrade
from rooms.models import Participant
from server.settings import Settings
from tests.translation.packbuild import build_pack
from translation.packs import install_argos_file

GERMAN = {  # sentences whisper-base transcribes exactly from espeak-ng's "de" voice
    "Guten Morgen, ich habe eine Frage.": "Good morning, I have a question.",
    "Ich möchte den nächsten Termin verschieben.": "I would like to move the next appointment.",
    "Vielen Dank, bis nächste Woche.": "Thank you very much, see you next week.",
    "Ich habe heute keine Zeit.": "I have no time today.",
    "Ich habe eine Frage zu meiner Arbeit.": "I have a question about my work.",
}
DE_EN = {  # the test-built pack's table (phrases; everything else is copied)
    "Guten Morgen": "Good morning", "ich habe": "I have", "eine Frage": "a question",
    "ich möchte den nächsten Termin verschieben": "I would like to move the next appointment",
    "vielen Dank": "thank you very much", "bis nächste Woche": "see you next week",
    "ich habe heute keine Zeit": "I have no time today", "zu meiner Arbeit": "about my work",
    "zum Termin": "about the appointment", "Nummer": "number",
}
SPANISH = (
    "Hoy quiero hablar de mi trabajo en el hospital de la ciudad.",
    "Gracias por escuchar, hasta la próxima semana.",
    "Mi hija empezó en una escuela nueva.",
    "Estoy preocupado por el alquiler del mes que viene.",
    "Mi hermano trabaja en una fábrica cerca del río.",
    "El fin de semana visité a mis padres en el campo.",
)
SPEEDS = (140, 150, 165)
READER = "en"
GAPS = (1.0, 2.0)
CACHE = 'counsel_translation_cache_total{result="%s"}'


def make_clips(texts: list[str], voice: str, workdir: Path) -> list[Clip]:
    """Every sentence at every speed."""
    return [synthesize(text, voice, speed, workdir) for text in texts for speed in SPEEDS]


def choose(clips: list[Clip], n: int, rng: random.Random) -> list[Clip]:
    pool = list(clips)
    rng.shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


async def seed(settings: Settings, languages: list[str]) -> list[SeededRoom]:
    """One room per language: the counselor (reads English) and a worker who speaks and reads
    it, consented to transcription."""
    rooms = await seed_rooms(settings, rooms=len(languages), workers=1,
                             title="Translation bench", worker_name="Speaker", consent=True)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            for room, language in zip(rooms, languages, strict=True):
                worker = await session.get(Participant, room.workers[0].participant_id)
                assert worker is not None
                worker.language = worker.reading_language = language
    finally:
        await engine.dispose()
    return rooms


def scrape(port: int) -> dict[str, float]:
    """The server's translation counters from `GET /metrics` (we scrape from loopback)."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    figures = {}
    for line in text.splitlines():
        if line.startswith("counsel_translation_"):
            name, value = line.rsplit(" ", 1)
            figures[name] = float(value)
    return figures


def _delta(before: dict[str, float], after: dict[str, float], prefix: str) -> float:
    return sum(v - before.get(k, 0.0) for k, v in after.items() if k.startswith(prefix))


async def live(args: argparse.Namespace, workdir: Path, translation_dir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    german = make_clips(list(GERMAN), "de", workdir)
    spanish = make_clips(list(SPANISH), "es", workdir)
    db_url = f"sqlite+aiosqlite:///{workdir / 'counsel.db'}"
    secret = "bench-" + os.urandom(24).hex()
    settings = Settings(database_url=db_url, secret_key=SecretStr(secret), data_dir=workdir)
    await asyncio.to_thread(upgrade, db_url)
    warm_de, warm_es, room_de, room_es = await seed(settings, ["de", "es", "de", "es"])
    plan = await prepare(settings, args)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNSEL_")}
    env.update(COUNSEL_DATABASE_URL=db_url, COUNSEL_SECRET_KEY=secret,
               COUNSEL_DATA_DIR=str(workdir), COUNSEL_MODELS_DIR=str(args.models_dir),
               COUNSEL_SPEECH_MODEL=args.model, COUNSEL_RTC_HOST_ADDRESSES=HOST,
               COUNSEL_TRANSLATION_DIR=str(translation_dir), COUNSEL_STAFF_LANGUAGE=READER)
    server = Server(env, workdir)
    url = f"ws://{HOST}:{server.port}"

    async def talk(room: SeededRoom, clips: list[Clip]) -> Any:
        prog = program(clips, 1.5, GAPS, rng)
        return await converse(url, room.room_id, room.workers[0].token, room.host.token, prog,
                              READER, GERMAN, args.deadline)

    try:
        await server.wait_ready()
        warm = [*await talk(warm_de, german[:1]), *await talk(warm_es, spanish[:1])]
        before = await asyncio.to_thread(scrape, server.port)
        text_route = await talk(room_de, choose(german, args.utterances, rng))
        whisper_route = await talk(room_es, choose(spanish, args.whisper_utterances, rng))
        after = await asyncio.to_thread(scrape, server.port)
        interpretation = await run_interpretation(plan, url, server.cpu, args)
    finally:
        server.stop()
    hits, misses = (_delta(before, after, CACHE % r) for r in ("hit", "miss"))
    text = summary(text_route, "translated_final", args.details)
    whisper = summary(whisper_route, "whisper_route_final", args.details)
    return {
        "translated_final_p50_s": text.pop("translated_final_p50_s"),
        "translated_final_p95_s": text.pop("translated_final_p95_s"),
        "whisper_route_final_p50_s": whisper.pop("whisper_route_final_p50_s"),
        "whisper_route_final_p95_s": whisper.pop("whisper_route_final_p95_s"),
        "cache_hit_ratio": round(hits / (hits + misses), 3) if hits + misses else None,
        "cache_lookups": {"hit": int(hits), "miss": int(misses)},
        "engine_batches": int(_delta(before, after, "counsel_translation_batches_total")),
        "engine_texts": int(_delta(before, after, "counsel_translation_texts_total")),
        "text_route": {"speaker": "de", "reader": READER, **text},
        "whisper_route": {"speaker": "es", "reader": READER, **whisper},
        "warmup_translated_s": [None if h.translated_s is None else round(h.translated_s, 3)
                                for h in warm],
        **interpretation,
    }


async def bench(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    started = time.monotonic()
    load_before = os.getloadavg()
    build_dir = workdir / "models"
    build_dir.mkdir()
    pack = build_pack(build_dir, "de", "en", DE_EN, splitter=False)
    live_dir = workdir / "translation-live"
    install_argos_file(pack, live_dir)
    result = await live(args, workdir, live_dir)
    in_process_dir = workdir / "translation-in-process"
    install_models(in_process_dir, build_dir, pack)
    in_process = await measure(in_process_dir, args.reps)
    defaults = Settings.model_fields
    return {
        "translated_final_p50_s": result.pop("translated_final_p50_s"),
        "translated_final_p95_s": result.pop("translated_final_p95_s"),
        "translate_p50_ms": in_process.pop("translate_p50_ms"),
        "fanout_ms": in_process.pop("fanout_ms"),
        "cache_hit_ratio": result.pop("cache_hit_ratio"),
        "whisper_route_final_p50_s": result.pop("whisper_route_final_p50_s"),
        "whisper_route_final_p95_s": result.pop("whisper_route_final_p95_s"),
        **{key: result.pop(key) for key in HEADLINE if key in result},
        "speech_engine": str(defaults["speech_engine"].default),
        "speech_model": args.model,
        "speech_compute_type": str(defaults["speech_compute_type"].default),
        "translation_engine": f"CTranslate2 {metadata.version('ctranslate2')} "
                              "(translation.TranslationService, EngineOptions defaults)",
        "translation_model_live": f"argos:de-en, test-built ({pack.name})",
        "translation_model_fanout": f"{in_process['fanout_model']}, test-built, 11 languages",
        "test_built_models": ["translated_final_p50_s", "translated_final_p95_s",
                              "translate_p50_ms", "fanout_ms", "cache_hit_ratio",
                              *[k for k in ("source_corrections_one_room",) if k in result]],
        "notes": "No real text-translation weights can be downloaded here: the de->en Argos pack "
                 "and the multilingual M2M100-style model are built offline by "
                 "tests/translation/packbuild.py (hand-set CTranslate2 transformers, "
                 "character-level SentencePiece). The speech, transport and server path are "
                 "real (whisper-base); the translation step's share of the text-route figures, "
                 "translate_p50_ms and fanout_ms are the engine's overhead on tiny models, not "
                 "the speed or quality of real ones. The Whisper-route figures use no "
                 "test-built model. cache_hit_ratio: the runs repeat 5 German sentences, so "
                 "repeated finals hit the cache (as do finals equal to their early-final "
                 "partial); real conversation repeats less.",
        **result,
        "in_process": in_process,
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "duration_s": round(time.monotonic() - started, 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="whisper-base",
                        help="multilingual speech model (in --models-dir) or a model directory")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "var" / "test-models")
    parser.add_argument("--utterances", type=int, default=20,
                        help="German sentences of the text-route run (default 20)")
    parser.add_argument("--whisper-utterances", type=int, default=10,
                        help="Spanish sentences of the Whisper-route run (default 10)")
    parser.add_argument("--reps", type=int, default=20,
                        help="timed repetitions of each in-process figure (default 20)")
    parser.add_argument("--deadline", type=float, default=20.0,
                        help="seconds after the last speech before a missing translation is lost")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--details", action="store_true", help="add every sentence")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if min(args.utterances, args.whisper_utterances, args.reps) < 1:
        parser.error("--utterances, --whisper-utterances and --reps must be positive")
    check_arguments(parser, args)
    return args


def main() -> None:
    args = parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/translation.py needs {tool}")
    if args.model.endswith(".en"):
        sys.exit("bench/translation.py needs a multilingual speech model (not an English-only one)")
    if not Path(args.model).expanduser().exists() and not model_dir(
            args.model, args.models_dir).is_dir():
        install(args.model, args.models_dir)
    with tempfile.TemporaryDirectory(prefix="counsel-translation-") as tmp, \
            use_host_addresses([HOST]):
        result = asyncio.run(bench(args, Path(tmp)))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
