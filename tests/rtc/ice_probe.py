"""Spies on aioice that record where the process's ICE agents would send connectivity checks.

They call through: aioice behaves as usual. Every remote candidate given to
`Connection.add_remote_candidate` (SDP and trickled alike, mDNS names before aioice resolves
them) is recorded, and every candidate pair formed, each of which is a check aioice sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aioice
import aioice.ice
import pytest


@dataclass
class IceProbe:
    handed: list[str] = field(default_factory=list)
    """The host of every remote candidate handed to an aioice connection."""
    paired: list[str] = field(default_factory=list)
    """The remote host of every candidate pair formed."""

    def checked(self, hosts: Iterable[str]) -> list[str]:
        """Those of `hosts` that a check was scheduled towards."""
        return sorted(set(hosts) & set(self.paired))

    def reached(self, hosts: Iterable[str]) -> list[str]:
        """Those of `hosts` that aioice was given (and, for mDNS names, would resolve)."""
        return sorted(set(hosts) & set(self.handed))


def install(monkeypatch: pytest.MonkeyPatch) -> IceProbe:
    """Spy on aioice until `monkeypatch` undoes it."""
    probe = IceProbe()
    add_remote_candidate = aioice.Connection.add_remote_candidate

    async def spy(self: aioice.Connection, candidate: aioice.Candidate | None) -> None:
        if candidate is not None:
            probe.handed.append(candidate.host)
        await add_remote_candidate(self, candidate)

    class RecordedPair(aioice.ice.CandidatePair):
        def __init__(self, protocol: Any, remote_candidate: aioice.Candidate) -> None:
            probe.paired.append(remote_candidate.host)
            super().__init__(protocol, remote_candidate)

    monkeypatch.setattr(aioice.Connection, "add_remote_candidate", spy)
    monkeypatch.setattr(aioice.ice, "CandidatePair", RecordedPair)
    return probe


def candidate_line(index: int, host: str, port: int) -> str:
    """An ICE host candidate as a client trickles it (`candidate:...`)."""
    return f"candidate:{900 + index} 1 udp 2130706431 {host} {port} typ host"


def with_candidates(sdp: str, lines: Iterable[str]) -> str:
    """`sdp` with `lines` added as a=candidate lines to every media section, before its own
    (aiortc takes a bundled transport's candidates from the last section)."""
    added = [f"a={line}" for line in lines]
    rows: list[str] = []
    pending = False
    for row in sdp.split("\r\n"):
        pending = pending or row.startswith("m=")
        if pending and row.startswith("a=candidate:"):
            rows.extend(added)
            pending = False
        rows.append(row)
    return "\r\n".join(rows)


def trickling(sdp: str) -> str:
    """`sdp` without a=end-of-candidates, as a browser that trickles offers: aiortc ignores
    every candidate trickled after end-of-candidates (aiortc clients send it in their SDP)."""
    return sdp.replace("a=end-of-candidates\r\n", "")


REFUSED_HOSTS = (
    "10.0.0.1",  # the agency's LAN
    "192.168.1.1",
    "172.16.0.1",
    "169.254.169.254",  # cloud metadata (AWS, GCP, Azure, ...)
    "fd00:ec2::254",  # AWS metadata over IPv6
    "::ffff:169.254.169.254",  # the same, IPv4-mapped
    "::ffff:10.0.0.2",
    "fe80::1",
    "fd12:3456::1",
    "100.64.0.1",  # carrier-grade NAT / shared
    "224.0.0.251",
    "0.0.0.0",
    "2001:db8::1",
    "laptop-7f3a.local",  # mDNS: never resolved by the server
    "intranet.example",
)
"""What an attacker names; the default policy refuses them all."""

ATTACK_LINES = tuple(candidate_line(i, host, 40000 + i) for i, host in enumerate(REFUSED_HOSTS))
