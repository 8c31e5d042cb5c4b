from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.detail, name="detail"),
    path("add/", views.add, name="add"),
    path("items/<int:variant_id>/", views.update, name="update"),
    path("items/<int:variant_id>/remove/", views.remove, name="remove"),
    path("discount/", views.voucher_apply, name="voucher_apply"),
    path("discount/remove/", views.voucher_remove, name="voucher_remove"),
]
