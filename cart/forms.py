"""What shoppers send to change their cart."""

import functools
import re

from django import forms

# Far above any per-line maximum: larger numbers are typing mistakes, not orders.
MAX_TYPED_QUANTITY = 9999
ERROR_KEYS = ("required", "invalid", "min_value", "max_value")


def _quantity_field(minimum):
    message = f"Enter a whole number from {minimum} to {MAX_TYPED_QUANTITY} as the quantity."
    return forms.IntegerField(
        min_value=minimum,
        max_value=MAX_TYPED_QUANTITY,
        error_messages=dict.fromkeys(ERROR_KEYS, message),
    )


def _id_field(message, required=True):
    return forms.IntegerField(
        required=required,
        min_value=1,
        max_value=2**63 - 1,
        error_messages=dict.fromkeys(ERROR_KEYS, message),
    )


OPTION_FIELD = re.compile(r"option-(\d{1,18})")


class AddToCartForm(forms.Form):
    """A product and what the shopper chose of it: a variant's id, or one value per option
    (fields `option-<option type id>` = option value id, as the product page posts them)."""

    product = _id_field("Choose a product to add.")
    variant = _id_field("Choose one of the product's options.", required=False)
    quantity = _quantity_field(1)

    def clean(self):
        cleaned_data = super().clean()
        options = {}
        for name, value in self.data.items():
            match = OPTION_FIELD.fullmatch(name)
            if match is None:
                continue
            if not (value.isdigit() and 0 < len(value) <= 18):
                raise forms.ValidationError("Choose one of the product's options.")
            options[int(match.group(1))] = int(value)
        cleaned_data["options"] = options
        return cleaned_data


class QuantityForm(forms.Form):
    quantity = _quantity_field(0)


class VoucherForm(forms.Form):
    """A discount code as typed: any letter case, checked against the codes by pricing."""

    code = forms.CharField(
        label="Discount code",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={
            "required": "Enter a discount code.",
            "max_length": "A discount code has at most 40 characters.",
            "null_characters_not_allowed": "Enter a discount code of letters and digits.",
        },
    )


@functools.cache
def voucher_field():
    """The cart page's discount code box, rendered once: the page always shows it empty (a
    code that fails comes back as a message), so every page view would build the same HTML."""
    field = VoucherForm()["code"]
    return {"id": field.id_for_label, "label": field.label, "input": str(field)}


def form_error_text(form):
    """The form's errors as sentences for a message above the cart."""
    return " ".join(error for errors in form.errors.values() for error in errors)
