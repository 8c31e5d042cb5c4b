"""Content pages for shoppers."""

from django.shortcuts import get_object_or_404, render

from catalog.cache import shared_page
from shop.pages.models import Page


@shared_page()
def page_detail(request, slug):
    page = get_object_or_404(Page.objects.published(), slug=slug)
    return render(request, "pages/page.html", {"page": page})
