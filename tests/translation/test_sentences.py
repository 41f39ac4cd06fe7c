"""Sentence splitting keeps every separator, so a text is rebuilt exactly."""

from __future__ import annotations

import pytest

from translation.sentences import join, split


@pytest.mark.parametrize(("text", "segments"), [
    ("Hola. ¿Qué tal? Bien", ["Hola.", "¿Qué tal?", "Bien"]),
    ("Pesa 3.5 kg. Vale", ["Pesa 3.5 kg.", "Vale"]),
    ("一。二\uff01三", ["一。", "二\uff01", "三"]),
    ("línea uno\n\nlínea dos", ["línea uno", "línea dos"]),
    ("", []),
])
def test_split_and_join(text: str, segments: list[str]) -> None:
    found, separators = split(text)
    assert [s for s in found if s] == segments
    assert join(found, separators) == text
