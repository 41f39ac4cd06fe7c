"""Form definitions and their versions: a saved change is a new version, old ones stay as they
were (a submission points at the version it answered)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict, NotFound
from rooms.form_models import FormDefinition, FormVersion
from rooms.form_schema import FormSpec


def _dump(spec: FormSpec) -> dict[str, object]:
    return spec.model_dump(mode="json", exclude_defaults=True)


async def create_form(session: AsyncSession, *, slug: str, spec: FormSpec,
                      created_by: str | None) -> FormDefinition:
    form = FormDefinition(slug=slug, title=spec.title, current_version=1, archived=False)
    try:
        async with session.begin_nested():
            session.add(form)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a form named {slug} already exists") from exc
    session.add(FormVersion(form_id=form.id, version=1, spec=_dump(spec), created_by=created_by))
    await session.flush()
    return form


async def save_version(session: AsyncSession, form: FormDefinition, spec: FormSpec, *,
                       created_by: str | None) -> FormVersion | None:
    """A new version when ``spec`` differs from the current one (None when it is the same)."""
    current = await current_version(session, form)
    if FormSpec.model_validate(current.spec) == spec:
        return None
    version = FormVersion(form_id=form.id, version=form.current_version + 1, spec=_dump(spec),
                          created_by=created_by)
    session.add(version)
    form.current_version = version.version
    form.title = spec.title
    await session.flush()
    return version


async def get_form(session: AsyncSession, form_id: str) -> FormDefinition:
    form = await session.get(FormDefinition, form_id)
    if form is None:
        raise NotFound("no such form")
    return form


async def find_form(session: AsyncSession, slug: str) -> FormDefinition | None:
    query = select(FormDefinition).where(FormDefinition.slug == slug)
    return (await session.execute(query)).scalar_one_or_none()


async def list_forms(session: AsyncSession, *, include_archived: bool = False
                     ) -> list[FormDefinition]:
    query = select(FormDefinition).order_by(FormDefinition.title)
    if not include_archived:
        query = query.where(FormDefinition.archived.is_(False))
    return list((await session.execute(query)).scalars())


async def set_archived(session: AsyncSession, form: FormDefinition, archived: bool) -> None:
    form.archived = archived
    await session.flush()


async def current_version(session: AsyncSession, form: FormDefinition) -> FormVersion:
    return await version_of(session, form.id, form.current_version)


async def version_of(session: AsyncSession, form_id: str, number: int) -> FormVersion:
    query = select(FormVersion).where(FormVersion.form_id == form_id,
                                      FormVersion.version == number)
    version = (await session.execute(query)).scalar_one_or_none()
    if version is None:
        raise NotFound("no such version of this form")
    return version


async def get_version(session: AsyncSession, version_id: str) -> FormVersion:
    version = await session.get(FormVersion, version_id)
    if version is None:
        raise NotFound("no such form version")
    return version


async def versions(session: AsyncSession, form_id: str) -> list[FormVersion]:
    query = (select(FormVersion).where(FormVersion.form_id == form_id)
             .order_by(FormVersion.version.desc()))
    return list((await session.execute(query)).scalars())


async def count_forms(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(FormDefinition))).scalar_one()


def spec_of(version: FormVersion) -> FormSpec:
    return FormSpec.model_validate(version.spec)
