"""The database goes away and comes back: pages answer 503 with Retry-After, then recover by themselves.

These run a real app server (gunicorn) in a subprocess against a real database that the test itself
stops and restarts, so the suite's own database is never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers import PG_BIN, AppServer, PostgresCluster, base_env, fetch, manage


def assert_outage_then_recovery(server: AppServer, make_unavailable, make_available) -> None:
    status, _headers, _body = fetch(server.url + "/learn/")
    assert status == 200
    make_unavailable()
    status, headers, body = fetch(server.url + "/learn/")
    assert status == 503
    assert headers["Retry-After"] == "30"
    assert "We are having trouble right now" in body
    assert "911" in body and "988" in body
    assert "Traceback" not in body and "OperationalError" not in body
    status, headers, body = fetch(server.url + "/api/v1/check?med=zoloft&med=tramadol")
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert "error" in body
    status, _headers, _body = fetch(server.url + "/healthz")
    assert status == 503
    make_available()
    for _attempt in range(20):  # the server reconnects by itself; no restart
        if fetch(server.url + "/learn/")[0] == 200:
            break
        time.sleep(0.5)
    assert fetch(server.url + "/learn/")[0] == 200
    assert fetch(server.url + "/healthz")[0] == 200


def test_sqlite_outage_and_recovery(static_root):
    workdir = Path(tempfile.mkdtemp())
    database = workdir / "app.sqlite3"
    env = base_env(SQLITE_PATH=str(database), STATIC_ROOT=str(static_root))
    manage(env, "migrate", "--noinput")
    server = AppServer(env)
    moved = workdir / "away.sqlite3"
    try:
        assert_outage_then_recovery(
            server,
            make_unavailable=lambda: database.rename(moved),
            make_available=lambda: (database.unlink(missing_ok=True), moved.rename(database)),
        )
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_postgresql_outage_and_recovery(static_root):
    if not (PG_BIN / "initdb").exists() or os.geteuid() != 0:
        pytest.fail("This test needs Debian's postgresql package and root: run 'make test', which installs it.")
    cluster = PostgresCluster()
    server = None
    try:
        env = base_env(DATABASE_URL=cluster.url, STATIC_ROOT=str(static_root))
        manage(env, "migrate", "--noinput")
        server = AppServer(env)
        assert_outage_then_recovery(server, make_unavailable=cluster.stop, make_available=cluster.start)
    finally:
        if server is not None:
            server.stop()
        cluster.remove()
