"""The store's form renderer: Django's, with its plain <input> widgets rendered in Python.

Django renders every widget through a template, and on pages with many fields (the checkout,
a cart with a quantity box per line) those templates were most of the page's cost. Each of the
templates below is nothing but an include of input.html, which this reproduces exactly
(shop/tests/test_renderers.py compares the two); everything else goes to the templates.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe

INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "checkbox", "color", "date", "datetime", "email", "file", "hidden", "number",
        "password", "search", "tel", "text", "time", "url",
    )
)  # fmt: skip


def render_input(widget):
    """What django/forms/widgets/input.html makes of a widget's context."""
    value = "" if widget["value"] is None else f' value="{esc(widget["value"])}"'
    attrs = "".join(
        "" if v is False else f" {esc(k)}" if v is True else f' {esc(k)}="{esc(v)}"'
        for k, v in widget["attrs"].items()
    )
    html = f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"{value}{attrs}>'
    return mark_safe(html)  # noqa: S308 -- every part is escaped above


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES:
            return render_input(context["widget"])
        return super().render(template_name, context, request)
