from django.contrib import admin
from django.urls import path

import shop.converters  # noqa: F401  (registers the path converters used below)
from orders import dashboard, documents, exports, guest_views, return_views, views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="list"),
    # Before orders/<number>/: "find" and "claim" would pass for order numbers.
    path("orders/find/", guest_views.lookup, name="lookup"),
    path("orders/claim/", guest_views.claim, name="claim"),
    path("orders/claim/<str:token>/", guest_views.claim_confirm, name="claim_confirm"),
    path("orders/guest/<str:token>/", guest_views.guest, name="guest"),
    path("orders/<order_number:number>/", views.OrderDetailView.as_view(), name="detail"),
    path("orders/<order_number:number>/cancel/", views.cancel, name="cancel"),
    path("orders/<order_number:number>/put-back/", views.put_back_in_cart, name="put_back"),
    path("orders/<order_number:number>/return/", return_views.return_items, name="return"),
    # Staff documents: behind the back office's login (admin_view sends others to it).
    path(
        "staff/reports/sales/",
        admin.site.admin_view(dashboard.sales_report_view),
        name="sales_report",
    ),
    path("staff/orders/export.csv", admin.site.admin_view(exports.orders_csv), name="export"),
    path(
        "staff/orders/<order_number:number>/invoice/",
        admin.site.admin_view(documents.invoice),
        name="invoice",
    ),
    path(
        "staff/orders/<order_number:number>/packing-slip/",
        admin.site.admin_view(documents.packing_slip),
        name="packing_slip",
    ),
]
