"""Forms shoppers and staff fill in about their accounts."""

from django import forms
from django.contrib.auth.forms import (
    AdminUserCreationForm,
    AuthenticationForm,
    BaseUserCreationForm,
    PasswordResetForm,
    UserChangeForm,
)
from django.template import loader

from accounts.models import User, normalize_email
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
