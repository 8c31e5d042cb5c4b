"""The order page's buttons in the back office: each move the status table allows now, a staff
note, and each step of a return, behind a confirmation page that says what will happen."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from orders.exceptions import OrderError
from orders.models import EventKind, Order, OrderEvent, Return, ReturnStatus
from orders.returns import return_approve, return_receive, return_refuse
from orders.services import order_cancel, order_transition
from orders.status import STATUSES, OrderStatus

S = OrderStatus
# Moves made from the order page here; a refund has pages of its own (payments).
BUTTONS = {
    S.SHIPPED: "Mark shipped",
    S.DELIVERED: "Mark delivered",
    S.CANCELLED: "Cancel order",
}


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100, required=False)
    tracking_url = forms.URLField(
        label="Tracking link", max_length=500, required=False, assume_scheme="https"
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Told to the customer in the cancellation email.",
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For staff only: the customer never sees it.",
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Emailed to the customer.",
    )


class ReceiveForm(forms.Form):
    restock = forms.BooleanField(
        required=False, initial=True, label="Put the items back on sale (they are fit to sell)"
    )


def order_buttons(order):
    """(label, url) for each move the table allows from the order's status now."""
    return [
        (label, reverse("admin:orders_order_move", args=[order.pk, to]))
        for to, label in BUTTONS.items()
        if to in STATUSES[order.status].moves
    ]


def return_buttons(request_):
    steps = {
        ReturnStatus.REQUESTED: [("approve", "Approve"), ("refuse", "Refuse")],
        ReturnStatus.APPROVED: [("receive", "Items received")],
    }
    return [
        (label, reverse("admin:orders_order_return", args=[request_.order_id, request_.pk, step]))
        for step, label in steps.get(request_.status, [])
    ]


def _order(model_admin, request, pk):
    order = get_object_or_404(Order, pk=pk)
    if not model_admin.has_change_permission(request, order):
        raise PermissionDenied
    return order


def _page(model_admin, request, order, *, title, form, explanation, button, status=200):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": title,
        "form": form,
        "explanation": explanation,
        "button": button,
        "order_url": reverse("admin:orders_order_change", args=[order.pk]),
    }
    return TemplateResponse(request, "admin/orders/order/confirm.html", context, status=status)


def move_view(model_admin, request, pk, to):
    order = _order(model_admin, request, pk)
    try:
        to = S(to)
    except ValueError:
        raise Http404("No such status.") from None
    if to not in BUTTONS:
        raise Http404("This move has a page of its own.")
    back = redirect("admin:orders_order_change", order.pk)
    if to not in STATUSES[order.status].moves:
        messages.error(
            request, f"Order {order.number} is {order.get_status_display().lower()}: it cannot "
            f"become {to.label.lower()}."
        )  # fmt: skip
        return back
    form_class = {S.SHIPPED: ShipForm, S.CANCELLED: CancelForm}.get(to, forms.Form)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if to == S.CANCELLED:
                order_cancel(
                    order=order,
                    actor=request.user,
                    source="back office",
                    note=form.cleaned_data["reason"],
                )
            else:
                order_transition(
                    order=order,
                    to=to,
                    actor=request.user,
                    source="back office",
                    details=form.cleaned_data or None,
                )
        except (OrderError, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Order {order.number} is {to.label.lower()}.")
        return back
    explanation = {
        S.SHIPPED: "The customer is emailed that the order is on its way, with the tracking "
        "given here. The order ships as one parcel.",
        S.DELIVERED: "The customer is emailed that the order was delivered; returns can be "
        "asked for from now on.",
        S.CANCELLED: "The order's items go back on sale, its open payment session is closed, "
        "and the customer is emailed, with the reason given here.",
    }[to]
    return _page(
        model_admin,
        request,
        order,
        title=f"{BUTTONS[to]}: order {order.number}",
        form=form,
        explanation=explanation,
        button=BUTTONS[to],
        status=400 if request.method == "POST" else 200,
    )


def note_view(model_admin, request, pk):
    order = _order(model_admin, request, pk)
    form = NoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        OrderEvent.objects.create(
            order=order,
            kind=EventKind.NOTE,
            actor=request.user,
            source="back office",
            note=form.cleaned_data["text"],
        )
        messages.success(request, "The note is on the order's timeline.")
        return redirect("admin:orders_order_change", order.pk)
    return _page(
        model_admin,
        request,
        order,
        title=f"Staff note: order {order.number}",
        form=form,
        explanation="The note goes on the order's timeline, for staff only.",
        button="Add the note",
        status=400 if request.method == "POST" else 200,
    )


STEPS = {
    "approve": (AnswerForm, "Approve the return", "The customer is emailed that the return is "
                "approved, with what you write here (where to send the items, say)."),
    "refuse": (AnswerForm, "Refuse the return", "The customer is emailed that the return is "
               "refused, with the reason written here (it is needed)."),
    "receive": (ReceiveForm, "Mark the items received", "The return is closed as received. "
                "Refund it from the order's refund page."),
}  # fmt: skip


def return_view(model_admin, request, pk, return_pk, step):
    order = _order(model_admin, request, pk)
    request_ = get_object_or_404(Return, pk=return_pk, order=order)
    if step not in STEPS:
        raise Http404("No such step.")
    form_class, button, explanation = STEPS[step]
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if step == "approve":
                return_approve(request=request_, actor=request.user, answer=data["answer"])
            elif step == "refuse":
                return_refuse(request=request_, actor=request.user, answer=data["answer"])
            else:
                return_receive(request=request_, actor=request.user, restock=data["restock"])
        except OrderError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Return {request_.pk}: {request_.get_status_display()}.")
        return redirect("admin:orders_order_change", order.pk)
    lines = ", ".join(str(line) for line in request_.lines.select_related("item"))
    return _page(
        model_admin,
        request,
        order,
        title=f"{button}: return {request_.pk} of order {order.number}",
        form=form,
        explanation=f"{lines}. Reason given: {request_.reason}. {explanation}",
        button=button,
        status=400 if request.method == "POST" else 200,
    )
