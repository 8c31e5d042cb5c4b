"""Pricing with the store's data: which shipping methods and tax rate an address gets, whether a
discount code can be used, and the breakdown of a cart (pricing.breakdown does the arithmetic).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F, Value
from django.utils import timezone

from accounts.models import normalize_email
from catalog.templatetags.money import money
from pricing.breakdown import Breakdown, Discount, PriceLine, Shipping, Tax, calculate
from pricing.models import (
    ShippingMethod,
    Voucher,
    VoucherRedemption,
    normalize_code,
    tax_rate_for,
)

CODE = re.compile(r"[A-Z0-9_-]{1,40}")  # what Voucher.code allows, in capitals


class VoucherError(Exception):
    """Why a discount code cannot be used, in words for the shopper."""


class VoucherChanged(VoucherError):
    """The code's terms were edited between pricing and redeeming: the total is not the same."""

    def __init__(self, code):
        super().__init__(f"The terms of {code} changed just now: check the new total.")


class ShippingError(Exception):
    """Why the chosen delivery cannot be used, in words for the shopper."""


def price_lines(items: Iterable) -> list[PriceLine]:
    """PriceLines from cart items (or anything with a variant and a quantity)."""
    return [
        PriceLine(
            key=item.variant_id,
            unit_price=item.variant.price,
            quantity=item.quantity,
            product_id=item.variant.product_id,
            category_id=item.variant.product.category_id,
        )
        for item in items
    ]


def shipping_methods_for(country) -> list[ShippingMethod]:
    return list(ShippingMethod.objects.for_country(country).select_related("zone"))


def shipping_method_choose(country, method_id) -> ShippingMethod:
    """The shopper's chosen method, if it is offered for `country`; else ShippingError."""
    methods = shipping_methods_for(country)
    if not methods:
        raise ShippingError(
            "We do not deliver to this country yet. Choose another address, or contact us."
        )
    chosen = next((m for m in methods if str(m.pk) == str(method_id)), None)
    if chosen is None:
        raise ShippingError("Choose one of the delivery options offered for this country.")
    return chosen


def shipping_terms(method: ShippingMethod | None) -> Shipping | None:
    if method is None:
        return None
    return Shipping(name=method.name, price=method.price, free_from=method.free_from)


def tax_terms(country, region="") -> Tax | None:
    rate = tax_rate_for(country, region)
    if rate is None:
        return None
    return Tax(name=rate.name, rate=rate.rate, shipping_rate=rate.shipping_percent)


def voucher_find(code: str) -> Voucher:
    """The voucher for a code as typed (any letter case); VoucherError if there is none."""
    code = normalize_code(code)
    if not CODE.fullmatch(code):
        # Not something a code could be (too long, a space, a NUL): no need to ask the database.
        shown = code.replace("\x00", "")[:40]
        raise VoucherError(f"{shown or 'That'} is not a valid discount code.")
    voucher = Voucher.objects.filter(code=code).first()
    if voucher is None or not voucher.is_active:
        raise VoucherError(f"{code or 'That'} is not a valid discount code.")
    return voucher


def voucher_terms(voucher: Voucher) -> Discount:
    """The code as the calculation sees it, with the products and categories it is limited to
    (read in one query)."""
    through_products = Voucher.products.through.objects.filter(voucher=voucher)
    through_categories = Voucher.categories.through.objects.filter(voucher=voucher)
    limits = through_products.annotate(kind=Value("product")).values_list("kind", "product_id")
    limits = limits.union(
        through_categories.annotate(kind=Value("category")).values_list("kind", "category_id"),
        all=True,
    )
    products, categories = set(), set()
    for kind, pk in limits:
        (products if kind == "product" else categories).add(pk)
    limited = bool(products or categories)
    return Discount(
        code=voucher.code,
        kind=voucher.kind,
        value=voucher.value,
        product_ids=frozenset(products) if limited else None,
        category_ids=frozenset(categories) if limited else None,
    )


def voucher_usable(voucher: Voucher, *, email: str = "", now=None) -> None:
    """VoucherError if the code cannot be used now by `email`, whatever the cart: its dates,
    its uses left, and a once-per-customer code this customer has used."""
    now = now or timezone.now()
    code = voucher.code
    if not voucher.is_active:
        raise VoucherError(f"{code} is not a valid discount code.")
    if voucher.starts and now < voucher.starts:
        raise VoucherError(f"{code} cannot be used yet.")
    if voucher.ends and now >= voucher.ends:
        raise VoucherError(f"{code} has expired.")
    if voucher.usage_limit is not None and voucher.used >= voucher.usage_limit:
        raise VoucherError(f"{code} has been used up.")
    if voucher.once_per_customer and email:
        used = VoucherRedemption.objects.filter(
            voucher=voucher, customer=normalize_email(email)
        ).exists()
        if used:
            raise VoucherError(f"You have already used {code}.")


