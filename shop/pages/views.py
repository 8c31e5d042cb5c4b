"""Content pages for shoppers."""

from django.shortcuts import get_object_or_404, render

from catalog.cache import cache_for_anonymous
from shop.pages.models import Page


@cache_for_anonymous()
def page_detail(request, slug):
    page = get_object_or_404(Page.objects.published(), slug=slug)
    return render(request, "pages/page.html", {"page": page})
