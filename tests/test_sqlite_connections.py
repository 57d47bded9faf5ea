"""SQLite connections are kept between requests, and given up once the path names another file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connections

from core.sqlite_backend.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "app.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    probe = {"ENGINE": "core.sqlite_backend", "NAME": str(path)}
    wrapper = DatabaseWrapper(connections.configure_settings({"default": probe})["default"], alias="probe")
    wrapper.ensure_connection()
    yield path, wrapper
    wrapper.close()


def test_a_connection_to_the_same_file_stays_usable(database):
    _path, wrapper = database
    assert wrapper.is_usable()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
    assert wrapper.is_usable()


def test_it_is_given_up_when_the_file_is_moved_away(database):
    path, wrapper = database
    path.rename(path.with_name("away.sqlite3"))
    assert not wrapper.is_usable()


def test_it_is_given_up_when_the_file_is_replaced(database):
    path, wrapper = database
    copy = path.with_name("copy.sqlite3")
    shutil.copy(path, copy)
    copy.replace(path)  # a restored copy moved into place: the same name, another file
    assert not wrapper.is_usable()


def test_the_app_keeps_sqlite_connections_and_checks_them():
    # The settings as they load without DATABASE_URL, whichever database this test run uses.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from config import settings; print(json.dumps(settings.DATABASES['default'], default=str))",
        ],
        cwd=settings.BASE_DIR,
        env={**env, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    database = json.loads(shown.stdout)
    assert database["ENGINE"] == "core.sqlite_backend"
    assert database["CONN_MAX_AGE"] > 0 and database["CONN_HEALTH_CHECKS"] is True
