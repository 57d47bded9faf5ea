"""The domain modules take and return plain values: none of them may import Django's request,
response, shortcut or template machinery (that glue lives in the views and interactions/list_cookie.py)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

DOMAIN = [
    "interactions/checker.py",
    "interactions/search.py",
    "interactions/catalog.py",
    "interactions/medlist.py",
    "interactions/report.py",
    "interactions/models.py",
    "interactions/content_packs.py",
]
FORBIDDEN = ("django.http", "django.shortcuts", "django.template")


def imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden_in(source: str) -> list[str]:
    return sorted(
        name for name in imported_modules(source) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )


@pytest.mark.parametrize("path", DOMAIN)
def test_the_domain_module_imports_no_http_or_templates(path):
    assert forbidden_in((Path(settings.BASE_DIR) / path).read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        "from django.http import HttpRequest",
        "import django.shortcuts",
        "from django.template.loader import render_to_string",
        "from django import http",
        "from django import template",
        "def f():\n    from django.http import JsonResponse",
    ],
)
def test_the_guard_sees_every_form_of_import(source):
    assert forbidden_in(source)


def test_the_guard_lets_other_django_modules_through():
    assert forbidden_in("from django.conf import settings\nfrom django.templatetags import static\n") == []
