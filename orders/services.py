"""Checkout and order status: every write with a business rule behind it."""

import hashlib
import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cart.exceptions import variant_name
from cart.models import Cart, CartItem
from cart.shipping import shipping_cost
from catalog.cache import catalog_changed
from catalog.models import ProductVariant
from orders.emails import queue_order_email
from orders.exceptions import (
    CartChanged,
    EmptyCart,
    IllegalTransition,
    InsufficientStock,
    PaymentInProgress,
    Shortage,
)
from orders.models import Order, OrderEvent, OrderItem, OrderStatus
from orders.signals import order_cancel_requested, order_status_changing

logger = logging.getLogger(__name__)

S = OrderStatus
# The status graph, drawn in the README ("Checkout and orders"). Terminal states have no entry.
TRANSITIONS = {
    S.PENDING_PAYMENT: {S.PAID, S.PAYMENT_FAILED, S.CANCELLED},
    S.PAID: {S.SHIPPED, S.REFUNDED},
    S.SHIPPED: {S.DELIVERED},
}
# Moves that give the order's stock back. Both end in terminal states, so it happens once.
RESTOCKING = {(S.PENDING_PAYMENT, S.PAYMENT_FAILED), (S.PENDING_PAYMENT, S.CANCELLED)}
EMAILED = {S.PAID: "paid", S.SHIPPED: "shipped", S.CANCELLED: "cancelled"}
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


def cart_signature(lines):
    """A fingerprint of (variant, quantity, unit price) lines: what the shopper agreed to."""
    text = ";".join(f"{pid}:{qty}:{price}" for pid, qty, price in sorted(lines))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def checkout_signature(contents):
    return cart_signature(
        (line.variant_id, line.quantity, line.variant.price) for line in contents.lines
    )


def shipping_details_initial(user):
    """The checkout form's starting values: the shopper's last order's address, else their name."""
    last = Order.objects.for_customer(user).first()
    if last is None:
        return {"full_name": user.full_name}
    return {field: getattr(last, field) for field in Order.SHIPPING_FIELDS}


def order_place(*, user, shipping, token, signature):
    """Turn the user's cart into an order awaiting payment, taking the stock, all or nothing.

    `shipping` holds Order.SHIPPING_FIELDS; `token` is the checkout form's one-time token: the same
    token again returns the order it already made. `signature` is the cart_signature the shopper
    saw; if the cart or a price changed since, nothing happens and CartChanged is raised.
    Returns (order, created).
    """
    for attempt in range(3):
        number = order_number()
        try:
            return _order_place(user, number, shipping, token, signature)
        except IntegrityError:
            # The form sent again after its order was placed, with the same lines back in the
            # cart: the token's unique index stopped a second order.
            existing = placed_with(user, token)
            if existing:
                return existing, False
            # A number drawn twice is worth another try; anything else is a real error.
            if attempt == 2 or not Order.objects.filter(number=number).exists():
                raise
            logger.warning("order number %s was taken; drawing another", number)


def placed_with(user, token):
    """The shopper's order placed with this checkout form's token, if any."""
    return Order.objects.filter(user=user, checkout_token=token).first()


