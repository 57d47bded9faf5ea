import os
import re
import subprocess
import sys

import pytest
from django.core.management import call_command

from config import settings as project_settings


@pytest.mark.django_db
def test_there_are_no_pending_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_pages_load_nothing_from_other_sites():
    template_dir = project_settings.BASE_DIR / "templates"
    for path in template_dir.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), path


def start_django(env: dict[str, str], then: str = "") -> subprocess.CompletedProcess:
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup(); " + then
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


def test_debug_is_off_unless_it_is_asked_for():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    assert "Set SECRET_KEY" in start_django(env).stderr  # no DEBUG: production rules apply
    result = start_django(
        {**env, "SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "example.org"},
        then="from django.conf import settings; print(settings.DEBUG)",
    )
    assert result.stdout.strip() == "False", result.stderr


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
