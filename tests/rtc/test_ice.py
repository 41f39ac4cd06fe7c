"""ICE settings: coturn shared-secret credentials, servers for browsers, loopback host addresses."""

from __future__ import annotations

import aioice.ice
import pytest

from media.rtc import IceConfig, IceServer, turn_credentials, use_host_addresses


def test_turn_credentials_follow_coturn_rest_scheme() -> None:
    # reference: echo -n "1700003600:alice" | openssl dgst -sha1 -hmac north-wind -binary | base64
    cred = turn_credentials("north-wind", "alice", 3600, now=1_700_000_000)
    assert cred.username == "1700003600:alice"
    assert cred.credential == "iRtTIZ3N38dm9S+dP+UkHfnN9Qo="
    assert cred.expires_at == 1_700_003_600


def test_browser_servers_get_fresh_turn_credentials() -> None:
    config = IceConfig(
        stun_urls=("stun:turn.example.org:3478",),
        turn_urls=("turn:turn.example.org:3478?transport=udp",),
        turn_secret="north-wind",
        turn_ttl_s=3600,
    )
    stun, turn = config.ice_servers("alice", now=1_700_000_000)
    assert stun == IceServer(("stun:turn.example.org:3478",))
    assert turn.username == "1700003600:alice"
    assert turn.credential == "iRtTIZ3N38dm9S+dP+UkHfnN9Qo="
    server_side = config.rtc_configuration("alice")
    assert [s.urls for s in server_side.iceServers] == [["stun:turn.example.org:3478"]]


def test_turn_needs_a_secret_and_addresses_must_be_ips() -> None:
    with pytest.raises(ValueError):
        IceConfig(turn_urls=("turn:turn.example.org",))
    with pytest.raises(ValueError):
        IceConfig(host_addresses=("not-an-address",))


def test_host_addresses_are_patched_and_restored() -> None:
    original = aioice.ice.get_host_addresses
    with use_host_addresses(["127.0.0.1", "::1"]):
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
    assert aioice.ice.get_host_addresses is original
    with use_host_addresses(None):
        assert aioice.ice.get_host_addresses is original
