"""The ICE address policy, pure: every address class, IPv4 and IPv6, mapped forms, settings."""

from __future__ import annotations

import pytest

from media.rtc import (
    AddressClass,
    AddressNotAllowed,
    AddressPolicy,
    IceCandidate,
    IceConfig,
    InvalidCandidate,
)
from media.rtc.sdp_check import drop_refused_candidates, parse_candidate

C = AddressClass
DEFAULT = AddressPolicy.for_server()

REFUSED_BY_DEFAULT = [
    # metadata services
    ("169.254.169.254", C.METADATA),
    ("169.254.170.2", C.METADATA),
    ("168.63.129.16", C.METADATA),
    ("100.100.100.200", C.METADATA),
    ("fd00:ec2::254", C.METADATA),
    ("fd20:ce::254", C.METADATA),
    # unspecified, multicast, broadcast
    ("0.0.0.0", C.UNSPECIFIED),
    ("0.1.2.3", C.UNSPECIFIED),
    ("::", C.UNSPECIFIED),
    ("224.0.0.251", C.MULTICAST),
    ("239.255.255.250", C.MULTICAST),
    ("ff02::1", C.MULTICAST),
    ("ff0e::1", C.MULTICAST),
    ("255.255.255.255", C.BROADCAST),
    # loopback, link-local
    ("127.0.0.1", C.LOOPBACK),
    ("127.8.9.10", C.LOOPBACK),
    ("::1", C.LOOPBACK),
    ("169.254.1.1", C.LINK_LOCAL),
    ("fe80::1", C.LINK_LOCAL),
    ("febf::1", C.LINK_LOCAL),
    # private
    ("10.0.0.1", C.PRIVATE),
    ("172.16.0.1", C.PRIVATE),
    ("172.31.255.254", C.PRIVATE),
    ("192.168.1.1", C.PRIVATE),
    ("fc00::1", C.PRIVATE),
    ("fd12:3456::1", C.PRIVATE),
    ("fec0::1", C.PRIVATE),  # site-local: Python 3.11 calls it global
    # shared (carrier-grade NAT), documentation
    ("100.64.0.1", C.SHARED),
    ("100.127.255.254", C.SHARED),
    ("192.0.2.1", C.DOCUMENTATION),
    ("198.51.100.1", C.DOCUMENTATION),
    ("203.0.113.1", C.DOCUMENTATION),
    ("2001:db8::1", C.DOCUMENTATION),
    ("3fff::1", C.DOCUMENTATION),
    # other special-purpose ranges
    ("192.0.0.9", C.RESERVED),  # Python 3.11 calls it global
    ("198.18.0.1", C.RESERVED),
    ("240.0.0.1", C.RESERVED),
    ("192.88.99.1", C.RESERVED),
    ("100::1", C.RESERVED),
    ("2001::1", C.RESERVED),  # Teredo
    ("2001:2::1", C.RESERVED),
    ("64:ff9b::808:808", C.RESERVED),  # NAT64
    ("64:ff9b:1::1", C.RESERVED),
    ("::a00:1", C.RESERVED),  # IPv4-compatible (deprecated)
    ("4000::1", C.RESERVED),  # outside global unicast 2000::/3
    # IPv4-mapped forms are judged as the IPv4 address they carry
    ("::ffff:169.254.169.254", C.METADATA),
    ("::ffff:a9fe:a9fe", C.METADATA),
    ("::ffff:10.0.0.1", C.PRIVATE),
    ("::ffff:192.168.0.1", C.PRIVATE),
    ("::ffff:127.0.0.1", C.LOOPBACK),
    ("::ffff:169.254.1.1", C.LINK_LOCAL),
    ("::ffff:100.64.0.1", C.SHARED),
    ("::ffff:0.0.0.0", C.UNSPECIFIED),
    ("::ffff:224.0.0.1", C.MULTICAST),
    # 6to4 and NAT64 leading to refused IPv4 addresses
    ("2002:a9fe:a9fe::1", C.METADATA),
    ("2002:a00:1::1", C.PRIVATE),
    ("64:ff9b::a9fe:a9fe", C.METADATA),
    ("64:ff9b::7f00:1", C.LOOPBACK),
    # not addresses: never resolved, never probed
    ("laptop-7f3a.local", C.HOSTNAME),
    ("intranet.example", C.HOSTNAME),
    ("localhost", C.HOSTNAME),
    ("[::1]", C.HOSTNAME),
    ("", C.HOSTNAME),
    ("fe80::1%eth0", C.SCOPED),
    ("2606:4700::1%1", C.SCOPED),
]

