"""Deployment: the health check, Django's deploy checks, the gunicorn config, several app processes
sharing one database, and gunicorn's workers sharing one search index after a publish."""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings

from bench import servers as launcher
from interactions.search import answer_requests, request_path
from tests.headers import assert_security_headers
from tests.servers import AppServer, base_env, fetch, manage

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN_CONF = BASE_DIR / "config" / "gunicorn.conf.py"
# Warnings `check --deploy` gives for deliberate choices, each documented in docs/deploy.md:
# security.W021: SECURE_HSTS_PRELOAD is opt-in (SECURE_HSTS_PRELOAD=true), because joining the
# browsers' preload list is hard to undo.
DELIBERATE_DEPLOY_WARNINGS = {"security.W021"}


def production_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "ALLOWED_HOSTS": "example.org",
        **extra,
    }
    assert len(env["SECRET_KEY"]) >= 50
    # tests/conftest.py sets this for Playwright in the test process; no deployment has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


# --- /healthz --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_200_with_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "cache": True}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


# --- manage.py check --deploy ------------------------------------------------------------------------


def run_deploy_check(env: dict[str, str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    completed = launcher.run_manage(env, "check", "--deploy", timeout=120)
    issues = set(re.findall(r"\(([a-z_]+(?:\.[a-z_]+)*\.[CEWI]\d+)\)", completed.stdout + completed.stderr))
    return completed, issues


def test_check_deploy_with_production_settings_reports_only_deliberate_warnings():
    completed, issues = run_deploy_check(production_env())
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert issues <= DELIBERATE_DEPLOY_WARNINGS, output


def test_check_deploy_reports_no_issues_once_hsts_preload_is_chosen():
    completed, issues = run_deploy_check(production_env(SECURE_HSTS_PRELOAD="true"))
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert issues == set(), output
    assert "System check identified no issues" in output


# --- config/gunicorn.conf.py ------------------------------------------------------------------------


def load_gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_ACCESS_LOG", "GUNICORN_PRELOAD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_access_log_has_no_query_string_or_referer(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)
    log_format = conf["access_log_format"]
    assert "%(U)s" in log_format  # the path, without its query string
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(a)s"):
        assert atom not in log_format, atom
    assert not re.search(r"\{referr?er\}i", log_format, re.IGNORECASE)
    assert conf["accesslog"] == "-"


def test_gunicorn_conf_reads_the_environment_and_is_valid(monkeypatch):
    from gunicorn.config import Config

    conf = load_gunicorn_conf(monkeypatch, GUNICORN_BIND="127.0.0.1:8123,unix:/tmp/medwise.sock", GUNICORN_WORKERS="3")
    assert conf["bind"] == ["127.0.0.1:8123", "unix:/tmp/medwise.sock"]
    assert conf["workers"] == 3
    assert conf["control_socket_disable"] is True
    assert conf["preload_app"] is True  # the search index is built once, before the workers fork
    assert load_gunicorn_conf(monkeypatch, GUNICORN_PRELOAD="false")["preload_app"] is False
    assert load_gunicorn_conf(monkeypatch, WEB_CONCURRENCY="5")["workers"] == 5
    assert load_gunicorn_conf(monkeypatch, GUNICORN_ACCESS_LOG="")["accesslog"] is None

    cfg = Config()
    for name, value in conf.items():
        if name in cfg.settings:
            cfg.set(name, value)  # gunicorn's own validators accept every value
    assert cfg.workers == 3
    assert cfg.access_log_format == conf["access_log_format"]

    with pytest.raises(SystemExit):
        load_gunicorn_conf(monkeypatch, GUNICORN_WORKERS="many")
    with pytest.raises(SystemExit):
        load_gunicorn_conf(monkeypatch, GUNICORN_PRELOAD="perhaps")


# --- several app processes, one database ----------------------------------------------------------------


def test_two_gunicorn_processes_share_one_sqlite_database(tmp_path):
    database = tmp_path / "shared.sqlite3"
    env = {key: value for key, value in production_env(ALLOWED_HOSTS="127.0.0.1").items() if key != "DATABASE_URL"}
    env.update(
        SQLITE_PATH=str(database),
        STATIC_ROOT=str(tmp_path / "static"),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["createcachetable"],
        ["loaddata", "fixtures/catalog.json", "fixtures/interactions.json", "-v0"],
    ):
        completed = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr

    headers = {"X-Forwarded-Proto": "https"}  # as the reverse proxy sends it (else: redirect to HTTPS)
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                launcher.gunicorn(
                    env, workers=1, app="config.wsgi:application", log_dir=tmp_path, headers=headers, start_timeout=60
                )
            )
            for _ in range(2)
        ]
        assert servers[0].base_url != servers[1].base_url
        pids = set()
        for server in servers:
            status, body = launcher.http_get(server.base_url + "/healthz?private=zoloft", headers, timeout=10)
            assert status == 200, server.log_tail()
            assert json.loads(body) == {"status": "ok", "database": True, "cache": True}
            status, body = launcher.http_get(server.base_url + "/api/v1/medications?q=naltrexone", headers)
            assert status == 200, server.log_tail()
            assert json.loads(body)
            pids.add(server.process.pid)
        assert len(pids) == 2
    for server in servers:
        assert server.process.poll() is not None  # stopped
        log = server.log_path.read_text()
        assert '"GET /healthz" 200' in log
        assert "Search index built before the workers fork" in log  # preload_app: one build, shared
        assert "zoloft" not in log and "naltrexone" not in log  # no query strings in the access log


