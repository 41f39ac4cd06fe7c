"""The audio tap yields 16 kHz mono int16 audio whose energy envelope follows the source WAV."""

from __future__ import annotations

import wave

import numpy as np

from media.rtc import TAP_SAMPLE_RATE, AudioTapOpened

WINDOW_S = 0.02


def _envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    size = int(rate * WINDOW_S)
    count = len(samples) // size
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    return np.sqrt((frames**2).mean(axis=1))


def _read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        return data, wav.getframerate()


def _best_correlation(source: np.ndarray, tapped: np.ndarray, max_lag: int) -> float:
    best = -1.0
    for lag in range(-max_lag // 4, max_lag):
        a = source[max(0, -lag) :]
        b = tapped[max(0, lag) :]
        n = min(len(a), len(b))
        if n > len(source) // 2:
            best = max(best, float(np.corrcoef(a[:n], b[:n])[0, 1]))
    return best


async def test_tap_envelope_matches_the_source(room, clients, media_files) -> None:
    source, rate = _read_wav(media_files.speech)
    ann = clients("ann", audio=media_files.speech, loop_audio=False)
    await ann.join(room.router)
    opened = await room.wait_for_event(lambda e: isinstance(e, AudioTapOpened), within=5)
    tap = opened.tap
    assert opened.participant_id == "ann"

    wanted = int(len(source) / rate * TAP_SAMPLE_RATE) - int(0.3 * TAP_SAMPLE_RATE)
    pcm = bytearray()
    async for frame in tap:
        assert frame.sample_rate == TAP_SAMPLE_RATE
        assert frame.speaker_id == "ann"
        pcm += frame.pcm
        if len(pcm) // 2 >= wanted:
            break

    tapped = np.frombuffer(bytes(pcm), dtype=np.int16)
    correlation = _best_correlation(
        _envelope(source, rate), _envelope(tapped, TAP_SAMPLE_RATE), max_lag=50
    )
    print(f"envelope correlation: {correlation:.3f}")
    assert correlation >= 0.9
    assert tap.dropped == 0
