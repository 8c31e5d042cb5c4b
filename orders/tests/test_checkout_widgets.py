"""The checkout's fields written in Python (field_row, RadioChoices, PlainTextarea) give exactly
what the templates they stand for give."""

from decimal import Decimal

import pytest
from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from accounts.tests.factories import UserFactory
from orders.forms import CheckoutForm, field_row
from orders.widgets import PlainTextarea, RadioChoices
from pricing.tests.factories import ShippingMethodFactory
from shop.renderers import FormRenderer

CHOICES = [(1, "Standard · $5.00"), ("2", 'Two "<b>" & co'), (3, mark_safe("<i>safe</i>"))]
VALUES = [None, "", 1, "2", "3", "x", 'quote " and <tag>']
ATTRS = [
    None,
    {"id": "id_f"},
    {"id": "id_f", "class": "c", "aria-describedby": "d", "required": True, "disabled": False},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
@pytest.mark.parametrize("attrs", ATTRS)
def test_the_radios_render_as_djangos_templates_do(value, attrs):
    expected = forms.RadioSelect(choices=CHOICES).render("f", value, attrs, FormRenderer())
    assert RadioChoices(choices=CHOICES).render("f", value, attrs, FormRenderer()) == expected


def test_grouped_radios_are_left_to_the_templates():
    grouped = [("Near", [(1, "Post")]), ("Far", [(2, "Air <mail>")])]
    expected = forms.RadioSelect(choices=grouped).render("f", 2, {"id": "id_f"}, FormRenderer())
    assert RadioChoices(choices=grouped).render("f", 2, {"id": "id_f"}, FormRenderer()) == expected
    assert "<label>Near</label>" in expected


@pytest.mark.parametrize("value", [*VALUES, "\nfirst line blank", mark_safe("<b>kept</b>")])
@pytest.mark.parametrize("attrs", ATTRS)
def test_the_textarea_renders_as_djangos_template_does(value, attrs):
    expected = forms.Textarea(attrs={"rows": 3}).render("f", value, attrs, FormRenderer())
    assert PlainTextarea(attrs={"rows": 3}).render("f", value, attrs, FormRenderer()) == expected


@pytest.fixture
def methods():
    return [
        ShippingMethodFactory(name="Post <b>", price=Decimal("4.00")),
        ShippingMethodFactory(name="Free", price=Decimal("0.00")),
    ]


def checkout_forms(user, addresses, methods):
    typed = {"full_name": "", "note": "Ring <twice>", "phone": "not a phone!", "address": "new"}
    return [
        CheckoutForm(initial={"country": "GB"}, user=None, methods=methods, signature="s"),
        CheckoutForm(initial={"country": "GB"}, user=user, addresses=addresses, methods=methods),
        CheckoutForm(typed, user=None, methods=methods),
        CheckoutForm(typed, user=user, addresses=addresses, methods=[]),
    ]


@pytest.mark.django_db
def test_each_checkout_field_reads_as_the_field_partial_has_it(methods):
    from accounts.models import Address

    user = UserFactory()
    addresses = [
        Address.objects.create(
            user=user, full_name="Ada <L>", address_line1="1 Main St", city="Leeds",
            postal_code="LS1", country="GB", is_default=True,
        ),
    ]  # fmt: skip
    compared = set()
    for form in checkout_forms(user, addresses, methods):
        if form.is_bound:
            assert not form.is_valid()
        for name in form.fields:
            expected = render_to_string("partials/field.html", {"field": form[name]})
            assert field_row(form[name]) == expected, name
            compared.add((name, bool(form[name].errors)))

    assert {"email", "address", "shipping_method", "note", "save_address"} <= {
        name for name, _ in compared
    }
    assert ("full_name", True) in compared
    assert ("phone", True) in compared


@pytest.mark.django_db
def test_the_form_offers_its_visible_fields_as_rows_and_the_address_in_order(methods):
    form = CheckoutForm(initial={"country": "GB"}, user=None, methods=methods, signature="s")

    rows = form.field_rows

    assert "token" not in rows
    assert "signature" not in rows
    assert rows["email"] == field_row(form["email"])
    shown = [field_row(form[name]) for name in form.fields if name in CheckoutForm.Meta.fields]
    assert rows["address_fields"] == shown
    assert len(shown) == len(CheckoutForm.Meta.fields)
