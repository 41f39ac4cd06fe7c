"""The program hall: public pages about the agency's programs (no invitation, no account),
their search, the help chatbot's API, a public preview of the form each page applies with, and
the staff pages that write them (admins and counselors)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import forms as forms_repo
from rooms import hall as hall_repo
from rooms.errors import NotFound
from rooms.hall_models import HallPage
from server.deps import CsrfDep, DbDep, StaffDep, require
from server.forms.kit import KitDep
from server.hall.kit import HallDep
from server.hall.markdown import render as render_markdown
from server.hall.texts import ShownPage
from server.i18n import DEFAULT_LOCALE, gettext
from server.languages import LANGUAGES, is_supported
from server.permissions import Action
from server.templating import render
from server.throttle import client_address

router = APIRouter(tags=["hall"])
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
HELP_FORM = "return-to-work-plan"
"""The form the chatbot offers when it has no good answer: a consultation request."""


def language_of(request: Request, lang: str) -> str:
    """The language asked for (``?lang=``), else the page's interface language."""
    if is_supported(lang):
        return lang
    locale = getattr(request.state, "locale", None)
    return locale if isinstance(locale, str) and is_supported(locale) else DEFAULT_LOCALE


async def _shown_pages(db: AsyncSession, hall: HallDep, language: str
                       ) -> list[tuple[HallPage, ShownPage]]:
    pages = await hall_repo.list_pages(db)
    texts = await hall_repo.texts_of(db, [p.id for p in pages])
    found = []
    for page in pages:
        shown = await hall.texts.shown(page, texts[page.id], language)
        if shown is not None:
            found.append((page, shown))
    return found


def _common(language: str, **extra: object) -> dict[str, object]:
    return {"lang": language, "language": language, "languages": LANGUAGES,
            "chatbot_lang": language,
            "help_form": f"/hall/forms/{HELP_FORM}?lang={language}", **extra}


@router.get("/hall")
async def hall_page(request: Request, db: DbDep, hall: HallDep,
                    lang: Annotated[str, Query(max_length=16)] = "") -> Response:
    language = language_of(request, lang)
    return render(request, "hall.html", _common(
        language, pages=await _shown_pages(db, hall, language)))


@router.get("/hall/search")
async def search_page(request: Request, db: DbDep, hall: HallDep,
                      q: Annotated[str, Query(max_length=500)] = "",
                      lang: Annotated[str, Query(max_length=16)] = "") -> Response:
    language = language_of(request, lang)
    content = await hall.content.get(db)
    results = await hall.chatbot.search(content, q, language) if q.strip() else []
    return render(request, "hall_search.html", _common(language, q=q, results=results))


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    language: str = Field(default="", max_length=16)


@router.post("/hall/ask")
async def ask(request: Request, question: Question, db: DbDep, hall: HallDep
              ) -> dict[str, object]:
    """The chatbot's answer to one question, as JSON (see `server.hall.chatbot.Answer`)."""
    await hall.ask_limit.hit(client_address(request))
    language = language_of(request, question.language)
    content = await hall.content.get(db)
    return (await hall.chatbot.ask(content, question.question, language)).to_json()


@router.get("/hall/forms/{slug}")
async def form_preview(request: Request, slug: str, db: DbDep, kit: KitDep,
                       lang: Annotated[str, Query(max_length=16)] = "") -> Response:
    """What a form asks, in the reader's language, and how to get it: a counselor sends each
    person their own link (`docs/forms.md`)."""
    language = language_of(request, lang)
    form = await forms_repo.find_form(db, slug)
    if form is None or form.archived:
        raise NotFound("no such form")
    version = await forms_repo.current_version(db, form)
    shown = await kit.texts.shown(version.id, forms_repo.spec_of(version), language)
    return render(request, "hall_form.html", _common(language, form=shown, slug=slug))


@router.get("/hall/{slug}")
async def program_page(request: Request, slug: str, db: DbDep, hall: HallDep, kit: KitDep,
                       lang: Annotated[str, Query(max_length=16)] = "") -> Response:
    language = language_of(request, lang)
    page = await hall_repo.find_page(db, slug)
    if page is None or not page.published:
        raise NotFound("no such page")
    texts = (await hall_repo.texts_of(db, [page.id]))[page.id]
    shown = await hall.texts.shown(page, texts, language)
    if shown is None:
        raise NotFound("no such page")
    form_title = ""
    form = await forms_repo.find_form(db, page.form_slug) if page.form_slug else None
    if form is not None and not form.archived:
        version = await forms_repo.current_version(db, form)
        form_title = (await kit.texts.shown(version.id, forms_repo.spec_of(version),
                                            language)).title.text
    return render(request, "hall_page.html", _common(
        language, page=page, shown=shown, form_title=form_title,
        written_in=[t.language for t in texts]))


# ---- staff: writing the hall -------------------------------------------------------------------


