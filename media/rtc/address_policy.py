"""Which remote ICE candidate addresses the server's peers may send connectivity checks to.

A participant names the addresses of its ICE candidates, and the server's ICE agent (aioice)
sends STUN binding requests to every one of them. Left alone, a participant could make the
server probe the agency's internal network or a cloud metadata service. Every client candidate
is judged here before aiortc sees it; a refused one is dropped from the SDP or refused when
trickled (`media.rtc.sdp_check`).

By default only globally routable unicast addresses pass. Refused: host names (mDNS `.local`
and any other name: the server resolves none), scoped IPv6 (`%eth0`), cloud metadata addresses,
unspecified, multicast and broadcast (these classes always: no setting widens them), then
loopback, link-local, private (RFC 1918, IPv6 ULA and site-local), shared (CGNAT,
100.64.0.0/10), documentation, and every other special-purpose range (benchmarking, reserved,
IETF protocol assignments, NAT64, Teredo, IPv4-compatible IPv6, anything outside 2000::/3).
IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it carries; 6to4 and NAT64
addresses are refused when the IPv4 address they embed is.

Operators widen the policy with `allowed` networks (their TURN relays, a LAN whose clients
connect directly) and narrow it with `denied` networks, which win over `allowed`. Loopback
passes when the server itself gathers on loopback (tests and development).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressClass(StrEnum):
    """Why an address is refused."""

    HOSTNAME = "hostname"
    SCOPED = "scoped"
    METADATA = "metadata"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link_local"
    PRIVATE = "private"
    SHARED = "shared"
    DOCUMENTATION = "documentation"
    RESERVED = "reserved"
    DENIED = "denied"
    """In one of the operator's denied networks."""


ALWAYS_REFUSED = frozenset({
    AddressClass.HOSTNAME, AddressClass.SCOPED, AddressClass.METADATA,
    AddressClass.UNSPECIFIED, AddressClass.MULTICAST, AddressClass.BROADCAST,
})
"""No allowed network widens these."""


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


METADATA_NETWORKS = _networks(
    "169.254.169.0/24",  # AWS, GCP, Azure, Oracle, DigitalOcean... metadata, DNS, time
    "169.254.170.0/24",  # AWS ECS task metadata and credentials, EKS pod identity
    "168.63.129.16/32",  # Azure platform (wire server)
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "fd00:ec2::/64",  # AWS metadata, DNS and time over IPv6
    "fd20:ce::254/128",  # GCP metadata over IPv6
)
_UNSPECIFIED = _networks("0.0.0.0/8", "::/128")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_PRIVATE = _networks("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")
_SHARED = _networks("100.64.0.0/10")
_DOCUMENTATION = _networks(
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20"
)
_RESERVED = _networks(
    "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "240.0.0.0/4",
    "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
)
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def parse_address(host: str) -> IPAddress | AddressClass:
    """The address a candidate names (IPv4-mapped IPv6 as IPv4), or why it is not one."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return AddressClass.HOSTNAME
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return AddressClass.SCOPED
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
    return address


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 (well-known prefix) address leads to."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _special_class(address: IPAddress) -> AddressClass | None:
    if _within(address, METADATA_NETWORKS):
        return AddressClass.METADATA
    if address.is_unspecified or _within(address, _UNSPECIFIED):
        return AddressClass.UNSPECIFIED
    if address.is_multicast:
        return AddressClass.MULTICAST
    if address == _BROADCAST:
        return AddressClass.BROADCAST
    if address.is_loopback:
        return AddressClass.LOOPBACK
    if address.is_link_local:
        return AddressClass.LINK_LOCAL
    if _within(address, _PRIVATE):
        return AddressClass.PRIVATE
    if _within(address, _SHARED):
        return AddressClass.SHARED
    if _within(address, _DOCUMENTATION):
        return AddressClass.DOCUMENTATION
    return None


def classify(address: IPAddress) -> AddressClass | None:
    """The built-in class of `address`, None for a globally routable unicast address.

    Explicit tables first (the standard library's `is_private` / `is_global` changed between
    Python versions and call multicast and IPv6 site-local global), then `ipaddress`'s own
    predicates as a backstop.
    """
    special = _special_class(address)
    if special is not None:
        return special
    embedded = _embedded_ipv4(address)
    if embedded is not None and (inner := classify(embedded)) is not None:
        return inner
    if _within(address, _RESERVED) or address.is_reserved or address.is_private:
        return AddressClass.RESERVED
    if not address.is_global:
        return AddressClass.RESERVED
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST_V6:
        return AddressClass.RESERVED
    return None


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks in CIDR notation (`10.20.0.0/16`, `2001:db8:5::/48`; host bits must be zero)."""
    return tuple(ipaddress.ip_network(c.strip()) for c in cidrs)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Judges the addresses of a client's ICE candidates (see the module docstring)."""

    allowed: tuple[IPNetwork, ...] = ()
    """Passed even though private, loopback, link-local, shared, documentation or reserved."""
    denied: tuple[IPNetwork, ...] = ()
    """Refused even though global or allowed."""

    @classmethod
    def for_server(
        cls,
        host_addresses: Iterable[str] | None = None,
        allowed: Iterable[str] = (),
        denied: Iterable[str] = (),
    ) -> AddressPolicy:
        """The policy of a server gathering on `host_addresses` (None: aioice's discovery, which
        skips loopback): loopback passes for each IP version the server gathers loopback on."""
        versions = {ipaddress.ip_address(h).version
                    for h in host_addresses or () if ipaddress.ip_address(h).is_loopback}
        loopback = _networks(*(cidr for version, cidr in ((4, "127.0.0.0/8"), (6, "::1/128"))
                               if version in versions))
        return cls(allowed=(*parse_networks(allowed), *loopback), denied=parse_networks(denied))

    def refusal(self, host: str) -> AddressClass | None:
        """Why a candidate naming `host` is refused, or None if checks may be sent to it."""
        address = parse_address(host)
        if isinstance(address, AddressClass):
            return address
        built_in = classify(address)
        if built_in in ALWAYS_REFUSED:
            return built_in
        if _within(address, self.denied):
            return AddressClass.DENIED
        if _within(address, self.allowed):
            return None
        return built_in

    def allows(self, host: str) -> bool:
        return self.refusal(host) is None
