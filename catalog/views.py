"""Public catalogue pages: home, product list with search and filters, product detail."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode

from catalog.cache import cache_for_anonymous, not_shared, read_params
from catalog.forms import SORTS, ProductListQuery, page_number
from catalog.models import Category, Product
from catalog.search import search_products

HOME_PRODUCTS = 8
# The query parameters the product list reads: its cached pages are keyed on these alone.
LIST_PARAMS = ("q", "category", "sort", "page")


@cache_for_anonymous()
def home(request):
    products = Product.objects.available().in_stock().select_related("category")[:HOME_PRODUCTS]
    return render(
        request,
        "catalog/home.html",
        {"products": products, "categories": Category.objects.all()},
    )


@cache_for_anonymous(*LIST_PARAMS)
def product_list(request):
    query = ProductListQuery(request.GET)
    text, category_slug, sort = query.values()
    categories = list(Category.objects.all())
    category = None
    if category_slug:
        category = next((c for c in categories if c.slug == category_slug), None)
        if category is None:
            raise Http404("No such category.")

    products = Product.objects.available().select_related("category")
    if category:
        products = products.filter(category=category)
    if text:
        products = search_products(products, text)
    products = products.order_by(*SORTS[sort][1])

    asked = read_params(request, LIST_PARAMS)
    kept = {"q": text, "category": category_slug, "sort": sort if "sort" in asked else ""}
    kept = {key: value for key, value in kept.items() if value}

    paginator = Paginator(products, settings.PRODUCTS_PER_PAGE)
    page = paginator.page(page_number(asked.get("page"), paginator.num_pages))
    here = {**kept, "page": page.number} if page.number > 1 else kept
    response = render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "query_prefix": f"{urlencode(kept)}&" if kept else "",
            # The page's own address from the values it shows, never from the raw query
            # string: the page is cached and shared with whoever asks for it next.
            "back_to": f"{request.path}?{urlencode(here)}" if here else request.path,
            "products": page.object_list,
            "categories": categories,
            "category": category,
            "text": text,
            "sort": sort,
            "sorts": [
                (key, label) for key, (label, _) in SORTS.items() if key != "relevance" or text
            ],
        },
    )
    canonical = {**kept, "page": str(page.number)} if "page" in asked else kept
    if asked != canonical:  # ?page=abc, an unknown sort, untrimmed or over-long text...
        not_shared(response)
    return response


@cache_for_anonymous()
def product_detail(request, slug):
    product = get_object_or_404(Product.objects.available().select_related("category"), slug=slug)
    return render(request, "catalog/product_detail.html", {"product": product})
