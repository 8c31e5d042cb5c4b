"""Payment providers behind one interface: Stripe Checkout, and a local stand-in for development.

Every method makes a network call (or, for the stand-in, its local equivalent): call them outside
database transactions, never while holding row locks.
"""

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.urls import reverse

from shop.money import round_money, to_minor_units


class GatewayError(Exception):
    """The provider could not be reached or refused the request; safe to try again later."""


class IdempotencyConflict(GatewayError):
    """The provider has seen this idempotency key with other parameters: use a new attempt."""


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


def session_line_items(order):
    """The order's lines as the provider will charge them, in the currency's minor units.

    Each line is charged after its share of the discount; shipping and (when prices exclude it)
    tax are lines of their own. Every stored figure is whole minor units and the order's total
    is made of them (pricing.breakdown), so the lines add up to the total exactly: see
    session_amount. A discounted line whose amount does not divide by its quantity goes as one
    line named "3 x name" (with a multiplication sign), so no unit amount is ever rounded.
    """
    currency = order.currency.lower()

    def line(name, quantity, amount):
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


def session_amount(line_items):
    """What the provider will charge for these line items, in minor units."""
    return sum(item["quantity"] * item["price_data"]["unit_amount"] for item in line_items)


def _timestamp(value):
    return datetime.fromtimestamp(value, tz=UTC) if value else None


def text_field(obj, key, max_length=255):
    """A string field of a provider object: missing is "", anything but plain text is refused."""
    value = obj.get(key) or ""
    if not isinstance(value, str) or len(value) > max_length or not value.isprintable():
        raise ValueError(f"{key} is not a usable string")
    return value


def integer_field(obj, key):
    value = obj.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError(f"{key} is not a whole number")
    return value


def session_from_provider(obj):
    """A Session from Stripe's checkout.session object (from the API or inside an event).

    ValueError if a field the store reads has the wrong type or shape.
    """
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    payment_intent = obj.get("payment_intent")
    if isinstance(payment_intent, dict):  # expanded object
        payment_intent = text_field(payment_intent, "id")
    else:
        payment_intent = text_field(obj, "payment_intent")
    expires_at = integer_field(obj, "expires_at")
    return Session(
        id=text_field(obj, "id"),
        url=text_field(obj, "url", max_length=2000),
        status=text_field(obj, "status", max_length=50),
        payment_status=text_field(obj, "payment_status", max_length=50),
        amount_total=integer_field(obj, "amount_total"),
        currency=text_field(obj, "currency", max_length=3).upper(),
        payment_intent=payment_intent,
        expires_at=_timestamp(expires_at),
    )


def session_is_paid(session):
    """The shopper's money is taken: the session is complete *and* its payment is settled.

    A delayed payment method completes the session unpaid and settles later; nothing else
    counts as paid, whatever the payment status says.
    """
    return session.status == "complete" and session.payment_status in (
        "paid",
        "no_payment_required",
    )


@functools.lru_cache(maxsize=4)
def _stripe_client(api_key, api_base, connect_timeout, read_timeout, retries):
    # One client per process and configuration: its HTTP session (one per thread) keeps the
    # connection to Stripe open between calls instead of a TLS handshake each time.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        # The SDK's own default is 80 s per try, longer than a worker lives (see settings).
        http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)),
    )


class StripeGateway:
    name = "stripe"

    def _client(self):
        return _stripe_client(
            settings.STRIPE_SECRET_KEY,
            settings.STRIPE_API_BASE,
            settings.STRIPE_CONNECT_TIMEOUT,
            settings.STRIPE_READ_TIMEOUT,
            settings.STRIPE_MAX_NETWORK_RETRIES,
        )

    def create_session(self, *, order, attempt, success_url, cancel_url, expires_at):
        try:
            session = self._client().v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "line_items": session_line_items(order),
                    "client_reference_id": order.number,
                    "metadata": {"order_id": str(order.pk), "order_number": order.number},
                    "customer_email": order.email,
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "expires_at": int(expires_at.timestamp()),
                },
                options={"idempotency_key": f"order-{order.pk}-attempt-{attempt}"},
            )
        except stripe.IdempotencyError as exc:
            raise IdempotencyConflict(str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc
        return session_from_provider(session)

    def retrieve_session(self, session_id):
        try:
            return session_from_provider(self._client().v1.checkout.sessions.retrieve(session_id))
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc

    def expire_session(self, session_id):
        """Expire an open session; returns the session as it is now, whatever its state."""
        client = self._client()
        try:
            return session_from_provider(client.v1.checkout.sessions.expire(session_id))
        except stripe.InvalidRequestError:
            # Already complete or expired: report what it is, the caller decides.
            return self.retrieve_session(session_id)
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc

    def refund(self, *, payment, idempotency_key):
        try:
            self._client().v1.refunds.create(
                params={"payment_intent": payment.payment_intent},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise GatewayError(str(exc)) from exc


class LocalGateway:
    """A stand-in for Stripe Checkout in development: a page of ours with Pay and Fail buttons.

    Its events are built like Stripe's, signed with STRIPE_WEBHOOK_SECRET and handed to the same
    webhook handler. Refused in production (settings and the payments.E001 system check).
    """

    name = "local"

    def create_session(self, *, order, attempt, success_url, cancel_url, expires_at):
        session_id = f"cs_local_{secrets.token_urlsafe(18)}"
        return Session(
            id=session_id,
            url=reverse("payments:local_checkout", args=[session_id]),
            status="open",
            payment_status="unpaid",
            amount_total=to_minor_units(order.total, order.currency),
            currency=order.currency,
            expires_at=expires_at,
        )

    def retrieve_session(self, session_id):
        from payments.local import session_of

        return session_of(session_id)

    def expire_session(self, session_id):
        from payments.local import expire

        return expire(session_id)

    def refund(self, *, payment, idempotency_key):
        from payments.local import deliver_refund

        deliver_refund(payment)


def gateway():
    return {"stripe": StripeGateway, "local": LocalGateway}[settings.PAYMENT_BACKEND]()
