"""The one price calculation: lines, delivery address, shipping method and discount code in;
every figure the shopper pays out. The cart page, the checkout page, order_place and the
payment session all read it (or what order_place stored from it); nothing else adds money up.

Rules (README, "Pricing"):
- every amount is in whole units of the store currency (its minor unit; a hundredth for
  three-decimal currencies); unit prices already are (a price cannot carry more decimals than
  its currency), so line totals are exact;
- a discount is spread over the lines it applies to by largest remainder, in minor units, so
  the discounted lines add up exactly to the subtotal less the discount;
- tax is computed per line (and on shipping) and rounded half up to the minor unit; with prices
  entered including tax it is the part of each amount the rate accounts for, otherwise it is
  added on top;
- total = subtotal - discount + shipping (+ tax, when prices exclude it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from shop.money import quantum, round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PriceLine:
    """What the calculation needs of a cart or order line."""

    key: object  # the caller's own handle on the line (a variant id)
    unit_price: Decimal
    quantity: int
    product_id: int | None = None
    category_id: int | None = None


@dataclass(frozen=True)
class Discount:
    """A discount code as the calculation sees it (see pricing.services.voucher_terms)."""

    code: str
    kind: str  # "percentage", "fixed" or "free_shipping"
    value: Decimal = Decimal(0)
    # None: every line; otherwise the product and category ids whose lines are discounted.
    product_ids: frozenset | None = None
    category_ids: frozenset | None = None

    def applies_to(self, line: PriceLine) -> bool:
        if self.product_ids is None and self.category_ids is None:
            return True
        return line.product_id in (self.product_ids or ()) or line.category_id in (
            self.category_ids or ()
        )


@dataclass(frozen=True)
class Shipping:
    """A shipping method as the calculation sees it."""

    name: str
    price: Decimal
    free_from: Decimal | None = None


@dataclass(frozen=True)
class Tax:
    name: str
    rate: Decimal  # percent
    shipping_rate: Decimal  # percent


@dataclass(frozen=True)
class LineBreakdown:
    key: object
    unit_price: Decimal
    quantity: int
    line_total: Decimal  # unit price × quantity, before the discount
    discount: Decimal  # this line's share of the order's discount
    tax: Decimal
    tax_rate: Decimal

    @property
    def net(self):
        """What the line costs after its discount (tax included when prices include it)."""
        return self.line_total - self.discount


@dataclass(frozen=True)
class Breakdown:
    currency: str
    prices_include_tax: bool
    lines: list[LineBreakdown]
    subtotal: Decimal
    discount: Decimal
    shipping_full: Decimal | None  # the method's price before a free-shipping code; None: no method
    shipping: Decimal
    shipping_tax: Decimal
    tax: Decimal
    total: Decimal
    tax_name: str = "Tax"
    tax_rate: Decimal | None = None  # None: no rate for the address (or no address yet)
    shipping_tax_rate: Decimal = Decimal(0)
    code: str = ""
    free_shipping: bool = False  # the code made shipping free
    shipping_name: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def goods_after_discount(self):
        return self.subtotal - self.discount

    def line(self, key):
        return next(line for line in self.lines if line.key == key)


def spread(amount: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split `amount` over `weights` in proportion, in whole units, summing exactly.

    Largest remainder: each share is rounded down, and the units left over go one each to the
    shares that lost the most in rounding (ties to the earlier line), so no line can get more
    than its exact share rounded up. Counted in whole units and exact integer remainders, so a
    tie is a tie and not decided by rounding noise.
    """
    unit = quantum(currency)
    units = int(amount / unit)
    whole = [int(weight / unit) for weight in weights]
    total = sum(whole)
    if not units or not total:
        return [Decimal(0).quantize(unit) for _ in weights]
    shares = [units * w // total for w in whole]
    remainders = [units * w % total for w in whole]
    left = units - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return [(share * unit).quantize(unit) for share in shares]


def tax_part(amount: Decimal, percent: Decimal, included: bool, currency: str) -> Decimal:
    """The tax on `amount`: the part of it at `percent` if included, else on top of it."""
    if not percent or not amount:
        return round_money(Decimal(0), currency)
    if included:
        return round_money(amount * percent / (HUNDRED + percent), currency)
    return round_money(amount * percent / HUNDRED, currency)


def calculate(
    lines: list[PriceLine],
    *,
    currency: str,
    prices_include_tax: bool,
    shipping: Shipping | None = None,
    tax: Tax | None = None,
    discount: Discount | None = None,
) -> Breakdown:
    """The breakdown of an order of `lines`. Without a shipping method, shipping is 0 (the
    cart page before an address is known); without a tax rate, no tax is charged."""
    zero = round_money(Decimal(0), currency)
    totals = [line.unit_price * line.quantity for line in lines]
    subtotal = sum(totals, zero)

    # The discount, on the lines it applies to.
    eligible = [discount is not None and discount.applies_to(line) for line in lines]
    eligible_total = sum((t for t, ok in zip(totals, eligible, strict=True) if ok), zero)
    discount_amount = zero
    if discount is not None and discount.kind == "percentage":
        discount_amount = round_money(eligible_total * discount.value / HUNDRED, currency)
    elif discount is not None and discount.kind == "fixed":
        discount_amount = min(discount.value, eligible_total)
    shares = spread(
        discount_amount,
        [t if ok else zero for t, ok in zip(totals, eligible, strict=True)],
        currency,
    )

    # Shipping: free from the method's threshold (goods after discount), or by the code.
    shipping_full = None
    shipping_amount = zero
    free_shipping = False
    if shipping is not None and lines:
        shipping_full = shipping.price
        if shipping.free_from is not None and subtotal - discount_amount >= shipping.free_from:
            shipping_full = zero
        shipping_amount = shipping_full
        if discount is not None and discount.kind == "free_shipping" and shipping_full:
            shipping_amount = zero
            free_shipping = True

    rate = tax.rate if tax else Decimal(0)
    shipping_rate = tax.shipping_rate if tax else Decimal(0)
    breakdown_lines = [
        LineBreakdown(
            key=line.key,
            unit_price=line.unit_price,
            quantity=line.quantity,
            line_total=total,
            discount=share,
            tax=tax_part(total - share, rate, prices_include_tax, currency),
            tax_rate=rate,
        )
        for line, total, share in zip(lines, totals, shares, strict=True)
    ]
    shipping_tax = tax_part(shipping_amount, shipping_rate, prices_include_tax, currency)
    tax_amount = sum((line.tax for line in breakdown_lines), zero) + shipping_tax
    total = subtotal - discount_amount + shipping_amount
    if not prices_include_tax:
        total += tax_amount
    return Breakdown(
        currency=currency,
        prices_include_tax=prices_include_tax,
        lines=breakdown_lines,
        subtotal=subtotal,
        discount=discount_amount,
        shipping_full=shipping_full,
        shipping=shipping_amount,
        shipping_tax=shipping_tax,
        tax=tax_amount,
        total=total,
        tax_name=tax.name if tax else "Tax",
        tax_rate=tax.rate if tax else None,
        shipping_tax_rate=shipping_rate,
        code=discount.code if discount else "",
        free_shipping=free_shipping,
        shipping_name=shipping.name if shipping else "",
    )
