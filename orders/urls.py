from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="list"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="detail"),
    path("orders/<str:number>/cancel/", views.cancel, name="cancel"),
    path("orders/<str:number>/put-back/", views.put_back_in_cart, name="put_back"),
]
