"""`manage.py bench` (make bench): what it measures and how it reports, at test speed.

Each timing here is one call with a fixed figure, and the load test's gunicorn and wrk are stood in
for; the real figures are make bench's, never a test's.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from bench import measure, servers
from bench.management.commands import bench as command
from core import content_version
from interactions import checker
from interactions.checker import CheckEntry, check
from interactions.medlist import MedList, cookie_name, encode
from interactions.models import Interaction, Medication

pytestmark = pytest.mark.django_db
TRIVIAL_P50 = {1: 0.002, 2: 0.001}  # the trivial view, twice as fast in round 2 as in round 1
OTHER = measure.Timing(1, 0.004, 0.008)  # everything else


@pytest.fixture
def quick(monkeypatch):
    """One call per timing, each a fixed figure."""
    trivial_calls = []

    def time_calls(call, **_options):
        response = call()
        if getattr(response, "content", None) == b"ok":  # the trivial view
            trivial_calls.append(response)
            p50 = TRIVIAL_P50.get(len(trivial_calls), 0.001)
            return measure.Timing(1, p50, 2 * p50)
        return OTHER

    def time_searches(queries, *, rounds, max_seconds=30):
        return OTHER, len(queries)

    monkeypatch.setattr(measure, "time_calls", time_calls)
    monkeypatch.setattr(command, "_time_searches", time_searches)
    # The tests' database holds the curated content, not the imported dictionary the bench asks for.
    monkeypatch.setattr(command.Command, "_require_content", lambda self: None)


def rows(output: str) -> list[list[str]]:
    """The table's rows as [section, figure, value, ratio]."""
    found = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split(" | ")]
        if len(cells) >= 3 and cells[0] != "section":
            found.append([*cells, ""][:4])
    return found


