"""Two app processes on one database never show stale published content after a publish,
with the local-memory cache (each process its own) and with a shared Redis."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers import AppServer, RedisServer, base_env, fetch, manage

CHECK = "/api/v1/check?med=sertraline&med=tramadol"
SEARCH = "/api/v1/medications?q=frobnizol"
PUBLISH = """
from interactions.models import Interaction, Medication, MedicationName
rule = Interaction.objects.get(slug="{slug}")
rule.title = "Changed by a reviewer"
rule.save()
med = Medication.objects.create(name="Frobnizol", slug="frobnizol")
MedicationName.objects.create(medication=med, name="Frobnizol")
"""


@pytest.fixture(scope="module")
def database():
    workdir = Path(tempfile.mkdtemp(prefix="multi-"))
    path = workdir / "app.sqlite3"
    env = base_env(SQLITE_PATH=str(path))
    manage(env, "migrate", "--noinput")
    manage(env, "createcachetable")
    manage(env, "loaddata", "fixtures/catalog.json", "fixtures/interactions.json")
    yield path
    shutil.rmtree(workdir, ignore_errors=True)


def titles(server: AppServer) -> list[str]:
    status, _headers, body = fetch(server.url + CHECK)
    assert status == 200
    return [finding["title"] for finding in json.loads(body)["findings"]]


def search_slugs(server: AppServer) -> list[str]:
    return [r["slug"] for r in json.loads(fetch(server.url + SEARCH)[2])["results"]]


def found_once_rebuilt(server: AppServer) -> bool:
    for _attempt in range(300):
        if "frobnizol" in search_slugs(server):
            return True
        time.sleep(0.1)
    return False


def run_two_servers_and_publish(env: dict[str, str], database: Path) -> None:
    working_copy = database.with_name(f"copy-{os.getpid()}-{id(env)}.sqlite3")
    shutil.copy(database, working_copy)
    env = {**env, "SQLITE_PATH": str(working_copy)}
    first, second = AppServer(env), AppServer(env)
    try:
        before = titles(first)
        assert before == titles(second)  # both processes now hold the content in their caches
        assert "frobnizol" not in search_slugs(first) + search_slugs(second)
        slug = json.loads(fetch(first.url + CHECK)[2])["findings"][0]
        rule_slug = _rule_slug(env, slug["title"])
        manage(env, "shell", "-c", PUBLISH.format(slug=rule_slug))
        assert "Changed by a reviewer" in titles(first)
        assert "Changed by a reviewer" in titles(second)
        # Each process rebuilds its search index in the background, searching the old one meanwhile.
        assert found_once_rebuilt(first)
        assert found_once_rebuilt(second)
    finally:
        first.stop()
        second.stop()
        working_copy.unlink(missing_ok=True)


def _rule_slug(env: dict[str, str], title: str) -> str:
    import subprocess
    import sys

    code = f"from interactions.models import Interaction; print(Interaction.objects.get(title={title!r}).slug)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_a_publish_is_seen_by_every_process_with_local_memory_caches(database, static_root):
    run_two_servers_and_publish(base_env(STATIC_ROOT=str(static_root)), database)


def test_a_publish_is_seen_by_every_process_with_a_shared_redis(database, static_root):
    if not os.path.exists(RedisServer.BINARY):
        pytest.fail("This test needs Debian's redis-server: run 'make test', which installs it.")
    redis = RedisServer()
    try:
        run_two_servers_and_publish(base_env(STATIC_ROOT=str(static_root), CACHE_URL=redis.url), database)
    finally:
        redis.stop()
