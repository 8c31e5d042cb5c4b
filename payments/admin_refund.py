"""The back office's refund page for one order: choose lines (and how many) or an amount, say
why and whether the items go back on sale, see the amount stated, then send it."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from orders.models import Order, Return, ReturnStatus
from orders.status import OrderStatus
from payments.models import RefundSource, RefundState
from payments.services import RefundRefused, refund_create, refund_preview


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        decimal_places=3,
        max_digits=12,
        help_text="Leave empty to refund what the chosen items were charged. With no items "
        "chosen: the amount to give back (shipping, a goodwill gesture).",
    )
    restock = forms.BooleanField(required=False, label="Put the chosen items back on sale")
    reason = forms.CharField(max_length=255, help_text="Told to the customer with the refund.")

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"quantity-{item.pk}"] = forms.IntegerField(
                label=item.name,
                min_value=0,
                max_value=item.quantity,
                required=False,
                initial=0,
            )

    def quantity_fields(self):
        return [self[f"quantity-{item.pk}"] for item in self.items]

    def refund_fields(self):
        return [self[name] for name in ("amount", "restock", "reason")]

    def lines(self):
        return {
            item.pk: self.cleaned_data[f"quantity-{item.pk}"]
            for item in self.items
            if self.cleaned_data.get(f"quantity-{item.pk}")
        }


def _return_of(order, request):
    """The received return the refund is for (?return=<id>), if any."""
    pk = request.GET.get("return") or request.POST.get("return")
    if not pk or not str(pk).isdigit():
        return None
    return Return.objects.filter(pk=pk, order=order, status=ReturnStatus.RECEIVED).first()


def refund_view(model_admin, request, pk):
    order = get_object_or_404(Order, pk=pk)
    if not model_admin.has_change_permission(request, order):
        raise PermissionDenied
    back = reverse("admin:orders_order_change", args=[order.pk])
    items = list(order.items.order_by("pk"))
    returned = _return_of(order, request)
    initial = {"restock": order.status == OrderStatus.PAID}  # not shipped: the items are here
    if returned is not None:
        # The return's receipt already chose whether its items went back on sale.
        initial = {"restock": False, "reason": f"Return {returned.pk}: {returned.reason}"[:255]}
        initial.update({f"quantity-{line.item_id}": line.quantity for line in returned.lines.all()})
    form = RefundForm(request.POST if request.method == "POST" else None, items=items,
                      initial=initial)  # fmt: skip
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": f"Refund order {order.number}",
        "form": form,
        "order_url": back,
        "returned": returned,
    }
    if request.method != "POST" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(request, "admin/payments/refund.html", context, status=status)
    data = form.cleaned_data
    asked = {"order": order, "amount": data["amount"], "lines": form.lines()}
    try:
        if request.POST.get("step") != "send":
            context["preview"] = refund_preview(**asked)
            return TemplateResponse(request, "admin/payments/refund_confirm.html", context)
        made = refund_create(
            **asked,
            restock=data["restock"],
            reason=data["reason"],
            actor=request.user,
            source=RefundSource.RETURN if returned else RefundSource.BACK_OFFICE,
        )
    except RefundRefused as exc:
        form.add_error(None, str(exc))
        return TemplateResponse(request, "admin/payments/refund.html", context, status=400)
    made.refresh_from_db()  # the payment service was asked once the refund was committed
    if made.state == RefundState.SUCCEEDED:
        messages.success(request, f"Refunded {made.amount} {made.currency}.")
    elif made.state == RefundState.FAILED:
        messages.error(request, f"The payment service refused the refund: {made.failure}")
    else:
        messages.warning(
            request,
            f"Refund of {made.amount} {made.currency} asked; it shows as made once the payment "
            "service confirms (reconcile_payments sends it again if it could not be reached).",
        )
    return redirect(back)
