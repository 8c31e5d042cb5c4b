"""URLs for the error-page tests: the store's own, plus views that fail on purpose."""

from django.db import OperationalError
from django.urls import path

from shop.urls import urlpatterns as store_urlpatterns


def broken(request):
    raise RuntimeError("a bug, with the secret sk_live_abcdef123456 in its message")


def database_gone(request):
    raise OperationalError("connection to server failed")


handler500 = "shop.views.server_error"
urlpatterns = [
    path("broken/", broken),
    path("database-gone/", database_gone),
    *store_urlpatterns,
]
