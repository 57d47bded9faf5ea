import os
import re
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse

from config import settings as project_settings


@pytest.mark.django_db
def test_there_are_no_pending_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("interactions:home"),
        reverse("interactions:medication_search"),
        reverse("interactions:medication_search") + "?q=zoloft",
        reverse("interactions:medication", args=["naltrexone"]),
        reverse("education:article_list"),
    ],
)
def test_every_page_has_one_h1_the_disclaimer_and_emergency_numbers(client, url):
    html = client.get(url).content.decode()
    assert len(re.findall(r"<h1[\s>]", html)) == 1
    assert "education, not medical advice" in html
    for number in ("911", "988", "1-800-222-1222"):
        assert number in html


def test_pages_load_nothing_from_other_sites():
    template_dir = project_settings.BASE_DIR / "templates"
    for path in template_dir.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), path


def start_django(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=project_settings.BASE_DIR,
        check=False,
    )


def test_it_refuses_to_start_without_debug_on_the_default_secret():
    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "example.org"}
    env.pop("SECRET_KEY", None)
    result = start_django(env)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_a_bad_boolean_setting_fails_loudly():
    result = start_django({**os.environ, "DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_the_vendored_htmx_is_the_reviewed_file():
    """A changed vendored script must be a deliberate, reviewed change: update this pin with it."""
    import hashlib

    path = project_settings.BASE_DIR / "static" / "vendor" / "htmx-2.min.js"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    assert 'version:"2.0.11"' in path.read_text()


# Sample arguments for every public page's URL pattern; a new pattern must be added here or listed
# as not a page, so the guard below cannot silently skip it.
PAGE_SAMPLES = {
    "interactions:home": [()],
    "interactions:check": [()],
    "interactions:check_print": [()],
    "interactions:medication_search": [(), "?q=zoloft", "?q=zolft"],
    "interactions:medication": [("naltrexone",), ("sertraline",), ("hydrocodone-and-acetaminophen",), ("abacavir",)],
    "interactions:covered": [()],
    "education:article_list": [()],
    "education:article": [("kratom",), ("precipitated-withdrawal",)],
    "privacy": [()],
}
NOT_PAGES = {
    "interactions:check_add",
    "interactions:check_suggest",
    "interactions:check_remove",
    "interactions:check_dose",
    "interactions:check_clear",
    "interactions:api_medications",
    "interactions:api_check",
    "interactions:api_openapi",
    "healthz",
}


def _named_patterns(resolver=None, namespace: str = "") -> set[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(namespace + entry.name)
    return names


def test_every_url_pattern_is_a_sampled_page_or_listed_as_not_one():
    assert _named_patterns() == set(PAGE_SAMPLES) | NOT_PAGES


def _page_params():
    for name, samples in PAGE_SAMPLES.items():
        for sample in samples:
            # abacavir: an imported, uncovered medicine from the full dictionary
            marks = [pytest.mark.dictionary] if sample == ("abacavir",) else []
            yield pytest.param(name, sample, marks=marks, id=f"{name}{sample}")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "sample"), list(_page_params()))
def test_every_page_has_one_h1_a_short_title_a_description_and_unique_ids(client, name, sample):
    url = reverse(name, args=sample) if isinstance(sample, tuple) else reverse(name) + sample
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert len(re.findall(r"<h1[\s>]", html)) == 1, url
    title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    assert title and "<" not in title.group(1) and len(title.group(1).strip()) <= 80, url
    assert re.search(r'<meta name="description" content="[^"]{20,}">', html), url
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
