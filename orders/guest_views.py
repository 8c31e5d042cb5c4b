"""Guests' ways back to their orders: the signed link, the lookup by number and email, and
adding past guest orders to an account once its owner proves the address."""

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders.access import (
    ClaimLinkInvalid,
    claim_email_from_token,
    guest_grant,
    guest_order_from_token,
    guest_orders_claim,
    guest_orders_for_email,
    order_lookup,
)
from orders.emails import queue_guest_orders_claim_email, queue_order_link_email
from shop.ratelimits import limit, limit_by_email

# As wide as the URL converter (shop.converters), in capitals: today's numbers are ABCDE-FGH23.
ORDER_NUMBER = re.compile(r"[A-Z0-9-]{1,16}")

LOOKUP_SENT = (
    "If an order with that number and email exists, we have sent a link to it to that address."
)


@require_GET
def guest(request, token):
    """A guest link from an email: this browser may see the order from now on."""
    order = guest_order_from_token(token)  # 404 for a link tampered with
    if order.is_guest:
        guest_grant(request, order)
        return redirect(order)
    if request.user.is_authenticated and request.user.pk == order.user_id:
        return redirect(order)
    # The order has since joined an account: its owner signs in to see it.
    messages.info(request, f"Order {order.number} is now in an account: sign in to see it.")
    return redirect_to_login(order.get_absolute_url())


class OrderLookupForm(forms.Form):
    number = forms.CharField(
        label="Order number",
        max_length=16,
        help_text="As in your order email, e.g. ABCDE-FGH23.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    email = forms.EmailField(
        label="Email", help_text="The address you placed the order with.", max_length=254
    )

    def clean_number(self):
        number = self.cleaned_data["number"].upper()
        if not ORDER_NUMBER.fullmatch(number):
            raise forms.ValidationError(
                "An order number has only letters, digits and dashes, e.g. ABCDE-FGH23."
            )
        return number


@require_http_methods(["GET", "POST"])
@limit("order_lookup")
@limit_by_email("order_lookup", "email")
def lookup(request):
    """Send the link to an order to its email. The answer never says whether it exists."""
    form = OrderLookupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "orders/guest_lookup.html", {"form": form}, status=400)
        order = order_lookup(**form.cleaned_data)
        if order is not None:
            queue_order_link_email(order)
        messages.success(request, LOOKUP_SENT)
        return redirect("orders:lookup")
    return render(request, "orders/guest_lookup.html", {"form": form})


@login_required
@require_POST
@limit("order_claim", key="user")
def claim(request):
    """Ask for the link that adds past guest orders to this account, sent to its address."""
    queue_guest_orders_claim_email(request.user)
    messages.success(
        request,
        f"If there are orders placed as a guest with {request.user.email}, we have sent a link "
        "to that address: follow it to add them to your account.",
    )
    return redirect("orders:list")


@login_required
@require_http_methods(["GET", "POST"])
def claim_confirm(request, token):
    """The link from the claim email: a button to press (a mail scanner's GET changes nothing)."""
    try:
        email = claim_email_from_token(token, user=request.user)
    except ClaimLinkInvalid as exc:
        return render(request, "orders/claim_invalid.html", {"reason": str(exc)}, status=404)
    if request.method == "POST":
        joined = guest_orders_claim(user=request.user, email=email)
        if joined:
            messages.success(
                request, f"Added {joined} past order{'s' * (joined != 1)} to your account."
            )
        else:
            messages.info(request, f"There are no guest orders placed with {email} to add.")
        return redirect("orders:list")
    count = guest_orders_for_email(email).count()
    return render(request, "orders/claim_confirm.html", {"email": email, "count": count})
