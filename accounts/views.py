"""Account pages: registration, the shopper's own account page and address book."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.generic import ListView, UpdateView

from accounts.forms import DUPLICATE_EMAIL, AddressForm, ProfileForm, RegistrationForm
from accounts.models import Address
from accounts.services import (
    ADDRESS_BOOK_LIMIT,
    AddressBookFull,
    address_add,
    address_delete,
    address_set_default,
    address_update,
)


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
            login(request, user, backend="accounts.backends.ShopperBackend")
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["address_count"] = self.request.user.addresses.count()
        return context


class AddressListView(LoginRequiredMixin, ListView):
    template_name = "accounts/address_list.html"
    context_object_name = "addresses"

    def get_queryset(self):
        return self.request.user.addresses.all()  # the default first, then the newest

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["limit"] = ADDRESS_BOOK_LIMIT
        context["is_full"] = len(context["addresses"]) >= ADDRESS_BOOK_LIMIT
        return context


def own_address_or_404(request, pk):
    """The shopper's own address; anyone else's is a 404, as if it did not exist."""
    return get_object_or_404(Address, pk=pk, user=request.user)


def address_form_page(request, form, status=200):
    # Invalid fields answer 400 with the form, as the checkout form with the same fields does.
    return render(request, "accounts/address_form.html", {"form": form}, status=status)


@login_required
def address_add_view(request):
    form = AddressForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            address_add(
                user=request.user, data=form.address_data(), make_default=form.make_default()
            )
        except AddressBookFull as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The address is saved in your address book.")
        return redirect("accounts:address_list")
    if request.method != "POST" and request.user.addresses.count() >= ADDRESS_BOOK_LIMIT:
        messages.error(request, str(AddressBookFull()))
        return redirect("accounts:address_list")
    return address_form_page(request, form, status=400 if form.is_bound else 200)


@login_required
def address_edit_view(request, pk):
    address = own_address_or_404(request, pk)
    form = AddressForm(request.POST if request.method == "POST" else None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            address_update(
                address=address, data=form.address_data(), make_default=form.make_default()
            )
        except Address.DoesNotExist:
            raise Http404 from None
        messages.success(request, "The address is saved.")
        return redirect("accounts:address_list")
    return address_form_page(request, form, status=400 if form.is_bound else 200)


@login_required
def address_delete_view(request, pk):
    """GET asks for confirmation; POST deletes."""
    address = own_address_or_404(request, pk)
    if request.method == "POST":
        address_delete(address=address)
        messages.success(request, f"“{address}” is deleted from your address book.")
        return redirect("accounts:address_list")
    return render(request, "accounts/address_confirm_delete.html", {"address": address})


@login_required
@require_POST
def address_make_default_view(request, pk):
    address = own_address_or_404(request, pk)
    try:
        address_set_default(address=address)
    except Address.DoesNotExist:
        raise Http404 from None
    messages.success(request, f"“{address}” is now your default address.")
    return redirect("accounts:address_list")
