"""What shoppers send to change their cart."""

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


class AddToCartForm(forms.Form):
    product = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        error_messages=dict.fromkeys(ERROR_KEYS, "Choose a product to add."),
    )
    quantity = _quantity_field(1)


class QuantityForm(forms.Form):
    quantity = _quantity_field(0)


def form_error_text(form):
    """The form's errors as sentences for a message above the cart."""
    return " ".join(error for errors in form.errors.values() for error in errors)
