"""Checkout and order status: every write with a business rule behind it."""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.backends import USER_STAND_IN
from accounts.models import Address
from cart.exceptions import variant_name
from cart.models import Cart, CartItem
from catalog.cache import catalog_changed
from catalog.models import ProductVariant
from orders.emails import queue_order_email
from orders.exceptions import (
    CartChanged,
    CheckoutRefused,
    EmptyCart,
    IllegalTransition,
    InsufficientStock,
    PaymentInProgress,
    Shortage,
)
from orders.invoices import invoice_number_next
from orders.models import Order, OrderEvent, OrderItem, OrderStatus
from orders.signals import order_cancel_requested, order_status_changing
from orders.status import STATUSES
from pricing.services import (
    ShippingError,
    VoucherError,
    price,
    shipping_method_choose,
    voucher_give_back,
    voucher_redeem,
)
from shop.compiled import compiled_once

logger = logging.getLogger(__name__)

S = OrderStatus
# How often order_cancel expires sessions and tries again when a new one keeps appearing.
CANCEL_ATTEMPTS = 3

NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def order_number():
    """A public order number: random, so it reveals nothing about how many orders there are.

    50 random bits: a number already taken is a one in 10^15 event per order, left to the
    unique index and order_place's retry rather than checked for on every checkout.
    """
    raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def cart_signature(lines, total=None):
    """A fingerprint of (variant, quantity, unit price) lines and the total: what the shopper
    agreed to."""
    text = ";".join(f"{pid}:{qty}:{price}" for pid, qty, price in sorted(lines))
    if total is not None:
        text += f"={total}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def checkout_signature(items, breakdown):
    """The signature of a checkout page: its lines at today's prices and the total it shows."""
    return cart_signature(
        ((item.variant_id, item.quantity, item.variant.price) for item in items),
        breakdown.total,
    )


def shipping_details_initial(user, addresses=()):
    """The checkout form's starting address: the default saved one (of `addresses`, the
    user's address book), else the last order's, else just the shopper's name."""
    if user is None:
        return {}
    address = next((a for a in addresses if a.is_default), None)
    if address is not None:
        return address.as_shipping()
    sql, params = _last_order_address(user.pk)
    last = next(iter(Order.objects.raw(sql, params)), None)
    if last is None:
        return {"full_name": user.full_name}
    return {field: getattr(last, field) for field in Order.SHIPPING_FIELDS}


def address_book(user) -> list:
    """The user's saved addresses, the default first (none for a guest)."""
    if user is None:
        return []
    sql, params = _address_book(user.pk)
    return list(Address.objects.raw(sql, params))


# Read on every checkout page: compiled once (the ORM took longer to build them than
# PostgreSQL took to run them).
@compiled_once(USER_STAND_IN)
def _address_book() -> QuerySet:
    return Address.objects.filter(user=USER_STAND_IN)


@compiled_once(USER_STAND_IN)
def _last_order_address() -> QuerySet:
    return Order.objects.for_customer(USER_STAND_IN).only(*Order.SHIPPING_FIELDS)[:1]


@dataclass(frozen=True)
class CheckoutRequest:
    """What the checkout form sends: whose cart, where, how, with which code, agreed to what.

    `user` for a signed-in shopper, else `session_key` (a guest's cart). `token` is the form's
    one-time token: the same token again returns the order it already made. `signature` is the
    checkout_signature of the page the shopper saw: if the cart, a price or the total changed
    since, nothing happens and CartChanged is raised.
    """

    email: str
    address: dict
    shipping_method_id: object
    token: object
    signature: str
    user: object = None
    session_key: str | None = None
    code: str = ""
    note: str = ""


def order_place(checkout: CheckoutRequest):
    """Turn the shopper's cart into an order awaiting payment, taking the stock, all or nothing.

    Returns (order, created). Raises EmptyCart, InsufficientStock, CartChanged or
    CheckoutRefused (a delivery or code that cannot be used), and then nothing has changed.
    """
    for attempt in range(3):
        number = order_number()
        try:
            return _order_place(checkout, number)
        except IntegrityError:
            # The form sent again after its order was placed, with the same lines back in the
            # cart: the token's unique index stopped a second order.
            existing = placed_with(checkout)
            if existing:
                return existing, False
            # A number drawn twice is worth another try; anything else is a real error.
            if attempt == 2 or not Order.objects.filter(number=number).exists():
                raise
            logger.warning("order number %s was taken; drawing another", number)