def voucher_check(
    voucher: Voucher, lines: list[PriceLine], *, email: str = "", now=None
) -> Discount:
    """The code's terms for these lines, or VoucherError saying why it cannot be used."""
    voucher_usable(voucher, email=email, now=now)
    code = voucher.code
    terms = voucher_terms(voucher)
    eligible = [line for line in lines if terms.applies_to(line)]
    if not eligible:
        raise VoucherError(f"{code} is not valid for the items in your cart.")
    eligible_total = sum(line.unit_price * line.quantity for line in eligible)
    if voucher.min_subtotal is not None and eligible_total < voucher.min_subtotal:
        raise VoucherError(
            f"{code} applies from {money(voucher.min_subtotal)} of eligible items; "
            f"yours come to {money(eligible_total)}."
        )
    return terms


@dataclass
class Priced:
    """A breakdown, and what the shopper should be told about the code they entered."""

    breakdown: Breakdown
    voucher: Voucher | None = None
    voucher_error: str = ""
    method: ShippingMethod | None = None


def price(
    items: Iterable,
    *,
    country=None,
    region: str = "",
    method: ShippingMethod | None = None,
    code: str = "",
    email: str = "",
    strict: bool = False,
) -> Priced:
    """The breakdown of `items` delivered to `country` by `method` with discount `code`.

    A code that cannot be used is left out, with the reason in `voucher_error`, unless `strict`
    (checkout), where it raises VoucherError: an order is never placed without a discount the
    shopper expected.
    """
    lines = price_lines(items)
    voucher = discount = None
    error = ""
    if code:
        try:
            voucher = voucher_find(code)
            discount = voucher_check(voucher, lines, email=email)
        except VoucherError as exc:
            if strict:
                raise
            voucher, discount, error = None, None, str(exc)
    breakdown = calculate(
        lines,
        currency=settings.STORE_CURRENCY,
        prices_include_tax=settings.PRICES_INCLUDE_TAX,
        shipping=shipping_terms(method),
        tax=tax_terms(country, region),
        discount=discount,
    )
    return Priced(breakdown=breakdown, voucher=voucher, voucher_error=error, method=method)


def voucher_redeem(*, voucher: Voucher, order, email: str) -> VoucherRedemption:
    """Record the order's use of the code, as the last write of its checkout.

    Counts the use and takes the voucher's row lock in one statement (held until commit, so
    the uses of one code are counted one checkout at a time; see _use_counted), and checks
    again, under it, what another checkout or a staff edit may have changed
    since the order was priced: the uses left, this customer's use, the dates; and that the
    code still takes off what it took off then (else CartChanged: the total is not the one
    the shopper saw). Checked last, the lock is held for the commit alone, not for the whole
    checkout: buyers sharing a popular code queue for a moment, not for a checkout each.
    The database refuses a use over the limit (a check constraint) and a second use by one
    customer of a once-per-customer code (a unique index), whatever got past these checks.
    """
    locked = _use_counted(voucher)
    if locked is None:
        # Used up (or deleted) since the order was priced: say which.
        current = Voucher.objects.filter(pk=voucher.pk).first()
        if current is None:
            raise VoucherError(f"{voucher.code} is not a valid discount code.")
        voucher_usable(current, email=email)
        raise VoucherError(f"{voucher.code} has been used up.")
    if (locked.kind, locked.value, locked.min_subtotal) != (
        voucher.kind,
        voucher.value,
        voucher.min_subtotal,
    ):
        raise VoucherChanged(locked.code)
    locked.used -= 1  # as it was before this use, for the checks
    voucher_usable(locked, email=email)
    return VoucherRedemption.objects.create(
        voucher=locked,
        order=order,
        customer=normalize_email(email),
        once_per_customer=locked.once_per_customer,
    )


def _use_counted(voucher: Voucher) -> Voucher | None:
    """Count one use of the code if it has one left, in one UPDATE, which takes the code's row
    lock and returns the row as it is then; None if it had no use left (or is gone).

    The condition is read again after waiting for another checkout's lock, so racing
    checkouts cannot count past the limit. One statement instead of a locking read and an
    update: this is the part of checkout that buyers sharing a code queue for.
    """
    meta = Voucher._meta
    quote = connection.ops.quote_name
    table, pk, used, limit = (
        quote(name)
        for name in (
            meta.db_table,
            meta.pk.column,
            meta.get_field("used").column,
            meta.get_field("usage_limit").column,
        )
    )
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    # Only quoted names and a placeholder are formatted into the statement.
    rows = Voucher.objects.raw(
        f"UPDATE {table} SET {used} = {used} + 1 "  # noqa: S608
        f"WHERE {pk} = %s AND ({limit} IS NULL OR {used} < {limit}) RETURNING {columns}",
        [voucher.pk],
    )
    return next(iter(rows), None)


def voucher_give_back(*, order) -> bool:
    """Give the order's use of its code back (cancelled, expired, payment failed).

    Runs inside the order's status change, under the order's row lock, and the redemption row
    goes with it: a second call finds nothing to give back. Returns whether a use came back.
    """
    redemption = VoucherRedemption.objects.filter(order=order).first()
    if redemption is None:
        return False
    Voucher.objects.filter(pk=redemption.voucher_id).update(used=F("used") - 1)
    redemption.delete()
    return True
