"""URL map of the store."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from shop import health

admin.site.site_header = f"{settings.STORE_NAME} back office"
admin.site.site_title = settings.STORE_NAME
admin.site.index_title = "Run the shop"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
