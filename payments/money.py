"""Amounts as payment providers count them: whole minor units (cents, yen, fils)."""

from decimal import ROUND_HALF_UP, Decimal

# Stripe's lists (docs: "Zero-decimal currencies", "Three-decimal currencies").
ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip
THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}


def minor_unit_exponent(currency):
    currency = currency.upper()
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_minor_units(amount, currency):
    """Decimal("12.34"), "usd" -> 1234; Decimal("500"), "JPY" -> 500. Never through float."""
    exponent = minor_unit_exponent(currency)
    minor = (Decimal(amount) * (10**exponent)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    if exponent == 3:
        # Stripe takes three-decimal amounts rounded to a multiple of ten.
        minor = (minor / 10).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 10
    return int(minor)
