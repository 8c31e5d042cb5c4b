from django.urls import path

import shop.converters  # noqa: F401  (registers the path converters used below)
from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="list"),
    path("orders/<order_number:number>/", views.OrderDetailView.as_view(), name="detail"),
    path("orders/<order_number:number>/cancel/", views.cancel, name="cancel"),
    path("orders/<order_number:number>/put-back/", views.put_back_in_cart, name="put_back"),
]
