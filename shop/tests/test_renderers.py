"""The Python-rendered <input> widgets give exactly what Django's templates give."""

from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from shop.renderers import INPUT_TEMPLATES, FormRenderer

WIDGETS = [
    forms.TextInput(attrs={"autocomplete": "name", "maxlength": 200, "required": True}),
    forms.TextInput(attrs={"disabled": False, "placeholder": 'Say "hi" <b>&</b>'}),
    forms.HiddenInput(),
    forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    forms.EmailInput(attrs={"autofocus": True}),
    forms.PasswordInput(render_value=True),
    forms.URLInput(),
    forms.CheckboxInput(),
    forms.DateInput(),
    forms.TimeInput(),
    forms.ClearableFileInput(),
    forms.FileInput(),
]
VALUES = [None, "", "plain", 'quote " and <tag> & amp', 5, mark_safe("<i>safe</i>"), True]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_each_input_widget_renders_as_the_django_template_does(widget, value):
    attrs = {"id": "id_field", "aria-describedby": "id_field_helptext"}
    expected = widget.render("field", value, attrs, renderer=DjangoTemplates())
    assert widget.render("field", value, attrs, renderer=FormRenderer()) == expected


def test_the_templates_rendered_in_python_are_still_only_an_include_of_input_html():
    root = Path(django.__file__).parent / "forms" / "templates"
    for name in INPUT_TEMPLATES:
        text = (root / name).read_text().strip()
        assert text == '{% include "django/forms/widgets/input.html" %}', name


def test_other_widgets_still_use_the_templates():
    select = forms.Select(choices=[("a", "A <b>")])
    assert select.render("s", "a", renderer=FormRenderer()) == select.render(
        "s", "a", renderer=DjangoTemplates()
    )
