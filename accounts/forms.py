"""Forms shoppers and staff fill in about their accounts."""

import copy

from django import forms
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordResetForm,
    UserChangeForm,
)
from django.template import loader

from accounts.models import Address, User, normalize_email
from orders.forms import CheckoutForm, checkout_formfield
from shop.emails import email_queue

DUPLICATE_EMAIL = (
    "An account with this email address already exists. Log in or reset your password."
)


class EmailUniqueMixin:
    """Refuse an email that differs from an existing account's only in letter case."""

    def clean_email(self):
        email = normalize_email(self.cleaned_data.get("email"))
        taken = User.objects.filter(email=email)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(DUPLICATE_EMAIL, code="duplicate_email")
        return email


class RegistrationForm(EmailUniqueMixin, BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password do not match an account. Check both and try again."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True}
        )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("full_name",)
        widgets = {"full_name": forms.TextInput(attrs={"autocomplete": "name"})}


class AddressForm(forms.ModelForm):
    """An address of the address book: the checkout's fields, validation and autofill hints."""

    # The checkout's own phone field (its format check and help), so a saved address always
    # passes the checkout form it fills in.
    phone = copy.deepcopy(CheckoutForm.base_fields["phone"])
    is_default = forms.BooleanField(
        required=False,
        label="Make this my default address",
        help_text="Checkout starts with your default address filled in.",
    )

    class Meta:
        model = Address
        fields = ("label", *Address.SHIPPING_FIELDS)
        formfield_callback = checkout_formfield
        widgets = CheckoutForm.Meta.widgets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].widget.attrs["autocomplete"] = "country"
        if self.instance.is_default:
            # Already the default; another address takes over by being made the default.
            del self.fields["is_default"]

    def address_data(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def make_default(self):
        return self.cleaned_data.get("is_default", False)


class StaffUserCreationForm(EmailUniqueMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class StaffUserChangeForm(EmailUniqueMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the email queued in the outbox instead of sent in the request."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        email_queue(
            to=to_email,
            subject=subject,
            body=loader.render_to_string(email_template_name, context),
            kind="password_reset",
            # The link in it is as good as the password until used or a day old.
            secret=True,
        )
