"""Which targets haul may reach: pure checks of addresses and host names, no sockets."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.guard import NetworkPolicy, address_class, parse_address

CONSENT_WORD = "HAUL_ALLOW_PRIVATE_NETWORKS"


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.254", "shared (CGNAT)"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("fc00::1", "private"),
        ("192.0.2.1", "private"),  # documentation range: not global
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:93.184.216.34", None),
    ],
)
def test_address_class_names_each_non_public_range(literal: str, expected: str | None) -> None:
    assert address_class(ipaddress.ip_address(literal)) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[fe80::1%eth0]", "fe80::1"),
        ("example.com", None),
        ("127.0.0.1.example", None),
        ("", None),
    ],
)
def test_parse_address_reads_only_literals(host: str, expected: str | None) -> None:
    parsed = parse_address(host)
    assert (str(parsed) if parsed is not None else None) == expected


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "192.168.0.10",
        "172.31.255.255",
        "100.64.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "[::1]",
        "::1",
        "[::ffff:127.0.0.1]",
        "[fe80::1]",
        "localhost",
        "LOCALHOST",
        "localhost.",
        "api.localhost",
        "metadata.google.internal",
    ],
)
def test_non_public_hosts_are_refused_by_default_with_the_consent_setting(host: str) -> None:
    reason = NetworkPolicy().refuse_host(host)
    assert reason
    assert CONSENT_WORD in reason


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "localhost", "169.254.169.254", "10.0.0.1", "0.0.0.0"]
)
def test_allow_private_lets_every_host_through(host: str) -> None:
    assert NetworkPolicy(allow_private=True).refuse_host(host) is None


@pytest.mark.parametrize(
    "host", ["example.com", "93.184.216.34", "[2606:4700:4700::1111]", "files.example.org."]
)
def test_public_hosts_pass_without_any_consent(host: str) -> None:
    assert NetworkPolicy().refuse_host(host) is None


def test_allow_hosts_by_name_allows_that_name_only() -> None:
    policy = NetworkPolicy(allow_hosts=("LocalHost.",))
    assert policy.refuse_host("localhost") is None
    assert policy.refuse_host("localhost.") is None
    assert policy.refuse_host("127.0.0.1") is not None
    assert policy.refuse_host("other.localhost") is not None


def test_allow_hosts_by_address_allows_that_address_only() -> None:
    policy = NetworkPolicy(allow_hosts=("127.0.0.1",))
    assert policy.refuse_host("127.0.0.1") is None
    assert policy.refuse_host("[::ffff:127.0.0.1]") is None  # the same address, mapped
    assert policy.refuse_host("127.0.0.2") is not None
    assert policy.refuse_host("localhost") is not None


def test_allow_hosts_by_cidr_allows_inside_and_refuses_outside() -> None:
    policy = NetworkPolicy(allow_hosts=("127.0.0.0/24",))
    assert policy.refuse_host("127.0.0.1") is None
    assert policy.refuse_host("127.0.0.254") is None
    reason = policy.refuse_host("127.0.1.5")
    assert reason is not None
    assert "127.0.1.5" in reason
    assert policy.refuse_host("10.0.0.1") is not None


def test_allow_hosts_accepts_bracketed_ipv6_and_ignores_blanks() -> None:
    policy = NetworkPolicy(allow_hosts=(" ", "[::1]", ""))
    assert policy.refuse_host("[::1]") is None
    assert policy.refuse_host("[::2]") is not None


def test_from_settings_builds_the_same_policy() -> None:
    policy = NetworkPolicy.from_settings(False, ["10.0.0.0/8"])
    assert policy.refuse_host("10.9.8.7") is None
    assert policy.refuse_host("192.168.0.1") is not None


def test_refuse_address_names_the_host_that_resolved_there() -> None:
    reason = NetworkPolicy().refuse_address(ipaddress.ip_address("10.0.0.5"), host="rebind.example")
    assert reason is not None
    assert "rebind.example resolves to 10.0.0.5" in reason
    assert "private" in reason
    assert CONSENT_WORD in reason


def test_refuse_address_trusts_an_allowed_name_whatever_it_resolves_to() -> None:
    policy = NetworkPolicy(allow_hosts=("media.lan",))
    assert policy.refuse_address(ipaddress.ip_address("192.168.1.20"), host="media.lan") is None
    assert policy.refuse_address(ipaddress.ip_address("192.168.1.20"), host="other.lan")


ipv4 = st.ip_addresses(v=4)
any_ip = st.ip_addresses()


@given(any_ip)
def test_refuse_address_agrees_with_address_class(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    kind = address_class(address)
    reason = NetworkPolicy().refuse_address(address)
    assert (reason is None) == (kind is None)
    if reason is not None:
        assert kind is not None
        assert kind in reason
        assert CONSENT_WORD in reason
    assert NetworkPolicy(allow_private=True).refuse_address(address) is None


@given(ipv4)
def test_a_public_class_means_a_global_address(address: ipaddress.IPv4Address) -> None:
    if address_class(address) is None:
        assert address.is_global
        assert not address.is_private


@given(ipv4)
def test_ipv4_mapped_ipv6_is_judged_like_its_ipv4(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert address_class(mapped) == address_class(address)


@given(st.text(max_size=60))
def test_refuse_host_never_raises(host: str) -> None:
    reason = NetworkPolicy().refuse_host(host)
    assert reason is None or reason.strip()
