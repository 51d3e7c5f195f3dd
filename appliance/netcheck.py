"""Whether a host named by a user may be connected to: only public addresses.

Anything a key holder names that the host then connects to (a buildpack's git URL, an
archive URL) must not reach the host itself or the networks behind it: loopback,
private (RFC 1918, ULA, shared 100.64/10), link-local, unspecified, multicast,
reserved and documentation ranges, and every address of the host's own interfaces.
Names are resolved here and every address they resolve to is checked after
normalisation with `ipaddress` (so `2130706433`, `0177.0.0.1` and `::ffff:127.0.0.1`
are all 127.0.0.1). A process that resolves the name again (git, curl) may get another
answer: pin the address where the tool allows it (curl's `--resolve`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection

from appliance.errors import UserError

__all__ = [
    "Unresolvable",
    "is_public",
    "public_addresses",
]
"""What plugins may use, through `appliance.api`; the rest is the core's."""

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Unresolvable(UserError):
    """The name does not resolve (now): nothing to connect to, nothing to refuse."""


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def normalise(text: str) -> Address:
    """An address as `ipaddress` sees it, IPv4-mapped IPv6 addresses as IPv4."""
    address = ipaddress.ip_address(text.split("%", 1)[0])  # no IPv6 zone index
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded(address: Address) -> list[Address]:
    """The IPv4 addresses an IPv6 address carries (6to4, Teredo, IPv4-compatible)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, deprecated but routed
        found.append(ipaddress.IPv4Address(int(address)))
    if address in NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    """A global unicast address that is not one of this host's own."""
    for one in (address, *_embedded(address)):
        if not one.is_global or one.is_multicast or one.is_reserved:
            return False
    return not is_own(address)


def is_own(address: Address) -> bool:
    """Whether `address` belongs to this host: the kernel lets us bind to it."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:  # not ours (or no IPv6 here at all)
        return False
    return True


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (numeric forms included), normalised."""
    if not 0 < port < 65536:
        raise UserError(f"invalid port {port} for {host}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc.strerror or exc}") from None
    found: list[Address] = []
    for info in infos:  # every one: the client may try any of them
        address = normalise(str(info[4][0]))
        if address not in found:
            found.append(address)
    if not found:
        raise Unresolvable(f"cannot resolve {host}")
    return found


def public_addresses(
    host: str, port: int, allowed: Collection[str] = (), hint: str = ""
) -> list[str]:
    """The addresses of `host`, all public; UserError naming the first that is not.

    `allowed` (an operator's local-only setting) lists host names, addresses and
    networks (`git.internal`, `10.0.0.5`, `10.1.0.0/16`) that may be private (a listed
    name passes even when it does not resolve here: [] then); `hint` ends the error
    (how an admin allows a host)."""
    if host.lower() in {a.lower() for a in allowed}:
        try:  # a name the operator lists: any address, or none (an ssh alias)
            return [str(a) for a in resolve(host, port)]
        except Unresolvable:
            return []
    addresses = resolve(host, port)
    networks = allowed_networks(allowed)
    for address in addresses:
        if any(address in net for net in networks if net.version == address.version):
            continue
        if not is_public(address):
            raise UserError(f"{host} resolves to {address}, which is not a public address{hint}")
    return [str(a) for a in addresses]


def allowed_networks(
    allowed: Collection[str],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks among `allowed` (addresses and CIDRs, as `ip_network` reads them,
    host bits allowed); entries that are host names are skipped."""
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a host name
    return networks