def placed_with(checkout: CheckoutRequest):
    """The order this checkout form's token placed for the same shopper, if any."""
    return Order.objects.filter(user=checkout.user, checkout_token=checkout.token).first()


@transaction.atomic
def _order_place(checkout, number):
    cart, items = _lock(checkout)
    if not items:
        existing = placed_with(checkout)
        if existing:  # this form's order, placed by an earlier submit
            return existing, False
        raise EmptyCart()
    _check(items)
    priced = _price(checkout, items)
    order, lines = _write(checkout, number, items, priced)
    _take_stock(items)

    CartItem.objects.filter(cart=cart).delete()
    if cart.voucher_code:  # left on the cart while the form sent none
        Cart.objects.filter(pk=cart.pk).update(voucher_code="")
    # Pages show whether a product is in stock, not how many: they change only when an order
    # sells a variant out (catalog_changed acts after commit, not while the rows are locked).
    if any(item.variant.stock == item.quantity for item in items):
        catalog_changed()
    OrderEvent.objects.create(
        order=order,
        to_status=S.PENDING_PAYMENT,
        actor=checkout.user,
        source="checkout",
        note="Order placed" if checkout.user else "Order placed as a guest",
    )
    # Queued in this transaction (the outbox's worker sends it): no mail server is waited on.
    queue_order_email(order, STATUSES[S.PENDING_PAYMENT].email, lines)
    _redeem(checkout, order, priced)
    logger.info("order placed: %s total %s %s", order.number, order.total, order.currency)
    return order, True


def _redeem(checkout, order, priced):
    """Step 6, last: the discount code's use recorded, and counted if the code has a use limit
    (see voucher_redeem): the only step that may write a row other buyers share, so its lock
    is held only for the commit that follows."""
    if priced.voucher is None:
        return
    try:
        voucher_redeem(voucher=priced.voucher, order=order, email=checkout.email)
    except VoucherError as exc:
        raise CheckoutRefused(exc, field="voucher_code") from exc


def _lock(checkout):
    """Step 1: the cart's row lock, then its lines with their variants locked.

    The cart's lock: checkouts of one cart run one after another, so a double submit waits for
    the first and then finds the cart it emptied. With a code, the lock is taken by the UPDATE
    that takes the code off the cart (as the cart's own changes lock it: cart.services).

    The lines with their variants and products (one query). Guard 1, PostgreSQL: the variants'
    row locks, held until commit. A checkout or a staff edit holding one of them is waited for,
    so the stock, active and price checks read the variant as committed, and nobody else can
    change it before this transaction ends. Without the lock, guards 2 and 3 (_take_stock)
    still stop an oversell, but a variant deactivated or repriced meanwhile would be sold as it
    was. Locked in primary-key order, so carts [A, B] and [B, A] cannot deadlock; products are
    read, not locked (a product's own switch is the rare staff action), so buyers of different
    variants of one product never wait for each other. FOR NO KEY UPDATE, the lock an UPDATE of
    the stock takes anyway: it still waits for (and holds off) every checkout and staff edit of
    the variant, but not a shopper adding it to a cart, whose foreign key check only needs the
    key to stay (FOR UPDATE would queue every add to cart of a hot variant behind its
    checkouts). On SQLite select_for_update does nothing: the IMMEDIATE transactions (settings)
    take the database's write lock at BEGIN, so checkouts run one at a time and read what the
    last one committed.
    """
    if checkout.user is not None:
        owner = ("user", checkout.user.pk)
    elif checkout.session_key:
        owner = ("session_key", checkout.session_key)
    else:
        raise EmptyCart()
    if checkout.code:
        cart = _cart_code_taken_off(*owner)
    else:
        cart = Cart.objects.select_for_update().filter(**dict([owner])).first()
    if cart is None:
        raise EmptyCart()
    items = list(
        CartItem.objects.filter(cart=cart)
        .select_related("variant__product")
        .select_for_update(of=("variant",), no_key=True)
        .order_by("variant_id")
    )
    return cart, items


def _cart_code_taken_off(field, value):
    """The cart whose `field` is `value`, locked by the UPDATE that takes its discount code off
    (the order carries it from now on; a refused checkout rolls the code back on): a checkout
    with a code gets its cart lock and that write in one statement. None if there is no cart.
    """
    meta = Cart._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    # Only quoted names and a placeholder are formatted into the statement.
    rows = Cart.objects.raw(
        f"UPDATE {quote(meta.db_table)} SET {quote(meta.get_field('voucher_code').column)} = '' "  # noqa: S608
        f"WHERE {quote(meta.get_field(field).column)} = %s RETURNING {columns}",
        [value],
    )
    return next(iter(rows), None)


