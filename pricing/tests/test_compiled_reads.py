"""The delivery methods and tax rates every priced page reads, from statements compiled once:
the same rows the ORM gives, and never yesterday's (only the statement is kept, not what it
read)."""

from decimal import Decimal

import pytest

from pricing.models import ShippingMethod, TaxRate, tax_rate_for
from pricing.services import shipping_methods_for
from pricing.tests.factories import ShippingMethodFactory, ShippingZoneFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


def orm_methods(country):
    return list(ShippingMethod.objects.for_country(country))


@pytest.fixture
def zones():
    europe = ShippingZoneFactory(name="Europe", countries=["FR", "DE"])
    ShippingMethodFactory(zone=europe, name="Courier", price=Decimal("9.00"))
    ShippingMethodFactory(zone=europe, name="Post", price=Decimal("4.00"))
    ShippingMethodFactory(zone=europe, name="Old", price=Decimal("1.00"), is_active=False)
    return europe


@pytest.mark.parametrize("country", ["FR", "DE", "JP", "", None])
def test_the_methods_offered_are_the_orms_cheapest_first(zones, country):
    methods = shipping_methods_for(country)

    assert methods == orm_methods(country)
    if country in ("FR", "DE"):
        assert [m.name for m in methods] == ["Post", "Courier"]
    elif country == "JP":  # no zone lists it: the rest of the world's (migration pricing/0002)
        assert [m.zone.rest_of_world for m in methods] == [True]
    else:
        assert methods == []


def test_a_change_to_the_methods_shows_at_once(zones):
    assert [m.name for m in shipping_methods_for("FR")] == ["Post", "Courier"]
    assert [m.zone.rest_of_world for m in shipping_methods_for("IT")] == [True]

    ShippingMethod.objects.filter(name="Post").update(price=Decimal("12.00"))
    zones.countries = ["FR", "DE", "IT"]
    zones.save()

    assert [(m.name, m.price) for m in shipping_methods_for("FR")] == [
        ("Courier", Decimal("9.00")),
        ("Post", Decimal("12.00")),
    ]
    assert [m.zone_id for m in shipping_methods_for("IT")] == [zones.pk, zones.pk]


def test_the_tax_rate_is_the_regions_else_the_countrys_and_changes_show_at_once():
    TaxRateFactory(country="FR", region="", rate=Decimal("20.000"))
    assert tax_rate_for("FR", "Corse").rate == Decimal("20.000")
    assert tax_rate_for("DE") is None

    TaxRateFactory(country="FR", region="Corse", rate=Decimal("10.000"))
    TaxRate.objects.filter(country="FR", region="").update(rate=Decimal("5.500"))
    TaxRateFactory(country="DE", rate=Decimal("19.000"))

    assert tax_rate_for("FR", " corse ").rate == Decimal("10.000")
    assert tax_rate_for("FR").rate == Decimal("5.500")
    assert tax_rate_for("DE").rate == Decimal("19.000")
    assert tax_rate_for("") is None
