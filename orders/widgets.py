"""Form widgets of the checkout."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape as esc
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


def _attrs(attrs):
    """What django/forms/widgets/attrs.html makes of a widget's attributes."""
    return "".join(
        "" if v is False else f" {esc(k)}" if v is True else f' {esc(k)}="{esc(v)}"'
        for k, v in attrs.items()
    )


def _attr(name, value):
    return f' {name}="{esc(value)}"' if value else ""


class RadioChoices(forms.RadioSelect):
    """Django's RadioSelect, with what its templates make of its choices written in Python.

    The checkout offers its delivery options (and a signed-in shopper's saved addresses) this
    way, and the three templates each option went through cost more than the rest of its
    field. Grouped choices still go to the templates. orders/tests/test_checkout_widgets.py
    holds the two the same.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        if any(group for group, _, _ in widget["optgroups"]):
            return super().render(name, value, attrs, renderer)
        options = "".join(
            f"<div>\n    {self._option(option)}</div>"
            for _, group, _ in widget["optgroups"]
            for option in group
        )
        root = _attr("id", widget["attrs"].get("id")) + _attr("class", widget["attrs"].get("class"))
        return mark_safe(f"<div{root}>{options}\n</div>")  # noqa: S308 -- escaped

    @staticmethod
    def _option(option):
        # input_option.html, and the line ends that it and radio_option.html leave after it.
        value = "" if option["value"] is None else f' value="{esc(option["value"])}"'
        kind, name = esc(option["type"]), esc(option["name"])
        field = f'<input type="{kind}" name="{name}"{value}{_attrs(option["attrs"])}>\n'
        if not option["wrap_label"]:
            return f"{field}\n"
        label = _attr("for", option["attrs"].get("id"))
        return f"<label{label}>{field} {esc(option['label'])}</label>\n\n"


class PlainTextarea(forms.Textarea):
    """Django's Textarea, with what its template makes of it written in Python (as above)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        text = esc(widget["value"]) if widget["value"] else ""
        attributes = _attrs(widget["attrs"])
        html = f'<textarea name="{esc(widget["name"])}"{attributes}>\n{text}</textarea>'
        return mark_safe(html)  # noqa: S308 -- escaped
