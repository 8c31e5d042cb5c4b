"""The checkout form: where the order goes, plus its one-time token and cart fingerprint."""

import re
import uuid

from django import forms
from django.core.validators import RegexValidator
from django.utils.functional import cached_property
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from catalog.templatetags.money import money
from orders.models import Order
from orders.widgets import CountrySelect, PlainTextarea, RadioChoices


class CountryChoiceField(LazyTypedChoiceField):
    def valid_value(self, value):
        # A lookup by code, not a walk through a few hundred translated names on each submit.
        return value in countries


def checkout_formfield(field, **kwargs):
    if field.name == "country":
        kwargs["choices_form_class"] = CountryChoiceField
    return field.formfield(**kwargs)


NEW_ADDRESS = "new"


def method_label(method):
    """ "Standard · $5.00 · 3-5 working days" (free from a threshold: said so)."""
    parts = [method.name, money(method.price) if method.price else "Free"]
    if method.free_from is not None and method.price:
        parts.append(f"free from {money(method.free_from)}")
    if method.delivery_estimate:
        parts.append(method.delivery_estimate)
    return " · ".join(parts)


class CheckoutForm(forms.ModelForm):
    """Who buys, where it goes, how, with which code, and the page's token and fingerprint.

    `user`: the signed-in shopper (None: a guest, who gives an email address). `addresses`:
    the shopper's saved addresses, offered instead of typing one. `methods`: the shipping
    methods for the country being delivered to (the view reads it from the data).
    """

    email = forms.EmailField(
        max_length=254,
        help_text="For the receipt and a link to your order. No account needed.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    address = forms.ChoiceField(label="Deliver to", widget=RadioChoices, initial=NEW_ADDRESS)
    save_address = forms.BooleanField(label="Save this address in my address book", required=False)
    # Offered for the country shown; which methods the country really has is checked when the
    # order is placed (order_place), inside its transaction.
    shipping_method = forms.TypedChoiceField(
        label="Delivery",
        coerce=int,
        widget=RadioChoices,
        error_messages={"required": "Choose a delivery option."},
    )
    voucher_code = forms.CharField(
        label="Discount code",
        required=False,
        max_length=40,
        help_text='Press "Update totals" to see it applied.',
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    note = forms.CharField(
        label="Note for us",
        required=False,
        max_length=1000,
        help_text="Delivery instructions, a gift message: up to 1,000 characters.",
        widget=PlainTextarea(attrs={"rows": 3, "maxlength": 1000}),
    )
    token = forms.UUIDField(widget=forms.HiddenInput)
    # The token as the page holds it: a kept checkout page gets a new one each time it is shown.
    TOKEN_FIELD = re.compile(r'name="token" value="[^"]*"')
    signature = forms.CharField(widget=forms.HiddenInput, max_length=64)
    phone = forms.CharField(
        required=False,
        max_length=32,
        validators=[
            RegexValidator(
                r"^\+?[0-9 ()\-.]{5,31}$",
                "Enter a phone number with digits, spaces and + ( ) - only.",
            )
        ],
        help_text="Only for the courier, if they need to reach you.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    class Meta:
        model = Order
        fields = Order.SHIPPING_FIELDS
        formfield_callback = checkout_formfield
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "country": CountrySelect,
        }

    def __init__(self, *args, user=None, addresses=(), methods=(), signature="", **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.saved = {str(address.pk): address for address in addresses}
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        if user is not None:
            del self.fields["email"]
        if not self.saved:
            del self.fields["address"]
        else:
            self.fields["address"].choices = [
                *((pk, ", ".join(a.lines)) for pk, a in self.saved.items()),
                (NEW_ADDRESS, "A new address (below)"),
            ]
        if user is None:
            del self.fields["save_address"]
        field = self.fields["shipping_method"]
        field.choices = [(method.pk, method_label(method)) for method in methods]
        # Any whole number passes here: order_place names a method of another country.
        field.valid_value = lambda value: True
        if self.chosen_address() is not None:
            # A saved address stands for the typed one: the address fields may stay empty.
            for name in Order.SHIPPING_FIELDS:
                self.fields[name].required = False
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())
            self.initial["signature"] = signature

    @cached_property
    def field_rows(self):
        """The visible fields as the page shows them (field_row), by name; under "address",
        the delivery address's fields in the form's order."""
        rows = {name: field_row(self[name]) for name in self.fields if not self[name].is_hidden}
        rows["address_fields"] = [rows[name] for name in rows if name in Order.SHIPPING_FIELDS]
        return rows

    def chosen_address(self):
        """The saved address picked on the form (from the data, before validation), or None."""
        key = self.data.get("address") if self.is_bound else self.initial.get("address")
        return self.saved.get(str(key)) if key else None

    @staticmethod
    def new_token_field(match=None):
        """What TOKEN_FIELD matches, with a new token."""
        return f'name="token" value="{uuid.uuid4()}"'

    @classmethod
    def reloaded(cls, data, *, signature, **kwargs):
        """The form bound to what the shopper typed, with a new token and this signature: for a
        page whose hidden fields came back unusable, which the shopper cannot mend."""
        data = data.copy()
        data["token"] = str(uuid.uuid4())
        data["signature"] = signature
        return cls(data, **kwargs)

    def _post_clean(self):
        # Nothing is saved from this form (order_place builds the order from cleaned_data), so
        # the model's validation would only go over the country list a second time and try
        # constraints on money fields the form does not have.
        pass

    def shipping(self):
        """The delivery address: the saved one chosen, else the one typed."""
        address = self.chosen_address()
        if address is not None:
            return address.as_shipping()
        return {name: self.cleaned_data.get(name, "") for name in self.Meta.fields}


def field_row(field):
    """What templates/partials/field.html makes of a bound field, written in Python: the checkout
    shows a dozen fields, and through the partial each cost more than its widget. Line ends and
    all; orders/tests/test_checkout_widgets.py holds the two the same."""
    errors, auto_id = field.errors, esc(field.auto_id)
    optional = "" if field.field.required else ' <span class="muted">(optional)</span>'
    label = f"{esc(field.label)}{optional}"
    help_text = (
        f'<div class="field__help" id="{auto_id}_helptext">{field.help_text}</div>'
        if field.help_text
        else ""
    )
    error_lines = "".join(
        f'<p class="field__error" id="{auto_id}_error">{esc(error)}</p>' for error in errors
    )
    invalid = " field--error" if errors else ""
    if field.use_fieldset:
        described = f' aria-describedby="{auto_id}_helptext"' if field.help_text else ""
        opening = f'<fieldset class="field field--group{invalid}"{described}>'
        heading, closing = f"<legend>{label}</legend>", "</fieldset>"
    else:
        opening = f'<div class="field{invalid}">'
        heading = f'<label for="{esc(field.id_for_label)}">{label}</label>'
        closing = "</div>"
    html = (
        f"\n\n  {opening}\n    {heading}\n    {field}\n    {help_text}\n    {error_lines}\n"
        f"  {closing}\n\n"
    )
    return mark_safe(html)  # noqa: S308 -- escaped above; help texts are the form's own HTML


def posted_country(data, addresses):
    """The country a checkout submission delivers to, read before the form is validated (it
    decides which shipping methods the form offers); "" for anything but a country code."""
    key = data.get("address")
    for address in addresses:
        if str(address.pk) == key:
            return str(address.country)
    code = (data.get("country") or "")[:2].upper()
    return code if code in countries else ""
