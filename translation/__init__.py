"""Counsel Room: translation of captions and chat (imports nothing of the project).

Light to import: engines (CTranslate2, SentencePiece) load when a model is first used and
argostranslate only when packs are installed. The server uses::

    registry = open_registry(translation_dir, whisper_translate=speech_is_multilingual)
    service = TranslationService(registry)
    results = await service.translate(text, "es", {"en", "de"}, final=True)
"""

from translation.base import EngineOptions, Pair, Translator
from translation.errors import (
    ChecksumMismatch,
    ModelFormatError,
    ModelInstallError,
    NoRoute,
    PackageNotFound,
    TranslationError,
)
from translation.installed import load_translators, open_registry
from translation.registry import Registry, Route, RouteKind, Step
from translation.service import Result, ServiceStats, Status, TranslationService

__all__ = [
    "ChecksumMismatch",
    "EngineOptions",
    "ModelFormatError",
    "ModelInstallError",
    "NoRoute",
    "PackageNotFound",
    "Pair",
    "Registry",
    "Result",
    "Route",
    "RouteKind",
    "ServiceStats",
    "Status",
    "Step",
    "TranslationError",
    "TranslationService",
    "Translator",
    "load_translators",
    "open_registry",
]
