"""Pricing with the store's data: which shipping methods and tax rate an address gets, whether a
discount code can be used, and the breakdown of a cart (pricing.breakdown does the arithmetic).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.models import Exists, F, OuterRef, QuerySet, Value
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
from shop.compiled import compiled_once

CODE = re.compile(r"[A-Z0-9_-]{1,40}")  # what Voucher.code allows, in capitals


class VoucherError(Exception):
    """Why a discount code cannot be used, in words for the shopper."""


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
    """ShippingMethod.objects.for_country(country), cheapest first, from a statement the ORM
    compiled once for the country: building and compiling its subqueries took several times
    longer than running them, on every cart and checkout page."""
    if not country:
        return []
    sql, params = _methods_sql(connection.vendor, str(country))
    return list(ShippingMethod.objects.raw(sql, params))


@functools.lru_cache(maxsize=512)  # a few hundred countries; any other text is one more entry
def _methods_sql(vendor: str, country: str) -> tuple[str, tuple]:
    return ShippingMethod.objects.for_country(country).query.sql_with_params()


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


def voucher_find(code: str, *, lock: bool = False) -> Voucher:
    """The voucher for a code as typed (any letter case); VoucherError if there is none.

    `lock` (checkout, in its transaction): the row is read FOR KEY SHARE, held until commit. It
    holds off staff edits and deletions of the code (Voucher.save takes FOR UPDATE) without
    holding off other buyers: any number of checkouts share it, so buyers of a popular code
    never queue for one another here. What the order is priced on is what it is placed with.
    """
    code = normalize_code(code)
    if not CODE.fullmatch(code):
        # Not something a code could be (too long, a space, a NUL): no need to ask the database.
        shown = code.replace("\x00", "")[:40]
        raise VoucherError(f"{shown or 'That'} is not a valid discount code.")
    sql, params = _voucher_by_code(code)
    if lock and connection.features.has_select_for_update:
        # The ORM's select_for_update has no FOR KEY SHARE. SQLite has no row locks: there the
        # transactions, IMMEDIATE (settings), run one at a time anyway.
        sql += " FOR KEY SHARE"
    voucher = next(iter(Voucher.objects.raw(sql, params)), None)
    if voucher is None or not voucher.is_active:
        raise VoucherError(f"{code or 'That'} is not a valid discount code.")
    return voucher


CODE_STAND_IN = "\x00code"  # where the code goes in _voucher_by_code's statement


@compiled_once(CODE_STAND_IN)
def _voucher_by_code() -> QuerySet:
    """voucher_find's statement: compiling its two EXISTS took longer than running it, on every
    checkout with a code."""
    through = (Voucher.products.through, Voucher.categories.through)
    vouchers = Voucher.objects.filter(code=CODE_STAND_IN).annotate(
        # Whether voucher_terms needs to read the goods the code is limited to (most: none).
        limited_to_products=Exists(through[0].objects.filter(voucher=OuterRef("pk"))),
        limited_to_categories=Exists(through[1].objects.filter(voucher=OuterRef("pk"))),
    )
    return vouchers[:1]


def key_shared(vouchers: QuerySet) -> Voucher | None:
    """The first of `vouchers`, its row locked FOR KEY SHARE until the transaction ends (the
    clause added to the statement the ORM compiles; on SQLite, no lock: see voucher_find)."""
    if not connection.features.has_select_for_update:
        return vouchers.first()
    sql, params = vouchers[:1].query.sql_with_params()
    return next(iter(Voucher.objects.raw(f"{sql} FOR KEY SHARE", params)), None)


def voucher_terms(voucher: Voucher) -> Discount:
    """The code as the calculation sees it, with the products and categories it is limited to
    (read in one query, and only if voucher_find found any)."""
    products, categories = set(), set()
    if getattr(voucher, "limited_to_products", True) or getattr(
        voucher, "limited_to_categories", True
    ):
        through_products = Voucher.products.through.objects.filter(voucher=voucher)
        through_categories = Voucher.categories.through.objects.filter(voucher=voucher)
        limits = through_products.annotate(kind=Value("product")).values_list("kind", "product_id")
        limits = limits.union(
            through_categories.annotate(kind=Value("category")).values_list("kind", "category_id"),
            all=True,
        )
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
    (checkout, in its transaction), where it raises VoucherError: an order is never placed
    without a discount the shopper expected. There the code's row stays locked against staff
    edits until the order is placed (voucher_find's `lock`).
    """
    lines = price_lines(items)
    voucher = discount = None
    error = ""
    if code:
        try:
            voucher = voucher_find(code, lock=strict)
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

    `voucher` is the row price(strict=True) read and locked in this transaction: its terms,
    limit and dates cannot have changed since (see voucher_find). What other checkouts may
    have done meanwhile is settled here:
    - A code with a use limit has the use counted in one conditional UPDATE, which takes the
      row's lock until the commit that follows: racing checkouts are counted one at a time,
      none past the limit (and the database's check would refuse one). Counted last, the lock
      is held for the commit alone.
    - A code without a limit is not written at all: its uses are its redemptions, and its
      buyers never queue for its row (Voucher.used is counted from them when a limit is set).
    - A once-per-customer code that the same customer used from another cart since this order
      was priced: the unique index on (code, customer) refuses the second use, which waits for
      the first to commit.
    """
    if voucher.usage_limit is not None:
        counted = Voucher.objects.filter(pk=voucher.pk, used__lt=F("usage_limit")).update(
            used=F("used") + 1
        )
        if not counted:
            raise VoucherError(f"{voucher.code} has been used up.")
    try:
        return VoucherRedemption.objects.create(
            voucher=voucher,
            order=order,
            customer=normalize_email(email),
            once_per_customer=voucher.once_per_customer,
        )
    except IntegrityError as exc:
        # Only the once-per-customer index can refuse it (the order is new). Raised straight
        # out of the checkout's transaction, which rolls back: nothing else runs in it.
        raise VoucherError(f"You have already used {voucher.code}.") from exc


def voucher_give_back(*, order) -> bool:
    """Give the order's use of its code back (cancelled, expired, payment failed).

    Runs inside the order's status change, under the order's row lock, and the redemption row
    goes with it: a second call finds nothing to give back. The code is read FOR KEY SHARE, so
    a staff edit setting a limit (which counts the redemptions) waits for this one to go.
    Returns whether a use came back.
    """
    redemption = VoucherRedemption.objects.filter(order=order).first()
    if redemption is None:
        return False
    voucher = key_shared(Voucher.objects.filter(pk=redemption.voucher_id))
    if voucher.usage_limit is not None:
        Voucher.objects.filter(pk=voucher.pk).update(used=F("used") - 1)
    redemption.delete()
    return True
