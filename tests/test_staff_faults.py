"""Signed-in staff under faults: a database outage and a full disk answer 503 with Retry-After, never
500 or 400, and the workspace comes back by itself.

A real app server (gunicorn) with a real staff sign-in (password and TOTP code). The disk is really
full: the database lives on a small tmpfs that the test fills up.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.servers import AppServer, StaffBrowser, base_env, create_staff, manage

STAFF_PAGES = ["/admin/", "/admin/interactions/interaction/", "/admin/interactions/interaction/add/"]


def assert_calm_503(status: int, headers: dict[str, str], body: str) -> None:
    assert status == 503, body[:2000]
    assert headers["Retry-After"] == "30"
    assert "We are having trouble right now" in body
    assert "Traceback" not in body and "OperationalError" not in body


def signed_in(env: dict[str, str]) -> tuple[AppServer, StaffBrowser]:
    username, password, key = create_staff(env)
    server = AppServer(env)
    browser = StaffBrowser(server)
    browser.sign_in(username, password, key)
    for page in STAFF_PAGES:
        assert browser.request("GET", page)[0] == 200
    return server, browser


def test_staff_get_503_during_a_database_outage_and_recover(static_root):
    workdir = Path(tempfile.mkdtemp(prefix="staff-outage-"))
    database = workdir / "app.sqlite3"
    env = base_env(SQLITE_PATH=str(database), STATIC_ROOT=str(static_root))
    manage(env, "migrate", "--noinput")
    server, browser = signed_in(env)
    away = workdir / "away"
    away.mkdir()
    try:
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{database}{suffix}").exists():
                Path(f"{database}{suffix}").rename(away / f"app.sqlite3{suffix}")
        for page in STAFF_PAGES:
            assert_calm_503(*browser.request("GET", page))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
            if (away / f"app.sqlite3{suffix}").exists():
                (away / f"app.sqlite3{suffix}").rename(f"{database}{suffix}")
        status, _headers, body = browser.request("GET", "/admin/")
        assert status == 200, body[:2000]  # still signed in: the outage did not end the session
        assert "Site administration" in body or "stella-staff" in body
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def small_disk():
    """A 16 MB tmpfs: a disk that can really fill up."""
    if os.geteuid() != 0:
        pytest.fail("The full-disk test mounts a small tmpfs, which needs root (as 'make test' runs here).")
    mountpoint = Path(tempfile.mkdtemp(prefix="small-disk-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)
        mountpoint.rmdir()


def fill(disk: Path) -> Path:
    """Write zeros until the disk refuses even one more block."""
    filler = disk / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 512):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                continue
    finally:
        os.close(descriptor)
    return filler


def test_staff_get_503_when_the_disk_is_full_and_recover(static_root, small_disk):
    database = small_disk / "app.sqlite3"
    env = base_env(SQLITE_PATH=str(database), STATIC_ROOT=str(static_root))
    manage(env, "migrate", "--noinput")
    server, browser = signed_in(env)
    # A long read (a backup, say) keeps SQLite's write-ahead log from starting over, so every write
    # needs new blocks: on a full disk the page still reads, but saving the session (every staff
    # request does, for the idle timeout) fails with "database or disk is full".
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM django_session").fetchone()
        filler = fill(small_disk)
        for page in STAFF_PAGES:
            assert_calm_503(*browser.request("GET", page))
        filler.unlink()
        reader.execute("COMMIT")
        status, _headers, body = browser.request("GET", "/admin/")
        assert status == 200, body[:2000]  # still signed in
    finally:
        reader.close()
        server.stop()
    log = server.log()
    assert "Database unavailable: OperationalError: database or disk is full" in log, log[-3000:]
