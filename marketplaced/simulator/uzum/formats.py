"""How Uzum writes its numbers and keys: shelf prices, order counts, barcodes, media keys.

Small pure functions the product generator and the tick dynamics share, each matching what the
recorded payloads show (prices in whole thousands, order counts floored to one significant digit,
EAN-13 barcodes, 20-character base32hex photo keys, no-break-space thousands in payment texts).
"""

from __future__ import annotations

from typing import Final

#: every two-character base32hex string, indexed by its 10-bit value
_B32_PAIRS: Final = tuple(
    a + b for a in "0123456789abcdefghijklmnopqrstuv" for b in "0123456789abcdefghijklmnopqrstuv"
)
#: realistic so'm bounds for one SKU
MIN_PRICE: Final = 5_000
MAX_PRICE: Final = 20_000_000


def ean13(prefix12: int) -> int:
    """Append the EAN-13 check digit (the fixtures' barcodes are EAN-13 of 1000… + sku id)."""
    digits = f"{prefix12:012d}"
    total = sum(map(int, digits[0::2])) + 3 * sum(map(int, digits[1::2]))
    return prefix12 * 10 + (10 - total % 10) % 10


def round_orders(n: int) -> int:
    """Uzum's displayed order count: floored to one significant digit (32 → 30, 717 → 700)."""
    if n < 10:
        return n
    step: int = 10 ** (len(str(n)) - 1)
    return n // step * step


def nice_price(raw: float, ends_in_990: bool) -> int:
    """Round to a shelf price: whole thousands (ten-thousands above 1 M), optionally …990."""
    p = min(MAX_PRICE, max(MIN_PRICE, raw))
    step = 1_000 if p < 1_000_000 else 10_000
    price = max(step, round(p / step) * step)
    if ends_in_990 and price - 10 >= MIN_PRICE:
        price -= 10
    return int(min(MAX_PRICE, max(MIN_PRICE, price)))


def thousands(n: int) -> str:
    """5665 → '5 665' with the no-break space Uzum uses in payment texts."""
    return f"{n:,}".replace(",", "\xa0")


def media_key(h1: int, h2: int) -> str:
    """A 20-character lowercase base32hex key like Uzum's photo keys ('d19qla27s4fup34akmng')."""
    bits = ((h1 << 64) | h2) & ((1 << 95) - 1)
    pairs = _B32_PAIRS
    return (
        "cd"[h1 & 1] + "".join([pairs[(bits >> shift) & 1023] for shift in range(0, 95, 10)])[:19]
    )
