"""Which route serves a (source, target) pair: identity, direct, pivot through English, Whisper."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from translation.base import Translator

PIVOT = "en"
WHISPER = "whisper"


class RouteKind(StrEnum):
    IDENTITY = "identity"  # same language: the text as it is
    DIRECT = "direct"  # one model (an Argos pack or the multilingual model)
    PIVOT = "pivot"  # two models, through English
    WHISPER = "whisper"  # speech -> English by Whisper's translate task (captions only)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Step:
    source: str
    target: str
    engine: str  # the translator's name, or "whisper"
    licence: str
    multilingual: bool = False  # served by a multilingual model
    translator: Translator | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Route:
    kind: RouteKind
    source: str
    target: str
    steps: tuple[Step, ...] = ()

    @property
    def available(self) -> bool:
        return self.kind is not RouteKind.NONE

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(step.engine for step in self.steps)

    @property
    def licences(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.licence for step in self.steps))

    @property
    def label(self) -> str:
        """The kind, except ``multilingual`` for a direct route through the multilingual model
        (what a reader's "machine translated" note can say)."""
        if self.kind is RouteKind.DIRECT and self.steps[0].multilingual:
            return "multilingual"
        return self.kind.value

    def describe(self) -> str:
        """E.g. ``es→en (argos:es-en) → de (argos:en-de)``."""
        if not self.steps:
            return self.kind.value
        legs = " → ".join(f"{step.target} ({step.engine})" for step in self.steps)
        return f"{self.source}→{legs}"


class Registry:
    """Routes over a fixed set of translators.

    ``whisper_translate``: the caller's speech model is multilingual, so Whisper's translate
    task can turn speech in any language into English (only for speech, only into English).
    """

    def __init__(
        self,
        translators: Iterable[Translator] = (),
        *,
        whisper_translate: bool = False,
        pivot: str = PIVOT,
    ) -> None:
        # Packs (one pair each) before multilingual models; then by name, for stable answers.
        self.translators = sorted(translators, key=lambda t: (t.multilingual, t.name))
        self.whisper_translate = whisper_translate
        self.pivot = pivot

    def route(self, source: str, target: str, *, speech: bool = False) -> Route:
        if source == target:
            return Route(RouteKind.IDENTITY, source, target)
        direct = self._step(source, target)
        if direct is not None:
            return Route(RouteKind.DIRECT, source, target, (direct,))
        if self.pivot not in (source, target):
            first, second = self._step(source, self.pivot), self._step(self.pivot, target)
            if first is not None and second is not None:
                return Route(RouteKind.PIVOT, source, target, (first, second))
        if speech and self.whisper_translate and target == "en":
            return Route(RouteKind.WHISPER, source, target,
                         (Step(source, target, WHISPER, "MIT"),))
        return Route(RouteKind.NONE, source, target)

    def _step(self, source: str, target: str) -> Step | None:
        for translator in self.translators:
            if translator.supports(source, target):
                return Step(source, target, translator.name, translator.licence,
                            translator.multilingual, translator)
        return None

    def languages(self) -> set[str]:
        """Every language some installed model reads or writes."""
        return {code for t in self.translators for pair in t.pairs() for code in pair}

    def routes(self, languages: Iterable[str] | None = None) -> list[Route]:
        """Every text route between ``languages`` (default: all installed; identity excluded)."""
        languages = sorted(self.languages() if languages is None else set(languages))
        found = (self.route(s, t) for s in languages for t in languages if s != t)
        return [route for route in found if route.available]
