"""Account pages: registration and the shopper's own account page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import UpdateView

from accounts.forms import DUPLICATE_EMAIL, ProfileForm, RegistrationForm


def _safe_next(request):
    """The `next` target if it stays on this site, else the account page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password1", "password2")
def register(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_safe_next(request))
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # Two sign-ups for one address at the same moment: the database's unique index
            # decides, and the loser hears the same thing as any other duplicate.
            form.add_error("email", DUPLICATE_EMAIL)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account is ready.")
            return HttpResponseRedirect(_safe_next(request))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "accounts/register.html", {"form": form, "next": next_url})


class AccountView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    form_class = ProfileForm
    template_name = "accounts/account.html"
    success_url = reverse_lazy("accounts:account")
    success_message = "Your details are saved."

    def get_object(self, queryset=None):
        return self.request.user
