from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("orders/<str:number>/pay/", views.start, name="start"),
    path("orders/<str:number>/payment-cancelled/", views.cancelled, name="cancelled"),
    path("payments/success/", views.success, name="success"),
    path("payments/stripe/webhook/", views.webhook, name="webhook"),
    path("payments/local/<str:session_id>/", views.local_checkout, name="local_checkout"),
    path("payments/local/<str:session_id>/pay/", views.local_pay, name="local_pay"),
]
