"""Checkout and the shopper's own orders."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from accounts.services import address_save_from_checkout
from cart.exceptions import CartError
from cart.services import cart_add_item, cart_contents, cart_get, cart_voucher_clear
from catalog.cache import cart_page
from catalog.templatetags.money import money
from orders.access import guest_grant, order_for_request, visible_orders
from orders.exceptions import (
    CartChanged,
    CheckoutRefused,
    EmptyCart,
    InsufficientStock,
    OrderError,
)
from orders.forms import NEW_ADDRESS, CheckoutForm, posted_country
from orders.models import Order, OrderStatus
from orders.services import (
    CheckoutRequest,
    address_book,
    checkout_signature,
    order_cancel,
    order_place,
    order_transition,
    shipping_details_initial,
)
from pricing.services import price, shipping_methods_for
from shop.ratelimits import limit


def _valid_email(value):
    """The email a guest typed, if it is one; else "" (it only decides a once-per-customer
    code's answer before the form is validated)."""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def _user(request):
    return request.user if request.user.is_authenticated else None


def _summary(contents, *, country, region="", method_id=None, code="", email=""):
    """The checkout page's figures for this address, method and code; the methods offered."""
    methods = shipping_methods_for(country)
    method = next((m for m in methods if str(m.pk) == str(method_id)), None)
    if method is None and methods:
        method = methods[0]
    priced = price(contents.lines, country=country, region=region, method=method, code=code,
                   email=email)  # fmt: skip
    return contents, methods, priced


@limit("checkout", key="user_or_ip")
def checkout(request):
    """One page: address (or a saved one), delivery, discount code, note; "Update totals"
    shows the figures for what was entered, "Place order" places it and goes on to pay."""
    if request.method == "POST":
        return checkout_submit(request)
    contents = cart_contents(request=request)
    if not contents.lines:
        messages.info(request, "Your cart is empty: add something first.")
        return redirect("cart:detail")
    if contents.problems:
        messages.error(request, "Some lines in your cart need your attention first.")
        return redirect("cart:detail")
    user = _user(request)
    addresses = address_book(user)
    initial = shipping_details_initial(user, addresses)

    def render():
        return _first_checkout_page(request, contents, user, addresses, initial)

    if contents.state is None or contents.voucher_code:
        # Whether a code can be used depends on the clock and its uses: worked out every time.
        return render()
    # All the page is made from: the cart (whose it is, a guest's or a shopper's, is in its
    # rows), the shopper's address book and the address the form starts from (the default
    # one, else their last order's, else just their name).
    state = repr(
        (
            contents.state,
            [[getattr(a, f.attname) for f in a._meta.concrete_fields] for a in addresses],
            sorted(initial.items()),
        )
    )
    fresh_token = (CheckoutForm.TOKEN_FIELD, CheckoutForm.new_token_field)
    return cart_page(request, state, render, count=contents.count, fresh=[fresh_token])


def _first_checkout_page(request, contents, user, addresses, initial):
    """The checkout page as the shopper first sees it: the form filled from `initial`."""
    initial = {**initial, "voucher_code": contents.voucher_code}
    initial.setdefault("country", settings.STORE_COUNTRY)
    default = next((a for a in addresses if a.is_default), None)
    initial["address"] = str(default.pk) if default else NEW_ADDRESS
    country = initial.get("country") or settings.STORE_COUNTRY
    contents, methods, priced = _summary(
        contents, country=country, region=initial.get("region", ""),
        code=contents.voucher_code, email=user.email if user else "",
    )  # fmt: skip
    if priced.method is not None:
        initial["shipping_method"] = priced.method.pk
    form = CheckoutForm(
        initial=initial,
        user=user,
        addresses=addresses,
        methods=methods,
        signature=checkout_signature(contents.lines, priced.breakdown),
    )
    return checkout_page(request, form, contents, priced)


STALE_CHECKOUT_PAGE = (
    "This checkout page was out of date; we have loaded it again: check your order and place "
    "it again."
)


def checkout_submit(request):
    user = _user(request)
    addresses = address_book(user)
    data = request.POST
    country = posted_country(data, addresses)
    email = user.email if user else _valid_email(data.get("email", ""))

    def page(form_data, status, *, reload=False, update=False, errors=()):
        """The page again for this data, with figures and a signature for it."""
        contents = cart_contents(request=request)
        chosen = next((a for a in addresses if str(a.pk) == form_data.get("address")), None)
        region = chosen.region if chosen else form_data.get("region", "")
        contents, methods, priced = _summary(
            contents, country=country, region=region,
            method_id=form_data.get("shipping_method"),
            code=form_data.get("voucher_code", ""), email=email,
        )  # fmt: skip
        signature = checkout_signature(contents.lines, priced.breakdown)
        options = {"user": user, "addresses": addresses, "methods": methods}
        if update:
            # Only the figures: an unfinished address is no error yet, so the form is shown
            # with what was typed, unvalidated.
            if priced.voucher_error:
                messages.error(request, priced.voucher_error)
            elif priced.voucher is not None:
                messages.success(request, f"{priced.voucher.code} is applied.")
            initial = form_data.dict()
            if priced.method is not None:
                initial["shipping_method"] = priced.method.pk
            form = CheckoutForm(initial=initial, signature=signature, **options)
            return checkout_page(request, form, contents, priced, status=status)
        if reload:
            form = CheckoutForm.reloaded(form_data, signature=signature, **options)
        else:
            form_data = form_data.copy()
            form_data["signature"] = signature
            form = CheckoutForm(form_data, **options)
        form.is_valid()
        for field, error in errors:
            form.add_error(field, error)
        if priced.voucher_error and not form.has_error("voucher_code"):
            form.add_error("voucher_code", priced.voucher_error)
        return checkout_page(request, form, contents, priced, status=status)

    if data.get("action") == "update":
        return page(data, 200, update=True)

    form = CheckoutForm(data, user=user, addresses=addresses)
    if not form.is_valid():
        if form.has_error("token") or form.has_error("signature"):
            # Hidden fields show no error, and the shopper could not correct one anyway: a new
            # page, with what they typed, and a word on why they are seeing it again.
            messages.error(request, STALE_CHECKOUT_PAGE)
            return page(data, 400, reload=True)
        return page(data, 400)
    try:
        order, created = order_place(
            CheckoutRequest(
                user=user,
                session_key=request.session.session_key,
                email=form.cleaned_data.get("email") or email,
                address=form.shipping(),
                shipping_method_id=form.cleaned_data["shipping_method"],
                code=form.cleaned_data["voucher_code"],
                note=form.cleaned_data["note"],
                token=form.cleaned_data["token"],
                signature=form.cleaned_data["signature"],
            )
        )
    except EmptyCart as exc:
        messages.info(request, str(exc))
        return redirect("cart:detail")
    except InsufficientStock as exc:
        messages.error(request, str(exc))
        return page(data, 409)
    except CheckoutRefused as exc:
        data = data.copy()
        if exc.field == "voucher_code":
            # A code that cannot be used (any more) is taken off the cart: the page shows the
            # total without it, to be agreed to again.
            cart_voucher_clear(request=request)
            data["voucher_code"] = ""
            messages.error(request, f"{exc} It has been removed: check the new total.")
            return page(data, 409)
        return page(data, 409, errors=[(exc.field, str(exc))])
    except CartChanged as exc:
        messages.warning(request, str(exc))
        return page(data, 409)
    if not created:
        messages.info(request, f"Order {order.number} was already placed.")
        return redirect(order)
    if user is None:
        guest_grant(request, order)
    elif form.cleaned_data.get("save_address") and form.chosen_address() is None:
        address_save_from_checkout(user=user, shipping=form.shipping(), make_default=not addresses)
    if order.total == 0:
        # The discount covers everything: nothing for a payment provider to take.
        order_transition(order=order, to=OrderStatus.PAID, actor=user, source="checkout",
                         note="Nothing to pay: the discount covers the order")  # fmt: skip
        messages.success(request, f"Order {order.number} is placed; there is nothing to pay.")
        return redirect(order)
    # Straight on to payment. Starting payment creates a payment session, so it is a POST: a
    # 307 has the browser send this form (and its CSRF token) on to the payments app's page.
    return HttpResponseRedirect(
        reverse("payments:start", args=[order.number]), preserve_request=True
    )


def _summary_rows(contents, breakdown):
    """The order summary's lines, ready to print (plain keys are what Django's templates read
    fastest; a model's attributes each cost them a failed key lookup first)."""
    rows = []
    for item, line in zip(contents.lines, breakdown.lines, strict=True):
        rows.append(
            {
                "name": item.variant.product.name,
                "label": item.variant.label,
                "unit_price": money(line.unit_price),
                "discount": money(line.discount) if line.discount else "",
                "quantity": line.quantity,
                "net": money(line.net),
            }
        )
    return rows


def checkout_page(request, form, contents, priced, status=200):
    breakdown = priced.breakdown
    rows = _summary_rows(contents, breakdown)
    context = {
        "form": form,
        "contents": contents,
        "rows": rows,
        "breakdown": breakdown,
        "cart_count": contents.count,
    }
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


class OrderDetailView(DetailView):
    """The shopper's own order, or a guest order this session may see (orders.access)."""

    template_name = "orders/order_detail.html"
    slug_field = slug_url_kwarg = "number"

    def get_queryset(self):
        # Another shopper's order is a 404, not a 403: order numbers are not to be probed.
        return visible_orders(self.request).prefetch_related("items", "events", "payments")

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            # Signed out, it may be the visitor's own order: the same answer for any number.
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise


def own_order_or_404(request, number):
    """The order if this shopper (or guest session) may see it; anyone else's is a 404."""
    return order_for_request(request, number)


@require_POST
def cancel(request, number):
    order = own_order_or_404(request, number)
    try:
        order_cancel(order=order, actor=_user(request), source="customer")
    except OrderError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Order {order.number} is cancelled.")
    return redirect(order)


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
