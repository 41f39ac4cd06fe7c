"""What a form version holds, validated once when an admin saves it: its fields (type, label,
help text, whether required, choices, a condition on another field), in the form's own language,
and translations of those texts that staff stored per language."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
Text = Annotated[str, Field(max_length=2000)]


class FieldType(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    CHECKBOX = "checkbox"
    FILE = "file"
    CONSENT = "consent"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    value: Name
    label: Annotated[str, Field(min_length=1, max_length=200)]


class ShowIf(_Model):
    """Show the field only when ``field`` (an earlier one) has the value ``equals`` (a choice's
    value, or "yes" for a ticked checkbox); without ``equals``, when it has any value."""

    field: Name
    equals: str | None = None


class FieldSpec(_Model):
    name: Name
    type: FieldType
    label: Annotated[str, Field(min_length=1, max_length=300)]
    help: Text = ""
    required: bool = False
    choices: list[Choice] = []
    multiline: bool = False
    max_length: Annotated[int, Field(ge=1, le=10_000)] = 2000
    min: float | None = None
    max: float | None = None
    show_if: ShowIf | None = None

    @model_validator(mode="after")
    def _check(self) -> FieldSpec:
        if self.type is FieldType.CHOICE:
            if len(self.choices) < 2:
                raise ValueError("a choice field needs at least two choices")
            values = [c.value for c in self.choices]
            if len(set(values)) != len(values):
                raise ValueError("choice values must be different")
        elif self.choices:
            raise ValueError("only a choice field has choices")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class FieldText(_Model):
    """One field's texts in another language (any left out: the original is shown)."""

    label: Annotated[str, Field(max_length=300)] = ""
    help: Text = ""
    choices: dict[str, str] = {}


class FormTranslation(_Model):
    title: Annotated[str, Field(max_length=200)] = ""
    description: Text = ""
    fields: dict[str, FieldText] = {}


class FormSpec(_Model):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text = ""
    language: Language = "en"
    fields: Annotated[list[FieldSpec], Field(min_length=1, max_length=100)]
    translations: dict[Language, FormTranslation] = {}

    @model_validator(mode="after")
    def _check(self) -> FormSpec:
        seen: dict[str, FieldSpec] = {}
        for spec in self.fields:
            if spec.name in seen:
                raise ValueError(f"two fields are named {spec.name}")
            if spec.show_if is not None:
                _check_condition(spec, seen)
            seen[spec.name] = spec
        for language, translation in self.translations.items():
            unknown = sorted(set(translation.fields) - set(seen))
            if unknown:
                raise ValueError(f"translation {language} names unknown fields: "
                                 + ", ".join(unknown))
        return self

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _check_condition(spec: FieldSpec, earlier: dict[str, FieldSpec]) -> None:
    assert spec.show_if is not None
    target = earlier.get(spec.show_if.field)
    if target is None:
        raise ValueError(f"field {spec.name} depends on {spec.show_if.field}, which is not "
                         "an earlier field")
    equals = spec.show_if.equals
    if equals is not None and target.type is FieldType.CHOICE and equals not in {
            c.value for c in target.choices}:
        raise ValueError(f"field {spec.name} waits for {equals!r}, not a choice of "
                         f"{target.name}")