def _check(items):
    """Step 2: every line still sold and in stock (read under the locks of step 1)."""
    shortages = []
    for item in items:
        variant = item.variant
        sold = variant.is_active and variant.product.is_active
        available = variant.stock if sold else 0
        if item.quantity > available:
            shortages.append(Shortage(variant_name(variant), item.quantity, available))
    if shortages:
        raise InsufficientStock(shortages)


def _price(checkout, items):
    """Step 3: the breakdown, with the delivery checked for the address and the code checked
    again (its row locked against staff edits until commit; its uses left are settled when its
    use is recorded: step 6), compared with what the shopper saw."""
    country = checkout.address.get("country")
    try:
        method = shipping_method_choose(country, checkout.shipping_method_id)
    except ShippingError as exc:
        raise CheckoutRefused(exc, field="shipping_method") from exc
    try:
        priced = price(
            items,
            country=country,
            region=checkout.address.get("region", ""),
            method=method,
            code=checkout.code,
            email=checkout.email,
            strict=True,
        )
    except VoucherError as exc:
        raise CheckoutRefused(exc, field="voucher_code") from exc
    if checkout.signature != checkout_signature(items, priced.breakdown):
        raise CartChanged()
    return priced


def order_figures(b) -> dict:
    """The Order fields that come from breakdown `b`: every stored figure, as priced."""
    return {
        "currency": b.currency,
        "subtotal": b.subtotal,
        "discount": b.discount,
        "shipping": b.shipping,
        "tax": b.tax,
        "shipping_tax": b.shipping_tax,
        "total": b.total,
        "prices_include_tax": b.prices_include_tax,
        "tax_name": b.tax_name if b.tax_rate is not None else "",
        "tax_rate": b.tax_rate,
        "shipping_tax_rate": b.shipping_tax_rate,
        "shipping_method_name": b.shipping_name,
        "voucher_code": b.code,
    }


def line_figures(line) -> dict:
    """The OrderItem fields that come from one line of a breakdown."""
    return {
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "line_total": line.line_total,
        "discount": line.discount,
        "tax": line.tax,
        "tax_rate": line.tax_rate,
    }


def _write(checkout, number, items, priced):
    """Step 4: the order and its lines, every figure from the breakdown."""
    b = priced.breakdown
    order = Order.objects.create(
        number=number,
        user=checkout.user,
        email=checkout.email,
        **order_figures(b),
        shipping_method=priced.method,
        note=checkout.note,
        checkout_token=checkout.token,
        **{field: checkout.address.get(field, "") for field in Order.SHIPPING_FIELDS},
    )
    lines = OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                variant_id=item.variant_id,
                product_name=item.variant.product.name,
                variant_label=item.variant.label,
                product_sku=item.variant.sku,
                **line_figures(line),
            )
            for item, line in zip(items, b.lines, strict=True)
        ]
    )
    return order, lines


def _take_stock(items):
    """Step 5: the stock for every line, taken in one UPDATE.

    Guards 2 and 3, on either engine, rely on no lock: they refuse the sale if a variant's
    stock fell below its line's quantity after step 2, by a path the locks do not cover (guard
    1 lost or narrowed in a change, a trigger or other write in this transaction). While the
    locks hold they never fire.
    """
    taken = _stock_take(items)
    # Guard 3: a line whose variant was not updated did not have the stock. InsufficientStock
    # rolls back the order and the stock of every line. Without it, the order would stand with
    # the short line's stock never taken.
    short = [item for item in items if item.variant_id not in taken]
    if short:
        # Read in this transaction, after the UPDATE: the short lines' stock is what it found;
        # the other lines' stock, already taken, is not reported (the rollback gives it back).
        now = ProductVariant.objects.select_related("product").in_bulk(
            [item.variant_id for item in short]
        )
        raise InsufficientStock(
            [
                Shortage(variant_name(now[item.variant_id]), item.quantity,
                         now[item.variant_id].stock)
                for item in short
            ]
        )  # fmt: skip


