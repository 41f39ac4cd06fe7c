"""Errors raised by the translation package; third-party errors are translated here."""

from __future__ import annotations


class TranslationError(Exception):
    """Base class of every error the translation package raises.

    ``retryable``: the same call may succeed later (a download, a busy device).
    """

    retryable: bool = False


class NoRoute(TranslationError):
    """No installed model translates ``source`` into ``target``."""

    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"no translation from {source!r} into {target!r} is installed")
        self.source = source
        self.target = target


class ModelInstallError(TranslationError):
    """Installing a model failed (download, checksum, extraction or format)."""

    retryable = True


class ChecksumMismatch(ModelInstallError):
    """A downloaded or given file does not have the expected size or sha256."""

    retryable = False


class PackageNotFound(ModelInstallError):
    """The package index has no package for the asked pair."""

    retryable = False


class ModelFormatError(TranslationError):
    """A model directory or package does not have the expected files."""


class InferenceError(TranslationError):
    """The engine failed while translating a batch."""

    retryable = True


class ServiceClosed(TranslationError):
    """The translation service was closed and takes no more work."""
