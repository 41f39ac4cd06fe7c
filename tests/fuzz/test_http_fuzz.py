"""Every HTTP route, fuzzed with schemathesis against a live server: no request may get a 5xx.

The schema is the app's own OpenAPI document. Each operation gets schema-valid and invalid
cases (positive and negative generation), sent anonymously and as signed-in staff with a valid
CSRF token (so forms reach their handlers), with path parameters that are sometimes the ids of
real rooms, invitations, forms, submissions and attachments. Routes that read their form body
themselves (the form-filling pages: no body in the schema) also get random form and multipart
bodies; every path also gets methods it does not declare.

Reproducible: derandomized, no example database. `COUNSEL_FUZZ_HTTP_EXAMPLES` runs longer."""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation

from tests.app.forms_support import PDF, VOCATIONAL, Worker, database, form_ids, send_link
from tests.conftest import app_settings, staff_browser
from tests.live import Browser, LiveServer

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("COUNSEL_FUZZ_HTTP_EXAMPLES", "100"))
LIMITLESS = 1_000_000
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http-fuzz")


@pytest.fixture(scope="module")
def fuzz_server(root: Path) -> Iterator[LiveServer]:
    url = database(root)
    server = LiveServer(app_settings(
        url, data_dir=root, form_attachment_max_mb=1,
        join_limit_per_address=f"{LIMITLESS} per minute",
        login_limit_per_address=f"{LIMITLESS} per minute",
        login_limit_per_account=f"{LIMITLESS} per minute")).start()
    yield server
    server.stop()


@dataclass
class Identity:
    """Who sends a request: their cookies and CSRF token (none for a stranger)."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""


@dataclass
class World:
    """Real things on the server, for path parameters that name them."""

    identities: list[Identity]
    ids: dict[str, list[str]]


def build_world(live: LiveServer, root: Path) -> World:
    counselor = staff_browser(live)
    room_id = counselor.create_room(title="HTTP fuzz")
    link, code = counselor.invite(room_id)
    worker = Browser(live.url)
    worker.join(link, code)
    forms = form_ids(counselor)
    form_path = send_link(counselor, forms["vocational-training"])
    filler = Worker(live, form_path)
    attachment = filler.upload("medical_certificate", "c.pdf", PDF).json()["id"]
    submission = filler.submit(VOCATIONAL, filler.draft_id()).json()["submission_id"]
    with sqlite3.connect(root / "counsel.db") as db:
        staff_ids = [row[0] for row in db.execute("SELECT id FROM staff_users")]
    ids = {
        "room_id": [room_id], "staff_id": staff_ids, "form_id": list(forms.values()),
        "submission_id": [submission], "attachment_id": [attachment],
        "token": [link.rsplit("/", 1)[1], form_path.split("/")[2]],
        "extension": ["txt", "csv", "json", "pdf", "docx", "html", ""],
    }
    identities = [Identity("stranger"), signed_in(worker, "worker")]
    for who, weight in (("admin", 3), ("counselor", 3), ("interpreter", 1)):
        identities += [signed_in(staff_browser(live, who), who)] * weight  # staff reach more
    return World(identities, ids)


def signed_in(browser: Browser, name: str) -> Identity:
    csrf = browser.csrf("/staff/login")
    return Identity(name, dict(browser.http.cookies), csrf)


def operations(live: LiveServer) -> list[APIOperation]:
    app = live.server.config.app
    schema = schemathesis.openapi.from_dict(app.openapi())
    return [result.ok() for result in schema.get_all_operations()]


def case_strategy(operation: APIOperation) -> st.SearchStrategy[Any]:
    modes = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        modes.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return st.one_of(modes)


@dataclass
class Findings:
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def check(self, label: str, response: Any, sent: str) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.server_errors.append(f"{label}: {response.status_code} for {sent[:300]}")


def fuzz_operation(live: LiveServer, world: World, operation: APIOperation,
                   findings: Findings) -> None:
    no_body = operation.method.upper() in ("POST", "PUT") and not operation.body
    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=case_strategy(operation), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        who = data.draw(st.sampled_from(world.identities))
        for name in list(case.path_parameters or {}):
            real = world.ids.get(name)
            if real and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(real))
        if isinstance(case.body, dict) and who.csrf and data.draw(st.integers(0, 4)):
            case.body["csrf_token"] = who.csrf
        response = case.call(base_url=live.url, cookies=who.cookies, allow_redirects=False,
                             headers={"x-csrf-token": who.csrf}, timeout=30)
        findings.check(label, response, f"{who.name} {case.path_parameters} {case.query} "
                                        f"{case.body!r}")
        if no_body:
            send_raw_body(live, case, who, data, findings, label)

    run()


form_fields = st.dictionaries(
    st.sampled_from([*VOCATIONAL, "draft_id", "field", "language", "text", "status", "x"]),
    st.one_of(st.text(max_size=30), st.sampled_from(["", "yes", "no", "-1", "1e999", "\x00"])),
    max_size=8)
files = st.dictionaries(
    st.sampled_from(["file", "medical_certificate", "x"]),
    st.tuples(st.text(max_size=20), st.one_of(st.binary(max_size=64), st.just(PDF)),
              st.sampled_from(["application/pdf", "image/png", "text/plain", "", "a/b"])),
    max_size=2)


def send_raw_body(live: LiveServer, case: Any, who: Identity, data: st.DataObject,
                  findings: Findings, label: str) -> None:
    """A route that reads its form itself: a random form, with files or not."""
    form = {"csrf_token": who.csrf, **data.draw(form_fields)}
    attached = data.draw(files)
    url = live.url + case.formatted_path
    response = requests.request(case.method, url, data=form, files=attached or None,
                                cookies=who.cookies, allow_redirects=False, timeout=30)
    findings.check(label + " (form body)", response, f"{who.name} {url} {form} {attached}")


def test_no_http_route_answers_5xx(fuzz_server: LiveServer, root: Path) -> None:
    world = build_world(fuzz_server, root)
    findings = Findings()
    began = time.monotonic()
    every = operations(fuzz_server)
    for operation in every:
        fuzz_operation(fuzz_server, world, operation, findings)
    for path in sorted({operation.path for operation in every}):
        concrete = path.replace("{", "").replace("}", "")
        for method in METHODS:
            response = requests.request(method, fuzz_server.url + concrete, timeout=30,
                                        allow_redirects=False)
            findings.check(f"{method} {path}", response, "undeclared method")
    elapsed = time.monotonic() - began
    print(f"\n{findings.requests} requests over {len(every)} operations in {elapsed:.0f} s: "
          f"{sorted(findings.statuses.items())}")
    assert len(every) >= 50
    assert findings.server_errors == []
