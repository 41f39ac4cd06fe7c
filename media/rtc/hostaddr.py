"""Choose the addresses aiortc gathers host candidates on (process-wide, reversible).

aioice (0.13, used by aiortc 1.16) gathers on every interface except loopback, through the module
function `aioice.ice.get_host_addresses`. Tests on loopback and servers that must announce only
some interfaces replace that function for the duration of a `with use_host_addresses(...)` block.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import aioice.ice


class HostAddressFn(Protocol):
    def __call__(self, use_ipv4: bool, use_ipv6: bool) -> list[str]: ...


def _fixed_addresses(addresses: Sequence[str]) -> HostAddressFn:
    parsed = [ipaddress.ip_address(a) for a in addresses]

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            str(a) for a in parsed if (a.version == 4 and use_ipv4) or (a.version == 6 and use_ipv6)
        ]

    return get_host_addresses


@contextmanager
def use_host_addresses(addresses: Sequence[str] | None) -> Iterator[None]:
    """Gather host candidates on exactly `addresses` inside the block (None: aioice's default)."""
    if addresses is None:
        yield
        return
    previous: HostAddressFn = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = _fixed_addresses(addresses)
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = previous
