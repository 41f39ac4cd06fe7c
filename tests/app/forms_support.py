"""Helpers of the forms tests: a live server with the example forms loaded and its own data
directory, staff sending a form link, a worker filling it over HTTP, small valid files."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from rooms.migrate import upgrade
from server.cli_forms import load_into
from server.settings import Settings
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import OPEN, Browser, LiveServer

FORM_LINK = re.compile(r'id="form-link" readonly value="([^"]+)"')
FORM_ROW = re.compile(r'data-form-id="(\w+)" data-slug="([\w-]+)"')
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def database(root: Path) -> str:
    url = f"sqlite+aiosqlite:///{root / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    asyncio.run(load_into(Settings(database_url=url)))
    return url


def settings_for(url: str, root: Path, **overrides: object) -> Settings:
    return app_settings(url, data_dir=root, form_attachment_max_mb=1, **overrides)


def start(url: str, root: Path, **overrides: object) -> LiveServer:
    return LiveServer(settings_for(url, root, **overrides)).start()


def form_ids(staff: Browser) -> dict[str, str]:
    page = staff.http.get("/staff/forms")
    assert page.status_code == 200, page.text[:300]
    return {slug: form_id for form_id, slug in FORM_ROW.findall(page.text)}


def send_link(staff: Browser, form_id: str, name: str = "Nguyen Van An",
              language: str = "vi", **extra: str) -> str:
    """Staff create a form link for a worker; returns its path (/f/...)."""
    page = staff.post_form(f"/staff/forms/{form_id}/links",
                           {"name": name, "language": language, **extra},
                           form_page=f"/staff/forms/{form_id}/send")
    assert page.status_code == 200, page.text[:500]
    found = FORM_LINK.search(page.text)
    assert found, page.text[:500]
    return "/f/" + found.group(1).split("/f/", 1)[1]


@dataclass
class Worker:
    """A worker's phone: no account, only the link."""

    live: LiveServer
    path: str

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.live.url, timeout=20, follow_redirects=True)
        OPEN.append(self)  # type: ignore[arg-type]

    def close(self) -> None:
        self.http.close()

    def page(self, lang: str = "") -> httpx.Response:
        return self.http.get(self.path, params={"lang": lang} if lang else None)

    def draft_id(self) -> str:
        found = re.search(r'name="draft_id" value="(\w+)"', self.page().text)
        assert found
        return found.group(1)

    def save_draft(self, answers: dict[str, Any]) -> httpx.Response:
        return self.http.put(f"{self.path}/draft", json={"answers": answers})

    def upload(self, field: str, name: str, data: bytes, mime: str = "application/pdf"
               ) -> httpx.Response:
        return self.http.post(f"{self.path}/attachments", data={"field": field},
                              files={"file": (name, data, mime)},
                              headers={"accept": "application/json"})

    def submit(self, answers: dict[str, str], draft_id: str = "",
               files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
        return self.http.post(self.path, data={"draft_id": draft_id, **answers},
                              files=files or None, headers={"accept": "application/json"})


VOCATIONAL = {
    "full_name": "Nguyen Van An", "birth_date": "1988-04-12", "phone": "010-1234-5678",
    "former_job": "construction", "treatment_finished": "yes", "course_field": "welding",
    "hours_per_week": "20", "consent": "yes",
}


def counselor(live: LiveServer) -> Browser:
    return staff_browser(live, "counselor")
