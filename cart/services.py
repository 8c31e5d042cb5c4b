"""Every change to a cart: finding or making it, adding, changing, removing, merging at login."""

import functools
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.backends import loading_cart
from cart.exceptions import OutOfStock, ProductUnavailable, variant_name
from cart.models import Cart, CartItem

SESSION_CART_ID = "cart_id"


@dataclass(frozen=True)
class LineChange:
    variant: object
    requested: int  # the quantity the shopper asked the line to have
    quantity: int  # the quantity it has now (0: the line is gone)

    @property
    def capped(self):
        return 0 < self.quantity < self.requested


def cart_get(*, request, create=False):
    """The shopper's cart: the user's, or the guest session's. None if there is none yet."""
    if request.user.is_authenticated:
        if create:
            return Cart.objects.get_or_create(user=request.user)[0]
        return Cart.objects.filter(user=request.user).first()

    if request.session.session_key is None:
        if not create:
            return None
        request.session.save()  # a guest cart needs the session's key
    # The unique session key makes two first adds at the same moment find one cart.
    if create:
        cart = Cart.objects.get_or_create(session_key=request.session.session_key)[0]
        # The key changes at login; the id in the session data lets the merge find the cart.
        if request.session.get(SESSION_CART_ID) != cart.pk:
            request.session[SESSION_CART_ID] = cart.pk
        return cart
    return Cart.objects.filter(session_key=request.session.session_key).first()


def cart_contents(*, request):
    """The shopper's cart (as cart_get finds it): its lines at today's prices and its discount
    code, in one query. Empty contents if there is no cart or nothing in it."""
    with loading_cart():  # where the user is not loaded yet, with their cart
        signed_in = request.user.is_authenticated
    if signed_in:
        contents = getattr(request.user, "loaded_cart", None)
        if contents is not None:
            # Read as the user was loaded, just now: a later call in this request reads again.
            del request.user.loaded_cart
            return contents
        return Cart.contents_of(user=request.user)
    if request.session.session_key is not None:
        return Cart.contents_of(session_key=request.session.session_key)
    return Cart.empty_contents()


def cart_count(*, request):
    """How many items the header shows, in one query (none for a guest without a cart)."""
    # Error pages can be rendered before the session and auth middleware have run.
    user = getattr(request, "user", None)
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and user.is_authenticated:
        column, value = "user_id", user.pk
    elif session_key:
        column, value = "session_key", session_key
    else:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_count_sql(connection.vendor, column), [value])
        return cursor.fetchone()[0]


@functools.cache
def _count_sql(vendor, column):
    # Written out, not built by the ORM: on every page a signed-in shopper sees, building the
    # statement took several times longer than running it.
    quote = connection.ops.quote_name
    items, carts = CartItem._meta.db_table, Cart._meta.db_table
    # Names from the models; the value is a parameter.
    return (
        f"SELECT COALESCE(SUM(item.{quote('quantity')}), 0) FROM {quote(items)} item "  # noqa: S608
        f"JOIN {quote(carts)} cart ON cart.{quote('id')} = item.{quote('cart_id')} "
        f"WHERE cart.{quote(column)} = %s"
    )


def _line_limit(variant):
    return min(variant.stock, settings.CART_MAX_LINE_QUANTITY)


def cart_lock(cart):
    """Take the cart's row lock until the transaction ends.

    Changes to one cart run one after another: the second of two simultaneous adds sees the
    line the first one made and adds to it, instead of tripping the unique constraint.
    """
    Cart.objects.filter(pk=cart.pk).update(updated=timezone.now())


def _set_line(cart, variant, item, requested):
    quantity = min(requested, _line_limit(variant))
    if quantity <= 0:
        if item:
            item.delete()
        return LineChange(variant=variant, requested=requested, quantity=0)
    if item:
        item.quantity = quantity
        item.save(update_fields=["quantity"])
    else:
        CartItem.objects.create(cart=cart, variant=variant, quantity=quantity)
    return LineChange(variant=variant, requested=requested, quantity=quantity)


def _sellable(variant):
    return variant.is_active and variant.product.is_active


def _check_sellable(variant):
    if not _sellable(variant):
        raise ProductUnavailable(variant)
    if variant.stock <= 0:
        raise OutOfStock(variant)


@transaction.atomic
def cart_add_item(*, cart, variant, quantity):
    """Add `quantity` to the variant's line, capped by stock and the per-line maximum."""
    _check_sellable(variant)
    cart_lock(cart)
    item = CartItem.objects.filter(cart=cart, variant=variant).first()
    return _set_line(cart, variant, item, (item.quantity if item else 0) + quantity)


@transaction.atomic
def cart_set_quantity(*, cart, item, quantity):
    """Give a line a new quantity (0 removes it), capped by stock and the per-line maximum."""
    cart_lock(cart)
    if quantity > 0:
        _check_sellable(item.variant)
    return _set_line(cart, item.variant, item, quantity)


@transaction.atomic
def cart_remove_item(*, cart, item):
    cart_lock(cart)
    item.delete()


@transaction.atomic
def cart_merge(*, guest_cart, user):
    """Move a guest's lines into the user's cart at login; the guest cart is deleted.

    Quantities of a variant in both carts are added, then capped by stock and the per-line
    maximum. Variants no longer sold or out of stock are not carried over. Returns a sentence
    for each line that did not come across whole.
    """
    cart = Cart.objects.get_or_create(user=user)[0]
    for locked in sorted([cart, guest_cart], key=lambda c: c.pk):  # one order: no deadlock
        cart_lock(locked)
    existing = {item.variant_id: item for item in cart.items.select_related("variant")}
    notes = []
    for guest_item in guest_cart.items.select_related("variant__product"):
        variant = guest_item.variant
        if not _sellable(variant) or variant.stock <= 0:
            notes.append(f"{variant_name(variant)} is no longer available, so it was not kept.")
            continue
        item = existing.get(variant.pk)
        change = _set_line(
            cart, variant, item, guest_item.quantity + (item.quantity if item else 0)
        )
        if change.capped:
            notes.append(
                f"Only {change.quantity} of {variant_name(variant)} could be kept in your cart."
            )
    if guest_cart.voucher_code and not cart.voucher_code:
        cart_voucher_set(cart=cart, code=guest_cart.voucher_code)
    guest_cart.delete()
    return notes


def cart_voucher_set(*, cart, code: str) -> None:
    """Keep the discount code on the cart; it is checked again whenever the cart is priced."""
    Cart.objects.filter(pk=cart.pk).update(voucher_code=code)
    cart.voucher_code = code


def cart_voucher_clear(*, request) -> None:
    """Take the discount code off the shopper's cart, if there is one."""
    cart = cart_get(request=request)
    if cart is not None and cart.voucher_code:
        cart_voucher_set(cart=cart, code="")


@transaction.atomic
def carts_delete_abandoned(*, older_than, dry_run=False):
    """Delete guest carts untouched since `older_than`; signed-in shoppers' carts are kept."""
    carts = Cart.objects.filter(user__isnull=True, updated__lt=older_than)
    count = carts.count()
    if not dry_run:
        carts.delete()
    return count
