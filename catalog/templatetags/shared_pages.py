"""`{% personal "nav" %}`: a part of the page that is the visitor's own (catalog.cache).

In a page rendered to be shared between shoppers it leaves a marker that each response fills
for its visitor; in any other page it renders the part in place.
"""

from django import template
from django.utils.safestring import mark_safe

from catalog.cache import (
    PERSONAL_PARTS,
    header_nav,
    messages_html,
    personal_marker,
    renders_shared_page,
)

register = template.Library()


@register.simple_tag(takes_context=True)
def personal(context, name):
    if name not in PERSONAL_PARTS:
        raise template.TemplateSyntaxError(f"No personal part named {name!r}.")
    request = context.get("request")
    if renders_shared_page(request):
        html = personal_marker(name)
    elif name == "nav":
        # A view that knows the count already passes it; else the context processor's.
        count = context.get("cart_count", 0)
        html = header_nav(
            request,
            cart_count=count() if callable(count) else count,
            csrf_token=context.get("csrf_token", ""),
        )
    else:
        html = messages_html(request)
    return mark_safe(html)  # noqa: S308 -- rendered by templates that escape what they show
