"""pricing.breakdown.calculate and spread, against figures worked out by hand (no database)."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from pricing.breakdown import Discount, PriceLine, Shipping, Tax, calculate, quantum, spread

D = Decimal


def line(key, unit_price, quantity, product_id=None, category_id=None):
    return PriceLine(
        key=key,
        unit_price=D(unit_price),
        quantity=quantity,
        product_id=product_id,
        category_id=category_id,
    )


def tax(rate, shipping_rate=None, name="Tax"):
    rate = D(rate)
    return Tax(
        name=name, rate=rate, shipping_rate=rate if shipping_rate is None else D(shipping_rate)
    )


def shipping(price, free_from=None):
    return Shipping(
        name="Standard", price=D(price), free_from=None if free_from is None else D(free_from)
    )


def code(kind, value="0", products=None, categories=None):
    return Discount(
        code="TEST",
        kind=kind,
        value=D(value),
        product_ids=None if products is None else frozenset(products),
        category_ids=None if categories is None else frozenset(categories),
    )


def case(
    case_id,
    lines,
    *,
    expected,
    currency="USD",
    included=False,
    ship=None,
    rate=None,
    discount=None,
):
    """One row of the table: the inputs, and every figure the breakdown should come to."""
    inputs = {
        "lines": lines,
        "currency": currency,
        "prices_include_tax": included,
        "shipping": ship,
        "tax": rate,
        "discount": discount,
    }
    return pytest.param(inputs, expected, id=case_id)


def expect(
    *,
    subtotal,
    discount="0",
    line_discounts,
    line_taxes,
    shipping_full,
    shipping="0",
    shipping_tax="0",
    tax="0",
    total,
    free_shipping=False,
):
    return {
        "subtotal": D(subtotal),
        "discount": D(discount),
        "line_discounts": [D(x) for x in line_discounts],
        "line_taxes": [D(x) for x in line_taxes],
        "shipping_full": None if shipping_full is None else D(shipping_full),
        "shipping": D(shipping),
        "shipping_tax": D(shipping_tax),
        "tax": D(tax),
        "total": D(total),
        "free_shipping": free_shipping,
    }


CASES = [
    # 19.99 × 3 = 59.97 at 8 % = 4.7976 -> 4.80; 5.00 at 8 % = 0.40. Goods 64.97 >= 50: free.
    case(
        "exclusive-no-code-free-from-reached",
        [line("A", "19.99", 3), line("B", "5.00", 1)],
        ship=shipping("5.00", "50.00"),
        rate=tax("8"),
        expected=expect(
            subtotal="64.97",
            line_discounts=["0", "0"],
            line_taxes=["4.80", "0.40"],
            shipping_full="0",
            tax="5.20",
            total="70.17",
        ),
    ),
    # Included 20 %: 24.00 × 20/120 = 4.00; 9.99 × 20/120 = 1.665 -> 1.67 (half up);
    # shipping 4.95 × 20/120 = 0.825 -> 0.83. The total is the shelf prices plus shipping.
    case(
        "inclusive-vat",
        [line("A", "12.00", 2), line("B", "9.99", 1)],
        included=True,
        ship=shipping("4.95"),
        rate=tax("20", name="VAT"),
        expected=expect(
            subtotal="33.99",
            line_discounts=["0", "0"],
            line_taxes=["4.00", "1.67"],
            shipping_full="4.95",
            shipping="4.95",
            shipping_tax="0.83",
            tax="6.50",
            total="38.94",
        ),
    ),
    # 15 % of 39.99 = 5.9985 -> 6.00, spread 150.0375 / 300.075 / 149.8875 cents: floors
    # 150 + 300 + 149, the cent left to C (largest remainder). Goods after the discount,
    # 33.99, are under the 35.00 threshold although the subtotal is over it: shipping is paid.
    # Tax 10 %: 8.50 -> 0.85, 17.00 -> 1.70, 8.49 -> 0.849 -> 0.85, shipping 0.50.
    case(
        "percentage-code-takes-goods-under-free-from",
        [line("A", "10.00", 1), line("B", "20.00", 1), line("C", "3.33", 3)],
        ship=shipping("5.00", "35.00"),
        rate=tax("10"),
        discount=code("percentage", "15"),
        expected=expect(
            subtotal="39.99",
            discount="6.00",
            line_discounts=["1.50", "3.00", "1.50"],
            line_taxes=["0.85", "1.70", "0.85"],
            shipping_full="5.00",
            shipping="5.00",
            shipping_tax="0.50",
            tax="3.90",
            total="42.89",
        ),
    ),
    # 5.00 off 15.00 + 5.00: 3.75 and 1.25. No method chosen yet and no rate for the address.
    case(
        "fixed-code-no-tax-no-method",
        [line("A", "7.50", 2), line("B", "2.50", 2)],
        discount=code("fixed", "5.00"),
        expected=expect(
            subtotal="20.00",
            discount="5.00",
            line_discounts=["3.75", "1.25"],
            line_taxes=["0", "0"],
            shipping_full=None,
            total="15.00",
        ),
    ),
    # 50.00 off product 1 only, which costs 12.00: the discount is 12.00, all on A; B keeps its
    # price. Goods after discount 30.00 >= 20.00: free shipping. Tax 10 % of 0 and of 30.00.
    case(
        "fixed-code-larger-than-eligible-goods",
        [line("A", "12.00", 1, product_id=1), line("B", "30.00", 1, product_id=2)],
        ship=shipping("5.00", "20.00"),
        rate=tax("10"),
        discount=code("fixed", "50.00", products={1}),
        expected=expect(
            subtotal="42.00",
            discount="12.00",
            line_discounts=["12.00", "0"],
            line_taxes=["0", "3.00"],
            shipping_full="0",
            tax="3.00",
            total="33.00",
        ),
    ),
    case(
        "free-shipping-code",
        [line("A", "10.00", 2)],
        ship=shipping("6.00", "50.00"),
        rate=tax("5"),
        discount=code("free_shipping"),
        expected=expect(
            subtotal="20.00",
            line_discounts=["0"],
            line_taxes=["1.00"],
            shipping_full="6.00",
            tax="1.00",
            total="21.00",
            free_shipping=True,
        ),
    ),
    # Shipping was free anyway (60.00 >= 50.00): the code did not make it so.
    case(
        "free-shipping-code-when-already-free",
        [line("A", "30.00", 2)],
        ship=shipping("6.00", "50.00"),
        rate=tax("5"),
        discount=code("free_shipping"),
        expected=expect(
            subtotal="60.00",
            line_discounts=["0"],
            line_taxes=["3.00"],
            shipping_full="0",
            tax="3.00",
            total="63.00",
        ),
    ),
    # 25 % off category 7 (A and C: 60.00) = 15.00, spread 40:20 = 10.00 and 5.00; B is in
    # category 8. A rate of 0 % charges nothing but is still a rate.
    case(
        "percentage-code-limited-to-a-category",
        [
            line("A", "40.00", 1, product_id=1, category_id=7),
            line("B", "10.00", 1, product_id=2, category_id=8),
            line("C", "10.00", 2, product_id=3, category_id=7),
        ],
        ship=shipping("5.00", "50.00"),
        rate=tax("0"),
        discount=code("percentage", "25", categories={7}),
        expected=expect(
            subtotal="70.00",
            discount="15.00",
            line_discounts=["10.00", "0", "5.00"],
            line_taxes=["0", "0", "0"],
            shipping_full="0",
            total="55.00",
        ),
    ),
    # A code for product 3 or category 8: B by its category, C by its product; not A.
    case(
        "code-limited-to-products-and-categories",
        [
            line("A", "10.00", 1, product_id=1, category_id=7),
            line("B", "10.00", 1, product_id=2, category_id=8),
            line("C", "10.00", 1, product_id=3, category_id=7),
        ],
        discount=code("percentage", "50", products={3}, categories={8}),
        expected=expect(
            subtotal="30.00",
            discount="10.00",
            line_discounts=["0", "5.00", "5.00"],
            line_taxes=["0", "0", "0"],
            shipping_full=None,
            total="20.00",
        ),
    ),
    # Goods after the discount exactly at the threshold: free.
    case(
        "free-from-reached-exactly-after-discount",
        [line("A", "60.00", 1)],
        ship=shipping("5.00", "50.00"),
        discount=code("fixed", "10.00"),
        expected=expect(
            subtotal="60.00",
            discount="10.00",
            line_discounts=["10.00"],
            line_taxes=["0"],
            shipping_full="0",
            total="50.00",
        ),
    ),
    # One cent under it after the discount: shipping is paid.
    case(
        "free-from-missed-by-a-cent-after-discount",
        [line("A", "60.00", 1)],
        ship=shipping("5.00", "50.00"),
        discount=code("fixed", "10.01"),
        expected=expect(
            subtotal="60.00",
            discount="10.01",
            line_discounts=["10.01"],
            line_taxes=["0"],
            shipping_full="5.00",
            shipping="5.00",
            total="54.99",
        ),
    ),
    # Yen: 15 % of 6273 = 940.95 -> 941, spread 891.047 / 49.953: floors 891 + 49, the yen
    # left to B. Tax 10 %: 5049 -> 504.9 -> 505, 283 -> 28.3 -> 28. 5332 >= 5000: free.
    case(
        "zero-decimal-currency-jpy",
        [line("A", "1980", 3), line("B", "333", 1)],
        currency="JPY",
        ship=shipping("500", "5000"),
        rate=tax("10"),
        discount=code("percentage", "15"),
        expected=expect(
            subtotal="6273",
            discount="941",
            line_discounts=["891", "50"],
            line_taxes=["505", "28"],
            shipping_full="0",
            tax="533",
            total="5865",
        ),
    ),
    # Dinars, charged in hundredths (Stripe takes fils in steps of ten): 10 % of 4.74 = 0.474
    # -> 0.47, spread over 375 and 99 hundredths: 37 and 9, the one left to B (remainder 387
    # of 474 against 87). Included 5 %: 3.38 × 5/105 = 0.161 -> 0.16, 0.89 × 5/105 = 0.042
    # -> 0.04; shipping untaxed.
    case(
        "three-decimal-currency-kwd",
        [line("A", "1.25", 3), line("B", "0.99", 1)],
        currency="KWD",
        included=True,
        ship=shipping("2.00"),
        rate=tax("5", shipping_rate="0"),
        discount=code("percentage", "10"),
        expected=expect(
            subtotal="4.74",
            discount="0.47",
            line_discounts=["0.37", "0.10"],
            line_taxes=["0.16", "0.04"],
            shipping_full="2.00",
            shipping="2.00",
            tax="0.20",
            total="6.27",
        ),
    ),
    case(
        "shipping-untaxed-goods-taxed",
        [line("A", "10.00", 1)],
        ship=shipping("3.50"),
        rate=tax("20", shipping_rate="0"),
        expected=expect(
            subtotal="10.00",
            line_discounts=["0"],
            line_taxes=["2.00"],
            shipping_full="3.50",
            shipping="3.50",
            tax="2.00",
            total="15.50",
        ),
    ),
    case(
        "shipping-taxed-above-goods-rate",
        [line("A", "10.00", 1)],
        ship=shipping("3.50"),
        rate=tax("5", shipping_rate="20"),
        expected=expect(
            subtotal="10.00",
            line_discounts=["0"],
            line_taxes=["0.50"],
            shipping_full="3.50",
            shipping="3.50",
            shipping_tax="0.70",
            tax="1.20",
            total="14.70",
        ),
    ),
    # Included: 11.00 × 10/110 = 1.00; shipping untaxed; the total is unchanged by tax.
    case(
        "inclusive-shipping-untaxed",
        [line("A", "11.00", 1)],
        included=True,
        ship=shipping("4.00"),
        rate=tax("10", shipping_rate="0"),
        expected=expect(
            subtotal="11.00",
            line_discounts=["0"],
            line_taxes=["1.00"],
            shipping_full="4.00",
            shipping="4.00",
            tax="1.00",
            total="15.00",
        ),
    ),
    # Tax rounds half up per line: 0.25 × 2 % = 0.005 -> 0.01, 0.75 × 2 % = 0.015 -> 0.02.
    case(
        "tax-rounds-half-up-per-line",
        [line("A", "0.25", 1), line("B", "0.75", 1)],
        rate=tax("2"),
        expected=expect(
            subtotal="1.00",
            line_discounts=["0", "0"],
            line_taxes=["0.01", "0.02"],
            shipping_full=None,
            tax="0.03",
            total="1.03",
        ),
    ),
    # A rate with three decimals: 10.00 × 8.875 % = 0.8875 -> 0.89; 2.00 -> 0.1775 -> 0.18.
    case(
        "three-decimal-rate",
        [line("A", "10.00", 1)],
        ship=shipping("2.00"),
        rate=tax("8.875"),
        expected=expect(
            subtotal="10.00",
            line_discounts=["0"],
            line_taxes=["0.89"],
            shipping_full="2.00",
            shipping="2.00",
            shipping_tax="0.18",
            tax="1.07",
            total="13.07",
        ),
    ),
    # Everything off the goods: shipping and its tax are still paid.
    case(
        "hundred-percent-code",
        [line("A", "20.00", 1)],
        ship=shipping("5.00"),
        rate=tax("10"),
        discount=code("percentage", "100"),
        expected=expect(
            subtotal="20.00",
            discount="20.00",
            line_discounts=["20.00"],
            line_taxes=["0"],
            shipping_full="5.00",
            shipping="5.00",
            shipping_tax="0.50",
            tax="0.50",
            total="5.50",
        ),
    ),
    # Included 20 % after 10 % off: 27.00 -> 4.50 and 13.50 -> 2.25; 40.50 >= 40.00: free.
    case(
        "inclusive-with-percentage-code",
        [line("A", "30.00", 1), line("B", "15.00", 1)],
        included=True,
        ship=shipping("5.00", "40.00"),
        rate=tax("20"),
        discount=code("percentage", "10"),
        expected=expect(
            subtotal="45.00",
            discount="4.50",
            line_discounts=["3.00", "1.50"],
            line_taxes=["4.50", "2.25"],
            shipping_full="0",
            tax="6.75",
            total="40.50",
        ),
    ),
    # 0.10 off 1.00 + 4.00 + 10.00: 0.666.., 2.666.., 6.666.. cents, three equal remainders for
    # two cents: the first two lines should get them (see test_spread_* below for the bug).
    pytest.param(
        {
            "lines": [line("A", "1.00", 1), line("B", "4.00", 1), line("C", "10.00", 1)],
            "currency": "USD",
            "prices_include_tax": False,
            "shipping": None,
            "tax": None,
            "discount": code("fixed", "0.10"),
        },
        expect(
            subtotal="15.00",
            discount="0.10",
            line_discounts=["0.01", "0.03", "0.06"],
            line_taxes=["0", "0", "0"],
            shipping_full=None,
            total="14.90",
        ),
        id="discount-ties-go-to-earlier-lines",
    ),
    # An empty cart costs nothing, not even shipping.
    case(
        "no-lines",
        [],
        ship=shipping("5.00"),
        rate=tax("20"),
        discount=code("fixed", "5.00"),
        expected=expect(
            subtotal="0",
            line_discounts=[],
            line_taxes=[],
            shipping_full=None,
            total="0",
        ),
    ),
]


@pytest.mark.parametrize(("inputs", "expected"), CASES)
def test_calculate_comes_to_the_figures_worked_out_by_hand(inputs, expected):
    b = calculate(
        inputs["lines"],
        currency=inputs["currency"],
        prices_include_tax=inputs["prices_include_tax"],
        shipping=inputs["shipping"],
        tax=inputs["tax"],
        discount=inputs["discount"],
    )

    got = {
        "subtotal": b.subtotal,
        "discount": b.discount,
        "line_discounts": [line.discount for line in b.lines],
        "line_taxes": [line.tax for line in b.lines],
        "shipping_full": b.shipping_full,
        "shipping": b.shipping,
        "shipping_tax": b.shipping_tax,
        "tax": b.tax,
        "total": b.total,
        "free_shipping": b.free_shipping,
    }
    assert got == expected
    assert [line.key for line in b.lines] == [line.key for line in inputs["lines"]]
    assert b.goods_after_discount == expected["subtotal"] - expected["discount"]


def test_the_breakdown_names_its_rate_code_and_method():
    b = calculate(
        [line("A", "10.00", 1)],
        currency="USD",
        prices_include_tax=False,
        shipping=shipping("5.00"),
        tax=tax("20", shipping_rate="5", name="VAT"),
        discount=code("percentage", "10"),
    )

    assert (b.tax_name, b.tax_rate, b.shipping_tax_rate) == ("VAT", D("20"), D("5"))
    assert (b.code, b.shipping_name, b.currency, b.prices_include_tax) == (
        "TEST",
        "Standard",
        "USD",
        False,
    )
    assert b.line("A").tax_rate == D("20")
    assert b.line("A").net == D("9.00")


def test_without_a_rate_no_tax_is_charged_and_the_rate_is_none():
    b = calculate(
        [line("A", "10.00", 1)], currency="USD", prices_include_tax=False, shipping=shipping("5.00")
    )

    assert b.tax_rate is None
    assert b.tax_name == "Tax"
    assert (b.tax, b.shipping_tax, b.line("A").tax) == (0, 0, 0)
    assert b.total == D("15.00")


# spread(): largest remainder, in the currency's minor units.

SPREAD_CASES = [
    # Ties (a third each) go to the earlier line.
    pytest.param("10.00", ["1", "1", "1"], "USD", ["3.34", "3.33", "3.33"], id="tie-earlier-line"),
    pytest.param(
        "0.02", ["1", "1", "1"], "USD", ["0.01", "0.01", "0.00"], id="two-cents-three-lines"
    ),
    # 33.33 and 66.67 cents: the larger remainder wins over the earlier line.
    pytest.param("1.00", ["1", "2"], "USD", ["0.33", "0.67"], id="largest-remainder-wins"),
    pytest.param(
        "1.00", ["0", "5", "0"], "USD", ["0.00", "1.00", "0.00"], id="zero-weights-get-none"
    ),
    pytest.param("0", ["1", "2"], "USD", ["0.00", "0.00"], id="nothing-to-spread"),
    pytest.param("5.00", ["0", "0"], "USD", ["0.00", "0.00"], id="no-weight"),
    pytest.param(
        "6.00", ["10.00", "20.00", "9.99"], "USD", ["1.50", "3.00", "1.50"], id="money-weights"
    ),
    pytest.param("100", ["1", "1", "1"], "JPY", ["34", "33", "33"], id="yen-tie"),
    pytest.param("7", ["1", "2", "4"], "JPY", ["1", "2", "4"], id="yen-exact"),
    pytest.param("0.01", ["1", "1", "1"], "KWD", ["0.01", "0.00", "0.00"], id="dinar-hundredths"),
    # Two cents left over, three shares each 2/3 of a cent over: the first two lines get them.
    # Exact shares 0.666.., 2.666.., 6.666.. cents, but Decimal's 28 digits round 2/3 up by
    # different amounts in each: remainders are compared exactly (as integers), so the order
    # decides, not the rounding noise ([0.00, 0.03, 0.07] when it did).
    pytest.param(
        "0.10",
        ["1", "4", "10"],
        "USD",
        ["0.01", "0.03", "0.06"],
        id="tie-earlier-line-inexact-thirds",
    ),
]


@pytest.mark.parametrize(("amount", "weights", "currency", "expected"), SPREAD_CASES)
def test_spread_splits_by_largest_remainder(amount, weights, currency, expected):
    shares = spread(D(amount), [D(w) for w in weights], currency)

    assert shares == [D(x) for x in expected]
    assert sum(shares, D(0)) == (D(amount) if any(D(w) for w in weights) else 0)
    total = sum(Fraction(w) for w in weights)
    unit = Fraction(quantum(currency))
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(amount) * Fraction(weight) / total if total else Fraction(0)
        # No share is more than its exact share rounded up, nor less than it rounded down.
        assert math.floor(exact / unit) * unit <= Fraction(share) <= math.ceil(exact / unit) * unit
