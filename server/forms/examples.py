"""The forms shipped as examples (`server/forms/examples/*.json`, one `FormSpec` each, named by
its slug), loaded into a database by `counsel-room forms load-examples` and `counsel-room demo`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import forms as forms_repo
from rooms.form_schema import FormSpec

EXAMPLES = Path(__file__).resolve().parent / "examples"


def example_specs() -> dict[str, FormSpec]:
    return {path.stem: FormSpec.model_validate(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(EXAMPLES.glob("*.json"))}


async def load_examples(session: AsyncSession, *, update: bool = False) -> dict[str, str]:
    """Create the example forms that are missing (with ``update``, save a new version of those
    that differ); returns what happened to each slug."""
    done: dict[str, str] = {}
    for slug, spec in example_specs().items():
        form = await forms_repo.find_form(session, slug)
        if form is None:
            await forms_repo.create_form(session, slug=slug, spec=spec, created_by=None)
            done[slug] = "created"
        elif update and await forms_repo.save_version(session, form, spec, created_by=None):
            done[slug] = f"updated to version {form.current_version}"
        else:
            done[slug] = "kept"
    return done
