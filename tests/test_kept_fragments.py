"""`{% kept %}`: markup rendered once per process, with the CSRF token filled in on every request."""

import re
from dataclasses import dataclass

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeData

from core.templatetags import kept
from interactions import medlist
from interactions.medlist import MedEntry, MedList

CHECK = reverse("interactions:check")
TOKENS = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def render(source: str, **values) -> str:
    return Template("{% load kept static %}" + source).render(Context(values))


@pytest.fixture
def unverified(settings):
    """Kept markup as production serves it: not compared with a fresh render."""
    settings.KEPT_FRAGMENTS_VERIFY = False


def test_kept_markup_is_rendered_once(unverified):
    template = Template("{% load kept %}{% kept %}{{ value }}{% endkept %}")
    assert template.render(Context({"value": "first"})) == "first"
    # Not named after the tag, so the kept markup is served: what verification exists to catch.
    assert template.render(Context({"value": "second"})) == "first"


def test_verification_catches_markup_that_depends_on_something_not_named():
    template = Template("{% load kept %}{% kept %}{{ value }}{% endkept %}")
    assert template.render(Context({"value": "first"})) == "first"
    with pytest.raises(kept.KeptFragmentMismatch, match="line 1"):
        template.render(Context({"value": "second"}))


def test_what_is_named_is_kept_apart():
    template = Template("{% load kept %}{% kept value %}<b>{{ value }}</b>{% endkept %}")
    assert [template.render(Context({"value": v})) for v in ("a", "b", "a", "<i>")] == [
        "<b>a</b>",
        "<b>b</b>",
        "<b>a</b>",
        "<b>&lt;i&gt;</b>",
    ]


@dataclass(frozen=True)
class Row:
    title: str

    def shout(self) -> str:
        return self.title.upper()


class Box(dict):
    title = "the class attribute, which a template never reads for a dict"


@pytest.mark.parametrize(
    ("names", "markup", "contexts", "expected"),
    [
        ("row.title", "{{ row.title }}", [{"row": Row("a")}, {"row": Row("b")}, {"row": Row("a")}], ["a", "b", "a"]),
        ("row.shout", "{{ row.shout }}", [{"row": Row("a")}, {"row": Row("b")}], ["A", "B"]),
        ("box.title", "{{ box.title }}", [{"box": Box(title="a")}, {"box": Box(title="b")}], ["a", "b"]),
        ("pair.1", "{{ pair.1 }}", [{"pair": ["x", "a"]}, {"pair": ["x", "b"]}], ["a", "b"]),
        ("row.title|upper", "{{ row.title }}", [{"row": Row("a")}, {"row": Row("b")}], ["a", "b"]),
        ("gone.title", "[{{ gone.title }}]", [{}, {"gone": Row("b")}], ["[]", "[b]"]),
    ],
)
def test_what_is_named_is_read_as_the_template_reads_it(unverified, names, markup, contexts, expected):
    # Served unverified, so a name read differently from the template's own lookup shows as wrong markup.
    template = Template(f"{{% load kept %}}{{% kept {names} %}}{markup}{{% endkept %}}")
    assert [template.render(Context(values)) for values in contexts] == expected


def test_each_fragment_gets_the_token_of_its_own_render():
    template = Template(
        "{% load kept %}{% kept %}<a>{% csrf_token %}{% kept %}<b>{% csrf_token %}</b>{% endkept %}</a>{% endkept %}"
    )
    inner = Template("{% load kept %}{% kept %}<b>{% csrf_token %}</b>{% endkept %}")
    for token in ("first<", "second"):
        html = template.render(Context({"csrf_token": token})) + inner.render(Context({"csrf_token": token}))
        assert html.count(f'value="{escape(token)}"') == 3
        assert kept.CSRF_SLOT not in html


def test_kept_markup_is_safe_with_or_without_a_token_to_fill():
    template = Template("{% load kept %}{% kept %}<b>x</b>{% endkept %}{% kept %}<i>{% csrf_token %}</i>{% endkept %}")
    nodes = template.nodelist.get_nodes_by_type(kept.KeptNode)
    for values in ({}, {"csrf_token": "first"}, {"csrf_token": "second"}):
        assert all(isinstance(node.render(Context(values)), SafeData) for node in nodes)


