"""Fixtures shared by every test: the seeded database, clients, and the real Chromium."""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

# Playwright's sync API runs an event loop; the ORM calls inside browser tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
ARTIFACTS.mkdir(exist_ok=True)  # also holds the SQLite test database
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def load_curated_content() -> None:
    """The hand-written catalog, rules, content packs and articles: what patients actually see."""
    from interactions.content_packs import load_initial_content

    load_initial_content(dictionary=False)


_dictionary_loaded = False


def _import_dictionary() -> None:
    global _dictionary_loaded
    with open(os.devnull, "w") as quiet:
        call_command("import_catalog", stdout=quiet)
    _dictionary_loaded = True
    _record_seed(dictionary=True)


def _record_seed(*, dictionary: bool) -> None:
    """What the test database holds now, for a later run with --reuse-db."""
    from django.core.cache import caches

    caches["content_version"].set(SEED_KEY, {"fingerprint": seed_fingerprint(), "dictionary": dictionary}, None)


PROCESS_MODULES = {"test_deploy", "test_multiprocess", "test_resilience", "test_staff_faults"}
_needs_dictionary = True


def pytest_collection_modifyitems(config, items):
    """Mark browser and process tests by where they live; import the dictionary only when a selected
    test asks for it, so the inner loop (make test-fast) starts in seconds."""
    global _needs_dictionary
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
        if item.module.__name__.rsplit(".", 1)[-1] in PROCESS_MODULES:
            item.add_marker(pytest.mark.processes)
    _needs_dictionary = any(item.get_closest_marker("dictionary") for item in items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test (the browser tests' live server) ends with a flush that empties the
    database; put the curated content back at once (one query to check after each database test),
    so whichever test this worker runs next finds the database as every other test does."""
    yield
    fixtures = getattr(item, "fixturenames", ())
    if nextitem is None:  # the session is over and its test database already gone
        return
    if not (item.get_closest_marker("django_db") or {"db", "transactional_db", "live_server"} & set(fixtures)):
        return
    from pytest_django.plugin import blocking_manager_key

    from interactions.models import Medication

    global _dictionary_loaded
    with item.config.stash[blocking_manager_key].unblock():
        if not Medication.objects.filter(slug="naltrexone", curated=True).exists():
            transactional = {"transactional_db", "live_server"} & set(fixtures)
            if not transactional:  # only a flush should empty it: say which test did, to fix it
                sys.stderr.write(f"\n{item.nodeid} left the test database without its content; reloaded.\n")
            load_curated_content()
            _dictionary_loaded = False
            _record_seed(dictionary=False)
        # The dictionary takes a while to import: only again when a test that needs it comes next.
        if nextitem.get_closest_marker("dictionary") and not _dictionary_loaded:
            _import_dictionary()


SEED_KEY = "test-seed"


@functools.cache  # the fixtures do not change during a run; flushes reload them many times
def seed_fingerprint() -> str:
    """What the seeded content is made from: every fixture and content pack, and the code that loads them."""
    import hashlib

    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    sources = [
        *sorted(FIXTURES.rglob("*")),
        base / "interactions" / "content_packs.py",
        base / "education" / "content.py",
    ]
    for path in sources:
        if path.is_file():
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _seeded_already(fingerprint: str, *, dictionary: bool) -> bool:
    """A kept test database (--reuse-db) that holds this very content, and the dictionary if wanted."""
    from django.core.cache import caches

    from interactions.models import Medication

    seeded = caches["content_version"].get(SEED_KEY) or {}
    return (
        seeded.get("fingerprint") == fingerprint
        and (seeded.get("dictionary") or not dictionary)
        and Medication.objects.filter(slug="naltrexone", curated=True).exists()
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):
    """Seed the test database once: curated content, plus the full imported dictionary when needed.

    With --reuse-db (make test-fast) a database kept from an earlier run that already holds the same
    content is used as it is, so a single database test starts in seconds."""

    from interactions.content_packs import load_initial_content

    global _dictionary_loaded
    with django_db_blocker.unblock():
        if request.config.getoption("reuse_db") and _seeded_already(seed_fingerprint(), dictionary=_needs_dictionary):
            _dictionary_loaded = _needs_dictionary
        else:
            load_initial_content(dictionary=False)
            _record_seed(dictionary=False)
            if _needs_dictionary:
                _import_dictionary()
    yield
    with django_db_blocker.unblock():
        _end_other_sessions()


def _end_other_sessions() -> None:
    """Before the test database is dropped: PostgreSQL refuses to drop a database another session still
    uses (a thread's or a child process's connection left open). Name each such session on stderr, so
    the leak can be found, then end it, so the drop and the run finish."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, backend_start, left(query, 300) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for pid, application, state, started, query in cursor.fetchall():
            sys.stderr.write(
                f"\nA session was left open on the test database: {pid} {application!r} {state} {started} {query!r}\n"
            )
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture(scope="session", autouse=True)
def _search_index_rebuilt_in_the_search():
    """A background rebuild reads through its own connection, which cannot see a test's uncommitted
    rows: tests rebuild the search index in the search that finds it out of date (the background mode
    has its own transactional tests)."""
    settings.SEARCH_INDEX_REBUILD = "sync"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached content live in the cache: every test starts from empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def later(monkeypatch):
    """later(seconds) moves the clock on (time.time, which Fernet tokens and the local cache read)."""

    def move(seconds: float) -> None:
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + seconds)

    return move


@pytest.fixture
def seeded(django_db_blocker):
    """For transactional tests (the database is flushed after each): reload the curated content."""
    from interactions.models import Medication

    with django_db_blocker.unblock():
        if not Medication.objects.filter(slug="naltrexone", curated=True).exists():
            load_curated_content()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}: run 'make test' (it installs it) or apt-get install chromium."
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def static_root():
    """Production settings serve hashed static files: collect them once, as an operator would."""
    import shutil
    import tempfile

    from tests.servers import base_env, manage

    path = Path(tempfile.mkdtemp(prefix="static-"))
    manage(base_env(STATIC_ROOT=str(path)), "collectstatic", "--noinput")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
