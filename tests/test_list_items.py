"""`{{ values|list_items }}` writes what a `{% for %}` loop of `<li>{{ value }}</li>` writes."""

from django.template import Context, Template

VALUES = ["Sertraline with Tramadol", 'Test<b>"amine"</b> with A&B', "Søren"]


def test_list_items_is_the_loop_it_replaces():
    context = Context({"values": VALUES})
    loop = Template("{% for value in values %}<li>{{ value }}</li>{% endfor %}").render(context)
    items = Template("{% load lists %}{{ values|list_items }}").render(context)
    assert items == loop
    assert "<b>" not in items and "&lt;b&gt;" in items


def test_no_values_no_items():
    assert Template("{% load lists %}{{ values|list_items }}").render(Context({"values": []})) == ""
