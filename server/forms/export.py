"""Submissions as CSV for staff: one row each, one column per question (every question of the
versions in the export, in order), files by name. Cells that a spreadsheet would run as a
formula are quoted with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import attachments as attachments_repo
from rooms import forms as forms_repo
from rooms import submissions as submissions_repo
from rooms.form_models import Submission
from rooms.form_schema import FormSpec

FIXED = ["submission", "form", "version", "name", "reference", "language", "status",
         "submitted_at", "updated_at"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif value is None:
        text = ""
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


async def csv_text(db: AsyncSession, submissions: list[Submission], zone: ZoneInfo) -> str:
    specs: dict[str, FormSpec] = {}
    numbers: dict[str, int] = {}
    slugs: dict[str, str] = {}
    for submission in submissions:
        if submission.version_id not in specs:
            version = await forms_repo.get_version(db, submission.version_id)
            specs[version.id], numbers[version.id] = forms_repo.spec_of(version), version.version
        if submission.form_id not in slugs:
            slugs[submission.form_id] = (await forms_repo.get_form(db, submission.form_id)).slug
    questions = list(dict.fromkeys(f.name for spec in specs.values() for f in spec.fields))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIXED + questions)
    for submission in submissions:
        person = await submissions_repo.get_submitter(db, submission.submitter_id)
        names = {a.id: a.filename for a in await attachments_repo.of_submission(db,
                                                                                submission.id)}
        row: list[object] = [
            submission.id, slugs[submission.form_id], numbers[submission.version_id],
            person.display_name, person.reference, submission.language, submission.status.value,
            submission.submitted_at.astimezone(zone).isoformat(timespec="seconds"),
            submission.updated_at.astimezone(zone).isoformat(timespec="seconds")]
        for name in questions:
            value = submission.answers.get(name)
            if isinstance(value, list):
                value = "; ".join(names.get(str(v), str(v)) for v in value)
            row.append(value)
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
