"""`money` shows each amount as Babel formats it, however often it has formatted it before."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency

from catalog.templatetags import money as money_module
from catalog.templatetags.money import money

AMOUNTS = [
    Decimal("0.00"),
    Decimal("-0.00"),
    Decimal("5"),
    Decimal("5.0"),
    Decimal("5.00"),
    Decimal("1234567.891"),
    Decimal("-12.345"),
    Decimal("0.005"),
    Decimal("1E+3"),
    7,
    -7,
    2.5,
    "3.10",
]


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "BHD"])
def test_every_amount_reads_as_babel_has_it_the_first_time_and_every_time_after(settings, currency):
    settings.STORE_CURRENCY = currency
    for _ in range(3):
        for amount in AMOUNTS:
            assert money(amount) == format_currency(amount, currency, locale="en_US"), amount


def test_the_currency_and_the_language_are_part_of_what_is_remembered(settings):
    settings.STORE_CURRENCY = "USD"
    assert money(Decimal("5.00")) == "$5.00"
    assert money(Decimal("5.00"), "EUR") == "€5.00"
    settings.STORE_CURRENCY = "GBP"
    assert money(Decimal("5.00")) == "£5.00"
    settings.LANGUAGE_CODE = "de"
    assert money(Decimal("5.00")) == format_currency(Decimal("5.00"), "GBP", locale="de")
    assert money(Decimal("5.00")) != "£5.00"


def test_nothing_to_show_is_shown_as_nothing():
    assert money(None) == ""
    assert money("") == ""


def test_the_amounts_remembered_never_pass_the_limit(monkeypatch):
    monkeypatch.setattr(money_module, "MONEY_CACHE_SIZE", 10)
    monkeypatch.setattr(money_module, "_formatted", {})

    shown = [money(Decimal(n) / 100) for n in range(25)]

    assert len(money_module._formatted) <= 10
    assert shown[-1] == "$0.24"
