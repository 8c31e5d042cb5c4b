"""Form widgets of the checkout."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language


class CountrySelect(forms.Select):
    """The country select: a few hundred options, rendered once per language and reused.

    Django's Select renders each option through a template and translates every country name on
    the way: milliseconds on every checkout page, including each "not enough stock" answer. The
    list does not change while the store runs, so its options are built once per language.
    """

    _options = {}  # language -> (first value, [(value, <option>, <option selected>)])

    def options(self):
        language = get_language()
        if language not in self._options:
            choices = list(self.choices)
            self._options[language] = (
                choices[0][0] if choices else None,
                [
                    (
                        str(key),
                        f'<option value="{escape(key)}">{escape(label)}</option>',
                        f'<option value="{escape(key)}" selected>{escape(label)}</option>',
                    )
                    for key, label in choices
                ],
            )
        return self._options[language]

    def use_required_attribute(self, initial):
        # Select's own check walks the choices for the first one, which is at hand here.
        first = self.options()[0]
        return forms.Widget.use_required_attribute(self, initial) and first in ("", None)

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        options = "".join(
            chosen if key == selected else option for key, option, chosen in self.options()[1]
        )
        return mark_safe(f"<select{flatatt(attrs)}>{options}</select>")  # noqa: S308 -- escaped
