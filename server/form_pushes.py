"""Forms pushed into a room: a counselor picks a form and a worker in the session; the worker's
page opens it beside the video (a sheet on a phone) through their own form link, and the
counselor's page is told the moment it is sent.

In: `form.push` and `form.sync` from room sockets, and a stored submission (from the form
link's submit, `server/routes/forms_fill.py`). Out: `form.pushed`, `form.pushes`,
`form.submitted` on the room's bus, the worker's copy with their link, the hosts' with the
review page. Every push is a row (`rooms.form_pushes`), so a worker who reconnects, or staff
who join later, get them all again with `form.sync`."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import form_pushes as pushes_repo
from rooms import forms as forms_repo
from rooms import participants as participants_repo
from rooms import submissions as submissions_repo
from rooms.errors import Conflict, DomainError
from rooms.form_models import FormDefinition, FormPush, Submission, Submitter
from rooms.models import Admission, Participant, utcnow
from server.events import HOSTS, to_participant
from server.forms.links import FormClaims, FormLinks, form_path
from server.permissions import Action, Role, allowed, role_in_room
from server.services import Services
from server.ws import protocol as p

log = logging.getLogger(__name__)


class NotAWorker(DomainError):
    code = "forbidden"


class FormPushes:
    def __init__(self, services: Services) -> None:
        self._services = services
        settings = services.settings
        self._links = FormLinks(settings.secret_key.get_secret_value())
        self._link_days = settings.form_link_days

    async def push(self, *, room_id: str, by_participant_id: str, participant_id: str,
                   form_id: str) -> None:
        """Store the push (or find the one still waiting) and tell the worker and the hosts."""
        async with self._services.transaction() as session:
            worker = await participants_repo.get_participant(session, room_id, participant_id)
            if worker.admission is not Admission.ADMITTED:
                raise Conflict("this person is not in the session")
            if not allowed(role_in_room(worker.role), Action.SUBMIT_FORM):
                raise NotAWorker("forms are pushed to workers only")
            form = await forms_repo.get_form(session, form_id)
            if form.archived:
                raise Conflict("this form is no longer in use")
            host = await participants_repo.get_participant(session, room_id, by_participant_id)
            submitter = await self._submitter(session, worker, host)
            row, _ = await pushes_repo.push(
                session, room_id=room_id, participant_id=worker.id, form_id=form.id,
                submitter_id=submitter.id, pushed_by=host.display_name)
            mine = await self._item(session, row, worker, submitter.language, for_worker=True)
            theirs = await self._item(session, row, worker, "", for_worker=False)
        events = self._services.events
        await events.send(room_id, to_participant(worker.id), p.FormPushed(push=mine))
        await events.send(room_id, HOSTS, p.FormPushed(push=theirs))

    async def snapshot(self, *, room_id: str, participant_id: str, role: Role) -> p.FormPushes:
        """What `form.sync` answers: a worker's own pushes; to staff, all and the forms."""
        staff = allowed(role, Action.SEND_FORM_LINK)
        async with self._services.sessions() as session:
            rows = await pushes_repo.of_room(session, room_id, None if staff else participant_id)
            people = {x.id: x for x in await participants_repo.list_participants(session,
                                                                               room_id)}
            items = []
            for row in rows:
                language = ""
                if not staff:
                    language = (await submissions_repo.get_submitter(session,
                                                                     row.submitter_id)).language
                items.append(await self._item(session, row, people[row.participant_id],
                                              language, for_worker=not staff))
            forms = ([p.FormChoice(id=f.id, title=f.title)
                      for f in await forms_repo.list_forms(session)] if staff else [])
        return p.FormPushes(pushes=items, forms=forms)

    async def submitted(self, submission_id: str) -> None:
        """A submission was stored: the pushes it answers are marked sent, and the hosts (with
        the review page) and the worker are told. Run after the worker's answer left: a failure
        here is logged, never theirs (the submission is stored; `form.sync` shows it sent once
        the push is marked)."""
        try:
            await self._submitted(submission_id)
        except Exception:
            log.exception("could not tell the room that submission %s arrived", submission_id)

    async def _submitted(self, submission_id: str) -> None:
        async with self._services.transaction() as session:
            submission = await session.get(Submission, submission_id)
            if submission is None:
                return
            submitter = await submissions_repo.get_submitter(session, submission.submitter_id)
            told = []
            for row in await pushes_repo.answered_by(session, submission):
                worker = await participants_repo.get_participant(session, row.room_id,
                                                                 row.participant_id)
                told.append((row.room_id, worker.id,
                             await self._item(session, row, worker, "", for_worker=False),
                             await self._item(session, row, worker, submitter.language,
                                              for_worker=True)))
        for room_id, worker_id, theirs, mine in told:
            await self._services.events.send(room_id, HOSTS, p.FormSubmitted(push=theirs))
            await self._services.events.send(room_id, to_participant(worker_id),
                                             p.FormSubmitted(push=mine))

    async def _submitter(self, session: AsyncSession, worker: Participant,
                         host: Participant) -> Submitter:
        existing = await submissions_repo.submitter_of_participant(session, worker.id)
        if existing is not None:
            return existing
        if host.staff_id is None:
            raise NotAWorker("only staff push forms")
        return await submissions_repo.create_submitter(
            session, display_name=worker.display_name,
            language=participants_repo.reading_language(worker) or worker.language or "en",
            created_by=host.staff_id, participant_id=worker.id)

    async def _item(self, session: AsyncSession, row: FormPush, worker: Participant,
                    language: str, *, for_worker: bool) -> p.FormPushItem:
        form = await forms_repo.get_form(session, row.form_id)
        if for_worker:
            url = self._worker_url(row)
            title = await _title(session, form, language)
        else:
            url = f"/staff/submissions/{row.submission_id}" if row.submission_id else ""
            title = form.title
        return p.FormPushItem(
            id=row.id, form_id=row.form_id, title=title, participant_id=worker.id,
            participant_name=worker.display_name, pushed_by=row.pushed_by,
            pushed_at=row.pushed_at, submission_id=row.submission_id,
            submitted_at=row.submitted_at, url=url)

    def _worker_url(self, row: FormPush) -> str:
        expires = utcnow() + timedelta(days=self._link_days)
        return form_path(self._links.token(FormClaims(row.submitter_id, row.form_id), expires))


async def _title(session: AsyncSession, form: FormDefinition, language: str) -> str:
    spec = forms_repo.spec_of(await forms_repo.current_version(session, form))
    stored = spec.translations.get(language)
    return stored.title if stored is not None and stored.title else spec.title
