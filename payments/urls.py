from django.urls import path

import shop.converters  # noqa: F401  (registers the path converters used below)
from payments import views

app_name = "payments"

urlpatterns = [
    path("orders/<order_number:number>/pay/", views.start, name="start"),
    path("orders/<order_number:number>/payment-cancelled/", views.cancelled, name="cancelled"),
    path("payments/success/", views.success, name="success"),
    path("payments/stripe/webhook/", views.webhook, name="webhook"),
    path(
        "payments/local/<payment_session:session_id>/", views.local_checkout, name="local_checkout"
    ),
    path("payments/local/<payment_session:session_id>/pay/", views.local_pay, name="local_pay"),
]
