"""`{% route %}` gives what `{% url %}` gives, for every pattern without arguments."""

from __future__ import annotations

from django.template import Context, Template
from django.urls import URLResolver, get_resolver, reverse, set_script_prefix


def patterns_without_arguments(patterns=None, namespace: str = "") -> list[str]:
    names = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names += patterns_without_arguments(entry.url_patterns, inner)
        elif entry.name and not entry.pattern.regex.groups:
            names.append(namespace + entry.name)
    return names


def render_route(name: str) -> str:
    return Template("{% load routes %}{% route name %}").render(Context({"name": name}))


def test_route_matches_url_for_every_pattern_without_arguments():
    names = [n for n in patterns_without_arguments() if not n.startswith("admin:")]
    assert {"interactions:check_add", "interactions:check_remove", "privacy", "education:article_list"} <= set(names)
    assert {name: render_route(name) for name in names} == {name: reverse(name) for name in names}


def test_route_follows_the_script_prefix():
    try:
        set_script_prefix("/clinic/")
        assert render_route("interactions:check_add") == "/clinic/check/add/"
    finally:
        set_script_prefix("/")
    assert render_route("interactions:check_add") == "/check/add/"


def test_route_follows_a_changed_urlconf(settings):
    assert render_route("healthz") == "/healthz"
    settings.ROOT_URLCONF = "bench.measure"
    assert render_route("healthz") == "/healthz"
    assert render_route("bench_trivial") == reverse("bench_trivial")
