"""Attacks on invitations, tried as an attacker would, with real parallel requests (issue 13,
items 4 and 5): a raced code lock, a replayed invitation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import staff_browser
from tests.live import Browser, LiveServer, Socket


def _path(link: str) -> str:
    return "/" + link.split("127.0.0.1", 1)[1].split("/", 1)[1]


def _form(csrf: str, code: str, name: str = "Nguyen Van An") -> dict[str, str]:
    return {"csrf_token": csrf, "name": name, "code": code, "language": "en",
            "transcription": "yes"}


async def _post_all(base: str, path: str, requests: list[tuple[httpx.Cookies, dict[str, Any]]]
                    ) -> list[httpx.Response]:
    """Every form posted at once, each with its own browser's cookies."""
    clients = [httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60)
               for cookies, _ in requests]
    try:
        return list(await asyncio.gather(*(
            client.post(path, data=form) for client, (_, form) in zip(clients, requests,
                                                                       strict=True))))
    finally:
        for client in clients:
            await client.aclose()


def _wrong_codes(code: str, count: int) -> list[str]:
    return [f"{(int(code) + i) % 10**6:06d}" for i in range(1, count + 1)]


def test_parallel_wrong_codes_cannot_outrun_the_lock(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    path = _path(link)
    attacker = Browser(live.url)
    csrf = attacker.csrf(path)
    burst = [(attacker.http.cookies, _form(csrf, wrong)) for wrong in _wrong_codes(code, 40)]
    answers = asyncio.run(_post_all(live.url, path, burst))
    assert all(a.status_code in (400, 403) for a in answers), [a.status_code for a in answers]
    checked = [a for a in answers if "code is not right" in a.text]
    assert 1 <= len(checked) <= 5, len(checked)
    right = attacker.http.post(path, data=_form(csrf, code))
    assert right.status_code == 403 and "can no longer be used" in right.text


def test_a_used_invitation_cannot_be_claimed_by_another_browser(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    host = Socket(live.url, room_id, counselor.enter(room_id).token)
    host.expect("welcome")
    link, code = counselor.invite(room_id)
    thief = Browser(live.url)
    thief_csrf = thief.csrf(_path(link))  # a forwarded link, opened before the worker joined
    worker = Browser(live.url)
    worker.join(link, code, name="Nguyen Van An")
    mine = worker.room(room_id)
    host.send({"type": "lobby.admit", "participant_id": mine.participant_id})
    host.expect("lobby.admitted", participant_id=mine.participant_id)

    stolen = thief.http.post(_path(link), data=_form(thief_csrf, code, name="Someone Else"))
    assert stolen.status_code == 409 and "already been used" in stolen.text
    assert thief.http.get(f"/rooms/{room_id}").status_code == 403
    assert thief.http.get(_path(link)).status_code == 409
    people = counselor.http.get(f"/staff/rooms/{room_id}").text
    assert "Nguyen Van An" in people and "Someone Else" not in people

    # the browser that claimed it comes back as itself, and re-posting renames nobody
    assert worker.room(room_id).participant_id == mine.participant_id
    again = worker.http.post(_path(link), data=_form(worker.csrf("/staff/login"), code,
                                                     name="Renamed Person"))
    assert again.status_code == 200 and mine.participant_id in again.text
    assert "Renamed Person" not in counselor.http.get(f"/staff/rooms/{room_id}").text


def test_parallel_first_claims_admit_one_browser(live: LiveServer) -> None:
    counselor = staff_browser(live)
    room_id = counselor.create_room()
    link, code = counselor.invite(room_id)
    path = _path(link)
    browsers = [Browser(live.url) for _ in range(8)]
    claims = [(b.http.cookies, _form(b.csrf(path), code, name=f"Person {i}"))
              for i, b in enumerate(browsers)]
    answers = asyncio.run(_post_all(live.url, path, claims))
    codes = sorted(a.status_code for a in answers)  # 403: all tries were taken at that moment
    assert codes[0] == 303 and all(c in (403, 409) for c in codes[1:]), codes
    winners = [b for b, a in zip(browsers, answers, strict=True) if a.status_code == 303]
    for browser, answer in zip(browsers, answers, strict=True):
        browser.http.cookies.update(answer.cookies)
    assert winners[0].http.get(f"/rooms/{room_id}").status_code == 200
    people = counselor.http.get(f"/staff/rooms/{room_id}").text
    assert sum(f"Person {i}<" in people for i in range(8)) == 1
