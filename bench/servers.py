"""Real servers on loopback, started the same way by the bench and by the tests: gunicorn on a free
port, ready when it answers (or when its port opens), its output in a log file, always stopped.

Nothing here imports Django: the bench and the tests import it before settings are needed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN_CONF = BASE_DIR / "config" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """GET a loopback address: status, headers and body, error statuses included (no exception)."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - always http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def http_get(url: str, headers: dict[str, str], timeout: float = 5.0) -> tuple[int, bytes]:
    status, _headers, body = fetch(url, headers, timeout)
    return status, body


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log_path: Path
    port: int

    @property
    def url(self) -> str:
        return self.base_url

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        stop(self.process)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def run_manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a fresh process with this environment; the caller reads its exit and output."""
    return subprocess.run(  # noqa: S603 - fixed command line
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for_port(port: int, *, seconds: float) -> bool:
    """True once something accepts connections on the loopback port, False after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def start_gunicorn(
    env: dict[str, str],
    *,
    app: str,
    workers: int = 1,
    log_dir: Path | None = None,
    ready_path: str | None = "/healthz",
    headers: dict[str, str] | None = None,
    start_timeout: float = 60.0,
    config: Path | None = GUNICORN_CONF,
    extra_args: tuple[str, ...] = (),
) -> Server:
    """Start gunicorn on a free 127.0.0.1 port; return once `ready_path` answers 200 (or, with no
    ready path, once the port accepts connections: a server started during an outage answers 503).
    The caller stops it (or use `gunicorn()`, which always does)."""
    port = free_port()
    log_path = Path(log_dir or tempfile.mkdtemp(prefix="gunicorn-")) / f"gunicorn-{port}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        *(["-c", str(config)] if config else []),
        "--no-control-socket",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        *extra_args,
        app,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path, port)
    try:
        _wait_until_ready(server, ready_path, headers or {}, start_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(server: Server, ready_path: str | None, headers: dict[str, str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")
        if ready_path is None:
            if wait_for_port(server.port, seconds=0.5):
                return
        else:
            with suppress(OSError):
                status, _body = http_get(server.base_url + ready_path, headers, timeout=2)
                if status == 200:
                    return
            time.sleep(0.2)
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer {ready_path} in {seconds:.0f} s:\n{server.log_tail()}")


@contextmanager
def gunicorn(env: dict[str, str], **options) -> Iterator[Server]:
    """`start_gunicorn` for a `with` block: the server is stopped however the block ends."""
    server = start_gunicorn(env, **options)
    try:
        yield server
    finally:
        server.stop()


def stop(process: subprocess.Popen) -> None:
    """Stop a server process (and its workers, when it runs in a session of its own)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the session gunicorn was started in, if it has one
        with suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=5)
