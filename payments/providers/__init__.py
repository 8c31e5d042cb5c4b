"""Payment providers behind one interface: what the store asks of them, and which one is in use.

The implementations are Stripe Checkout (payments.providers.stripe) and the local stand-in for
development (payments.providers.local). Every method that talks to the provider makes a network
call (or, for the stand-in, its local equivalent): call them outside database transactions,
never while holding row locks. Nothing here imports the payment services or views: the services
call down into providers, never the other way.
"""

import functools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from orders.models import Order
from payments.models import Payment
from shop.money import round_money, to_minor_units


class GatewayError(Exception):
    """The provider could not be reached or refused the request; safe to try again later."""


class IdempotencyConflict(GatewayError):
    """The provider has seen this idempotency key with other parameters: use a new attempt."""


class RefundDeclined(GatewayError):
    """The provider answered and will not make the refund (too much, already refunded, ...).

    Unlike a GatewayError that is a fault on the way, sending it again as it is will not help.
    """


class MalformedEvent(ValueError):
    """A signed body the store cannot read as an event: refused with 400, nothing recorded."""


@dataclass(frozen=True)
class Session:
    id: str
    url: str
    status: str  # open, complete or expired
    payment_status: str  # paid, unpaid or no_payment_required
    amount_total: int | None
    currency: str
    payment_intent: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ProviderRefund:
    """One refund as the provider reports it: its answer to `refund`, or inside an event.

    `status` is Stripe's: pending, requires_action, succeeded, failed or canceled. `ours` is
    the store's Refund id, from the metadata the store sent with it (None for a refund made in
    the provider's own dashboard).
    """

    id: str
    status: str
    amount: int | None = None
    payment_intent: str = ""
    failure: str = ""
    ours: int | None = None


@dataclass(frozen=True)
class Charge:
    """The charge of a charge.refunded event: how much of it has gone back, in minor units.

    `amount_refunded` counts every refund of the charge so far, whoever made it; `refunds` are
    those the event lists (Stripe lists them only with some API versions).
    """

    payment_intent: str
    amount: int
    amount_refunded: int
    refunds: tuple[ProviderRefund, ...] = ()


@dataclass(frozen=True)
class Event:
    """A verified webhook event, every field the store reads checked for its type.

    Event types are Stripe's names, which the stand-in uses too. `session` is set for
    checkout.session.* events, `charge` for charge.refunded, `refund` for the events about one
    refund (charge.refund.updated, refund.created, refund.updated, refund.failed).
    """

    id: str
    type: str
    object_id: str
    session: Session | None = None
    charge: Charge | None = None
    refund: ProviderRefund | None = None


class PaymentProvider(Protocol):
    """What the payment services and views ask of a provider; PAYMENT_PROVIDER names one."""

    # Stored on each Payment (at most 20 characters): which provider made its session.
    name: str
    # True for a stand-in that takes no money: refused while DEBUG is off (payments.E001).
    development_only: bool

    def create_session(
        self,
        *,
        order: Order,
        attempt: int,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
    ) -> Session:
        """A new session for this attempt of the order.

        The same order and attempt give the same session, so a retry after a lost answer does
        not open a second one. IdempotencyConflict if the attempt was first made with other
        parameters; GatewayError if the provider fails or does not answer in time.
        """
        ...

    def retrieve_session(self, session_id: str) -> Session:
        """The session as the provider sees it now. GatewayError if it cannot say."""
        ...

    def expire_session(self, session_id: str) -> Session:
        """Make an open session unpayable; the session as it is now, whatever its state."""
        ...

    def refund(
        self,
        *,
        payment: Payment,
        idempotency_key: str,
        amount_minor: int | None = None,
        refund_id: int | None = None,
    ) -> ProviderRefund:
        """Ask for `amount_minor` of the payment back (None: all of it); the refund as made.

        The same idempotency key gives the same refund, so a retry never refunds twice.
        `refund_id` (the store's Refund) goes with the request, so events about the refund can
        be matched to it even before this answer is recorded. RefundDeclined if the provider
        will not make it; GatewayError if it could not be asked.
        """
        ...

    def verify_webhook(self, *, body: bytes, signature: str | None) -> bool:
        """Whether the body was signed by the provider, recently enough to act on."""
        ...

    def parse_webhook(self, body: bytes) -> Event:
        """The event in a verified body. MalformedEvent if the store cannot use it."""
        ...


