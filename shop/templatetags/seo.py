"""`{% absolute_uri location as name %}`: the full address that link previews and crawlers need."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def absolute_uri(context, location):
    # A location that is already a full URL (a picture on remote storage) is kept as it is.
    return context["request"].build_absolute_uri(location)