# --- one search index shared by gunicorn's workers, also after a publish ------------------------------

SEARCH_NEW_NAME = "/api/v1/medications?q=frobnizol"
PUBLISH_NEW_NAME = (
    "from interactions.models import Medication, MedicationName; "
    "MedicationName.objects.create(medication=Medication.objects.get(slug='naltrexone'), name='Frobnizol')"
)
PRINT_VERSION = "from core import content_version; print(content_version.current())"
MASTER_REBUILT = "Search index rebuilt in the master in "
WORKER_REBUILT = "Search index rebuilt in the background"
HEADERS = {"X-Forwarded-Proto": "https"}  # as the reverse proxy sends it (else: redirect to HTTPS)


@pytest.fixture(scope="module")
def catalog_database():
    """A throwaway SQLite database with the curated catalog, made once; each test serves a copy."""
    workdir = Path(tempfile.mkdtemp(prefix="shared-index-"))
    env = shared_index_env(workdir / "catalog.sqlite3", workdir)
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["createcachetable"],
        ["loaddata", "fixtures/catalog.json", "fixtures/interactions.json", "-v0"],
    ):
        completed = launcher.run_manage(env, *command)
        assert completed.returncode == 0, completed.stdout + completed.stderr
    yield workdir / "catalog.sqlite3"
    shutil.rmtree(workdir, ignore_errors=True)


def shared_index_env(database: Path, workdir: Path) -> dict[str, str]:
    env = {key: value for key, value in production_env(ALLOWED_HOSTS="127.0.0.1").items() if key != "DATABASE_URL"}
    env.pop("GUNICORN_PRELOAD", None)  # the default: preload_app
    # INFO, so a worker's own rebuild would be in the log.
    env.update(SQLITE_PATH=str(database), STATIC_ROOT=str(workdir / "static"), LOG_LEVEL="INFO")
    env.update(DJANGO_SETTINGS_MODULE="config.settings")
    return env


def found_names(server) -> list[str]:
    status, body = launcher.http_get(server.base_url + SEARCH_NEW_NAME, HEADERS, timeout=10)
    assert status == 200, server.log_tail()  # every search answers, during the rebuild as well
    return [result["slug"] for result in json.loads(body)["results"] if result["matched_name"] == "Frobnizol"]


def search_until_found(server, *, seconds: float = 120) -> None:
    """A generous deadline for the rebuild, not a measure of it."""
    deadline = time.monotonic() + seconds
    while not found_names(server):
        assert time.monotonic() < deadline, f"Frobnizol was never found:\n{server.log_tail(60)}"
        time.sleep(0.2)


def booted_workers(server, *, at_least: int = 0) -> list[int]:
    """The workers gunicorn has forked so far, waiting (a generous deadline) until there are `at_least`."""
    deadline = time.monotonic() + 60
    while len(pids := [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", server.log())]) < at_least:
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.1)
    return pids


def logged(server, *texts: str) -> str:
    """The server's log once it holds every one of `texts` (a generous deadline)."""
    deadline = time.monotonic() + 60
    while not all(text in (log := server.log()) for text in texts):
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.1)
    return log


