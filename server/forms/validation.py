"""Answers to a form, checked on the server: what a person typed (``raw``: every answer a
string, a ticked box "yes") becomes the stored answers (numbers, dates, booleans, attachment
ids), or a problem per field. Fields whose condition is not met are dropped, never checked."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rooms.form_schema import FieldSpec, FieldType, FormSpec
from server.forms.messages import FieldError, error

TICKED = "yes"
MAX_RAW_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class Checked:
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, FieldError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize(spec: FormSpec, values: Mapping[str, object]) -> dict[str, str]:
    """The raw answers kept in a draft: known fields only, as strings, cut to a sane size."""
    raw: dict[str, str] = {}
    for item in spec.fields:
        value = values.get(item.name)
        if item.type is FieldType.FILE or value is None:
            continue
        if isinstance(value, bool):
            value = TICKED if value else ""
        raw[item.name] = str(value)[:MAX_RAW_CHARS]
    return raw


def shown(spec: FormSpec, item: FieldSpec, raw: Mapping[str, str]) -> bool:
    """Whether the field's condition holds (on the answers as typed)."""
    condition = item.show_if
    if condition is None:
        return True
    target = spec.field(condition.field)
    if target is None or not shown(spec, target, raw):
        return False
    value = raw.get(condition.field, "").strip()
    return bool(value) if condition.equals is None else value == condition.equals


def check(spec: FormSpec, raw: Mapping[str, str],
          files: Mapping[str, Sequence[str]]) -> Checked:
    """``files``: the attachment ids on each file field."""
    answers: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}
    for item in spec.fields:
        if not shown(spec, item, raw):
            continue
        if item.type is FieldType.FILE:
            ids = list(files.get(item.name, ()))
            if item.required and not ids:
                errors[item.name] = error("file_required")
            elif ids:
                answers[item.name] = ids
            continue
        value, problem = _one(item, raw.get(item.name, ""))
        if problem is not None:
            errors[item.name] = problem
        elif value is not None:
            answers[item.name] = value
    return Checked(answers, errors)


def _one(item: FieldSpec, typed: str) -> tuple[Any, FieldError | None]:
    text = typed.strip()
    if item.type in (FieldType.CHECKBOX, FieldType.CONSENT):
        ticked = text == TICKED
        if item.required and not ticked:
            key = "consent_required" if item.type is FieldType.CONSENT else "required"
            return None, error(key)
        return ticked, None
    if not text:
        return None, error("required") if item.required else None
    if item.type is FieldType.TEXT:
        if len(text) > item.max_length:
            return None, error("too_long", max=item.max_length)
        return text, None
    if item.type is FieldType.NUMBER:
        return _number(item, text)
    if item.type is FieldType.DATE:
        return _date(item, text)
    if text not in {c.value for c in item.choices}:
        return None, error("not_choice")
    return text, None


def _number(item: FieldSpec, text: str) -> tuple[Any, FieldError | None]:
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return None, error("not_number")
    if not math.isfinite(number):
        return None, error("not_number")
    if item.min is not None and number < item.min:
        return None, error("too_small", min=_plain(item.min))
    if item.max is not None and number > item.max:
        return None, error("too_large", max=_plain(item.max))
    return _plain(number), None


def _plain(number: float) -> int | float:
    return int(number) if number.is_integer() else number


def _date(item: FieldSpec, text: str) -> tuple[Any, FieldError | None]:
    try:
        return date.fromisoformat(text).isoformat(), None
    except ValueError:
        return None, error("not_date")
