"""Public catalogue pages: home, product list with search and filters, product detail."""

import json

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode

from catalog.cache import not_shared, read_params, shared_page
from catalog.filters import NumberedPaginator, filter_products, option_facets
from catalog.forms import SORTS, ProductListQuery, page_number, price_param
from catalog.models import Category, Product, ProductVariant
from catalog.search import search_products
from catalog.templatetags.money import money

HOME_PRODUCTS = 8
# The query parameters the product list reads: its cached pages are keyed on these alone...
LIST_PARAMS = ("q", "category", "sort", "min_price", "max_price", "in_stock", "page")
# ...and on every value of this one, which is given once per option value chosen.
OPTION_PARAM = "option"
SCOPE_PARAMS = ("q", "category", "sort")  # what "Clear all filters" keeps


@shared_page()
def home(request):
    products = Product.objects.available().in_stock().for_cards()[:HOME_PRODUCTS]
    return render(
        request,
        "catalog/home.html",
        {"products": products, "categories": Category.objects.all()},
    )


@shared_page(*LIST_PARAMS, repeatable=(OPTION_PARAM,))
def product_list(request):
    """Products of a category or a search, narrowed by the variant filters (catalog.filters).

    Five queries whatever the filters and the page size: categories, option counts, the count,
    the page (none when the count is 0), and the footer's content pages.
    """
    query = ProductListQuery(request.GET)
    text, category_slug, sort = query.values()
    filters = query.filters()
    categories = list(Category.objects.all())
    category = None
    if category_slug:
        category = next((c for c in categories if c.slug == category_slug), None)
        if category is None:
            raise Http404("No such category.")

    listed = Product.objects.available()
    if category:
        listed = listed.filter(category=category)
    if text:
        listed = search_products(listed, text)
    facets = option_facets(listed, filters)
    products = filter_products(listed, filters).for_cards().order_by(*SORTS[sort][1])

    # The chosen options as the catalogue spells them (as given when it has no such value),
    # in one order: a page's links and its cache key hold them so.
    spelled = {value.key: value.param for facet in facets for value in facet.values if value.count}
    options = sorted(spelled.get(choice.key, choice.param) for choice in filters.options)
    low, high = price_param(filters.min_price), price_param(filters.max_price)

    asked = read_params(request, LIST_PARAMS)
    kept = [
        ("q", text),
        ("category", category_slug),
        ("sort", sort if "sort" in asked else ""),
        ("min_price", low),
        ("max_price", high),
        ("in_stock", "1" if filters.in_stock else ""),
        *((OPTION_PARAM, option) for option in options),
    ]
    kept = [(name, value) for name, value in kept if value]

    def address(pairs):
        # From the values the page shows, never from the raw query string: the page is cached
        # and shared with whoever asks for it next.
        return f"{request.path}?{urlencode(pairs)}" if pairs else request.path

    removable = [
        (f"Price from {money(filters.min_price)}", ("min_price", low)),
        (f"Price up to {money(filters.max_price)}", ("max_price", high)),
        ("In stock only", ("in_stock", "1")),
        *((option.replace(":", ": ", 1), (OPTION_PARAM, option)) for option in options),
    ]
    active_filters = [
        {"label": label, "url": address([kept_pair for kept_pair in kept if kept_pair != pair])}
        for label, pair in removable
        if pair in kept
    ]

    paginator = NumberedPaginator(products, settings.PRODUCTS_PER_PAGE)
    page = paginator.page(page_number(asked.get("page"), paginator.num_pages))
    here = [*kept, ("page", page.number)] if page.number > 1 else kept
    response = render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "query_prefix": f"{urlencode(kept)}&" if kept else "",
            "first_page_url": address(kept),
            "back_to": address(here),
            "products": page.object_list,
            "categories": categories,
            "category": category,
            "text": text,
            "sort": sort,
            "sorts": [
                (key, label) for key, (label, _) in SORTS.items() if key != "relevance" or text
            ],
            "filters": filters,
            "min_price": low,
            "max_price": high,
            "facets": facets,
            "active_filters": active_filters,
            "clear_filters_url": address([pair for pair in kept if pair[0] in SCOPE_PARAMS]),
        },
    )
    canonical = {name: value for name, value in kept if name != OPTION_PARAM}
    if "page" in asked:
        canonical["page"] = str(page.number)
    given_options = sorted(value for value in request.GET.getlist(OPTION_PARAM) if value)
    if (
        asked != canonical  # ?page=abc, an unknown sort, untrimmed text, min_price=10.00...
        or given_options != options  # unusable, repeated or not as the catalogue spells them
        or any(choice.key not in spelled for choice in filters.options)  # no such value here
    ):
        not_shared(response)
    return response


@shared_page()
def product_detail(request, slug):
    product = get_object_or_404(
        Product.objects.available()
        .select_related("category")
        .prefetch_related(
            "option_types__values",
            Prefetch(
                "variants",
                queryset=ProductVariant.objects.filter(is_active=True).prefetch_related("options"),
                to_attr="active_variants",
            ),
        ),
        slug=slug,
    )
    variants = product.active_variants
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "variants": variants,
            "only_variant": variants[0] if len(variants) == 1 else None,
            "in_stock": any(variant.stock > 0 for variant in variants),
            # For the option picker's script: which values make which variant, at what price.
            "variants_json": json.dumps(
                [
                    {
                        "values": sorted(choice.value_id for choice in variant.options.all()),
                        "price": money(variant.price),
                        "in_stock": variant.stock > 0,
                        "label": variant.label,
                    }
                    for variant in variants
                ]
            ),
        },
    )
