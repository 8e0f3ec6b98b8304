"""Which network targets haul may reach: private, loopback and link-local need consent."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata"})
_CONSENT = "set HAUL_ALLOW_PRIVATE_NETWORKS=1 or list it in HAUL_ALLOW_HOSTS to allow it"


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address hidden in IPv4-mapped or 6to4/Teredo forms, else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def address_class(address: IPAddress) -> str | None:
    """A word for why this address is not public, or None when it is public."""
    address = _unwrap(address)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (CGNAT)"
    if address.is_private or address.is_reserved or not address.is_global:
        return "private"
    return None


def parse_address(host: str) -> IPAddress | None:
    """The host as an IP address when it is a literal one (brackets and zone id allowed)."""
    literal = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(literal)
    except ValueError:
        return None


@dataclass(frozen=True)
class NetworkPolicy:
    """Consent for non-public targets: everything, or named hosts, addresses and CIDRs."""

    allow_private: bool = False
    allow_hosts: tuple[str, ...] = ()
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, default=())
    _names: frozenset[str] = field(init=False, repr=False, default=frozenset())

    def __post_init__(self) -> None:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for raw in self.allow_hosts:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.rstrip("."))
        object.__setattr__(self, "_networks", tuple(networks))
        object.__setattr__(self, "_names", frozenset(names))

    @classmethod
    def from_settings(cls, allow_private: bool, allow_hosts: Iterable[str]) -> NetworkPolicy:
        return cls(allow_private=allow_private, allow_hosts=tuple(allow_hosts))

    def _allowed_address(self, address: IPAddress) -> bool:
        candidates = {address, _unwrap(address)}
        return any(candidate in network for candidate in candidates for network in self._networks)

    def refuse_host(self, host: str) -> str | None:
        """Why this URL host may not be reached, judged without DNS; None when it may."""
        if self.allow_private:
            return None
        name = host.lower().rstrip(".")
        if name in self._names:
            return None
        address = parse_address(name)
        if address is not None:
            return self.refuse_address(address)
        if name == "localhost" or name.endswith(".localhost"):
            return f"{host} is a loopback name; {_CONSENT}"
        if name in _METADATA_NAMES:
            return f"{host} is a cloud metadata service; {_CONSENT}"
        return None

    def refuse_address(self, address: IPAddress, host: str | None = None) -> str | None:
        """Why this resolved address may not be reached; None when it may."""
        if self.allow_private:
            return None
        if host is not None and host.lower().rstrip(".") in self._names:
            return None
        kind = address_class(address)
        if kind is None or self._allowed_address(address):
            return None
        shown = f"{host} resolves to {address}" if host and host != str(address) else str(address)
        return f"{shown}, a {kind} address; {_CONSENT}"