def bench_output(*args: str) -> str:
    out = io.StringIO()
    call_command("bench", "--skip-load", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_reports_two_rounds_each_against_its_own_trivial_view(quick):
    table = rows(bench_output())
    sections = {row[0] for row in table}
    for part in ("baseline", "search", "checker", "pages"):
        assert {f"{part}, round 1", f"{part}, round 2"} <= sections
    for number, trivial in TRIVIAL_P50.items():
        pages = [row for row in table if row[0] == f"pages, round {number}" and "server time" in row[1]]
        assert pages
        assert {row[3] for row in pages} == {f"{OTHER.p50 / trivial:.2f}×"}  # p50 and p95 alike


def test_the_index_build_rebuilds_and_transfer_weight_are_reported_once(quick):
    figures = [row[1] for row in rows(bench_output())]
    assert sum(figure.startswith("index build, once") for figure in figures) == 1
    assert figures.count("background rebuild after a publish") == 1
    assert sum(figure.startswith("check page, 5 medicines: HTML + CSS + JS") for figure in figures) == 1


def test_it_times_a_list_with_whole_list_findings_and_says_how_many(quick):
    table = rows(bench_output())
    whole_list = [row for row in table if row[0] == "checker, round 1" and row[1].startswith("whole-list findings")]
    assert len(whole_list) == 2  # p50 and p95
    counted = re.search(r"\((\d+) whole-list findings, (\d+) in all\)", whole_list[0][1])
    assert counted, whole_list[0][1]
    assert int(counted[1]) == len(check(command.WHOLE_LIST).list_findings) >= 1


def test_it_fails_loudly_when_the_whole_list_list_has_no_whole_list_finding(monkeypatch):
    monkeypatch.setattr(command, "WHOLE_LIST", [CheckEntry("sertraline"), CheckEntry("ibuprofen")])
    with pytest.raises(CommandError, match="no whole-list finding"):
        command.Command()._whole_list(command.Table(), OTHER, "checker")


# --- load test ----------------------------------------------------------------------------------


@pytest.fixture
def stand_ins(monkeypatch):
    """gunicorn answered by the test client; wrk gives 1,000 requests/s for the trivial view, 400 for the rest."""
    client = Client(HTTP_HOST="127.0.0.1")
    measured = []

    class Server:
        base_url = "http://127.0.0.1:1"

        def log_tail(self) -> str:
            return ""

    @contextmanager
    def gunicorn(env, **options):
        with override_settings(ROOT_URLCONF=measure.__name__):
            yield Server()

    def http_get(url, headers):
        response = client.get(url.removeprefix(Server.base_url), headers=headers)
        return response.status_code, response.content

    def run_wrk(wrk, url, headers, *, seconds, connections):
        measured.append((url.removeprefix(Server.base_url), seconds))
        trivial = url.endswith(measure.TRIVIAL_PATH)
        return measure.LoadResult(
            requests=1000,
            requests_per_second=1000.0 if trivial else 400.0,
            p50=0.001,
            p95=0.002 if trivial else 0.010,
            status_errors=0,
            socket_errors=0,
        )

    monkeypatch.setattr(servers, "gunicorn", gunicorn)
    monkeypatch.setattr(servers, "http_get", http_get)
    monkeypatch.setattr(measure, "run_wrk", run_wrk)
    return measured


def list_cookie() -> dict[str, str]:
    """The headers the load test sends: the bench's list of five in its cookie."""
    return {"Cookie": f"{cookie_name()}={encode(MedList(entries=list(command.FIVE)))}"}


LOAD_OPTIONS = {"load_seconds": 20, "connections": 16, "workers": 2}


def test_the_load_test_measures_the_api_check_and_an_article_against_the_trivial_view(stand_ins, tmp_path):
    bench = command.Command()
    table = command.Table()
    bench._load_one(table, "SQLite", {}, list_cookie(), "wrk", tmp_path, LOAD_OPTIONS, bench._load_paths())
    figures = {row.figure: (row.value, row.ratio) for row in table.rows if row.section == "load SQLite"}
    assert figures["trivial view: requests/s"] == ("1,000 /s", "1.00×")
    for name in ("check page, 5 medicines", "API check, 5 medicines", f"article {command.ARTICLE_PATH}"):
        assert figures[f"{name}: requests/s"] == ("400 /s", "0.40×")
        assert figures[f"{name}: p95 latency"] == ("10.00 ms", "5.00×")
    timed = [path for path, seconds in stand_ins if seconds == 20]
    api = next(path for path in timed if path.startswith(command.API_CHECK_PATH))
    names = dict(Medication.objects.values_list("slug", "name"))
    assert parse_qs(urlsplit(api).query)["med"] == [names[e.slug] for e in command.FIVE]
    assert timed[0] == measure.TRIVIAL_PATH and command.ARTICLE_PATH in timed


def test_the_load_test_refuses_an_api_check_that_resolves_too_few(stand_ins, tmp_path):
    bench = command.Command()
    paths = {**bench._load_paths(), "API check, 5 medicines": f"{command.API_CHECK_PATH}?med=sertraline"}
    with pytest.raises(CommandError, match="resolved 1 of the bench's 5 medicines"):
        bench._load_one(command.Table(), "SQLite", {}, list_cookie(), "wrk", tmp_path, LOAD_OPTIONS, paths)


# --- more content ---------------------------------------------------------------------------------


def test_synthetic_rules_leave_every_real_list_as_it_was():
    real = Interaction.objects.published().count()
    before = check(command.THIRTY, content=checker.build_content())
    with transaction.atomic():
        added = command.add_synthetic_rules(3)
        assert Interaction.objects.published().count() == real + added
        assert added >= 1.8 * real  # two copies, less the rules that differed only by dose
        after = check(command.THIRTY, content=checker.build_content())
        transaction.set_rollback(True)
    assert after.findings == before.findings and after.pairs == before.pairs
    assert Interaction.objects.published().count() == real


def test_more_content_is_measured_then_rolled_back(quick):
    version = content_version.current()
    rules = Interaction.objects.count()
    table = command.Table()
    with command.in_process_settings():
        command.Command(stderr=io.StringIO())._with_more_content(table, 2)
    assert {"baseline, 2× rules", "checker, 2× rules", "pages, 2× rules"} <= {row.section for row in table.rows}
    assert any("the load test uses the real content" in note for note in table.notes)
    assert Interaction.objects.count() == rules
    assert content_version.current() == version


def test_the_command_takes_a_content_scale(quick, monkeypatch):
    scaled = []
    monkeypatch.setattr(command.Command, "_with_more_content", lambda self, table, scale: scaled.append(scale))
    bench_output("--content-scale", "3")
    bench_output()
    assert scaled == [3]
