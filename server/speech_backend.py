"""Where a node's captions are recognized: a Whisper engine in this process, or the ASR worker
pool (`counsel-room asr-worker` processes fed through Redis Streams).

Either way the node runs the Silero VAD itself (small and fast): it decides where utterances
end and sends only speech to the recognizer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from media.speech import AsyncRecognizer, EngineConfig, SileroVad, SpeechEngine, load_engine
from media.speech.models import model_dir
from media.speech.pool import AsrPoolClient, StreamKeys, pool_redis
from server.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpeechModels:
    """What a speaker's `StreamingRecognizer` needs: ``engine`` is a `SpeechEngine` or a
    started `AsrPoolClient`."""

    engine: AsyncRecognizer
    vad: SileroVad
    multilingual: bool


class SpeechUnavailable(Exception):
    """Captions cannot run on this node (the message says why and what to do)."""


async def open_speech(settings: Settings, resources: AsyncExitStack) -> SpeechModels:
    """The pool when ``speech_pool_url`` is set, else the local engine; what must be closed
    goes on ``resources``. Raises SpeechUnavailable."""
    try:
        if settings.speech_pool_url:
            return await open_pool(settings, resources)
        return await load_local(settings.speech_engine_config())
    except SpeechUnavailable:
        raise
    except Exception as error:  # a model that does not load must not take the room down
        raise SpeechUnavailable(f"cannot load speech models: {error}") from error


def missing_model(settings: Settings) -> str | None:
    """Why the local engine cannot load (its model is not installed), or None; the pool's
    workers own the model, so with a pool nothing is missing here."""
    config = settings.speech_engine_config()
    if settings.speech_pool_url or is_installed(config):
        return None
    return not_installed(config)


def not_installed(config: EngineConfig) -> str:
    """What to tell someone whose model is not installed, and what to run."""
    return (
        f"speech model {config.model!r} is not installed in {config.models_dir} "
        f"(run: counsel-room models install {config.model})"
    )


async def load_local(config: EngineConfig) -> SpeechModels:
    """The local engine and VAD, loaded off the event loop (once per process)."""
    if not is_installed(config):
        raise SpeechUnavailable(not_installed(config))
    models = await asyncio.to_thread(shared_models, config)
    log.info("captions: %s model %s on %s loaded", config.engine.value, config.model,
             config.device)
    return models


def is_installed(config: EngineConfig) -> bool:
    """Whether the configured model is on disk (a path, or a name under ``models_dir``); a
    name that is not installed would make the engine try a hub download."""
    if Path(config.model).expanduser().exists():
        return True
    return config.models_dir is not None and model_dir(config.model, config.models_dir).is_dir()


_SHARED: dict[EngineConfig, SpeechModels] = {}
_SHARED_LOCK = threading.Lock()


def shared_models(config: EngineConfig) -> SpeechModels:
    """The engine for this config and the VAD, loaded once per process (blocks: call it from
    a worker thread)."""
    with _SHARED_LOCK:
        models = _SHARED.get(config)
        if models is None:
            engine = load_engine(config)
            models = SpeechModels(engine, shared_vad(), _multilingual(engine))
            _SHARED[config] = models
        return models


@functools.cache
def shared_vad() -> SileroVad:
    """The Silero VAD model, loaded once per process (blocks)."""
    return SileroVad()


def _multilingual(engine: SpeechEngine) -> bool:
    return bool(getattr(engine, "multilingual", True))


async def open_pool(settings: Settings, resources: AsyncExitStack) -> SpeechModels:
    """A started pool client, held (and closed) by ``resources``; the workers own the model,
    the node knows from the model's name whether it is multilingual."""
    assert settings.speech_pool_url
    vad = await asyncio.to_thread(shared_vad)
    redis = pool_redis(settings.speech_pool_url)
    resources.push_async_callback(redis.aclose)
    keys = StreamKeys(settings.speech_pool_prefix)
    client = await resources.enter_async_context(AsrPoolClient(redis, keys))
    log.info("captions: recognized by the ASR pool at %s (streams %s:*)",
             redacted(settings.speech_pool_url), keys.prefix)
    return SpeechModels(client, vad, settings.speech_multilingual)


def redacted(url: str) -> str:
    """A Redis URL without its credentials, for logs."""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port or 6379}" if parts.hostname else ""
    return f"{parts.scheme}://{host}{parts.path}"
