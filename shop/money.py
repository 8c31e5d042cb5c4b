"""Amounts in the store's currency: how many decimals it has, and whole minor units (cents,
yen, fils) as payment providers count them."""

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


def quantum(currency):
    """The smallest amount the store charges in `currency`: its minor unit, or a hundredth
    for three-decimal currencies (the payment provider takes those in steps of ten, and prices
    and orders keep two decimals)."""
    return Decimal(1).scaleb(-min(minor_unit_exponent(currency), 2))


def round_money(amount, currency):
    """`amount` rounded half up to what the store charges in `currency` (see quantum)."""
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_HALF_UP)


def fits_currency(amount, currency):
    """Whether `amount` has no more decimals than `currency` has (500 yen, not 500.50 yen).

    A price with more decimals could not be charged as it is shown: the payment provider
    rounds every line to the minor unit. Three-decimal currencies (KWD) are charged in steps
    of ten of their minor unit, so their amounts keep two decimals.
    """
    return Decimal(amount) == Decimal(amount).quantize(quantum(currency))
