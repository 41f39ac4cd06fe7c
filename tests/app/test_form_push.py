"""Forms pushed into a room, over the real room socket of a live server: the counselor pushes a
form to a worker, the worker's page gets it with their own link (again after reconnecting),
the counselor is told when it is sent; only staff push, only to workers, and a worker sees
their own pushes only; a removed worker's link stops working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.forms_support import PDF, VOCATIONAL, Worker, counselor, database, start
from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root: Path = tmp_path_factory.mktemp("form-push")
    server = start(database(root), root)
    yield server
    server.stop()


def _admitted_worker(live: LiveServer, staff: Browser, host: Socket, room_id: str,
                     name: str) -> tuple[Socket, str, Browser]:
    link, code = staff.invite(room_id, "worker", label=name)
    browser = Browser(live.url)
    assert browser.join(link, code, name=name, language="vi").status_code == 200
    worker = Socket(live.url, room_id, browser.room(room_id).token)
    me = worker.expect("welcome")["you"]["id"]
    host.send({"type": "lobby.admit", "participant_id": me})
    worker.expect("lobby.admitted", participant_id=me)
    return worker, me, browser


def _room(live: LiveServer) -> tuple[Browser, str, Socket, str]:
    staff = counselor(live)
    room_id = staff.create_room()
    access = staff.enter(room_id)
    host = Socket(live.url, room_id, access.token)
    host.expect("welcome")
    return staff, room_id, host, access.participant_id


def _sync(socket: Socket) -> dict[str, Any]:
    socket.send({"type": "form.sync"})
    return socket.expect("form.pushes")


def _form_id(host: Socket, title: str = "Application for vocational training") -> str:
    forms = {f["title"]: str(f["id"]) for f in _sync(host)["forms"]}
    return forms[title]


def test_pushed_form_reaches_the_worker_and_the_counselor_sees_it_sent(
        live: LiveServer) -> None:
    staff, room_id, host, _ = _room(live)
    worker, worker_id, browser = _admitted_worker(live, staff, host, room_id, "Tran Thi Mai")
    form_id = _form_id(host)
    assert _sync(worker) == {"v": 1, "type": "form.pushes", "pushes": [], "forms": []}

    host.send({"type": "form.push", "participant_id": worker_id, "form_id": form_id})
    pushed = worker.expect("form.pushed")["push"]
    assert pushed["title"] == "Đơn đăng ký học nghề", "in the worker's language"
    assert pushed["url"].startswith("/f/") and pushed["submitted_at"] is None
    seen_by_host = host.expect("form.pushed")["push"]
    assert seen_by_host["participant_name"] == "Tran Thi Mai"
    assert seen_by_host["url"] == "" and seen_by_host["pushed_by"] == "Counselor Kim"

    host.send({"type": "form.push", "participant_id": worker_id, "form_id": form_id})
    assert worker.expect("form.pushed")["push"]["id"] == pushed["id"], "pushed twice: one ask"

    worker.close()  # the page reloads: nothing lost
    again = Socket(live.url, room_id, browser.room(room_id).token)
    again.expect("welcome")
    [kept] = _sync(again)["pushes"]
    assert kept["id"] == pushed["id"] and kept["url"].startswith("/f/")

    phone = Worker(live, kept["url"])
    draft_id = phone.draft_id()
    assert phone.upload("medical_certificate", "certificate.pdf", PDF).status_code == 201
    sent = phone.submit(VOCATIONAL, draft_id=draft_id)
    assert sent.status_code == 201, sent.text
    told = host.expect("form.submitted")["push"]
    submission_id = sent.json()["submission_id"]
    assert told["submission_id"] == submission_id
    assert told["url"] == f"/staff/submissions/{submission_id}"
    assert again.expect("form.submitted")["push"]["submitted_at"] is not None
    review = staff.http.get(told["url"])
    assert review.status_code == 200 and "Tran Thi Mai" in review.text

    later = staff_browser(live, "admin")  # staff who join later see what happened
    admin = Socket(live.url, room_id, later.enter(room_id).token)
    admin.expect("welcome")
    [done] = _sync(admin)["pushes"]
    assert done["submission_id"] == submission_id and done["url"] == told["url"]


def test_only_staff_push_and_only_to_workers(live: LiveServer) -> None:
    staff, room_id, host, host_id = _room(live)
    worker, worker_id, _ = _admitted_worker(live, staff, host, room_id, "Nguyen Van An")
    other, other_id, _ = _admitted_worker(live, staff, host, room_id, "Le Thi Hoa")
    form_id = _form_id(host)

    worker.send({"type": "form.push", "participant_id": other_id, "form_id": form_id})
    assert worker.expect("error")["code"] == "forbidden"
    host.send({"type": "form.push", "participant_id": host_id, "form_id": form_id})
    assert host.expect("error")["code"] == "forbidden", "staff do not fill forms"
    host.send({"type": "form.push", "participant_id": "nobody", "form_id": form_id})
    assert host.expect("error")["code"] == "not_found"
    host.send({"type": "form.push", "participant_id": worker_id, "form_id": "no-such-form"})
    assert host.expect("error")["code"] == "not_found"

    host.send({"type": "form.push", "participant_id": worker_id, "form_id": form_id})
    worker.expect("form.pushed")
    other.send({"type": "ping", "nonce": "after"})
    other.expect("pong", nonce="after")
    assert not [m for m in other.seen if m["type"].startswith("form.")], "not theirs"
    assert _sync(other)["pushes"] == [], "a worker sees their own pushes only"
    assert len(_sync(host)["pushes"]) == 1


def test_a_removed_workers_link_stops_working(live: LiveServer) -> None:
    staff, room_id, host, _ = _room(live)
    worker, worker_id, _ = _admitted_worker(live, staff, host, room_id, "Pham Van Long")
    host.send({"type": "form.push", "participant_id": worker_id, "form_id": _form_id(host)})
    url = worker.expect("form.pushed")["push"]["url"]
    phone = Worker(live, url)
    assert phone.page().status_code == 200
    host.send({"type": "participant.remove", "participant_id": worker_id})
    worker.expect("participant.removed")
    assert phone.page().status_code == 403
    assert phone.save_draft({"full_name": "x"}).status_code == 403
