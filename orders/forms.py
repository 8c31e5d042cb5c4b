"""The checkout form: where the order goes, plus its one-time token and cart fingerprint."""

import uuid

from django import forms
from django.core.validators import RegexValidator
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from orders.models import Order
from orders.widgets import CountrySelect


class CountryChoiceField(LazyTypedChoiceField):
    def valid_value(self, value):
        # A lookup by code, not a walk through a few hundred translated names on each submit.
        return value in countries


def checkout_formfield(field, **kwargs):
    if field.name == "country":
        kwargs["choices_form_class"] = CountryChoiceField
    return field.formfield(**kwargs)


class CheckoutForm(forms.ModelForm):
    token = forms.UUIDField(widget=forms.HiddenInput)
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

    def __init__(self, *args, signature="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())
            self.initial["signature"] = signature

    @classmethod
    def reloaded(cls, data, *, signature):
        """The form bound to what the shopper typed, with a new token and this signature: for a
        page whose hidden fields came back unusable, which the shopper cannot mend."""
        data = data.copy()
        data["token"] = str(uuid.uuid4())
        data["signature"] = signature
        return cls(data)

    def _post_clean(self):
        # Nothing is saved from this form (order_place builds the order from cleaned_data), so
        # the model's validation would only go over the country list a second time and try
        # constraints on money fields the form does not have.
        pass

    def shipping(self):
        return {name: self.cleaned_data.get(name, "") for name in self.Meta.fields}
