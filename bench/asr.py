"""ASR benchmark: both Whisper engines, same model, same espeak-ng clips, beam 1 and beam 5.

    python bench/asr.py --json

Prints one JSON object: total recognition seconds per engine and beam (default trimmed-window
path), the speedup of faster-whisper over openai-whisper at beam 5, the default engine's
real-time factor, the median time to recognize one short utterance (<= 6 s, default engine and
settings, language known as it is for a speaker after the first utterance), and the word error
rate of every configuration, including untrimmed 30-s-window beam-5 decoding.
Runs the real engine classes of media.speech; models are installed with media.speech.models.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from _repo import ROOT  # before the project's imports: see bench/_repo.py
from _wer import edit_distance, words

from media.speech.config import EngineConfig, EngineKind
from media.speech.engines import SpeechEngine, load_engine
from media.speech.models import OPENAI_CHECKPOINT, convert_to_openai, install

SHORT_LIMIT_S = 6.0


@dataclass(frozen=True)
class Clip:
    voice: str
    language: str
    text: str


SHORT_CLIPS = (
    Clip("en-us", "en", "Please open the window before the meeting starts."),
    Clip("en-gb", "en", "My brother works at the hospital in the city center."),
    Clip("en+f3", "en", "I have been feeling tired and anxious for the last few weeks."),
    Clip("en-us+m3", "en", "Could you tell me more about your sleep and your appetite?"),
    Clip(
        "en-gb+f4",
        "en",
        "Let us talk about what happened at work on Monday, and how you felt "
        "when your manager called you into the office.",
    ),
    Clip("es", "es", "Buenos días. Hoy quiero hablar de mi trabajo en el hospital."),
    Clip("de", "de", "Ich wohne in Berlin und arbeite gern als Lehrer an einer Schule."),
    Clip("fr", "fr", "Je voudrais parler de ma famille et de mon travail."),
)
LONG_CLIP = Clip(
    "en-gb",
    "en",
    "Yesterday I went to the market and bought apples, bread, and some fresh vegetables for "
    "dinner. Then I called my sister to ask about her new job at the university, and she said "
    "everything was going well. We plan to meet next weekend at the park near the river, "
    "and after that we would like to visit our parents in the countryside for a few days.",
)


@dataclass(frozen=True)
class Audio:
    clip: Clip
    samples: npt.NDArray[np.int16]

    @property
    def seconds(self) -> float:
        return self.samples.size / 16000


def synthesize(clip: Clip, workdir: Path) -> Audio:
    raw, out = workdir / "raw.wav", workdir / "clip.wav"
    subprocess.run(
        ["espeak-ng", "-v", clip.voice, "-s", "150", "-w", str(raw), clip.text], check=True
    )
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), "pad", "0.3", "0.3"],
        check=True,
    )
    with wave.open(str(out)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
    return Audio(clip, samples)


def wer(pairs: list[tuple[str, str]]) -> float:
    edits = sum(edit_distance(words(ref), words(hyp)) for ref, hyp in pairs)
    return round(100.0 * edits / sum(len(words(ref)) for ref, _ in pairs), 2)


def run(engine: SpeechEngine, clips: list[Audio], beam: int, trim: bool) -> tuple[float, float]:
    """Total seconds and WER over the clips (each recognized once, language given)."""
    total, pairs = 0.0, []
    for audio in clips:
        start = time.perf_counter()
        result = engine.transcribe(
            audio.samples, audio.clip.language, beam_size=beam, trim_window=trim
        )
        total += time.perf_counter() - start
        pairs.append((audio.clip.text, result.text))
    return round(total, 3), wer(pairs)


def short_utterance_times(engine: SpeechEngine, clips: list[Audio], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        for audio in clips:
            if audio.seconds <= SHORT_LIMIT_S:
                start = time.perf_counter()
                engine.transcribe(audio.samples, audio.clip.language)
                times.append(time.perf_counter() - start)
    return times


def prepare_models(models_dir: Path, model: str) -> Path:
    ct2_dir = install(model, models_dir)
    if not (ct2_dir / OPENAI_CHECKPOINT).is_file():
        convert_to_openai(ct2_dir, ct2_dir / OPENAI_CHECKPOINT)
    return ct2_dir


def bench_engine(config: EngineConfig, clips: list[Audio], rounds: int) -> dict[str, object]:
    engine = load_engine(config)
    try:
        engine.transcribe(clips[0].samples, clips[0].clip.language)  # warm-up
        out: dict[str, object] = {}
        for beam in (1, 5):
            out[f"beam{beam}"] = run(engine, clips, beam, trim=True)
        out["beam5_untrimmed"] = run(engine, clips, 5, trim=False)
        if config.engine is EngineKind.FASTER_WHISPER:
            out["default"] = run(engine, clips, config.beam_size, trim=config.trim_window)
            out["short"] = short_utterance_times(engine, clips, rounds)
        out["window_fallbacks"] = engine.window_fallbacks
        return out
    finally:
        engine.close()


def report(
    fw: dict[str, object], ow: dict[str, object], clips: list[Audio], config: EngineConfig
) -> dict[str, object]:
    def secs(results: dict[str, object], key: str) -> float:
        return results[key][0]  # type: ignore[index,no-any-return]

    def err(results: dict[str, object], key: str) -> float:
        return results[key][1]  # type: ignore[index,no-any-return]

    audio_s = sum(a.seconds for a in clips)
    keys = ("beam1", "beam5", "beam5_untrimmed")
    short = fw["short"]
    assert isinstance(short, list)
    return {
        "model": config.model,
        "cpu_threads": config.cpu_threads,
        "clips": len(clips),
        "audio_s": round(audio_s, 2),
        "faster_whisper_s": {k: secs(fw, k) for k in keys},
        "openai_whisper_s": {k: secs(ow, k) for k in keys},
        "speedup": round(secs(ow, "beam5") / secs(fw, "beam5"), 2),
        "speedup_untrimmed": round(secs(ow, "beam5_untrimmed") / secs(fw, "beam5_untrimmed"), 2),
        "default": {
            "engine": config.engine.value,
            "beam_size": config.beam_size,
            "trim_window": config.trim_window,
        },
        "rtf_default": round(secs(fw, "default") / audio_s, 4),
        "window_fallbacks": {
            "faster_whisper": fw["window_fallbacks"],
            "openai_whisper": ow["window_fallbacks"],
        },
        "short_utterance_p50_s": round(statistics.median(short), 3),
        "short_utterance_max_s": round(max(short), 3),
        "wer": {
            "default": err(fw, "default"),
            **{f"faster_whisper_{k}": err(fw, k) for k in keys},
            **{f"openai_whisper_{k}": err(ow, k) for k in keys},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "var" / "test-models")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of short utterances")
    args = parser.parse_args()
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        sys.exit("bench/asr.py needs espeak-ng and sox")
    prepare_models(args.models_dir, args.model)
    with tempfile.TemporaryDirectory() as tmp:
        clips = [synthesize(c, Path(tmp)) for c in (*SHORT_CLIPS, LONG_CLIP)]
    config = EngineConfig(model=args.model, models_dir=args.models_dir, cpu_threads=args.threads)
    fw = bench_engine(config, clips, args.rounds)
    ow = bench_engine(replace(config, engine=EngineKind.OPENAI_WHISPER), clips, args.rounds)
    result = report(fw, ow, clips, config)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
