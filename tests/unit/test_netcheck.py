"""appliance.netcheck: only public addresses pass, whatever form names them."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from appliance import netcheck
from appliance.errors import UserError


@pytest.fixture(autouse=True)
def numeric_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS in unit tests: names from a small table, addresses as the C library
    parses them (inet_aton's decimal, octal and hex forms included)."""
    real = socket.getaddrinfo
    table = {"localhost": ["127.0.0.1", "::1"], "mixed.example": ["93.184.215.14", "10.1.2.3"]}

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in table[host]]
        return real(host, port, flags=socket.AI_NUMERICHOST, type=socket.SOCK_STREAM)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0x7f.0.0.1", "127.0.0.1"),  # hex
        ("127.1", "127.0.0.1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("::1", "::1"),
        ("::127.0.0.1", "::7f00:1"),  # IPv4-compatible
        ("2002:7f00:1::1", "2002:7f00:1::1"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", "2002:a00:1::1"),  # 6to4 of 10.0.0.1
        ("localhost", "127.0.0.1"),
        ("10.0.0.5", "10.0.0.5"),
        ("172.16.9.9", "172.16.9.9"),
        ("192.168.0.1", "192.168.0.1"),
        ("100.64.0.1", "100.64.0.1"),  # shared address space
        ("169.254.169.254", "169.254.169.254"),  # cloud metadata
        ("fe80::1", "fe80::1"),
        ("fd12:3456::1", "fd12:3456::1"),  # ULA
        ("0.0.0.0", "0.0.0.0"),
        ("::", "::"),
        ("224.0.0.1", "224.0.0.1"),
        ("ff02::1", "ff02::1"),
        ("240.0.0.1", "240.0.0.1"),  # reserved
        ("192.0.2.1", "192.0.2.1"),  # documentation
        ("mixed.example", "10.1.2.3"),  # every address counts, not the first
    ],
)
def test_not_public(host: str, shown: str) -> None:
    expected = re.escape(f"resolves to {shown}, which is not a public address")
    with pytest.raises(UserError, match=expected):
        netcheck.public_addresses(host, 80)


def test_public_addresses_pass() -> None:
    assert netcheck.public_addresses("8.8.8.8", 443) == ["8.8.8.8"]
    assert netcheck.public_addresses("2606:4700:4700::1111", 443) == ["2606:4700:4700::1111"]
    assert netcheck.public_addresses("::ffff:8.8.8.8", 80) == ["8.8.8.8"]


def test_the_hosts_own_addresses_are_not_public(monkeypatch: pytest.MonkeyPatch) -> None:
    assert netcheck.is_own(netcheck.normalise("127.0.0.1"))
    assert not netcheck.is_own(netcheck.normalise("8.8.8.8"))
    assert not netcheck.is_own(netcheck.normalise("2606:4700:4700::1111"))
    monkeypatch.setattr(netcheck, "is_own", lambda address: str(address) == "8.8.8.8")
    with pytest.raises(UserError, match=re.escape("8.8.8.8, which is not a public")):
        netcheck.public_addresses("8.8.8.8", 80)


def test_an_operator_allows_hosts_and_networks() -> None:
    allowed = ["localhost", "10.1.0.0/16", "fd12:3456::/32"]
    assert netcheck.public_addresses("localhost", 80, allowed) == ["127.0.0.1", "::1"]
    assert netcheck.public_addresses("10.1.9.9", 22, allowed) == ["10.1.9.9"]
    assert netcheck.public_addresses("fd12:3456::1", 22, allowed) == ["fd12:3456::1"]
    assert netcheck.public_addresses("mixed.example", 80, allowed) == ["93.184.215.14", "10.1.2.3"]
    with pytest.raises(UserError, match=re.escape("10.2.0.1, which is not a public address; ask")):
        netcheck.public_addresses("10.2.0.1", 80, allowed, hint="; ask")
    with pytest.raises(UserError, match=re.escape("127.0.0.1")):
        netcheck.public_addresses("2130706433", 80, allowed)  # the name "localhost" only
    assert netcheck.public_addresses("gitserver", 22, ["gitserver"]) == []  # an ssh alias
    with pytest.raises(netcheck.Unresolvable):
        netcheck.public_addresses("gitserver", 22, ["other"])


def test_unresolvable_and_bad_ports() -> None:
    with pytest.raises(netcheck.Unresolvable, match="cannot resolve"):
        netcheck.public_addresses("nowhere.invalid", 80)
    for port in (0, 65536, -1):
        with pytest.raises(UserError, match="invalid port"):
            netcheck.public_addresses("8.8.8.8", port)
