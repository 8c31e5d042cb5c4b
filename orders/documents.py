"""Printable documents for staff: an order's invoice and its packing slip.

Plain HTML pages with a print stylesheet (static/css/documents.css): the browser prints them or
saves them as PDF. Reached from the order's back-office page; staff with the "view order"
permission only.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from orders.models import Order


def _order_for_staff(request, number):
    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    return get_object_or_404(Order, number=number)


def _seller():
    return {
        "name": settings.STORE_NAME,
        "address_lines": [line.strip() for line in settings.STORE_ADDRESS.split("|") if line],
        "tax_id": settings.STORE_TAX_ID,
    }


def invoice(request, number):
    order = _order_for_staff(request, number)
    if not order.invoice_number:
        raise Http404("An order gets its invoice when it is paid.")
    return render(
        request,
        "orders/documents/invoice.html",
        {"order": order, "items": list(order.items.all()), "seller": _seller()},
    )


def packing_slip(request, number):
    order = _order_for_staff(request, number)
    return render(
        request,
        "orders/documents/packing_slip.html",
        {"order": order, "items": list(order.items.all()), "seller": _seller()},
    )
