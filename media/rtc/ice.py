"""ICE configuration: STUN/TURN servers and coturn's shared-secret ("REST API") credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer

from media.rtc.address_policy import AddressPolicy

DEFAULT_TURN_TTL_S = 4 * 3600


@dataclass(frozen=True, slots=True)
class IceServer:
    """One entry of a browser's `RTCConfiguration.iceServers`."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class TurnCredential:
    username: str
    credential: str
    expires_at: int


def turn_credentials(
    secret: str, user_id: str, ttl_s: int, *, now: float | None = None
) -> TurnCredential:
    """coturn's `use-auth-secret` scheme.

    username = "<unix expiry>:<user_id>", credential = base64(HMAC-SHA1(secret, username)).
    """
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    expires_at = int(time.time() if now is None else now) + ttl_s
    username = f"{expires_at}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(username, base64.b64encode(digest).decode("ascii"), expires_at)


@dataclass(frozen=True, slots=True)
class IceConfig:
    """STUN/TURN servers from settings, the server's own host addresses, and the networks its
    peers may send ICE checks to.

    `host_addresses` replaces the interfaces aiortc gathers host candidates on (it skips loopback);
    it is applied process-wide with `media.rtc.hostaddr.use_host_addresses`. The server's own peer
    uses STUN only unless `server_uses_turn`. Clients' candidates are judged by
    `address_policy()`: global unicast addresses, plus `allowed_networks` (CIDR) and loopback when
    `host_addresses` include it, minus `denied_networks` (see `media.rtc.address_policy`).
    """

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl_s: int = DEFAULT_TURN_TTL_S
    host_addresses: tuple[str, ...] | None = None
    server_uses_turn: bool = False
    allowed_networks: tuple[str, ...] = ()
    denied_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.turn_urls and not self.turn_secret:
            raise ValueError("turn_urls need a turn_secret (coturn use-auth-secret)")
        if self.turn_ttl_s <= 0:
            raise ValueError("turn_ttl_s must be positive")
        for address in self.host_addresses or ():
            ipaddress.ip_address(address)
        self.address_policy()  # raises ValueError on a malformed network

    def address_policy(self) -> AddressPolicy:
        """Which client candidate addresses the server's peers may send ICE checks to."""
        return AddressPolicy.for_server(
            self.host_addresses, self.allowed_networks, self.denied_networks
        )

    def ice_servers(self, user_id: str, *, now: float | None = None) -> tuple[IceServer, ...]:
        """The servers a participant's browser should use, with fresh TURN credentials."""
        servers: list[IceServer] = []
        if self.stun_urls:
            servers.append(IceServer(self.stun_urls))
        if self.turn_urls and self.turn_secret:
            cred = turn_credentials(self.turn_secret, user_id, self.turn_ttl_s, now=now)
            servers.append(IceServer(self.turn_urls, cred.username, cred.credential))
        return tuple(servers)

    def rtc_configuration(self, user_id: str) -> Any:
        """aiortc configuration for the server's peer of `user_id` (max-bundle: one transport)."""
        servers = self.ice_servers(user_id)
        if not self.server_uses_turn:
            servers = tuple(s for s in servers if s.username is None)
        return RTCConfiguration(
            iceServers=[RTCIceServer(list(s.urls), s.username, s.credential) for s in servers],
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )
