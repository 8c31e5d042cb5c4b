"""`{% footer_pages as pages %}`: the published content pages, for the footer's links."""

from django import template

from shop.pages.models import Page

register = template.Library()


@register.simple_tag
def footer_pages():
    return list(Page.objects.published().only("slug", "title"))