GLOBAL = [
    "8.8.8.8", "1.1.1.1", "81.2.69.160", "100.128.0.1", "172.32.0.1", "192.0.3.1",
    "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "::ffff:8.8.8.8",
    "2002:808:808::1",  # 6to4 of a global address
]


@pytest.mark.parametrize(("host", "expected"), REFUSED_BY_DEFAULT)
def test_default_policy_refuses_every_special_class(host: str, expected: AddressClass) -> None:
    assert DEFAULT.refusal(host) is expected
    assert not DEFAULT.allows(host)


@pytest.mark.parametrize("host", GLOBAL)
def test_default_policy_allows_global_unicast(host: str) -> None:
    assert DEFAULT.refusal(host) is None


def test_loopback_passes_exactly_for_the_loopback_the_server_gathers_on() -> None:
    v4 = AddressPolicy.for_server(host_addresses=["127.0.0.1"])
    assert v4.allows("127.0.0.1") and v4.allows("127.0.0.2") and v4.allows("::ffff:127.0.0.1")
    assert v4.refusal("::1") is C.LOOPBACK
    v6 = AddressPolicy.for_server(host_addresses=["::1"])
    assert v6.allows("::1") and v6.refusal("127.0.0.1") is C.LOOPBACK
    for host_addresses in (None, [], ["81.2.69.160"], ["10.1.2.3"]):
        policy = AddressPolicy.for_server(host_addresses=host_addresses)
        assert policy.refusal("127.0.0.1") is C.LOOPBACK and policy.refusal("::1") is C.LOOPBACK
    assert v4.refusal("10.0.0.1") is C.PRIVATE, "loopback widens nothing else"


def test_allowed_networks_widen_all_but_the_always_refused_classes() -> None:
    policy = AddressPolicy.for_server(
        allowed=["10.20.0.0/16", "169.254.0.0/16", "fd00::/8", "224.0.0.0/4", "100.64.0.0/10"]
    )
    for host in ("10.20.3.4", "::ffff:10.20.3.4", "169.254.1.1", "fd12::1", "100.64.0.1"):
        assert policy.allows(host), host
    assert policy.refusal("10.21.0.1") is C.PRIVATE
    assert policy.refusal("169.254.169.254") is C.METADATA
    assert policy.refusal("fd00:ec2::254") is C.METADATA
    assert policy.refusal("100.100.100.200") is C.METADATA
    assert policy.refusal("224.0.0.251") is C.MULTICAST
    everything = AddressPolicy.for_server(allowed=["0.0.0.0/0", "::/0"])
    assert everything.allows("10.0.0.1") and everything.allows("::1")
    for host, expected in [("169.254.169.254", C.METADATA), ("0.0.0.0", C.UNSPECIFIED),
                           ("255.255.255.255", C.BROADCAST), ("ff02::1", C.MULTICAST),
                           ("printer.local", C.HOSTNAME), ("fe80::1%2", C.SCOPED)]:
        assert everything.refusal(host) is expected


