"""Who may reach the dashboard: loopback addresses, token strength and trusted proxies.

Plain functions over strings, shared by the configuration check (refuse a public bind with a weak
token) and the web guard (Host header check, client address and scheme behind a proxy). Nothing
here touches the network: a host name is never resolved, because what it resolves to can change
after the check (DNS rebinding) — only the literal `localhost` counts as loopback.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Sequence

#: ≥ 32 characters: with the entropy floor below that is ≥ 80 bits even for a hex token
MIN_TOKEN_CHARS = 32
#: a token travels in an HTTP header, and the server refuses header lines beyond 8 KiB
MAX_TOKEN_CHARS = 1024
#: Shannon entropy of the token's own character frequencies, in bits per character. A random
#: hex token scores about 3.6 (its lowest in 200 000 random 32-character draws: 2.8); "aaaa…"
#: scores 0, "abab…" 1, "abcd" repeated 2. The floor sits below what randomness produces.
MIN_TOKEN_BITS_PER_CHAR = 2.5
#: how the README and the errors tell users to make a token (it is what install.sh runs)
TOKEN_RECIPE = "openssl rand -hex 24"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IPAddress | None:
    """An IP address literal (IPv6 with or without brackets, zone id dropped), else None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return addr


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP literal (127.0.0.0/8, ::1); every other name is not."""
    if host.strip().lower().rstrip(".") == "localhost":
        return True
    addr = parse_ip(host)
    return addr is not None and addr.is_loopback


def host_of(authority: str) -> str:
    """The host part of a Host header value: `[::1]:8080` → `::1`, `Example:80` → `example`."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    if authority.count(":") == 1:
        return authority.rsplit(":", 1)[0]
    return authority  # a bare name, an IPv4 address, or an unbracketed IPv6 address


def token_problem(token: str) -> str | None:
    """Why `token` is too weak to guard a dashboard others can reach, or None if it is not."""
    if not token:
        return "is empty"
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        return "contains white space or control characters (a copy-paste accident?)"
    if len(token) < MIN_TOKEN_CHARS:
        return f"is {len(token)} characters long; at least {MIN_TOKEN_CHARS} are required"
    if len(token) > MAX_TOKEN_CHARS:
        return f"is {len(token)} characters long; at most {MAX_TOKEN_CHARS} fit in a header"
    bits = bits_per_char(token)
    if bits < MIN_TOKEN_BITS_PER_CHAR:
        return (
            f"has too little variety: {bits:.1f} bits per character (of its character "
            f"frequencies), at least {MIN_TOKEN_BITS_PER_CHAR} are required"
        )
    period = _repeat_period(token)
    if period:
        return f"repeats a {period}-character pattern"
    return None


def bits_per_char(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _repeat_period(text: str) -> int | None:
    """The shortest p < len/2 with text[i] == text[i+p] throughout ("passwordpassword…")."""
    for p in range(1, len(text) // 2 + 1):
        if text[p:] == text[:-p]:
            return p
    return None


def parse_networks(text: str) -> tuple[list[IPNetwork], list[str]]:
    """Comma or space separated addresses/CIDR networks → (networks, entries that are not)."""
    nets: list[IPNetwork] = []
    bad: list[str] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            bad.append(entry)
    return nets, bad


def in_networks(address: str | None, nets: Sequence[IPNetwork]) -> bool:
    addr = parse_ip(address) if address else None
    return addr is not None and any(addr in net for net in nets)
