"""Project errors raised by the speech package; third-party errors are translated here."""

from __future__ import annotations


class SpeechError(Exception):
    """Base class of every error the speech package raises."""

    retryable: bool = False


class ModelNotFoundError(SpeechError):
    """A model name or path does not resolve to an installed or downloadable model."""


class ModelInstallError(SpeechError):
    """Installing a model failed (download, extraction or verification)."""

    retryable = True


class ModelFormatError(SpeechError):
    """A model file does not have the expected format."""


class EngineClosedError(SpeechError):
    """The engine was closed and cannot run more work."""
