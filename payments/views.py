"""Payment pages: start paying, back from the provider, the webhook, and the local stand-in."""

import logging
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders.models import OrderStatus
from orders.views import own_order_or_404
from payments import local
from payments.gateways import GatewayError, gateway
from payments.models import Payment, PaymentStatus
from payments.services import PaymentUnavailable, payment_start, session_apply, webhook_receive

logger = logging.getLogger(__name__)


@login_required
@require_POST
def start(request, number):
    """Send the shopper to the order's payment page: the open session, or a new one.

    A POST, since it may create a payment session; checkout arrives here with a 307.
    """
    order = own_order_or_404(request, number)
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


def _confirm_with_provider(session_id):
    """Apply what the provider says about the session, unless it was asked a moment ago."""
    # The rate-limit cache: it keeps counting in the worker's memory while Redis is away, so
    # the throttle holds (and the page still asks) whatever Redis does.
    throttle = caches[settings.RATELIMIT_USE_CACHE]
    if not throttle.add(f"payments:confirm:{session_id}", 1, timeout=CONFIRM_INTERVAL):
        return
    try:
        session_apply(session=gateway().retrieve_session(session_id))
    except GatewayError as exc:
        logger.warning("could not confirm session %s: %s", session_id, exc)


@login_required
@require_GET
@never_cache
def success(request):
    """Back from paying. Shows the order's real status; the webhook decides what that is."""
    session_id = request.GET.get("session_id", "")
    if not SESSION_ID.fullmatch(session_id):
        raise Http404("No such payment.")
    payment = get_object_or_404(
        Payment.objects.select_related("order"), session_id=session_id, order__user=request.user
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


@login_required
@require_GET
def cancelled(request, number):
    """Back from the provider without paying: the order waits, the shopper chooses."""
    order = own_order_or_404(request, number)
    return render(request, "payments/cancelled.html", {"order": order})


@csrf_exempt
@require_POST
def webhook(request):
    result = webhook_receive(body=request.body, signature=request.headers.get("Stripe-Signature"))
    return HttpResponse(result.message, status=result.status, content_type="text/plain")


# --- The local stand-in (PAYMENT_BACKEND=local, development only) ------------------------------


def _local_payment(request, session_id):
    if settings.PAYMENT_BACKEND != "local":
        raise Http404("The local payment stand-in is off.")
    return get_object_or_404(
        Payment.objects.select_related("order"),
        session_id=session_id,
        provider="local",
        order__user=request.user,
    )


@login_required
@require_GET
def local_checkout(request, session_id):
    payment = _local_payment(request, session_id)
    return render(
        request, "payments/local_checkout.html", {"payment": payment, "order": payment.order}
    )


@login_required
@require_POST
def local_pay(request, session_id):
    payment = _local_payment(request, session_id)
    if payment.status == PaymentStatus.OPEN:
        if request.POST.get("outcome") == "fail":
            local.fail(payment)
        else:
            local.pay(payment)
    return redirect(f"{reverse('payments:success')}?session_id={session_id}")
