"""The shopper's side of returns: ask to send back lines of a delivered order."""

from django.contrib import messages
from django.shortcuts import redirect, render

from orders.access import order_for_request
from orders.returns import ReturnRefused, return_request, returnable

REASON_MAX = 1000


def return_items(request, number):
    """GET: the form, a line per item with how many may still go back. POST: the request."""
    order = order_for_request(request, number)
    if not order.can_be_returned:
        messages.error(
            request,
            "This order cannot be returned: returns are for delivered orders, within "
            "the return window.",
        )
        return redirect(order)
    lines = [entry for entry in returnable(order) if entry.quantity > 0]
    if not lines:
        messages.info(request, "Every item of this order is already in a return.")
        return redirect(order)
    errors, chosen, reason = [], {}, ""
    if request.method == "POST":
        reason = request.POST.get("reason", "").replace("\x00", "").strip()
        for entry in lines:
            raw = request.POST.get(f"quantity-{entry.item.pk}", "0").strip() or "0"
            if not raw.isdigit() or int(raw) > entry.quantity:
                errors.append(f"Choose from 0 to {entry.quantity} for {entry.item.name}.")
                continue
            chosen[entry.item.pk] = int(raw)
        if len(reason) > REASON_MAX:
            errors.append(f"Keep the reason under {REASON_MAX} characters.")
        if not errors:
            try:
                return_request(
                    order=order,
                    quantities=chosen,
                    reason=reason,
                    actor=request.user if request.user.is_authenticated else None,
                )
            except ReturnRefused as exc:
                errors.append(str(exc))
            else:
                messages.success(
                    request,
                    "Your return request is sent. We will email you when we have looked at it.",
                )
                return redirect(order)
    context = {
        "order": order,
        "rows": [{"entry": entry, "value": chosen.get(entry.item.pk, 0)} for entry in lines],
        "reason": reason,
        "errors": errors,
        "deadline": order.return_deadline,
        "reason_max": REASON_MAX,
    }
    return render(request, "orders/return_form.html", context, status=400 if errors else 200)