def test_denied_networks_win_over_global_and_allowed() -> None:
    policy = AddressPolicy.for_server(
        host_addresses=["127.0.0.1"], allowed=["10.20.0.0/16"],
        denied=["10.20.5.0/24", "81.2.69.0/24", "2606:4700::/32", "127.0.0.0/8"],
    )
    assert policy.allows("10.20.4.1")
    assert policy.refusal("10.20.5.1") is C.DENIED
    assert policy.refusal("::ffff:10.20.5.1") is C.DENIED
    assert policy.refusal("81.2.69.160") is C.DENIED
    assert policy.refusal("2606:4700:4700::1111") is C.DENIED
    assert policy.refusal("127.0.0.1") is C.DENIED
    assert policy.allows("8.8.8.8")


@pytest.mark.parametrize("network", ["10.20.0.1/16", "not-a-network", "10.0.0.0/33", ""])
def test_malformed_networks_are_refused(network: str) -> None:
    with pytest.raises(ValueError):
        AddressPolicy.for_server(allowed=[network])
    with pytest.raises(ValueError):
        IceConfig(denied_networks=(network,))


def test_ice_config_builds_the_policy_from_host_addresses_and_networks() -> None:
    config = IceConfig(host_addresses=("127.0.0.1",), allowed_networks=("10.20.0.0/16",),
                       denied_networks=("10.20.9.0/24",))
    policy = config.address_policy()
    assert policy.allows("127.0.0.1") and policy.allows("10.20.1.1")
    assert policy.refusal("10.20.9.9") is C.DENIED
    assert IceConfig().address_policy() == DEFAULT


OFFER_HEAD = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


def _candidate(host: str, n: int = 1) -> str:
    return f"a=candidate:{n} 1 udp 2130706431 {host} 5000{n} typ host"


def test_sdp_loses_refused_candidates_and_keeps_everything_else() -> None:
    lines = [_candidate("81.2.69.160", 1), _candidate("10.0.0.1", 2),
             _candidate("laptop.local", 3), "a=mid:0", _candidate("::ffff:169.254.169.254", 4),
             "a=candidate:5 1 udp 1 81.2.69.161 5005 typ srflx raddr 10.0.0.1 rport 5005",
             "a=end-of-candidates"]
    kept, dropped = drop_refused_candidates(OFFER_HEAD + "\r\n".join(lines) + "\r\n", DEFAULT)
    # the related address (raddr) is information, never a check target: that candidate stays
    expected = [lines[0], "a=mid:0", lines[5], "a=end-of-candidates"]
    assert kept == OFFER_HEAD + "\r\n".join(expected) + "\r\n"
    assert dropped == [C.PRIVATE, C.HOSTNAME, C.METADATA]


def test_candidates_behind_odd_line_breaks_are_dropped_too() -> None:
    # aiortc's parser splits lines with str.splitlines: "\r", "\v", "\x1c", "\u2028" end lines
    for sep in ("\r", "\n", "\v", "\x1c", "\u2028", "\x85"):
        text = OFFER_HEAD + "a=mid:0" + sep + _candidate("169.254.169.254") + "\r\n"
        kept, dropped = drop_refused_candidates(text, DEFAULT)
        assert "169.254" not in kept and dropped == [C.METADATA], repr(sep)


def test_sdp_without_refused_candidates_is_left_as_it_is() -> None:
    text = OFFER_HEAD + _candidate("81.2.69.160") + "\na=candidate:junk\r\n"
    assert drop_refused_candidates(text, DEFAULT) == (text, [])


def test_trickled_candidates_to_refused_addresses_raise_address_not_allowed() -> None:
    for host in ("10.0.0.1", "169.254.169.254", "fd00:ec2::254", "::ffff:10.0.0.1", "x.local"):
        with pytest.raises(AddressNotAllowed) as refused:
            parse_candidate(IceCandidate(_candidate(host), sdp_mid="0"), DEFAULT)
        assert refused.value.code == "address_not_allowed"
        assert isinstance(refused.value, InvalidCandidate)
    parsed = parse_candidate(IceCandidate(_candidate("81.2.69.160"), sdp_mid="0"), DEFAULT)
    assert parsed.ip == "81.2.69.160"
    assert parse_candidate(IceCandidate(""), DEFAULT) is None
