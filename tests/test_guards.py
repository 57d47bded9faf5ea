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