@router.get("/staff/hall")
async def staff_hall(request: Request, db: DbDep, staff: StaffDep) -> Response:
    require(staff, Action.EDIT_HALL)
    pages = await hall_repo.list_pages(db, include_unpublished=True)
    texts = await hall_repo.texts_of(db, [p.id for p in pages])
    return render(request, "hall_staff.html", {"staff": staff, "pages": pages, "texts": texts,
                                               "languages": LANGUAGES})


def _editor(request: Request, staff: object, page: HallPage | None, language: str, *,
            title: str = "", summary: str = "", body: str = "", slug: str = "",
            source: object = None, problems: list[str] | None = None, saved: bool = False,
            status: int = 200) -> Response:
    return render(request, "hall_edit.html", {
        "staff": staff, "page": page, "language": language, "languages": LANGUAGES,
        "title": title, "summary": summary, "body": body, "slug": slug, "source": source,
        "preview": render_markdown(body) if body else "", "problems": problems or [],
        "saved": saved}, status_code=status)


@router.get("/staff/hall/new")
async def new_page(request: Request, staff: StaffDep) -> Response:
    require(staff, Action.EDIT_HALL)
    return _editor(request, staff, None, DEFAULT_LOCALE)


def _problems(language: str, title: str) -> list[str]:
    problems = []
    if not is_supported(language):
        problems.append(gettext("Choose one of the languages offered."))
    if not title.strip():
        problems.append(gettext("Give the page a title."))
    return problems


@router.post("/staff/hall", dependencies=[CsrfDep])
async def create_page(
    request: Request, db: DbDep, staff: StaffDep,
    slug: Annotated[str, Form(max_length=64)],
    language: Annotated[str, Form(max_length=16)],
    title: Annotated[str, Form(max_length=200)],
    summary: Annotated[str, Form(max_length=500)] = "",
    body: Annotated[str, Form(max_length=100_000)] = "",
    position: Annotated[int, Form(ge=0, le=10_000)] = 0,
    form_slug: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    require(staff, Action.EDIT_HALL)
    problems = _problems(language, title)
    if not SLUG.fullmatch(slug):
        problems.append(gettext(
            "Use 2-63 lowercase letters, digits and dashes for the short name."))
    elif await hall_repo.find_page(db, slug) is not None:
        problems.append(gettext("A page named %(slug)s exists.") % {"slug": slug})
    if problems:
        return _editor(request, staff, None, language, title=title, summary=summary,
                       body=body, slug=slug, problems=problems, status=400)
    page = await hall_repo.create_page(db, slug=slug, language=language, position=position,
                                       form_slug=form_slug.strip())
    await hall_repo.save_text(db, page, language=language, title=title.strip(),
                              summary=summary.strip(), body=body, updated_by=staff.id)
    return RedirectResponse(f"/staff/hall/{page.id}?lang={language}&saved=1", status_code=303)


@router.get("/staff/hall/{page_id}")
async def edit_page(request: Request, page_id: str, db: DbDep, staff: StaffDep,
                    lang: Annotated[str, Query(max_length=16)] = "",
                    saved: Annotated[str, Query(max_length=4)] = "") -> Response:
    require(staff, Action.EDIT_HALL)
    page = await hall_repo.get_page(db, page_id)
    language = lang if is_supported(lang) else page.language
    text = await hall_repo.text_of(db, page.id, language)
    source = None if language == page.language else await hall_repo.text_of(
        db, page.id, page.language)
    return _editor(request, staff, page, language, title=text.title if text else "",
                   summary=text.summary if text else "", body=text.body if text else "",
                   slug=page.slug, source=source, saved=bool(saved))


@router.post("/staff/hall/{page_id}", dependencies=[CsrfDep])
async def save_page(
    request: Request, page_id: str, db: DbDep, staff: StaffDep,
    language: Annotated[str, Form(max_length=16)],
    title: Annotated[str, Form(max_length=200)],
    summary: Annotated[str, Form(max_length=500)] = "",
    body: Annotated[str, Form(max_length=100_000)] = "",
    position: Annotated[int, Form(ge=0, le=10_000)] = 0,
    form_slug: Annotated[str, Form(max_length=64)] = "",
    published: Annotated[bool, Form()] = False,
) -> Response:
    require(staff, Action.EDIT_HALL)
    page = await hall_repo.get_page(db, page_id)
    problems = _problems(language, title)
    if problems:
        return _editor(request, staff, page, language, title=title, summary=summary,
                       body=body, slug=page.slug, problems=problems, status=400)
    await hall_repo.update_page(db, page, position=position, form_slug=form_slug.strip(),
                                published=published)
    await hall_repo.save_text(db, page, language=language, title=title.strip(),
                              summary=summary.strip(), body=body, updated_by=staff.id)
    return RedirectResponse(f"/staff/hall/{page.id}?lang={language}&saved=1", status_code=303)
