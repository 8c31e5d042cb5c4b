"""Checkout and the shopper's own orders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from cart.exceptions import CartError
from cart.services import cart_add_item, cart_contents, cart_get
from orders.exceptions import CartChanged, EmptyCart, InsufficientStock, OrderError
from orders.forms import CheckoutForm
from orders.models import Order
from orders.services import (
    checkout_signature,
    order_cancel,
    order_place,
    shipping_details_initial,
)
from shop.ratelimits import limit


@login_required
@limit("checkout", key="user")
def checkout(request):
    if request.method == "POST":
        return checkout_submit(request)
    contents = cart_contents(request=request)
    if not contents.lines:
        messages.info(request, "Your cart is empty: add something first.")
        return redirect("cart:detail")
    if contents.problems:
        messages.error(request, "Some lines in your cart need your attention first.")
        return redirect("cart:detail")
    form = CheckoutForm(
        initial=shipping_details_initial(request.user), signature=checkout_signature(contents)
    )
    return checkout_page(request, form, contents)


STALE_CHECKOUT_PAGE = (
    "This checkout page was out of date; we have loaded it again: check your order and place "
    "it again."
)


def checkout_submit(request):
    # The cart is read here only when the page has to be shown again: placing the order finds
    # and locks it itself.
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        contents = cart_contents(request=request)
        if form.has_error("token") or form.has_error("signature"):
            # Hidden fields show no error, and the shopper could not correct one anyway: a new
            # page, with what they typed, and a word on why they are seeing it again.
            messages.error(request, STALE_CHECKOUT_PAGE)
            form = CheckoutForm.reloaded(request.POST, signature=checkout_signature(contents))
        return checkout_page(request, form, contents, status=400)
    try:
        order, created = order_place(
            user=request.user,
            shipping=form.shipping(),
            token=form.cleaned_data["token"],
            signature=form.cleaned_data["signature"],
        )
    except EmptyCart as exc:
        messages.info(request, str(exc))
        return redirect("cart:detail")
    except InsufficientStock as exc:
        messages.error(request, str(exc))
        return checkout_page(request, form, cart_contents(request=request), status=409)
    except CartChanged as exc:
        messages.warning(request, str(exc))
        contents = cart_contents(request=request)
        data = request.POST.copy()
        data["signature"] = checkout_signature(contents)
        return checkout_page(request, CheckoutForm(data), contents, status=409)
    if not created:
        messages.info(request, f"Order {order.number} was already placed.")
        return redirect(order)
    # Straight on to payment. Starting payment creates a payment session, so it is a POST: a
    # 307 has the browser send this form (and its CSRF token) on to the payments app's page.
    return HttpResponseRedirect(
        reverse("payments:start", args=[order.number]), preserve_request=True
    )


def checkout_page(request, form, contents, status=200):
    context = {"form": form, "contents": contents, "cart_count": contents.count}
    return render(request, "orders/checkout.html", context, status=status)


class OrderListView(LoginRequiredMixin, ListView):
    template_name = "orders/order_list.html"
    context_object_name = "orders"
    paginate_by = 10

    def get_queryset(self):
        return Order.objects.for_customer(self.request.user)

    def paginate_queryset(self, queryset, page_size):
        # An odd page number shows the first or last page rather than a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()


class OrderDetailView(LoginRequiredMixin, DetailView):
    template_name = "orders/order_detail.html"
    slug_field = slug_url_kwarg = "number"

    def get_queryset(self):
        # Another shopper's order is a 404, not a 403: order numbers are not to be probed.
        return Order.objects.for_customer(self.request.user).prefetch_related(
            "items", "events", "payments"
        )


def own_order_or_404(request, number):
    """The shopper's own order; anyone else's is a 404 (order numbers are not to be probed)."""
    return get_object_or_404(Order.objects.for_customer(request.user), number=number)


@login_required
@require_POST
def cancel(request, number):
    order = own_order_or_404(request, number)
    try:
        order_cancel(order=order, actor=request.user, source="customer")
    except OrderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Order {order.number} is cancelled.")
    return redirect(order)


@login_required
@require_POST
def put_back_in_cart(request, number):
    order = own_order_or_404(request, number)
    if not order.can_be_put_back_in_cart:
        messages.error(request, "Only cancelled or unpaid orders can be put back in the cart.")
        return redirect(order)
    cart = cart_get(request=request, create=True)
    added = 0
    for item in order.items.select_related("variant__product"):
        try:
            change = cart_add_item(cart=cart, variant=item.variant, quantity=item.quantity)
        except CartError as exc:
            messages.warning(request, str(exc))
        else:
            added += 1
            if change.capped:
                messages.warning(request, f"Only {change.quantity} of {item.name} could be added.")
    if added:
        messages.success(request, "The items are back in your cart, at today's prices.")
    return redirect("cart:detail")
