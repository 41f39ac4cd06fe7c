"""Guessing staff passwords and invitation codes, tried as an attacker would (issue 13, item 6):
parallel guessers, one account, one address, two nodes; argon2 off the event loop."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rooms.migrate import upgrade
from server.auth import passwords
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import Browser, LiveServer


def _account(live: LiveServer) -> tuple[str, str]:
    """A counselor account of the test's own (throttling it leaves the seeded ones alone)."""
    email, password = f"guessed-{uuid.uuid4().hex[:6]}@example.org", "right-password-1"
    admin = staff_browser(live, "admin")
    created = admin.post_form("/staff/accounts", {
        "email": email, "display_name": "Guessed Person", "role": "counselor",
        "password": password})
    assert created.status_code == 200, created.text[:300]
    return email, password


async def _post_all(base: str, cookies: httpx.Cookies, path: str,
                    forms: list[dict[str, str]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client:
        return list(await asyncio.gather(*(client.post(path, data=f) for f in forms)))


def _login_form(csrf: str, email: str, password: str) -> dict[str, str]:
    return {"csrf_token": csrf, "email": email, "password": password}


def test_parallel_password_guesses_are_throttled_per_account(live: LiveServer) -> None:
    email, password = _account(live)
    attacker = Browser(live.url)
    csrf = attacker.csrf("/staff/login")
    guesses = [_login_form(csrf, email, f"guess-{i}") for i in range(40)]
    answers = asyncio.run(_post_all(live.url, attacker.http.cookies, "/staff/login", guesses))
    checked = [a for a in answers if a.status_code == 400]
    refused = [a for a in answers if a.status_code == 429]
    assert len(checked) <= 10 and len(checked) + len(refused) == 40
    assert all(int(a.headers["retry-after"]) > 0 for a in refused)
    right = attacker.http.post("/staff/login", data=_login_form(csrf, email, password),
                               follow_redirects=False)
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    assert "Too many attempts" in right.text


def test_a_success_starts_the_account_afresh(live: LiveServer) -> None:
    email, password = _account(live)
    person = Browser(live.url)
    for _ in range(3):
        assert person.login(email, "mistyped-password").status_code == 400
    assert person.login(email, password).status_code == 200
    person.post_form("/staff/logout", {}, "/staff")
    for _ in range(9):
        assert person.login(email, "mistyped-again").status_code == 400


@pytest.fixture
def own_live(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of this test's own: its address limits are spent by the test."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    server = LiveServer(app_settings(url)).start()
    yield server
    server.stop()


def test_failed_logins_are_throttled_per_address(own_live: LiveServer) -> None:
    attacker = Browser(own_live.url)
    csrf = attacker.csrf("/staff/login")
    sprayed = [_login_form(csrf, f"user{i}@example.org", "Winter2026!") for i in range(30)]
    answers = asyncio.run(_post_all(own_live.url, attacker.http.cookies, "/staff/login",
                                    sprayed))
    assert all(a.status_code in (400, 429) for a in answers)
    refused = attacker.http.post("/staff/login", data=_login_form(
        csrf, "admin@example.org", "admin-password-1"), follow_redirects=False)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_wrong_join_codes_are_throttled_per_address(own_live: LiveServer) -> None:
    counselor = staff_browser(own_live)
    room_id = counselor.create_room()
    attacker = Browser(own_live.url)
    statuses = []
    for _ in range(5):  # every invitation locks after 5; the address after 20 wrong codes
        link, code = counselor.invite(room_id)
        wrong = "000000" if code != "000000" else "111111"
        path = "/" + link.split("127.0.0.1", 1)[1].split("/", 1)[1]
        csrf = attacker.csrf(path)
        for _ in range(5):
            statuses.append(attacker.http.post(path, data={
                "csrf_token": csrf, "name": "Guess", "code": wrong, "language": "vi",
                "transcription": "yes"}))
    assert [s.status_code for s in statuses[:20]] == [400] * 20
    assert statuses[20].status_code == 429 and int(statuses[20].headers["retry-after"]) > 0
    link, code = counselor.invite(room_id)
    right = attacker.join(link, code)
    assert right.status_code == 429


@pytest.mark.redis
def test_limits_hold_across_nodes(tmp_path: Path, redis_url: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    upgrade(url)
    seed_staff(url)
    first = LiveServer(app_settings(url, redis_url=redis_url)).start()
    second = LiveServer(app_settings(url, redis_url=redis_url)).start()
    try:
        email, password = _account(first)
        on_first = Browser(first.url)
        for _ in range(10):
            assert on_first.login(email, "wrong-password").status_code == 400
        on_second = Browser(second.url)
        assert on_second.login(email, password).status_code == 429
    finally:
        first.stop()
        second.stop()


async def test_argon2_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real = passwords._hasher

    class Recording:
        def hash(self, secret: str) -> str:
            threads.append(threading.get_ident())
            return real.hash(secret)

        def verify(self, stored: str, secret: str) -> bool:
            threads.append(threading.get_ident())
            return real.verify(stored, secret)

    monkeypatch.setattr(passwords, "_hasher", Recording())
    stored = await passwords.hash_secret_async("a secret")
    assert await passwords.verify_secret_async(stored, "a secret")
    assert not await passwords.verify_secret_async(stored, "another")
    assert len(threads) == 3 and threading.get_ident() not in threads
