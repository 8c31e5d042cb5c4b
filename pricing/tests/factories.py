"""Factories for pricing: shipping zones and methods, tax rates and discount codes."""

from decimal import Decimal

import factory

from pricing.models import ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherKind


class ShippingZoneFactory(factory.django.DjangoModelFactory):
    """A zone of named countries; ShippingZoneFactory(rest_of_world=True, countries=[]) for the
    rest of the world (a new database already has one: migration pricing/0002, "Worldwide")."""

    class Meta:
        model = ShippingZone

    name = factory.Sequence(lambda n: f"Zone {n}")
    countries = ["FR", "DE"]
    rest_of_world = False


class ShippingMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    zone = factory.SubFactory(ShippingZoneFactory)
    name = factory.Sequence(lambda n: f"Delivery {n}")
    price = Decimal("4.00")
    free_from = None
    delivery_estimate = "2-4 working days"
    is_active = True


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    country = "FR"
    region = ""
    name = "VAT"
    rate = Decimal("20.000")
    shipping_rate = None


class VoucherFactory(factory.django.DjangoModelFactory):
    """A 10 % code for anything; kind=VoucherKind.FIXED, value=... for an amount off."""

    class Meta:
        model = Voucher
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"CODE{n:04d}")
    kind = VoucherKind.PERCENTAGE
    value = Decimal("10.00")

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if create and extracted:
            self.categories.set(extracted)