@transaction.atomic
def _order_place(user, number, shipping, token, signature):
    # The cart's row lock: checkouts of one cart run one after another, so a double submit
    # waits for the first and then finds the cart it emptied.
    cart = Cart.objects.select_for_update().filter(user=user).first()
    if cart is None:
        raise EmptyCart()

    # The lines with their variants and products (one query). Guard 1, PostgreSQL: the
    # variants' row locks, held until commit. A checkout or a staff edit holding one of them is
    # waited for, so the stock, active and price checks below read the variant as committed, and
    # nobody else can change it before this transaction ends. Without the lock, guards 2 and 3
    # below still stop an oversell, but a variant deactivated or repriced meanwhile would be
    # sold as it was. Locked in primary-key order, so carts [A, B] and [B, A] cannot deadlock;
    # products are read, not locked (a product's own switch is the rare staff action), so
    # buyers of different variants of one product never wait for each other. FOR NO KEY
    # UPDATE, the lock an UPDATE of the stock takes anyway: it still waits for (and holds off)
    # every checkout and staff edit of the variant, but not a shopper adding it to a cart,
    # whose foreign key check only needs the key to stay (FOR UPDATE would queue every add to
    # cart of a hot variant behind its checkouts). On SQLite select_for_update does nothing:
    # the IMMEDIATE transactions (settings) take the database's write lock at BEGIN, so
    # checkouts run one at a time and read what the last one committed.
    items = list(
        CartItem.objects.filter(cart=cart)
        .select_related("variant__product")
        .select_for_update(of=("variant",), no_key=True)
        .order_by("variant_id")
    )
    if not items:
        existing = placed_with(user, token)
        if existing:  # this form's order, placed by an earlier submit
            return existing, False
        raise EmptyCart()
    shortages = []
    for item in items:
        variant = item.variant
        sold = variant.is_active and variant.product.is_active
        available = variant.stock if sold else 0
        if item.quantity > available:
            shortages.append(Shortage(variant_name(variant), item.quantity, available))
    if shortages:
        raise InsufficientStock(shortages)
    if signature != cart_signature(
        (item.variant_id, item.quantity, item.variant.price) for item in items
    ):
        raise CartChanged()

    subtotal = sum((item.variant.price * item.quantity for item in items), Decimal("0.00"))
    shipping_amount = shipping_cost(subtotal)
    order = Order.objects.create(
        number=number,
        user=user,
        email=user.email,
        currency=settings.STORE_CURRENCY,
        subtotal=subtotal,
        shipping=shipping_amount,
        total=subtotal + shipping_amount,
        checkout_token=token,
        **{field: shipping.get(field, "") for field in Order.SHIPPING_FIELDS},
    )
    lines = OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                variant_id=item.variant_id,
                product_name=item.variant.product.name,
                variant_label=item.variant.label,
                product_sku=item.variant.sku,
                unit_price=item.variant.price,
                quantity=item.quantity,
                line_total=item.variant.price * item.quantity,
            )
            for item in items
        ]
    )
    # The stock for every line, taken in one UPDATE. Guards 2 and 3, on either engine, rely on
    # no lock: they refuse the sale if a variant's stock fell below its line's quantity after
    # the checks above, by a path the locks do not cover (guard 1 lost or narrowed in a change,
    # a trigger or other write in this transaction). While the locks hold they never fire.
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
    # The lines must add up (the database checks each line and total = subtotal + shipping).
    if sum((line.line_total for line in lines), Decimal("0.00")) != order.subtotal:
        raise AssertionError(f"Order {order.number}: lines do not add up to the subtotal.")

    CartItem.objects.filter(cart=cart).delete()
    # Pages show whether a product is in stock, not how many: they change only when an order
    # sells a variant out (catalog_changed acts after commit, not while the rows are locked).
    if any(item.variant.stock == item.quantity for item in items):
        catalog_changed()
    OrderEvent.objects.create(
        order=order, to_status=S.PENDING_PAYMENT, actor=user, source="checkout", note="Order placed"
    )
    # Queued in this transaction (the outbox's worker sends it): no mail server is waited on.
    queue_order_email(order, "placed", lines)
    logger.info("order placed: %s total %s %s", order.number, order.total, order.currency)
    return order, True


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
def order_transition(*, order, to, actor=None, source, note=""):
    """Move an order along the status graph; the only code that changes `Order.status`.

    Locks the order, refuses a move the graph does not allow (IllegalTransition) or one a
    receiver of order_status_changing refuses (an OrderError: e.g. shipping while a refund is
    pending), gives the stock back when the order is cancelled or its payment fails, records an
    OrderEvent, and queues the customer's email in the same transaction.
    """
    to = S(to)
    locked = Order.objects.select_for_update().get(pk=order.pk)
    from_status = S(locked.status)
    if to not in TRANSITIONS.get(from_status, ()):
        raise IllegalTransition(locked, to)
    order_status_changing.send(sender=Order, order=locked, to=to)

    locked.status = to
    fields = ["status", "updated"]
    if to == S.PAID:
        locked.paid_at = timezone.now()
        fields.append("paid_at")
    locked.save(update_fields=fields)

    if (from_status, to) in RESTOCKING:
        for item in locked.items.order_by("variant_id"):
            ProductVariant.objects.filter(pk=item.variant_id).update(
                stock=F("stock") + item.quantity
            )
        catalog_changed()

    OrderEvent.objects.create(
        order=locked, from_status=from_status, to_status=to, actor=actor, source=source, note=note
    )
    if to in EMAILED:
        queue_order_email(locked, EMAILED[to])
    logger.info("order %s: %s -> %s by %s", locked.number, from_status, to, source)

    order.status, order.paid_at, order.updated = locked.status, locked.paid_at, locked.updated
    return order


def order_cancel(*, order, actor=None, source, note=""):
    """Cancel an unpaid order, giving its stock back.

    Receivers of order_cancel_requested run first, outside the transaction: payments uses it to
    expire an open payment session, so the order cannot be paid after its stock is released.
    A session opened in between (the shopper pressed "Pay" at that moment) makes the move
    itself refuse (PaymentInProgress, under the order's lock); it is expired in turn and the
    cancel tried again.
    """
    if order.status != S.PENDING_PAYMENT:
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
