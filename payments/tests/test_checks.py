"""System checks of the payments app."""

from decimal import Decimal

from payments.checks import shipping_amounts_fit_the_currency


def test_shipping_amounts_with_more_decimals_than_the_currency_are_refused(settings):
    settings.STORE_CURRENCY = "JPY"
    settings.SHIPPING_FLAT_RATE = Decimal("5.50")
    settings.FREE_SHIPPING_THRESHOLD = Decimal("5000")

    [error] = shipping_amounts_fit_the_currency(None)

    assert error.id == "payments.E002"
    assert "SHIPPING_FLAT_RATE" in error.msg


def test_whole_shipping_amounts_pass_in_any_currency(settings):
    settings.STORE_CURRENCY = "JPY"
    settings.SHIPPING_FLAT_RATE = Decimal("500")
    settings.FREE_SHIPPING_THRESHOLD = None
    assert shipping_amounts_fit_the_currency(None) == []