def _stock_take(items):
    """Take each line's quantity from its variant in one UPDATE; the ids of the variants taken.

    Guard 2: each variant only WHERE stock >= quantity. Without it the stock would go below zero
    and the database's CHECK (stock >= 0) would end the checkout in an IntegrityError (a 500)
    instead of a refusal. RETURNING says which rows were taken, so a refusal names the short
    lines alone (a line taken from has less stock left than before, and might look short).
    PostgreSQL, and SQLite from 3.35, have it; the ORM's update() returns only a count.
    """
    meta = ProductVariant._meta
    quote = connection.ops.quote_name
    table, pk, stock = (
        quote(name) for name in (meta.db_table, meta.pk.column, meta.get_field("stock").column)
    )
    cases = " ".join(["WHEN %s THEN %s"] * len(items))
    enough = " OR ".join([f"({pk} = %s AND {stock} >= %s)"] * len(items))
    pairs = [value for item in items for value in (item.variant_id, item.quantity)]
    with connection.cursor() as cursor:
        # Only quoted names and placeholders are formatted into the statement.
        cursor.execute(
            f"UPDATE {table} SET {stock} = {stock} - CASE {pk} {cases} END "  # noqa: S608
            f"WHERE {enough} RETURNING {pk}",
            pairs + pairs,
        )
        return {row[0] for row in cursor.fetchall()}


@transaction.atomic
def order_transition(*, order, to, actor=None, source, note="", details=None):
    """Move an order along the status graph (orders/status.py); the only code that changes
    `Order.status`.

    Locks the order, refuses a move the table does not allow (IllegalTransition) or one a
    receiver of order_status_changing refuses (an OrderError: e.g. shipping while a refund is
    pending), gives the stock back when the order is cancelled or its payment fails, records an
    OrderEvent, and queues the customer's email in the same transaction.

    `details`: the fields the new status asks for (State.details: the tracking, when shipped),
    written with the move and checked by the fields' validators (ValidationError, and nothing
    changes).
    """
    to = S(to)
    state = STATUSES[to]
    details = details or {}
    if not set(details) <= set(state.details):
        raise ValueError(f"moving to {to} takes {state.details or 'no details'}, not {details}")
    locked = Order.objects.select_for_update().get(pk=order.pk)
    from_status = S(locked.status)
    if to not in STATUSES[from_status].moves:
        raise IllegalTransition(locked, to)
    order_status_changing.send(sender=Order, order=locked, to=to)

    for field, value in details.items():
        setattr(locked, field, value)
    if details:
        locked.clean_fields(exclude=[f.name for f in Order._meta.fields if f.name not in details])
    locked.status = to
    fields = ["status", "updated", *details]
    now = timezone.now()
    if state.stamp:
        setattr(locked, state.stamp, now)
        fields.append(state.stamp)
    if state.invoices and not locked.invoice_number:
        # Last before the save: the year's counter stays locked only for the rest of this
        # short transaction.
        locked.invoice_number = invoice_number_next(now)
        fields.append("invoice_number")
    locked.save(update_fields=fields)

    if state.restocks:
        # The order's discount code use comes back with its stock, once: only terminal
        # statuses restock, and the order's row lock orders the racing cancel paths.
        voucher_give_back(order=locked)
        for item in locked.items.order_by("variant_id"):
            ProductVariant.objects.filter(pk=item.variant_id).update(
                stock=F("stock") + item.quantity
            )
        catalog_changed()

    OrderEvent.objects.create(
        order=locked, from_status=from_status, to_status=to, actor=actor, source=source, note=note
    )
    if state.email:
        # The move's note is the reason the email gives, where it gives one (cancelled).
        queue_order_email(locked, state.email, reason=note)
    logger.info("order %s: %s -> %s by %s", locked.number, from_status, to, source)

    for field in fields:
        setattr(order, field, getattr(locked, field))
    return order


def order_cancel(*, order, actor=None, source, note=""):
    """Cancel an unpaid order, giving its stock back.

    Receivers of order_cancel_requested run first, outside the transaction: payments uses it to
    expire an open payment session, so the order cannot be paid after its stock is released.
    A session opened in between (the shopper pressed "Pay" at that moment) makes the move
    itself refuse (PaymentInProgress, under the order's lock); it is expired in turn and the
    cancel tried again.
    """
    if S.CANCELLED not in order.state.moves:
        raise IllegalTransition(order, S.CANCELLED)
    for attempt in range(CANCEL_ATTEMPTS):
        order_cancel_requested.send(sender=Order, order=order)
        try:
            return order_transition(
                order=order, to=S.CANCELLED, actor=actor, source=source, note=note
            )
        except PaymentInProgress:
            if attempt == CANCEL_ATTEMPTS - 1:
                raise
            logger.info("order %s: a payment session opened while cancelling", order.number)
