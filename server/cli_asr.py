"""`counsel-room asr-worker`: recognize the nodes' speech from the pool's Redis stream."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from dataclasses import replace
from typing import Annotated, NoReturn

import typer
from redis.exceptions import RedisError
from rich.console import Console

from media.speech import EngineConfig, EngineKind, SpeechEngine, SpeechError, load_engine
from media.speech.pool import AsrWorker, StreamKeys, WorkerConfig, pool_redis
from server.settings import Settings
from server.speech_backend import is_installed, not_installed, redacted
from server.translation_pool import worker_translate
from translation import TranslationService, open_registry

log = logging.getLogger(__name__)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
console = Console(stderr=True, soft_wrap=True)


def asr_worker(
    model: Annotated[str | None, typer.Option(
        help="Installed model name or path (default: COUNSEL_SPEECH_MODEL).")] = None,
    engine: Annotated[EngineKind | None, typer.Option(
        help="Whisper engine (default: COUNSEL_SPEECH_ENGINE).")] = None,
    device: Annotated[str | None, typer.Option(
        help="cpu, cuda, cuda:1, ... (default: COUNSEL_SPEECH_DEVICE).")] = None,
    concurrency: Annotated[int, typer.Option(
        min=1, help="Workers in this process, each with its own copy of the model.")] = 1,
    claim_after: Annotated[float | None, typer.Option(
        min=0.1, help="Seconds after which a job left by a stopped worker is taken over "
        "(default: COUNSEL_SPEECH_POOL_CLAIM_AFTER_S).")] = None,
) -> None:
    """Recognize speech for the nodes (COUNSEL_SPEECH_POOL_URL): run it on GPU machines."""
    settings = Settings()
    if not settings.speech_pool_url:
        _fail("set COUNSEL_SPEECH_POOL_URL to the pool's Redis (e.g. redis://redis:6379/0)", 2)
    config = _engine_config(settings, model, engine, device)
    if not is_installed(config):
        _fail(not_installed(config), 1)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    engines = _load_engines(config, concurrency)
    worker_config = WorkerConfig(claim_after_s=claim_after or settings.speech_pool_claim_after_s)
    try:
        asyncio.run(_serve(settings, config, engines, worker_config))
    except RedisError as error:
        _fail(f"cannot use the pool's Redis at {redacted(settings.speech_pool_url)}: {error}", 1)
    finally:
        for loaded in engines:
            loaded.close()


def _engine_config(
    settings: Settings, model: str | None, engine: EngineKind | None, device: str | None
) -> EngineConfig:
    config = settings.speech_engine_config()
    return replace(config, model=model or config.model, engine=engine or config.engine,
                   device=device or config.device)


def _load_engines(config: EngineConfig, count: int) -> list[SpeechEngine]:
    try:
        return [load_engine(config) for _ in range(count)]
    except SpeechError as error:
        _fail(str(error), 1)


def _fail(message: str, code: int) -> NoReturn:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


async def _serve(
    settings: Settings, config: EngineConfig, engines: list[SpeechEngine], worker: WorkerConfig
) -> None:
    assert settings.speech_pool_url
    redis = pool_redis(settings.speech_pool_url)
    keys = StreamKeys(settings.speech_pool_prefix)
    base = f"{socket.gethostname()}-{os.getpid()}"
    translation = await _translation(settings)
    translate = worker_translate(translation) if translation is not None else None
    workers = [AsrWorker(redis, engine, keys, name=f"{base}-{index}", config=worker,
                         translate=translate)
               for index, engine in enumerate(engines)]
    try:
        await workers[0].ensure_group()
        _stop_on_signals(workers)
        log.info("ready: %s model %s on %s, consumers %s, pool %s (streams %s:*)",
                 config.engine.value, config.model, config.device,
                 ", ".join(w.name for w in workers), redacted(settings.speech_pool_url),
                 keys.prefix)
        await asyncio.gather(*(w.run() for w in workers))
        log.info("stopped after %d jobs", sum(w.done for w in workers))
    finally:
        if translation is not None:
            await translation.aclose()
        await redis.aclose()


async def _translation(settings: Settings) -> TranslationService | None:
    """The worker's translation of text jobs, over the translation models installed here
    (loaded now); None when there are none (text jobs are then refused, retryable)."""
    registry = await asyncio.to_thread(open_registry, settings.translation_path,
                                       options=settings.translation_options())
    if not registry.translators:
        log.info("no translation models in %s: speech jobs only", settings.translation_path)
        return None
    service = TranslationService(registry)
    for problem in await service.warm():
        log.warning("translation model not loaded: %s", problem)
    log.info("translating text jobs with %s", ", ".join(t.name for t in registry.translators))
    return service


def _stop_on_signals(workers: list[AsrWorker]) -> None:
    """SIGINT/SIGTERM: finish the jobs in hand, then exit; a second signal exits at once."""
    loop = asyncio.get_running_loop()

    def stop(signum: signal.Signals) -> None:
        log.info("%s: stopping after the jobs in hand", signum.name)
        for worker in workers:
            worker.stop()
        for each in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(each)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
