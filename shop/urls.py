"""URL map of the store."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from catalog import views as catalog_views
from orders.dashboard import dashboard
from shop import health, seo, views
from shop.ratelimits import limit, limit_by_email

admin.site.site_header = f"{settings.STORE_NAME} back office"
admin.site.site_title = settings.STORE_NAME
admin.site.index_title = "Run the shop"

handler500 = "shop.views.server_error"

urlpatterns = [
    path("", catalog_views.home, name="home"),
    path("", include("catalog.urls")),
    path("accounts/", include("accounts.urls")),
    path("cart/", include("cart.urls")),
    path("", include("orders.urls")),
    path("", include("payments.urls")),
    path("pages/", include("shop.pages.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": seo.SITEMAPS}, name="sitemap"),
    path("robots.txt", seo.robots_txt, name="robots_txt"),
    path("favicon.ico", seo.favicon),
    path(f"{settings.ADMIN_URL}dashboard/", admin.site.admin_view(dashboard), name="dashboard"),
    # The back office's login, matched before admin.site.urls, under the store login's limits
    # and counters: alternating between the two pages gives an attacker no extra attempts.
    path(
        f"{settings.ADMIN_URL}login/",
        limit("login_ip")(limit_by_email("login_account", "username")(admin.site.login)),
    ),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

if settings.BENCHMARK_ENDPOINTS:
    urlpatterns.append(path("bench/bare/", views.bench_bare))

# Development only (static() returns nothing when DEBUG is off): production serves media from
# the reverse proxy.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
