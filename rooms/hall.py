"""The program hall's pages and their texts per language: staff create a page, then write or
change its text in any language (one text per page and language, changed in place)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict, NotFound
from rooms.hall_models import HallPage, HallPageText
from rooms.models import utcnow


async def create_page(session: AsyncSession, *, slug: str, language: str, position: int = 0,
                      form_slug: str = "") -> HallPage:
    page = HallPage(slug=slug, language=language, position=position, form_slug=form_slug,
                    published=True)
    try:
        async with session.begin_nested():
            session.add(page)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a hall page named {slug} already exists") from exc
    return page


async def save_text(session: AsyncSession, page: HallPage, *, language: str, title: str,
                    summary: str, body: str, updated_by: str | None) -> HallPageText:
    """The page's text in ``language``, created or replaced (unchanged text keeps its time)."""
    text = await text_of(session, page.id, language)
    if text is None:
        text = HallPageText(page_id=page.id, language=language, title=title, summary=summary,
                            body=body, updated_by=updated_by, updated_at=utcnow())
        session.add(text)
    elif (text.title, text.summary, text.body) != (title, summary, body):
        text.title, text.summary, text.body = title, summary, body
        text.updated_by, text.updated_at = updated_by, utcnow()
    await session.flush()
    return text


async def update_page(session: AsyncSession, page: HallPage, *, position: int, form_slug: str,
                      published: bool) -> None:
    page.position, page.form_slug, page.published = position, form_slug, published
    await session.flush()


async def get_page(session: AsyncSession, page_id: str) -> HallPage:
    page = await session.get(HallPage, page_id)
    if page is None:
        raise NotFound("no such hall page")
    return page


async def find_page(session: AsyncSession, slug: str) -> HallPage | None:
    query = select(HallPage).where(HallPage.slug == slug)
    return (await session.execute(query)).scalar_one_or_none()


async def list_pages(session: AsyncSession, *, include_unpublished: bool = False
                     ) -> list[HallPage]:
    query = select(HallPage).order_by(HallPage.position, HallPage.slug)
    if not include_unpublished:
        query = query.where(HallPage.published.is_(True))
    return list((await session.execute(query)).scalars())


async def text_of(session: AsyncSession, page_id: str, language: str) -> HallPageText | None:
    query = select(HallPageText).where(HallPageText.page_id == page_id,
                                       HallPageText.language == language)
    return (await session.execute(query)).scalar_one_or_none()


async def texts_of(session: AsyncSession, page_ids: list[str]) -> dict[str, list[HallPageText]]:
    """Every text of the given pages, by page id."""
    found: dict[str, list[HallPageText]] = {page_id: [] for page_id in page_ids}
    if page_ids:
        query = (select(HallPageText).where(HallPageText.page_id.in_(page_ids))
                 .order_by(HallPageText.language))
        for text in (await session.execute(query)).scalars():
            found[text.page_id].append(text)
    return found


async def stamp(session: AsyncSession) -> tuple[int, int, datetime | None]:
    """What changes whenever the hall's content does: (pages published, texts, last change).
    A cache of the content (the search index) is rebuilt when this differs."""
    pages = await session.execute(
        select(func.count()).select_from(HallPage).where(HallPage.published.is_(True)))
    texts = await session.execute(
        select(func.count(), func.max(HallPageText.updated_at)).select_from(HallPageText))
    count, last = texts.one()
    return pages.scalar_one(), int(count), last
