"""What search engines and browsers ask every site for: sitemap.xml, robots.txt, favicon.ico."""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.http import HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import reverse

from catalog.models import Category, Product
from shop.pages.models import Page

# Pages only a shopper's own session can see, and the back office: nothing there to index.
PRIVATE_PATHS = ("/cart/", "/checkout/", "/orders/", "/accounts/", "/payments/", "/staff/")


class StoreSitemap(Sitemap):
    """Home and the list of all products."""

    def items(self):
        return ["home", "catalog:product_list"]

    def location(self, item):
        return reverse(item)


class CategorySitemap(Sitemap):
    """Each category's product list (categories record no change date)."""

    def items(self):
        return Category.objects.only("slug").order_by("pk")


class ProductSitemap(Sitemap):
    def items(self):
        return Product.objects.available().only("slug", "updated").order_by("pk")

    def lastmod(self, product):
        return product.updated


class PageSitemap(Sitemap):
    def items(self):
        return Page.objects.published().only("slug", "updated").order_by("pk")

    def lastmod(self, page):
        return page.updated


SITEMAPS = {
    "store": StoreSitemap,
    "categories": CategorySitemap,
    "products": ProductSitemap,
    "pages": PageSitemap,
}


def robots_txt(request):
    disallowed = [f"/{settings.ADMIN_URL}", *PRIVATE_PATHS]
    lines = [
        "User-agent: *",
        *(f"Disallow: {path}" for path in disallowed),
        "",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def favicon(request):
    # Not permanent: the static file's hashed name changes with the picture, and a browser keeps
    # a permanent redirect for good.
    return HttpResponseRedirect(static("img/favicon.svg"))
