"""Deployment: the health check, Django's deploy checks, the gunicorn config, and several app processes
sharing one database."""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import secrets
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings

from bench import servers as launcher
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