# What a provider is checked for when it is loaded (typing checks nothing at run time).
PROVIDER_MEMBERS = (
    *PaymentProvider.__annotations__,
    *(name for name, value in vars(PaymentProvider).items() if not name.startswith("_")),
)

# What PAYMENT_BACKEND stands for when PAYMENT_PROVIDER is empty.
BUILT_IN = {
    "stripe": "payments.providers.stripe.StripeProvider",
    "local": "payments.providers.local.LocalProvider",
}


def provider_path() -> str:
    """The dotted path of the provider in use: PAYMENT_PROVIDER, else what PAYMENT_BACKEND names.

    Read on each call rather than settled in settings, so that switching PAYMENT_BACKEND alone
    (as tests do) switches the provider.
    """
    return settings.PAYMENT_PROVIDER or BUILT_IN[settings.PAYMENT_BACKEND]


@functools.cache
def _load(path: str) -> PaymentProvider:
    # One instance per path and process: providers keep no state of their own and read their
    # settings when called, so a changed setting needs no new instance.
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER {path} cannot be imported: {exc}") from exc
    if not isinstance(cls, type):
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER {path} is not a class.")
    try:
        instance = cls()
    except TypeError as exc:
        raise ImproperlyConfigured(
            f"PAYMENT_PROVIDER {path} cannot be made without arguments: {exc}"
        ) from exc
    missing = [name for name in PROVIDER_MEMBERS if not hasattr(instance, name)]
    if missing:
        raise ImproperlyConfigured(
            f"PAYMENT_PROVIDER {path} is not a payments.providers.PaymentProvider: it has no "
            f"{', '.join(missing)}."
        )
    return instance


def provider() -> PaymentProvider:
    """The payment provider in use. ImproperlyConfigured if its path cannot be loaded."""
    return _load(provider_path())


# --- What a session charges -------------------------------------------------------------------


def session_line_items(order: Order) -> list[dict[str, Any]]:
    """The order's lines as the provider will charge them, in the currency's minor units.

    Each line is charged after its share of the discount; shipping and (when prices exclude it)
    tax are lines of their own. Every stored figure is whole minor units and the order's total
    is made of them (pricing.breakdown), so the lines add up to the total exactly: see
    session_amount. A discounted line whose amount does not divide by its quantity goes as one
    line named "3 x name" (with a multiplication sign), so no unit amount is ever rounded.
    """
    currency = order.currency.lower()

    def line(name: str, quantity: int, amount: Decimal) -> dict[str, Any]:
        return {
            "quantity": quantity,
            "price_data": {
                "currency": currency,
                "unit_amount": to_minor_units(amount, order.currency),
                "product_data": {"name": name},
            },
        }

    items = []
    for item in order.items.all():
        net = to_minor_units(item.net, order.currency)
        if not net:
            continue  # discounted to nothing: nothing to charge for it
        each = item.net / item.quantity
        if each == round_money(each, order.currency):
            items.append(line(item.name, item.quantity, each))
        else:
            items.append(line(f"{item.quantity} × {item.name}", 1, item.net))
    if order.shipping:
        name = (
            f"Shipping: {order.shipping_method_name}" if order.shipping_method_name else "Shipping"
        )
        items.append(line(name, 1, order.shipping))
    if order.tax and not order.prices_include_tax:
        items.append(line(order.tax_name or "Tax", 1, order.tax))
    return items


def session_amount(line_items: list[dict[str, Any]]) -> int:
    """What the provider will charge for these line items, in minor units."""
    return sum(item["quantity"] * item["price_data"]["unit_amount"] for item in line_items)


def session_is_paid(session: Session) -> bool:
    """The shopper's money is taken: the session is complete *and* its payment is settled.

    A delayed payment method completes the session unpaid and settles later; nothing else
    counts as paid, whatever the payment status says.
    """
    return session.status == "complete" and session.payment_status in (
        "paid",
        "no_payment_required",
    )
