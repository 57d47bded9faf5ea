"""Where code lives: core knows no app, and no app reaches into another app's admin or views."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from core.htmx import template_for, wants_partial

BASE = Path(settings.BASE_DIR)
APPS = ("interactions", "education", "staff")
PAGE_MODULES = ("admin", "views", "check_views", "api", "sites")
# Take and return plain values: the request and response glue lives in the views and list_cookie.py.
DOMAIN = [
    "interactions/checker.py",
    "interactions/search.py",
    "interactions/catalog.py",
    "interactions/medlist.py",
    "interactions/report.py",
    "interactions/models.py",
    "interactions/content_packs.py",
]
HTTP_MODULES = ("django.http", "django.shortcuts", "django.template")


def imported_modules(path: Path) -> set[str]:
    return modules_in(path.read_text())


def modules_in(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def python_files(package: str) -> list[Path]:
    return [p for p in (BASE / package).rglob("*.py") if "migrations" not in p.parts]


def test_core_imports_no_app():
    files = python_files("core")
    assert len(files) >= 6
    offending = {
        (str(p.relative_to(BASE)), module)
        for p in files
        for module in imported_modules(p)
        if module.split(".")[0] in (*APPS, "bench", "config")
    }
    assert offending == set()


@pytest.mark.parametrize("app", APPS)
def test_no_app_imports_another_apps_pages(app):
    offending = {
        (str(p.relative_to(BASE)), module)
        for p in python_files(app)
        for module in imported_modules(p)
        if module.split(".")[0] in APPS
        and module.split(".")[0] != app
        and len(module.split(".")) > 1
        and module.split(".")[1] in PAGE_MODULES
    }
    assert offending == set()


def test_no_migration_imports_live_code():
    migrations = [p for app in APPS for p in (BASE / app / "migrations").glob("0*.py")]
    assert len(migrations) >= 10
    offending = {
        (p.name, module)
        for p in migrations
        for module in imported_modules(p)
        if module.split(".")[0] in (*APPS, "core")
    }
    assert offending == set()


def htmx_request(**headers: str):
    request = RequestFactory().get("/check/", **{f"HTTP_{k}": v for k, v in headers.items()})
    HtmxMiddleware(lambda r: None)(request)
    return request


@pytest.mark.parametrize(
    ("headers", "partial"),
    [
        ({}, False),
        ({"HX_REQUEST": "true"}, True),
        ({"HX_REQUEST": "true", "HX_BOOSTED": "true"}, False),
        ({"HX_REQUEST": "true", "HX_HISTORY_RESTORE_REQUEST": "true"}, False),
    ],
)
def test_htmx_gets_a_piece_but_boosted_links_and_history_restores_get_the_page(headers, partial):
    request = htmx_request(**headers)
    assert wants_partial(request) is partial
    expected = "interactions/check.html#findings" if partial else "interactions/check.html"
    assert template_for(request, "interactions/check.html", "findings") == expected


def test_the_domain_does_not_import_the_apps_built_on_it():
    domain = [BASE / path for path in DOMAIN]
    offending = {
        (p.name, module)
        for p in domain
        for module in imported_modules(p)
        if module.split(".")[0] in ("education", "staff")
    }
    assert offending == set()


def forbidden_in(source: str) -> list[str]:
    return sorted(
        name for name in modules_in(source) if any(name == f or name.startswith(f + ".") for f in HTTP_MODULES)
    )


@pytest.mark.parametrize("path", DOMAIN)
def test_the_domain_module_imports_no_http_or_templates(path):
    assert forbidden_in((BASE / path).read_text()) == []


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


def test_every_patient_content_model_moves_the_content_version_on_bulk_writes():
    from django.apps import apps

    from interactions.models import ContentQuerySet

    models = [apps.get_model(label) for label in settings.PATIENT_CONTENT_MODELS]
    assert len(models) == 9
    assert [m._meta.label for m in models if not issubclass(m.objects.get_queryset().__class__, ContentQuerySet)] == []
