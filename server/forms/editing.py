"""An admin's form definition as typed in the editor (JSON): parsed and checked into a
`FormSpec`, or a list of problems each naming the field it is about."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rooms.form_schema import FormSpec

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}$"


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    message: str


def parse(text: str) -> tuple[FormSpec | None, list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(f"line {exc.lineno}, column {exc.colno}",
                              f"This is not valid JSON: {exc.msg}.")]
    try:
        return FormSpec.model_validate(data), []
    except ValidationError as exc:
        return None, [Problem(_where(data, e["loc"]), _message(e)) for e in exc.errors()]


def _message(problem: Any) -> str:
    message = str(problem["msg"])
    return message.removeprefix("Value error, ")


def _where(data: Any, location: tuple[int | str, ...]) -> str:
    """``fields[3] (phone) > choices`` for ('fields', 3, 'choices')."""
    parts: list[str] = []
    node = data
    for step in location:
        if isinstance(step, int):
            name = node[step].get("name") if isinstance(node, list) and step < len(node) \
                and isinstance(node[step], dict) else None
            parts[-1] = f"{parts[-1] if parts else ''}[{step}]" + (f" ({name})" if name else "")
        else:
            parts.append(str(step))
        node = _child(node, step)
    return " > ".join(parts) or "the form"


def _child(node: Any, step: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return None


def dump(spec: FormSpec | dict[str, Any]) -> str:
    data = spec.model_dump(mode="json", exclude_defaults=True) if isinstance(
        spec, FormSpec) else spec
    return json.dumps(data, ensure_ascii=False, indent=2)


STARTER = dump({
    "title": "New form", "language": "en", "description": "",
    "fields": [
        {"name": "full_name", "type": "text", "label": "Full name", "required": True},
        {"name": "kind", "type": "choice", "label": "What do you need?", "required": True,
         "choices": [{"value": "advice", "label": "Advice"}, {"value": "other", "label": "Other"}]},
        {"name": "details", "type": "text", "label": "Tell us more", "multiline": True,
         "show_if": {"field": "kind", "equals": "other"}},
    ],
})
