"""Form-filling workers for the benchmarks, straight in the database through the project's own
functions: the shipped example forms, one counselor, and one submitter per worker with the form
link staff would send (signed with `FormLinks` and the server's secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from _seed import STAFF_EMAIL, STAFF_PASSWORD
from sqlalchemy import select

from rooms import forms as forms_repo
from rooms import staff as staff_repo
from rooms import submissions as submissions_repo
from rooms.db import make_engine, make_sessionmaker
from rooms.form_models import Attachment, Submission
from rooms.models import StaffRole, utcnow
from server.forms.examples import load_examples
from server.forms.links import FormClaims, FormLinks, form_path
from server.settings import Settings
from server.setup import create_staff_account


@dataclass(frozen=True, slots=True)
class FormWorker:
    submitter_id: str
    path: str


async def seed_workers(settings: Settings, *, workers: int, slug: str) -> list[FormWorker]:
    await create_staff_account(settings, STAFF_EMAIL, "Bench Counselor", StaffRole.COUNSELOR,
                               STAFF_PASSWORD)
    links = FormLinks(settings.secret_key.get_secret_value())
    expires = utcnow() + timedelta(days=1)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await load_examples(session)
            form = await forms_repo.find_form(session, slug)
            staff = await staff_repo.find_staff_by_email(session, STAFF_EMAIL)
            assert form is not None and staff is not None
            seeded = []
            for n in range(workers):
                person = await submissions_repo.create_submitter(
                    session, display_name=f"Worker {n}", language="vi", created_by=staff.id)
                token = links.token(FormClaims(person.id, form.id), expires)
                seeded.append(FormWorker(person.id, form_path(token)))
    finally:
        await engine.dispose()
    return seeded


@dataclass(frozen=True, slots=True)
class Stored:
    """What the database holds for one submitter: submissions and their files' checksums."""

    submissions: int
    sha256: tuple[str, ...]
    storage_keys: tuple[str, ...]


async def stored(settings: Settings, submitter_ids: list[str]) -> dict[str, Stored]:
    engine = make_engine(settings.database_url)
    found: dict[str, Stored] = {}
    try:
        async with make_sessionmaker(engine)() as session:
            for submitter_id in submitter_ids:
                subs = list((await session.execute(select(Submission).where(
                    Submission.submitter_id == submitter_id))).scalars())
                files = list((await session.execute(select(Attachment).where(
                    Attachment.submission_id.in_([s.id for s in subs])))).scalars())
                found[submitter_id] = Stored(len(subs), tuple(f.sha256 for f in files),
                                             tuple(f.storage_key for f in files))
    finally:
        await engine.dispose()
    return found
