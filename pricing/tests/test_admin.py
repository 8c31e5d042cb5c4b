"""The pricing back office: every page opens, and what the database would refuse is refused on
the form with a message. Also the demo store's pricing, as seed_demo makes it."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.tests.factories import StaffFactory, UserFactory
from catalog import demo
from catalog.demo import demo_pricing_seed
from catalog.tests.factories import ProductFactory
from orders.services import order_cancel
from orders.tests.factories import place_order
from pricing.admin import VoucherForm
from pricing.models import (
    ShippingMethod,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from pricing.tests.factories import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    TaxRateFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ["shippingzone", "shippingmethod", "taxrate", "voucher", "voucherredemption"]


@pytest.fixture
def admin(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def url(model, view="changelist", *args):
    return reverse(f"admin:pricing_{model}_{view}", args=args)


def voucher_data(**changes):
    data = {
        "code": "SPRING",
        "description": "",
        "kind": VoucherKind.PERCENTAGE,
        "value": "10",
        "is_active": "on",
        "starts_0": "",
        "starts_1": "",
        "ends_0": "",
        "ends_1": "",
        "usage_limit": "",
        "min_subtotal": "",
    }
    return {**data, **changes}


def zone_data(**changes):
    data = {
        "name": "Europe",
        "countries": ["FR", "DE"],
        "methods-TOTAL_FORMS": "0",
        "methods-INITIAL_FORMS": "0",
        "methods-MIN_NUM_FORMS": "0",
        "methods-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def errors(response):
    form = response.context["adminform"].form
    return [message for messages in form.errors.values() for message in messages]


@pytest.fixture
def used_voucher():
    """A once-per-customer code used by one order, placed through checkout."""
    voucher = VoucherFactory(code="THANKS", once_per_customer=True)
    order = place_order(
        [(ProductFactory(), 1)], UserFactory(email="ada@example.com"), code="THANKS"
    )
    return voucher, order


# Every page opens.


def test_every_pricing_list_opens_with_rows_in_it(admin, used_voucher):
    ShippingMethodFactory(zone=ShippingZoneFactory(name="Europe", countries=["FR", "DE", "IT"]))
    TaxRateFactory(country="GB", region="", name="VAT", rate=Decimal("20"))

    pages = {model: admin.get(url(model)) for model in MODELS}

    assert {model: page.status_code for model, page in pages.items()} == dict.fromkeys(MODELS, 200)
    assert all(page.context["cl"].result_count >= 1 for page in pages.values())
    zones = {zone.name: zone for zone in pages["shippingzone"].context["cl"].result_list}
    assert "Europe" in zones
    assert "Worldwide" in zones  # made by migration pricing/0002
    content = pages["voucher"].content.decode()
    assert "THANKS" in content
    assert "1 / ∞" in content  # used / limit


def test_zone_list_counts_countries_and_methods(admin):
    zone = ShippingZoneFactory(name="Europe", countries=["FR", "DE", "IT"])
    ShippingMethodFactory.create_batch(2, zone=zone)

    page = admin.get(url("shippingzone"))

    row = next(z for z in page.context["cl"].result_list if z.pk == zone.pk)
    model_admin = page.context["cl"].model_admin
    assert model_admin.country_count(row) == 3
    assert model_admin.method_count(row) == 2


@pytest.mark.parametrize("model", [m for m in MODELS if m != "voucherredemption"])
def test_add_pages_open(admin, model):
    assert admin.get(url(model, "add")).status_code == 200


def test_change_pages_open(admin, used_voucher):
    voucher, _ = used_voucher
    method = ShippingMethodFactory()
    rate = TaxRateFactory()

    pages = [
        url("shippingzone", "change", method.zone.pk),
        url("shippingmethod", "change", method.pk),
        url("taxrate", "change", rate.pk),
        url("voucher", "change", voucher.pk),
        url("voucherredemption", "change", voucher.redemptions.get().pk),
    ]

    assert [admin.get(page).status_code for page in pages] == [200] * len(pages)


# Discount codes.


def test_a_voucher_is_added_with_its_code_in_capitals(admin):
    product = ProductFactory()

    response = admin.post(
        url("voucher", "add"), voucher_data(code=" spring5 ", products=[product.pk])
    )

    assert response.status_code == 302
    voucher = Voucher.objects.get()
    assert voucher.code == "SPRING5"
    assert list(voucher.products.all()) == [product]


def test_a_code_spelled_like_another_in_other_letters_is_refused(admin):
    VoucherFactory(code="SPRING")

    response = admin.post(url("voucher", "add"), voucher_data(code="Spring"))

    assert response.status_code == 200
    assert "Another discount code is spelled the same." in errors(response)
    assert Voucher.objects.count() == 1


def test_a_percentage_over_a_hundred_is_refused(admin):
    response = admin.post(url("voucher", "add"), voucher_data(value="150"))

    assert response.status_code == 200
    assert "A percentage cannot be over 100." in errors(response)
    assert not Voucher.objects.exists()


def uses_of(code, count):
    """`count` orders placed through checkout with `code`."""
    product = ProductFactory(price=Decimal("20.00"), stock=count)
    return [place_order([(product, 1)], code=code) for _ in range(count)]


def test_a_use_limit_under_the_uses_so_far_is_refused(admin):
    voucher = VoucherFactory(code="SPRING")  # no limit: its uses are its redemptions alone
    uses_of("SPRING", 2)

    response = admin.post(
        url("voucher", "change", voucher.pk), voucher_data(code="SPRING", usage_limit="1")
    )

    assert response.status_code == 200
    assert "The code has been used 2 times: the limit cannot be lower." in errors(response)
    assert Voucher.objects.get().usage_limit is None


def test_a_limit_set_on_a_code_counts_the_uses_it_had_without_one(admin):
    voucher = VoucherFactory(code="SPRING")
    first, _ = uses_of("SPRING", 2)
    assert Voucher.objects.get().used == 0  # not counted while it had no limit

    response = admin.post(
        url("voucher", "change", voucher.pk), voucher_data(code="SPRING", usage_limit="3")
    )
    assert response.status_code == 302
    assert (Voucher.objects.get().used, Voucher.objects.get().uses_left) == (2, 1)
    order_cancel(order=first, source="test")  # a use given back is counted off again

    assert (Voucher.objects.get().used, Voucher.objects.get().uses_left) == (1, 2)


def test_the_uses_are_shown_but_not_edited(admin):
    voucher = VoucherFactory(code="SPRING")
    uses_of("SPRING", 2)

    page = admin.get(url("voucher", "change", voucher.pk))
    listed = admin.get(url("voucher")).content.decode()
    admin.post(url("voucher", "change", voucher.pk), voucher_data(code="SPRING", used="9"))

    assert "used" not in page.context["adminform"].form.fields
    assert '<div class="readonly">2</div>' in page.content.decode()
    assert "2 / ∞" in listed
    assert VoucherRedemption.objects.count() == 2
    assert Voucher.objects.get().used == 0


def test_saving_a_voucher_keeps_a_use_counted_while_the_form_was_handled(admin, monkeypatch):
    voucher = VoucherFactory(code="SPRING", usage_limit=5)
    clean = VoucherForm.clean

    def checkout_meanwhile(form):
        # A checkout redeems the code after the admin read the voucher, before it saves.
        uses_of("SPRING", 1)
        return clean(form)

    monkeypatch.setattr(VoucherForm, "clean", checkout_meanwhile)

    response = admin.post(
        url("voucher", "change", voucher.pk),
        voucher_data(code="SPRING", description="Spring", usage_limit="5"),
    )

    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.used, voucher.description) == (1, "Spring")


def test_a_voucher_page_lists_its_uses_with_links_to_the_orders(admin, used_voucher):
    voucher, order = used_voucher

    page = admin.get(url("voucher", "change", voucher.pk)).content.decode()
    every = admin.get(url("voucherredemption"), {"voucher__id__exact": voucher.pk})
    other = VoucherFactory(code="OTHER")
    none = admin.get(url("voucherredemption"), {"voucher__id__exact": other.pk})

    assert reverse("admin:orders_order_change", args=[order.pk]) in page
    assert order.number in page
    assert "ada@example.com" in page
    assert f"{url('voucherredemption')}?voucher__id__exact={voucher.pk}" in page
    assert [r.order_id for r in every.context["cl"].result_list] == [order.pk]
    assert none.context["cl"].result_count == 0


def test_a_used_voucher_cannot_be_deleted(admin, used_voucher):
    voucher, _ = used_voucher

    response = admin.post(url("voucher", "delete", voucher.pk), {"post": "yes"})

    assert response.status_code == 200
    assert "Cannot delete voucher" in response.content.decode()
    assert response.context["protected"]
    assert Voucher.objects.filter(pk=voucher.pk).exists()


def test_redemptions_are_read_only(admin, used_voucher):
    voucher, order = used_voucher
    redemption = voucher.redemptions.get()

    page = admin.get(url("voucherredemption", "change", redemption.pk))
    add = admin.get(url("voucherredemption", "add"))
    change = admin.post(url("voucherredemption", "change", redemption.pk), {"customer": "x@y.z"})
    delete = admin.post(url("voucherredemption", "delete", redemption.pk), {"post": "yes"})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert reverse("admin:orders_order_change", args=[order.pk]) in page.content.decode()
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert VoucherRedemption.objects.get().customer == "ada@example.com"


# Tax rates.


def test_a_second_rate_for_the_same_region_is_refused_in_any_letter_case(admin):
    TaxRateFactory(country="US", region="CA", name="Sales tax", rate=Decimal("7.25"))
    data = {"country": "US", "region": "ca", "name": "Tax", "rate": "8", "shipping_rate": ""}

    response = admin.post(url("taxrate", "add"), data)

    assert response.status_code == 200
    assert "This country or region already has a rate." in errors(response)
    assert TaxRate.objects.count() == 1


def test_a_region_rate_is_added_beside_its_country_rate(admin):
    TaxRateFactory(country="US", region="", name="Sales tax", rate=Decimal("5"))
    data = {
        "country": "US",
        "region": "NY",
        "name": "Sales tax",
        "rate": "8.875",
        "shipping_rate": "0",
    }

    response = admin.post(url("taxrate", "add"), data)

    assert response.status_code == 302
    assert TaxRate.objects.get(region="NY").rate == Decimal("8.875")


def test_a_rate_over_a_hundred_percent_is_refused(admin):
    data = {"country": "FR", "region": "", "name": "TVA", "rate": "120", "shipping_rate": ""}

    response = admin.post(url("taxrate", "add"), data)

    assert response.status_code == 200
    assert "rate" in response.context["adminform"].form.errors
    assert not TaxRate.objects.exists()


# Shipping zones.


def test_a_second_rest_of_the_world_zone_is_refused(admin):
    assert ShippingZone.objects.filter(rest_of_world=True).exists()  # "Worldwide"

    response = admin.post(
        url("shippingzone", "add"), zone_data(name="Elsewhere", countries=[], rest_of_world="on")
    )

    assert response.status_code == 200
    assert "Another zone already covers the rest of the world." in errors(response)
    assert ShippingZone.objects.filter(rest_of_world=True).count() == 1


def test_a_country_already_in_another_zone_is_refused(admin):
    ShippingZoneFactory(name="Europe", countries=["FR", "DE"])

    response = admin.post(
        url("shippingzone", "add"), zone_data(name="West", countries=["ES", "FR"])
    )

    assert response.status_code == 200
    assert any("FR (Europe)" in message for message in errors(response))
    assert not ShippingZone.objects.filter(name="West").exists()


def test_a_zone_needs_countries_unless_it_is_the_rest_of_the_world(admin):
    response = admin.post(url("shippingzone", "add"), zone_data(countries=[]))

    assert response.status_code == 200
    assert "List the zone's countries, or make it the rest of the world." in errors(response)


def test_a_zone_is_added_with_its_methods(admin):
    data = zone_data(
        **{
            "methods-TOTAL_FORMS": "1",
            "methods-0-name": "Standard",
            "methods-0-price": "7.50",
            "methods-0-free_from": "80.00",
            "methods-0-delivery_estimate": "4-6 working days",
            "methods-0-is_active": "on",
        }
    )

    response = admin.post(url("shippingzone", "add"), data)

    assert response.status_code == 302
    method = ShippingMethod.objects.get(zone__name="Europe")
    assert (method.price, method.free_from) == (Decimal("7.50"), Decimal("80.00"))
    assert [m.pk for m in ShippingMethod.objects.for_country("DE")] == [method.pk]


def test_a_method_price_with_more_decimals_than_the_currency_is_refused(admin, settings):
    settings.STORE_CURRENCY = "JPY"
    zone = ShippingZoneFactory()
    data = {"zone": zone.pk, "name": "Post", "price": "500.50", "free_from": "", "is_active": "on"}

    response = admin.post(url("shippingmethod", "add"), data)

    assert response.status_code == 200
    assert "price" in response.context["adminform"].form.errors
    assert not ShippingMethod.objects.filter(zone=zone).exists()


# The demo store (seed_demo).


def test_seed_demo_adds_delivery_tax_and_a_welcome_code_once(settings, monkeypatch):
    settings.STORE_COUNTRY = "US"
    settings.STORE_CURRENCY = "USD"
    # No pictures to draw: they are most of a seed's time and none of this test's business.
    monkeypatch.setattr(demo, "_demo_pictures", lambda: {name: [] for name in demo.CATEGORIES})

    call_command("seed_demo", "--products", "0", stdout=io.StringIO())
    call_command("seed_demo", "--products", "0", stdout=io.StringIO())

    domestic = ShippingZone.objects.get(name="Domestic")
    assert [str(c) for c in domestic.countries] == ["US"]
    methods = {m.name: m for m in domestic.methods.all()}
    assert methods.keys() == {"Standard", "Express"}
    standard, express = methods["Standard"], methods["Express"]
    assert (standard.price, standard.free_from) == (Decimal("5.00"), Decimal("50.00"))
    assert standard.delivery_estimate == "3-5 working days"
    assert (express.price, express.free_from) == (Decimal("15.00"), None)
    assert express.delivery_estimate == "1-2 working days"
    assert ShippingZone.objects.get(rest_of_world=True).name == "Worldwide"
    assert [m.zone_id for m in ShippingMethod.objects.for_country("US")] == [domestic.pk] * 2
    rates = {str(r.country): (r.name, r.rate) for r in TaxRate.objects.all()}
    assert rates == {"US": ("Sales tax", Decimal("8.000")), "GB": ("VAT", Decimal("20.000"))}
    welcome = Voucher.objects.get()
    assert (welcome.code, welcome.kind, welcome.value) == ("WELCOME10", "percentage", Decimal("10"))
    assert welcome.once_per_customer


def test_demo_pricing_leaves_what_staff_changed(settings):
    settings.STORE_COUNTRY = "US"
    demo_pricing_seed()
    ShippingMethod.objects.filter(name="Standard").update(price=Decimal("6.00"))
    Voucher.objects.filter(code="WELCOME10").update(is_active=False)

    again = demo_pricing_seed()

    assert again.zones_created + again.methods_created + again.vouchers_created == 0
    assert again.tax_rates_created == 0
    assert ShippingMethod.objects.get(name="Standard").price == Decimal("6.00")
    assert not Voucher.objects.get(code="WELCOME10").is_active


def test_demo_pricing_skips_domestic_when_a_zone_lists_the_store_country(settings):
    settings.STORE_COUNTRY = "FR"
    ShippingZoneFactory(name="Europe", countries=["FR", "DE"])

    result = demo_pricing_seed()

    assert (result.zones_created, result.methods_created) == (0, 0)
    assert not ShippingZone.objects.filter(name="Domestic").exists()
    assert TaxRate.objects.filter(country="FR", name="Sales tax").exists()


def test_demo_pricing_in_yen_charges_whole_yen(settings):
    settings.STORE_COUNTRY = "JP"
    settings.STORE_CURRENCY = "JPY"

    demo_pricing_seed()

    standard = ShippingMethod.objects.get(zone__name="Domestic", name="Standard")
    assert (standard.price, standard.free_from) == (Decimal("500"), Decimal("5000"))
