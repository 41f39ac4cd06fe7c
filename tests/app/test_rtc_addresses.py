"""Issue 13, item 3, through the room socket of a live server: a participant's `rtc.offer` and
trickled `rtc.candidate`s naming internal, link-local and metadata addresses make the server
send no ICE check there; trickled ones get `address_not_allowed`; the call still connects.
The server allows 10.20.0.0/16 (the agency's LAN, `COUNSEL_RTC_ALLOWED_NETWORKS`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from rooms.migrate import upgrade
from server.media_rooms import ice_config
from tests.app.test_rtc_signaling import RtcClient, eventually, services_of
from tests.conftest import app_settings, seed_staff, staff_browser
from tests.live import LiveServer
from tests.rtc import ice_probe
from tests.rtc.conftest import MediaFiles, make_media_files
from tests.rtc.ice_probe import ATTACK_LINES, REFUSED_HOSTS, IceProbe, candidate_line


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'counsel.db'}"
    upgrade(url)
    seed_staff(url)
    settings = app_settings(url, rtc_host_addresses=["127.0.0.1"], rtc_ice_timeout_s=10.0,
                            rtc_allowed_networks=["10.20.0.0/16"])
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaFiles:
    return make_media_files(tmp_path_factory.mktemp("media"))


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> IceProbe:
    return ice_probe.install(monkeypatch)


@pytest.fixture
async def rtc_client(live: LiveServer, media: MediaFiles
                     ) -> AsyncIterator[Callable[[str, str], RtcClient]]:
    made: list[RtcClient] = []

    def make(room_id: str, token: str) -> RtcClient:
        made.append(RtcClient(live, room_id, token, media))
        return made[-1]

    yield make
    for client in made:
        await client.close()


async def test_the_server_sends_no_ice_checks_to_addresses_a_participant_names(
    live: LiveServer, rtc_client: Callable[[str, str], RtcClient], probe: IceProbe
) -> None:
    counselor = await asyncio.to_thread(staff_browser, live)
    room_id = await asyncio.to_thread(counselor.create_room, auto_admit=True)
    token = (await asyncio.to_thread(counselor.enter, room_id)).token
    client = rtc_client(room_id, token)
    await client.open()
    await client.expect("rtc.config")

    await client.pc.setLocalDescription(await client.pc.createOffer())
    offer = ice_probe.trickling(
        ice_probe.with_candidates(client.pc.localDescription.sdp, ATTACK_LINES))
    await client.send({"type": "rtc.offer", "sdp": offer})
    await client.expect("rtc.answer")
    for line in ATTACK_LINES:
        await client.send({"type": "rtc.candidate", "candidate": line, "sdp_mid": "0"})
        error = await client.expect("error", ref="rtc.candidate")
        assert error["code"] == "address_not_allowed", line
    lan = candidate_line(50, "10.20.1.1", 40050)  # in the operator's allowed network
    await client.send({"type": "rtc.candidate", "candidate": lan, "sdp_mid": "0"})
    await client.expect("rtc.state", participant_id=client.me, state="connected")
    await eventually(lambda: "10.20.1.1" in probe.handed, within=5)

    assert probe.checked(REFUSED_HOSTS) == [], "checks towards refused hosts"
    assert probe.reached(REFUSED_HOSTS) == [], "refused hosts reached aioice"
    assert "127.0.0.1" in probe.paired, "the client's own loopback candidate is kept"
    assert services_of(live).media.counts(room_id).peers == 1


def test_networks_come_from_the_environment_as_cidr_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("COUNSEL_RTC_ALLOWED_NETWORKS", "10.20.0.0/16, fd42:1::/48")
    monkeypatch.setenv("COUNSEL_RTC_DENIED_NETWORKS", "10.20.9.0/24")
    settings = app_settings(url)
    assert settings.rtc_allowed_networks == ["10.20.0.0/16", "fd42:1::/48"]
    policy = ice_config(settings).address_policy()
    assert policy.allows("10.20.1.1") and policy.allows("fd42:1::5")
    assert not policy.allows("10.20.9.1") and not policy.allows("10.21.0.1")
    assert not policy.allows("127.0.0.1"), "no loopback unless the server gathers on it"
    assert ice_config(app_settings(url, rtc_host_addresses=["127.0.0.1"])
                      ).address_policy().allows("127.0.0.1")
    with pytest.raises(ValidationError):
        app_settings(url, rtc_allowed_networks=["10.20.0.1/16"])
    with pytest.raises(ValidationError):
        app_settings(url, rtc_denied_networks="intranet")
