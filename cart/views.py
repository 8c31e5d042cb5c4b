"""The cart page and the POST actions that change it."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_countries import countries

from cart.exceptions import CartError, NoSuchChoice, variant_name
from cart.forms import AddToCartForm, QuantityForm, VoucherForm, form_error_text, voucher_field
from cart.models import Cart, CartItem
from cart.services import (
    cart_add_item,
    cart_contents,
    cart_get,
    cart_remove_item,
    cart_set_quantity,
    cart_voucher_set,
)
from catalog.cache import cart_page
from catalog.models import OptionValue, Product
from catalog.services import NotThisProduct, variant_choose
from catalog.templatetags.money import money
from pricing.models import VoucherKind
from pricing.services import (
    VoucherError,
    price,
    price_lines,
    shipping_methods_for,
    voucher_check,
    voucher_find,
)
from shop.ratelimits import limit


def _back(request):
    """Where the shopper came from, if it is on this site; else the cart."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("cart:detail")


def _email(request):
    """Whose "one use per customer" a code is checked against here: a guest's email is only
    known at checkout, which checks it again."""
    return request.user.email if request.user.is_authenticated else ""


def _estimate(request, contents):
    """The cart priced for delivery to the store's own country by its cheapest method, with
    the shopper's discount code if it can be used: the address is only known at checkout."""
    country = settings.STORE_COUNTRY
    methods = shipping_methods_for(country)
    return price(
        contents.lines,
        country=country,
        method=methods[0] if methods else None,
        code=contents.voucher_code,
        email=_email(request),
    )


def _rows(contents, breakdown):
    """What the page shows of each line, ready to print: prices formatted, links reversed,
    names put together. Django's templates find a dict's keys at once, where each attribute of
    a model costs them a failed key lookup first, a dozen times a line."""
    rows = []
    for line, priced in zip(contents.lines, breakdown.lines, strict=True):
        product, variant = line.variant.product, line.variant
        rows.append(
            {
                "variant_id": line.variant_id,
                "quantity": line.quantity,
                "name": product.name,
                "label": variant.label,
                # The line as a screen reader names its quantity box and buttons.
                "described": f"{product.name} ({variant.label})" if variant.label else product.name,
                "url": product.get_absolute_url() if product.is_active else "",
                "problem": line.problem,
                "price": money(variant.price),
                "total": money(priced.line_total),
                "discount": money(priced.discount) if priced.discount else "",
                "update_url": reverse("cart:update", args=[line.variant_id]),
                "remove_url": reverse("cart:remove", args=[line.variant_id]),
            }
        )
    return rows


def _render_cart(request, contents, status=200):
    context = {"contents": contents, "cart_count": contents.count, "voucher_field": voucher_field()}
    if contents.lines:
        priced = _estimate(request, contents)
        context.update(
            priced=priced,
            breakdown=priced.breakdown,
            rows=_rows(contents, priced.breakdown),
            # A code entered earlier that can no longer be used (expired meanwhile, say).
            stored_code=contents.voucher_code,
            estimate_country=countries.name(settings.STORE_COUNTRY),
        )
    return render(request, "cart/cart.html", context, status=status)


def _refuse(request, reason):
    """Bad input: the cart page again, with what was wrong, as a 400."""
    messages.error(request, reason)
    return _render_cart(request, cart_contents(request=request), status=400)


@require_GET
def detail(request):
    contents = cart_contents(request=request)
    if contents.state is None or contents.voucher_code:
        # Whether a code can be used depends on the clock, its uses and the shopper: worked
        # out on every view.
        return _render_cart(request, contents)
    return cart_page(
        request, contents.state, lambda: _render_cart(request, contents), count=contents.count
    )


@require_POST
@limit("cart", key="user_or_ip")
def add(request):
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form_error_text(form))
    product = get_object_or_404(Product.objects.available(), pk=form.cleaned_data["product"])
    try:
        variant = variant_choose(
            product=product,
            variant_id=form.cleaned_data["variant"],
            options=form.cleaned_data["options"],
        )
    except NotThisProduct as exc:
        form.add_error(None, str(exc))
        return _refuse(request, form_error_text(form))
    try:
        if variant is None:
            raise NoSuchChoice(product, option_label(product, form.cleaned_data["options"]))
        change = cart_add_item(
            cart=cart_get(request=request, create=True),
            variant=variant,
            quantity=form.cleaned_data["quantity"],
        )
    except CartError as exc:
        messages.error(request, str(exc))
    else:
        name = variant_name(variant)
        if change.capped:
            messages.warning(
                request,
                f"Only {change.quantity} of {name} can be ordered; "
                f"your cart has {change.quantity}.",
            )
        else:
            added = form.cleaned_data["quantity"]
            messages.success(request, f"Added {added} × {name} to your cart.")
    # A plain redirect: `next` is a path, never a URL name for redirect() to resolve.
    return HttpResponseRedirect(_back(request))


