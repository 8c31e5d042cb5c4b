"""`{% footer_pages as pages %}`: the published content pages, for the footer's links."""

from django import template

from catalog.cache import per_version
from shop.pages.models import Page

register = template.Library()


@register.simple_tag
def footer_pages():
    # Read once per catalogue version (an edited page moves it on, shop.pages.receivers), not
    # on every cart or checkout page: the query cost more than the rest of the footer.
    return per_version("footer pages", lambda: list(Page.objects.published().only("slug", "title")))