def publish_new_name(env: dict[str, str]) -> str:
    """Frobnizol, a new name for naltrexone, saved by another process as staff would; the new version."""
    completed = launcher.run_manage(env, "shell", "-c", PUBLISH_NEW_NAME)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    completed = launcher.run_manage(env, "shell", "-c", PRINT_VERSION)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.split()[-1]


@pytest.fixture
def preloading_gunicorn(catalog_database, tmp_path):
    """config/gunicorn.conf.py with preload_app and 2 workers, on a copy of the catalog database."""
    database = tmp_path / "app.sqlite3"
    shutil.copy(catalog_database, database)
    env = shared_index_env(database, tmp_path)
    with launcher.gunicorn(
        env, workers=2, app="config.wsgi:application", log_dir=tmp_path, headers=HEADERS, start_timeout=60
    ) as server:
        booted_workers(server, at_least=2)
        assert found_names(server) == []  # the name does not exist yet
        yield server, env


def test_after_a_publish_the_master_rebuilds_the_index_and_its_fresh_workers_share_it(preloading_gunicorn):
    server, env = preloading_gunicorn
    first_workers = booted_workers(server)
    assert len(first_workers) == 2
    publish_new_name(env)
    search_until_found(server)
    # Found, so a fresh worker answered; the old ones are stopped once they have finished their requests.
    new_workers = [pid for pid in booted_workers(server, at_least=4) if pid not in first_workers]
    assert len(new_workers) == 2
    log = logged(server, *(f"Worker exiting (pid: {pid})" for pid in first_workers))
    assert log.count("Hang up: Master") == 1  # one worker asked, once for this version
    assert log.count(MASTER_REBUILT) == 1
    assert WORKER_REBUILT not in log  # no worker built a copy of its own


def test_workers_forked_after_the_master_failed_to_rebuild_rebuild_their_own(preloading_gunicorn):
    server, env = preloading_gunicorn
    first_workers = booted_workers(server)
    version = publish_new_name(env)
    # The state a reload leaves when the master's build fails: the request for this version answered
    # before these workers were forked (gunicorn numbers its first worker 1), and their index stale.
    (requests,) = Path(tempfile.gettempdir()).glob(f"medwise-search-{server.process.pid}-*")
    answer_requests([request_path(requests, version)], worker_age=0)
    search_until_found(server)
    log = server.log()
    assert WORKER_REBUILT in log
    assert "Hang up" not in log  # nobody asked the master again
    assert booted_workers(server) == first_workers


# --- static files ---------------------------------------------------------------------------------------


def test_static_files_carry_the_security_headers(static_root, tmp_path):
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    env = base_env(SQLITE_PATH=str(tmp_path / "unused.sqlite3"), STATIC_ROOT=str(static_root))
    server = AppServer(env)  # WhiteNoise answers before any view, so no database is needed
    try:
        for name in ("css/site.css", "js/site.js"):
            status, headers, _body = fetch(f"{server.url}/static/{manifest[name]}")
            assert status == 200
            assert "immutable" in headers["Cache-Control"]
            assert_security_headers(headers.items())
    finally:
        server.stop()


# --- plain HTTP -------------------------------------------------------------------------------------


def plain_http_get(server: AppServer, path: str, **headers: str) -> tuple[int, str]:
    """One request that does not follow redirects: (status, Location)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def test_a_plain_http_health_probe_gets_200_and_other_paths_a_redirect_as_deploy_md_says(static_root, tmp_path):
    env = base_env(SQLITE_PATH=str(tmp_path / "app.sqlite3"), STATIC_ROOT=str(static_root), SECURE_SSL_REDIRECT="true")
    manage(env, "migrate", "--noinput")
    server = AppServer(env)
    try:
        assert plain_http_get(server, "/healthz") == (200, "")
        status, location = plain_http_get(server, "/learn/")
        assert status == 301 and location == f"https://127.0.0.1:{server.port}/learn/"
        assert plain_http_get(server, "/learn/", **{"X-Forwarded-Proto": "https"})[0] == 200
    finally:
        server.stop()
    deploy = " ".join((BASE_DIR / "docs" / "deploy.md").read_text().split())
    assert "a plain-HTTP probe of `/healthz` answers 200, not a redirect" in deploy
    assert "every other plain-HTTP path gets a 301 to HTTPS" in deploy
