"""Payment pages: start paying, back from the provider, the webhook, and the local stand-in."""

import logging
import re
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import caches
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders.access import order_for_request, visible_orders
from orders.models import OrderStatus
from payments.models import Payment, PaymentStatus
from payments.providers import GatewayError, provider, session_line_items
from payments.providers.local import LocalProvider
from payments.services import PaymentUnavailable, payment_start, session_apply, webhook_receive
from shop.metrics import webhook_failed
from shop.money import minor_unit_exponent

logger = logging.getLogger(__name__)


def _signed_out_to_login(view):
    """A page about an order this request may not see: 404, or, signed out, the login page.

    As on the order page: it may be the visitor's own order, and any order number or session
    id gets that same answer, so nothing can be learnt by probing.
    """

    @wraps(view)
    def page(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Http404:
            if request.user.is_authenticated:
                raise
            return redirect_to_login(request.get_full_path())

    return page


@require_POST
def start(request, number):
    """Send the shopper to the order's payment page: the open session, or a new one.

    A POST, since it may create a payment session; checkout arrives here with a 307. For the
    signed-in owner, or the guest whose session placed (or was linked to) the order.
    """
    order = order_for_request(request, number)
    success = request.build_absolute_uri(reverse("payments:success"))
    try:
        payment = payment_start(
            order=order,
            success_url=f"{success}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=request.build_absolute_uri(reverse("payments:cancelled", args=[number])),
        )
    except PaymentUnavailable as exc:
        messages.error(request, str(exc))
        return redirect(order)
    return redirect(payment.url)


# The success page asks the provider about a session at most this often, however often it is
# loaded (the confirming page polls it, shoppers reload it).
CONFIRM_INTERVAL = 5  # seconds
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def _confirm_with_provider(session_id: str) -> None:
    """Apply what the provider says about the session, unless it was asked a moment ago."""
    # The rate-limit cache: it keeps counting in the worker's memory while Redis is away, so
    # the throttle holds (and the page still asks) whatever Redis does.
    throttle = caches[settings.RATELIMIT_USE_CACHE]
    if not throttle.add(f"payments:confirm:{session_id}", 1, timeout=CONFIRM_INTERVAL):
        return
    try:
        session_apply(session=provider().retrieve_session(session_id))
    except GatewayError as exc:
        logger.warning("could not confirm session %s: %s", session_id, exc)


@require_GET
@never_cache
@_signed_out_to_login
def success(request):
    """Back from paying. Shows the order's real status; the webhook decides what that is."""
    session_id = request.GET.get("session_id", "")
    if not SESSION_ID.fullmatch(session_id):
        raise Http404("No such payment.")
    payment = get_object_or_404(
        Payment.objects.select_related("order").filter(order__in=visible_orders(request)),
        session_id=session_id,
    )
    if payment.order.status == OrderStatus.PENDING_PAYMENT and payment.status == PaymentStatus.OPEN:
        # The webhook may still be on its way: ask the provider, and apply the same fulfilment.
        _confirm_with_provider(session_id)
        payment = Payment.objects.select_related("order").get(pk=payment.pk)
    order = payment.order
    confirming = (
        order.status == OrderStatus.PENDING_PAYMENT and payment.status == PaymentStatus.OPEN
    )
    return render(
        request,
        "payments/success.html",
        {"order": order, "payment": payment, "confirming": confirming},
    )


@require_GET
@_signed_out_to_login
def cancelled(request, number):
    """Back from the provider without paying: the order waits, the shopper chooses."""
    order = order_for_request(request, number)
    return render(request, "payments/cancelled.html", {"order": order})


@csrf_exempt
@require_POST
def webhook(request):
    try:
        result = webhook_receive(
            body=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except Exception:
        # The provider gets a 5xx and delivers the event again later; operators get a count.
        webhook_failed("error")
        raise
    return HttpResponse(result.message, status=result.status, content_type="text/plain")


# --- The local stand-in's page (payments.providers.local, development only) --------------------


def _stand_in_payment(request, session_id: str) -> tuple[LocalProvider, Payment]:
    stand_in = provider()
    if not isinstance(stand_in, LocalProvider):
        raise Http404("The local payment stand-in is off.")
    payment = get_object_or_404(
        Payment.objects.select_related("order").filter(order__in=visible_orders(request)),
        session_id=session_id,
        provider=stand_in.name,
    )
    return stand_in, payment


@require_GET
@_signed_out_to_login
def local_checkout(request, session_id):
    _, payment = _stand_in_payment(request, session_id)
    # The lines a Stripe page would list: the same ones the session is asked to charge.
    scale = Decimal(10) ** minor_unit_exponent(payment.currency)
    lines = [
        (
            item["price_data"]["product_data"]["name"],
            item["quantity"],
            Decimal(item["price_data"]["unit_amount"]) / scale,
        )
        for item in session_line_items(payment.order)
    ]
    return render(
        request,
        "payments/local_checkout.html",
        {"payment": payment, "order": payment.order, "lines": lines},
    )


@require_POST
def local_pay(request, session_id):
    stand_in, payment = _stand_in_payment(request, session_id)
    if payment.status == PaymentStatus.OPEN:
        if request.POST.get("outcome") == "fail":
            stand_in.fail(payment)
        else:
            stand_in.pay(payment)
    return redirect(f"{reverse('payments:success')}?session_id={session_id}")
