"""core.escaping.escaped writes what a template's {{ value }} writes."""

import pytest
from django.template import Context, Template
from django.utils.functional import lazystr
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from core.escaping import escaped

TEXTS = ["", "plain", "Tom & Jerry", "<b>bold</b>", "\"quoted\" and 'single'", "Temgésic — 5 mg", "a\u00a0b\u200d"]


@pytest.mark.parametrize("text", TEXTS)
def test_plain_text_is_escaped_as_a_template_would(text):
    assert escaped(text) == conditional_escape(text) == Template("{{ v }}").render(Context({"v": text}))


@pytest.mark.parametrize("value", [mark_safe("<i>kept</i>"), lazystr("<lazy> & 'text'"), 42, None, ["<a>"]], ids=repr)
def test_anything_else_goes_through_conditional_escape(value):
    assert escaped(value) == conditional_escape(value)


def test_safe_markup_is_left_as_it_is():
    assert escaped(mark_safe("<i>kept</i>")) == "<i>kept</i>"
