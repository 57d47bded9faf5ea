"""Real servers for tests: the app under gunicorn, a throwaway PostgreSQL, a throwaway Redis."""

from __future__ import annotations

import http.client
import http.cookies
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings

from bench import servers as launcher
from bench.servers import Server, free_port, start_gunicorn, stop, wait_for_port

BASE_DIR = Path(settings.BASE_DIR)
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    status, headers, body = launcher.fetch(url)
    return status, headers, body.decode()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True)


def AppServer(env: dict[str, str]) -> Server:
    """The app under gunicorn, one worker, as deployed (config.wsgi); ready once its port opens, since
    a server started during an outage answers 503."""
    return start_gunicorn(env, app="config.wsgi", ready_path=None, config=None, start_timeout=30)


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DEBUG": "false", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false"})
    env.update(extra)
    return env


class PostgresCluster:
    """A throwaway PostgreSQL 15 server on loopback, run as the unprivileged postgres user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pgtest-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self._as_postgres(PG_BIN / "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-qc", "CREATE DATABASE app"],
            check=True,
            capture_output=True,
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/app"

    def _as_postgres(self, *args) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "log", "-w", "-o", options, "start")

    def stop(self) -> None:
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """A throwaway Redis on loopback, from Debian's redis-server."""

    BINARY = "/usr/bin/redis-server"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [self.BINARY, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.port, seconds=10):
            self.stop()
            raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        stop(self.process)


class StaffBrowser:
    """A signed-in staff member over real HTTP: keeps its cookies (the __Host- ones are Secure, which
    urllib's cookie jar would not send over the loopback's plain HTTP) and never follows redirects."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = http.cookies.SimpleCookie(value)
                    for key, morsel in cookie.items():
                        self.cookies[key] = morsel.value
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def sign_in(self, username: str, password: str, totp_key: str) -> None:
        from django_otp.oath import TOTP

        status, _headers, page = self.request("GET", "/admin/login/")
        assert status == 200, page[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        code = f"{TOTP(bytes.fromhex(totp_key)).token():06d}"
        form = {"csrfmiddlewaretoken": token, "username": username, "password": password, "otp_token": code}
        status, headers, page = self.request("POST", "/admin/login/", {**form, "next": "/admin/"})
        assert status == 302 and headers["Location"] == "/admin/", page[:2000]


STAFF_PASSWORD = "a-long-staff-password-7"  # a throwaway test account
STAFF_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key
CREATE_STAFF = f"""
from django.contrib.auth.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
from staff.workflow import ensure_roles
ensure_roles()
user = User.objects.create_superuser("stella-staff", password="{STAFF_PASSWORD}")
TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True, key="{STAFF_TOTP_KEY}")
"""


def create_staff(env: dict[str, str]) -> tuple[str, str, str]:
    """A staff account with a known password and TOTP key; returns (username, password, key)."""
    manage(env, "shell", "-c", CREATE_STAFF)
    return "stella-staff", STAFF_PASSWORD, STAFF_TOTP_KEY
