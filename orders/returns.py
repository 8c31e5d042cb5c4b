"""Returns: a shopper asks to send back lines of a delivered order; staff approve or refuse,
mark the items received (back on sale or not), and refund from the return.

    requested -> approved | refused
    approved  -> received

Each step is written on the order's timeline and emailed to the customer, in the transaction of
the change. Every step locks the order's row first, so two requests cannot return one item
twice and a step is taken once.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.cache import catalog_changed
from catalog.models import ProductVariant
from orders.emails import queue_order_email
from orders.exceptions import OrderError
from orders.models import EventKind, Order, OrderEvent, OrderItem, Return, ReturnLine, ReturnStatus
from orders.status import OrderStatus

R = ReturnStatus
MOVES = {R.REQUESTED: {R.APPROVED, R.REFUSED}, R.APPROVED: {R.RECEIVED}}
# What the timeline says, and the customer email sent, as a return moves into each status.
STEPS = {
    R.REQUESTED: ("Return requested", "return_requested"),
    R.APPROVED: ("Return approved", "return_approved"),
    R.REFUSED: ("Return refused", "return_refused"),
    R.RECEIVED: ("Returned items received", "return_received"),
}


class ReturnRefused(OrderError):
    """Why a return cannot be asked for, or a step taken, in words for the person asking."""


@dataclass(frozen=True)
class Returnable:
    item: OrderItem
    quantity: int  # how many of the line may still be asked back


def returnable(order: Order) -> list[Returnable]:
    """Each line with the quantity not yet in a return that was not refused."""
    asked = order.quantities_asked_back()
    return [
        Returnable(item, item.quantity - asked.get(item.pk, 0))
        for item in order.items.order_by("pk")
    ]


@transaction.atomic
def return_request(*, order: Order, quantities: dict[int, int], reason: str, actor=None) -> Return:
    """Ask to return `quantities` {order item id: quantity} of a delivered order, for `reason`.

    ReturnRefused if the order was not delivered, the window has closed, nothing is asked, or
    a line is asked for more than is left to return (checked under the order's lock).
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.DELIVERED or locked.delivered_at is None:
        raise ReturnRefused("Only a delivered order can be returned.")
    if not locked.can_be_returned:
        raise ReturnRefused(
            f"Returns close {settings.RETURN_WINDOW_DAYS} days after delivery; "
            f"this order's closed on {timezone.localdate(locked.return_deadline):%d %B %Y}."
        )
    reason = reason.strip()
    if not reason:
        raise ReturnRefused("Tell us why you are returning the items.")
    left = {entry.item.pk: entry for entry in returnable(locked)}
    wanted = {int(pk): int(quantity) for pk, quantity in quantities.items() if int(quantity) > 0}
    if not wanted:
        raise ReturnRefused("Choose at least one item to return.")
    for pk, quantity in wanted.items():
        if pk not in left:
            raise ReturnRefused("That item is not part of this order.")
        if quantity > left[pk].quantity:
            raise ReturnRefused(
                f"You can return at most {left[pk].quantity} of {left[pk].item.name}."
            )
    request = Return.objects.create(order=locked, reason=reason)
    ReturnLine.objects.bulk_create(
        ReturnLine(return_request=request, item=left[pk].item, quantity=quantity)
        for pk, quantity in sorted(wanted.items())
    )
    _step(request, R.REQUESTED, actor=actor, source="customer")
    return request


def return_approve(*, request: Return, actor, answer: str = "") -> Return:
    return _move(request, R.APPROVED, actor=actor, answer=answer)


def return_refuse(*, request: Return, actor, answer: str) -> Return:
    if not answer.strip():
        raise ReturnRefused("Say why the return is refused: the customer is told.")
    return _move(request, R.REFUSED, actor=actor, answer=answer)


def return_receive(*, request: Return, actor, restock: bool) -> Return:
    """The items arrived: put them back on sale if `restock` (they are fit to sell again)."""
    return _move(request, R.RECEIVED, actor=actor, restock=restock)


@transaction.atomic
def _move(request, to, *, actor, answer="", restock=None):
    Order.objects.select_for_update().get(pk=request.order_id)
    locked = Return.objects.select_related("order").get(pk=request.pk)
    if to not in MOVES.get(locked.status, ()):
        raise ReturnRefused(
            f"This return is {locked.get_status_display().lower()}: it cannot become "
            f"{R(to).label.lower()}."
        )
    now = timezone.now()
    locked.status = to
    if answer:
        locked.answer = answer.strip()[:500]
    if to in (R.APPROVED, R.REFUSED):
        locked.decided_at = now
    if to == R.RECEIVED:
        locked.received_at = now
        locked.restocked = restock
        if restock:
            for line in locked.lines.select_related("item").order_by("item__variant_id"):
                ProductVariant.objects.filter(pk=line.item.variant_id).update(
                    stock=F("stock") + line.quantity
                )
            catalog_changed()
    locked.save()
    _step(locked, to, actor=actor, source="back office")
    request.__dict__.update(locked.__dict__)
    return request


def _step(request, status, *, actor, source):
    text, email = STEPS[status]
    lines = ", ".join(str(line) for line in request.lines.select_related("item"))
    note = f"{text}: {lines}"
    if status == R.RECEIVED:
        note += "; back on sale" if request.restocked else "; not put back on sale"
    if request.answer and status in (R.APPROVED, R.REFUSED):
        note += f" ({request.answer})"
    OrderEvent.objects.create(
        order=request.order,
        kind=EventKind.RETURN,
        actor=actor,
        source=source,
        note=note[:500],
    )
    queue_order_email(request.order, email, return_request=request)