def test_a_kept_loop_keeps_each_row_apart_by_what_is_named(unverified):
    template = Template(
        "{% load kept %}<ul>{% kept for row in rows row.title %}<li>{{ row.title }}</li>{% endkept %}</ul>[{{ row }}]"
    )
    rows = [Row("a"), Row("b<"), Row("a")]
    assert template.render(Context({"rows": rows})) == "<ul><li>a</li><li>b&lt;</li><li>a</li></ul>[]"
    assert template.render(Context({"rows": [Row("c")], "row": "outside"})) == "<ul><li>c</li></ul>[outside]"
    assert template.render(Context({"rows": []})) == template.render(Context()) == "<ul></ul>[]"


def test_a_kept_loop_fills_each_rows_token():
    template = Template(
        "{% load kept %}{% kept for row in rows row %}<form>{% csrf_token %}{{ row }}</form>{% endkept %}"
    )
    html = template.render(Context({"rows": ["a", "b"], "csrf_token": "abc"}))
    assert html.count('value="abc"') == 2 and kept.CSRF_SLOT not in html


def test_a_kept_row_that_depends_on_what_is_not_named_is_caught():
    template = Template("{% load kept %}{% kept for row in rows %}{{ row }}{% endkept %}")
    assert template.render(Context({"rows": ["a"]})) == "a"
    with pytest.raises(kept.KeptFragmentMismatch):
        template.render(Context({"rows": ["b"]}))


@pytest.mark.parametrize("tag", ["{% kept for row %}", "{% kept for row of rows %}", "{% kept for row in %}"])
def test_a_kept_loop_must_say_what_it_loops_over(tag):
    with pytest.raises(TemplateSyntaxError, match="kept for"):
        Template("{% load kept %}" + tag + "x{% endkept %}")


def test_each_language_is_kept_apart():
    template = Template("{% load i18n kept %}{% kept %}{% get_current_language as code %}{{ code }}{% endkept %}")
    with translation.override("en"):
        assert template.render(Context()) == "en"
    with translation.override("fr"):
        assert template.render(Context()) == "fr"


def test_a_settings_change_starts_afresh():
    # Were the kept markup served under the new settings, verification would raise.
    template = Template("{% load kept static %}{% kept %}{% static 'css/site.css' %}{% endkept %}")
    first = template.render(Context())
    with override_settings(STATIC_URL="/elsewhere/"):
        assert template.render(Context()) == "/elsewhere/css/site.css"
    assert template.render(Context()) == first


def test_a_block_inside_is_refused():
    with pytest.raises(TemplateSyntaxError, match="block"):
        Template("{% load kept %}{% kept %}{% block title %}x{% endblock %}{% endkept %}")


def test_variants_are_bounded(monkeypatch):
    monkeypatch.setattr(kept, "MAX_VARIANTS", 3)
    template = Template("{% load kept %}{% kept value %}{{ value }}{% endkept %}")
    assert [template.render(Context({"value": n})) for n in range(10)] == [str(n) for n in range(10)]
    node = template.nodelist.get_nodes_by_type(kept.KeptNode)[0]
    assert 1 <= len(node._kept) <= 3


def test_without_a_token_the_markup_has_none():
    # Rendered with no request: the CSRF tag renders nothing, as it would without {% kept %}.
    assert render("{% kept %}<form>{% csrf_token %}</form>{% endkept %}") == "<form></form>"


@pytest.mark.django_db
def test_every_form_carries_this_requests_token_and_posts(unverified):
    """The check page's forms are kept markup: each response carries its own token, and it works."""
    entries = [MedEntry("sertraline"), MedEntry("naltrexone", "naltrexone-low-dose"), MedEntry("tramadol")]
    pages = []
    for _visitor in range(2):
        client = Client(enforce_csrf_checks=True)
        client.cookies[medlist.cookie_name()] = medlist.encode(MedList(entries))
        client.get(CHECK)  # sets the CSRF cookie
        html = client.get(CHECK).content.decode()
        found = TOKENS.findall(html)
        tokens = {a or b for a, b in found}
        # One masked token a page: in the body's htmx header and in every form (add, dose, remove, clear).
        assert len(tokens) == 1 and len(found) == 1 + html.count('method="post"') >= 1 + 1 + 3 + 1
        token = tokens.pop()
        assert kept.CSRF_SLOT not in html
        response = client.post(reverse("interactions:check_remove"), {"slug": "tramadol", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert "Your list: 2 medicines" in client.get(CHECK).content.decode()
        pages.append(token)
    assert pages[0] != pages[1]


def test_inside_a_language_block_is_refused():
    # The language is read once a render, so a {% language %} around kept markup would be missed.
    with pytest.raises(TemplateSyntaxError, match="language"):
        Template('{% load i18n kept %}{% language "fr" %}{% kept %}x{% endkept %}{% endlanguage %}')