def _own_item(request, variant_id):
    """The line for this variant in the shopper's own cart; 404 for anything else."""
    cart = cart_get(request=request)
    if cart is None:
        raise Http404("No cart.")
    return cart, get_object_or_404(
        CartItem.objects.select_related("variant__product"), cart=cart, variant_id=variant_id
    )


@require_POST
@limit("cart", key="user_or_ip")
def update(request, variant_id):
    cart, item = _own_item(request, variant_id)
    form = QuantityForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form_error_text(form))
    wanted = form.cleaned_data["quantity"]
    name = variant_name(item.variant)
    try:
        change = cart_set_quantity(cart=cart, item=item, quantity=wanted)
    except CartError as exc:
        messages.error(request, str(exc))
    else:
        if change.quantity == 0:
            messages.success(request, f"Removed {name} from your cart.")
        elif change.capped:
            messages.warning(request, f"Only {change.quantity} of {name} can be ordered.")
        else:
            messages.success(request, f"Updated {name} to {change.quantity}.")
    return redirect("cart:detail")


@require_POST
@limit("cart", key="user_or_ip")
def remove(request, variant_id):
    cart, item = _own_item(request, variant_id)
    cart_remove_item(cart=cart, item=item)
    messages.success(request, f"Removed {variant_name(item.variant)} from your cart.")
    return redirect("cart:detail")


@require_POST
@limit("cart", key="user_or_ip")
def voucher_apply(request):
    form = VoucherForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form_error_text(form))
    cart = cart_get(request=request)
    contents = cart.contents() if cart else Cart.empty_contents()
    if not contents.lines:
        return _refuse(request, "Add something to your cart before entering a discount code.")
    try:
        voucher = voucher_find(form.cleaned_data["code"])
        voucher_check(voucher, price_lines(contents.lines), email=_email(request))
    except VoucherError as exc:
        return _refuse(request, str(exc))
    if cart.voucher_code == voucher.code:
        messages.info(request, f"{voucher.code} is already applied.")
    else:
        cart_voucher_set(cart=cart, code=voucher.code)
        messages.success(request, f"{voucher.code} applied: {voucher_offer(voucher)}.")
    return redirect("cart:detail")


@require_POST
@limit("cart", key="user_or_ip")
def voucher_remove(request):
    cart = cart_get(request=request)
    if cart is not None and cart.voucher_code:
        code = cart.voucher_code
        cart_voucher_set(cart=cart, code="")
        messages.success(request, f"Removed the discount code {code}.")
    return redirect("cart:detail")


def voucher_offer(voucher):
    """What a code does, in the shopper's words: "10% off selected items when they come to
    $50.00 or more"."""
    limited = voucher.products.exists() or voucher.categories.exists()
    if voucher.kind == VoucherKind.FREE_SHIPPING:
        offer = "free shipping" + (" with selected items" if limited else "")
    else:
        amount = (
            f"{format(voucher.value.normalize(), 'f')}%"
            if voucher.kind == VoucherKind.PERCENTAGE
            else money(voucher.value)
        )
        offer = f"{amount} off" + (" selected items" if limited else "")
    if voucher.min_subtotal is not None:
        minimum = money(voucher.min_subtotal)
        offer += (
            f" when they come to {minimum} or more" if limited else f" on orders from {minimum}"
        )
    return offer


def option_label(product, options):
    """ "Size: XS / Colour: Red" for option value ids the shopper chose (all of this product's:
    variant_choose checked)."""
    values = OptionValue.objects.filter(pk__in=options.values()).select_related("option_type")
    values = sorted(values, key=lambda v: (v.option_type.position, v.option_type_id))
    return " / ".join(f"{v.option_type.name}: {v.value}" for v in values)
