"""`python manage.py bench` (`make bench`): every speed and size figure in one run, in one table.

Each time is also shown as a multiple of a trivial Django view (HttpResponse("ok") behind the same
middleware) measured in the same run, so the figures compare across machines. The in-process figures
are measured in two rounds, each against its own round's trivial view. The load test runs
gunicorn and wrk on 127.0.0.1: always against SQLite, and also against PostgreSQL when DATABASE_URL
points at one (`DATABASE_URL=postgres://... make bench`).
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import django
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings

from bench import measure as bench
from bench import servers
from core import content_version
from interactions import search as search_service
from interactions.checker import CheckEntry, check
from interactions.medlist import MedEntry, MedList, cookie_name, encode
from interactions.models import DrugClass, Interaction, Medication, MedicationName, Status

BASE_DIR = Path(settings.BASE_DIR)
STATIC_FILES = ["css/site.css", "vendor/htmx-2.min.js", "js/site.js"]
TRANSFER_TARGET_KB = 100
ARTICLE_PATH = "/learn/kratom/"
HOME_PATH = "/"
CHECK_PATH = "/check/"
API_CHECK_PATH = "/api/v1/check"
SEARCH_API_PATH = "/api/v1/medications"
UNLIMITED = 10**9
# The in-process figures are measured this many times, each round against its own trivial view.
ROUNDS = 2
MAX_CONTENT_SCALE = 50

# A list people actually bring: naltrexone at low dose with antidepressants, pain medicines, sleep aids.
FIVE = [
    MedEntry("naltrexone", "naltrexone-low-dose"),
    MedEntry("sertraline"),
    MedEntry("tramadol"),
    MedEntry("bupropion"),
    MedEntry("kratom"),
]
THIRTY = [
    CheckEntry("naltrexone", "naltrexone-low-dose"),
    CheckEntry("sertraline"),
    CheckEntry("tramadol"),
    CheckEntry("bupropion"),
    CheckEntry("kratom"),
    CheckEntry("alprazolam"),
    CheckEntry("ibuprofen"),
    CheckEntry("warfarin"),
    CheckEntry("alcohol"),
    CheckEntry("trazodone"),
    CheckEntry("buprenorphine-naloxone"),
    CheckEntry("escitalopram"),
    CheckEntry("oxycodone-and-acetaminophen"),
    CheckEntry("gabapentin"),
    CheckEntry("lithium"),
    CheckEntry("st-johns-wort"),
    CheckEntry("duloxetine"),
    CheckEntry("zolpidem"),
    CheckEntry("methadone"),
    CheckEntry("aspirin"),
    CheckEntry("clonazepam"),
    CheckEntry("venlafaxine"),
    CheckEntry("hydrocodone-and-acetaminophen"),
    CheckEntry("linezolid"),
    CheckEntry("phenelzine"),
    CheckEntry("sumatriptan"),
    CheckEntry("dextromethorphan"),
    CheckEntry("mirtazapine"),
    CheckEntry("apixaban"),
    CheckEntry("cannabis"),
]

# Three or more serotonergic and three or more sedating medicines: the whole-list rules speak.
WHOLE_LIST = [
    CheckEntry("sertraline"),
    CheckEntry("tramadol"),
    CheckEntry("dextromethorphan"),
    CheckEntry("trazodone"),
    CheckEntry("alprazolam"),
    CheckEntry("zolpidem"),
    CheckEntry("oxycodone"),
    CheckEntry("gabapentin"),
]


@dataclass
class Row:
    section: str
    figure: str
    value: str
    ratio: str = ""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, section: str, figure: str, value: str, ratio: str = "") -> None:
        self.rows.append(Row(section, figure, value, ratio))

    def render(self) -> str:
        headers = Row("section", "figure", "value", "× trivial view")
        widths = [max(len(getattr(r, name)) for r in [headers, *self.rows]) for name in Row.__dataclass_fields__]
        lines = []
        for index, row in enumerate([headers, *self.rows]):
            cells = [row.section, row.figure, row.value, row.ratio]
            lines.append(" | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())
            if index == 0:
                lines.append("-+-".join("-" * width for width in widths))
        return "\n".join(lines)


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value < 1:
        return f"{value:.3f} ms"
    if value < 100:
        return f"{value:.2f} ms"
    return f"{value:,.0f} ms"


def times(value: float, reference: float) -> str:
    if not reference or reference != reference:  # zero or NaN
        return "n/a"
    ratio = value / reference
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:,.1f}×"


def size(n: int) -> str:
    return f"{n:,} B"


class Command(BaseCommand):
    help = "Measure search, the checker, pages, transfer weight and a loopback load test; print one table."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--load-seconds", type=int, default=20, help="wrk duration per run (default 20)")
        parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers in the load test (default 2)")
        parser.add_argument("--skip-load", action="store_true", help="leave out the gunicorn + wrk load test")
        parser.add_argument(
            "--content-scale",
            type=int,
            default=1,
            help="also measure the in-process rows with N times the interaction rules (synthetic, rolled back "
            "after; default 1: not)",
        )

    def handle(self, *args, **options) -> None:
        options["load_seconds"] = max(1, min(options["load_seconds"], 300))
        options["connections"] = max(1, min(options["connections"], 256))
        options["content_scale"] = max(1, min(options["content_scale"], MAX_CONTENT_SCALE))
        self._require_content()
        # WhiteNoise warns when STATIC_ROOT has not been collected; the in-process figures do not serve files.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        table = Table()
        started = time.monotonic()
        with in_process_settings():
            # Twice, so a figure that moves between rounds shows itself as noise, not as a result.
            for number in range(1, ROUNDS + 1):
                self.stderr.write(f"Benchmarking in-process figures, round {number} of {ROUNDS}...")
                self._in_process(table, f"round {number}", first=number == 1)
            if options["content_scale"] > 1:
                self._with_more_content(table, options["content_scale"])
        if options["skip_load"]:
            table.notes.append("Load test skipped (--skip-load).")
        else:
            self._load(table, options)
        self.stdout.write(self._header(time.monotonic() - started))
        self.stdout.write(table.render())
        for note in table.notes:
            self.stdout.write(f"- {note}")

    # --- context ----------------------------------------------------------------------------------

    def _require_content(self) -> None:
        slugs = {e.slug for e in THIRTY} | {e.slug for e in FIVE} | {e.slug for e in WHOLE_LIST}
        found = set(Medication.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        missing = sorted(slugs - found)
        if missing or not MedicationName.objects.filter(medication__curated=False).exists():
            raise CommandError(
                "The database lacks the content the bench measures "
                f"({'missing: ' + ', '.join(missing) if missing else 'no imported dictionary'}). Run 'make setup'."
            )

    def _header(self, elapsed: float) -> str:
        vendor = connection.vendor
        return (
            f"\nMedWise bench: {time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
            f"Django {django.get_version()}, {os.cpu_count()} CPUs, in-process database: {vendor}, "
            f"run took {elapsed:.0f} s.\n"
            "Times are server-side p50/p95; '× trivial view' divides by the same percentile of "
            'HttpResponse("ok") through the same middleware, measured in the same round (load rows: by the '
            "trivial view's own load figures).\n"
        )

    # --- in-process figures -------------------------------------------------------------------------

    def _client(self, cookie: str | None = None) -> Client:
        client = Client(HTTP_HOST="127.0.0.1")
        if cookie:
            client.cookies[cookie_name()] = cookie
        return client

    def _in_process(self, table: Table, label: str, *, first: bool) -> None:
        """One round of the in-process figures, each divided by this round's own trivial-view timing.

        The first round also builds the search index afresh, rebuilds it after publishes and weighs the
        check page's transfer; later rounds time what a running process does."""
        trivial = self._trivial(table, f"baseline, {label}")
        self._search(table, trivial, f"search, {label}", first=first)
        self._checker(table, trivial, f"checker, {label}")
        self._pages(table, trivial, f"pages, {label}", transfer=first)

    def _trivial(self, table: Table, section: str) -> bench.Timing:
        client = self._client()
        response = client.get(bench.TRIVIAL_PATH)
        if response.status_code != 200 or response.content != b"ok":
            raise CommandError(f"The trivial view answered {response.status_code}: {response.content[:200]!r}")
        timing = bench.time_calls(lambda: client.get(bench.TRIVIAL_PATH), iterations=2000, max_seconds=10, warmup=50)
        table.add(section, f"trivial view, test client (n={timing.samples}) p50", ms(timing.p50), "1.00×")
        table.add(section, "trivial view, test client p95", ms(timing.p95), "1.00×")
        return timing

    def _search(self, table: Table, trivial: bench.Timing, section: str, *, first: bool) -> None:
        if first:
            search_service.invalidate_index()
        started = time.perf_counter()
        index = search_service.get_index()
        build = time.perf_counter() - started
        if first:
            table.add(section, f"index build, once ({len(index):,} names)", ms(build), times(build, trivial.p50))

        curated = {}
        for name, brand, is_brand in MedicationName.objects.filter(medication__curated=True).values_list(
            "medication__name", "name", "is_brand"
        ):
            brands = curated.setdefault(name, [])
            if is_brand:
                brands.append(brand)
        uncurated = sorted(
            MedicationName.objects.filter(medication__curated=False, is_brand=False).values_list("name", flat=True)
        )
        queries = bench.search_queries(sorted(curated.items()), uncurated)
        if len(queries) < 200:
            raise CommandError(f"Only {len(queries)} search queries could be built; the bench needs 200.")
        stats = index.stats
        before = (stats.lookups, stats.typo_passes, stats.prefix_table_answers, stats.typo_names_compared)
        timing, found = _time_searches(queries, rounds=3)
        label = f"search, {len(queries)} queries × {timing.samples // len(queries)} rounds"
        table.add(section, f"{label} p50", ms(timing.p50), times(timing.p50, trivial.p50))
        table.add(section, "search p95", ms(timing.p95), times(timing.p95, trivial.p95))
        table.add(section, "queries with at least one result", f"{found / timing.samples:.0%}")
        self._search_paths(table, section, index, before)
        self._search_one_letter(table, section, trivial)
        self._search_misspelt(table, section, trivial, sorted(curated), uncurated)
        del index, stats  # so the rebuild figures see the memory of a replaced index come back
        if first:
            self._search_rebuilds(table, section)

    def _search_paths(self, table: Table, section: str, index, before: tuple[int, int, int, int]) -> None:
        stats = index.stats
        lookups = stats.lookups - before[0]
        passes = stats.typo_passes - before[1]
        table.add(section, "lookups that ran the typo pass", f"{passes / max(1, lookups):.0%}")
        table.add(
            section,
            "lookups answered from the prefix table",
            f"{(stats.prefix_table_answers - before[2]) / max(1, lookups):.0%}",
        )
        compared = (stats.typo_names_compared - before[3]) / max(1, passes)
        table.add(section, "names compared per typo pass", f"{compared:,.0f} of {len(index):,}")

    def _search_one_letter(self, table: Table, section: str, trivial: bench.Timing) -> None:
        timing, _found = _time_searches(bench.one_letter_queries(), rounds=20)
        table.add(
            section, f"one-letter queries (n={timing.samples}) p50", ms(timing.p50), times(timing.p50, trivial.p50)
        )
        table.add(section, "one-letter queries p95", ms(timing.p95), times(timing.p95, trivial.p95))

    def _search_misspelt(
        self, table: Table, section: str, trivial: bench.Timing, curated: list[str], uncurated: list[str]
    ) -> None:
        queries = bench.misspelt_queries(curated, uncurated)
        timing, found = _time_searches(queries, rounds=3)
        table.add(section, f"misspelt queries ({len(queries)}) p50", ms(timing.p50), times(timing.p50, trivial.p50))
        table.add(section, "misspelt queries p95", ms(timing.p95), times(timing.p95, trivial.p95))
        table.add(section, "misspelt queries with at least one result", f"{found / timing.samples:.0%}")

    def _search_rebuilds(self, table: Table, section: str) -> None:
        """Three publishes, each rebuilt in the background as in a server: does the memory come back?"""
        resident = bench.rss_mb(os.getpid())
        started = time.perf_counter()
        for _publish in range(3):
            content_version.bump()
            search_service.get_index()  # still the old index; starts the rebuild
            search_service.wait_for_rebuild()
        elapsed = (time.perf_counter() - started) / 3
        search_service.get_index()
        grown = bench.rss_mb(os.getpid()) - resident
        table.add(section, "background rebuild after a publish", ms(elapsed))
        table.add(section, "process memory after 3 rebuilds", f"{grown:+.1f} MB")

    def _checker(self, table: Table, trivial: bench.Timing, section: str) -> None:
        for count in (10, 30):
            entries = THIRTY[:count]
            result = check(entries)
            timing = bench.time_calls(lambda entries=entries: check(entries), iterations=300, max_seconds=20)
            label = f"check() {count} medicines ({len(result.pairs)} pairs, {len(result.findings)} findings)"
            table.add(section, f"{label} p50", ms(timing.p50), times(timing.p50, trivial.p50))
            table.add(section, f"check() {count} medicines p95", ms(timing.p95), times(timing.p95, trivial.p95))
        self._whole_list(table, trivial, section)

    def _whole_list(self, table: Table, trivial: bench.Timing, section: str) -> None:
        """check() for a list the whole-list rules speak about (three or more serotonergic, sedating ...)."""
        result = check(WHOLE_LIST)
        found = len(result.list_findings)
        if not found:
            raise CommandError(
                f"The whole-list bench list ({', '.join(e.slug for e in WHOLE_LIST)}) has no whole-list finding: "
                "the row would measure nothing. Pick medicines that the published whole-list rules count."
            )
        timing = bench.time_calls(lambda: check(WHOLE_LIST), iterations=300, max_seconds=10)
        label = (
            f"whole-list findings: check() {len(WHOLE_LIST)} medicines "
            f"({found} whole-list findings, {len(result.findings)} in all)"
        )
        table.add(section, f"{label} p50", ms(timing.p50), times(timing.p50, trivial.p50))
        table.add(section, "whole-list findings: check() p95", ms(timing.p95), times(timing.p95, trivial.p95))

    def _pages(self, table: Table, trivial: bench.Timing, section: str, *, transfer: bool) -> None:
        cookie = encode(MedList(entries=list(FIVE)))
        longer = {
            count: encode(MedList(entries=[MedEntry(e.slug, e.regimen) for e in THIRTY[:count]])) for count in (10, 30)
        }
        names = dict(Medication.objects.filter(slug__in=[e.slug for e in THIRTY]).values_list("slug", "name"))
        pages = [
            ("home page /", HOME_PATH, None),
            ("check page, 5 medicines", CHECK_PATH, cookie),
            ("check page, 10 medicines", CHECK_PATH, longer[10]),
            ("check page, 30 medicines", CHECK_PATH, longer[30]),
            (f"article {ARTICLE_PATH}", ARTICLE_PATH, None),
            *(
                (f"API check, {count} medicines", f"{API_CHECK_PATH}?{_med_query(entries, names)}", None)
                for count, entries in ((5, FIVE), (30, THIRTY))
            ),
        ]
        check_html = b""
        for label, url, page_cookie in pages:
            client = self._client(page_cookie)
            response = client.get(url)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}; the bench needs 200.")
            body = response.content
            if page_cookie == cookie:
                check_html = body
                self._require_listed(body)

            def fetch(client=client, url=url):
                return client.get(url)

            timing = bench.time_calls(fetch, iterations=300, max_seconds=15, warmup=5)
            table.add(
                section,
                f"{label}, server time (n={timing.samples}) p50",
                ms(timing.p50),
                times(timing.p50, trivial.p50),
            )
            table.add(section, f"{label}, server time p95", ms(timing.p95), times(timing.p95, trivial.p95))
            kind = "JSON" if url.startswith(API_CHECK_PATH) else "HTML"
            table.add(section, f"{label}, {kind} raw / gzip -6", f"{size(len(body))} / {size(bench.gzip_size(body))}")
        if transfer:
            self._transfer(table, check_html)

    def _transfer(self, table: Table, check_html: bytes) -> None:
        weights = [("HTML", bench.gzip_size(check_html))]
        for name in STATIC_FILES:
            weights.append((name, bench.gzip_size((BASE_DIR / "static" / name).read_bytes(), level=9)))
        total = sum(weight for _name, weight in weights) / 1000
        detail = " + ".join(f"{name} {weight / 1000:.1f} kB" for name, weight in weights)
        verdict = "under" if total < TRANSFER_TARGET_KB else "OVER"
        table.add(
            "transfer",
            "check page, 5 medicines: HTML + CSS + JS, gzip",
            f"{total:.1f} kB",
            f"{verdict} the {TRANSFER_TARGET_KB} kB target",
        )
        table.notes.append(f"Transfer weight of the check page: {detail}.")
        others = sorted(
            set(re.findall(rb'(?:href|src)="/static/([^"?#]+)"', check_html)) - {n.encode() for n in STATIC_FILES}
        )
        if others:
            table.notes.append(
                "The check page also references "
                + ", ".join(o.decode() for o in others)
                + " (not counted in the transfer weight)."
            )
        table.notes.append(
            "Sizes: HTML gzip at level 6 (a typical proxy setting); static files gzip at level 9, as WhiteNoise "
            "pre-compresses them; 1 kB = 1000 B."
        )

    def _require_listed(self, body: bytes) -> None:
        names = Medication.objects.filter(slug__in=[e.slug for e in FIVE]).values_list("name", flat=True)
        text = body.decode(errors="replace").casefold()
        missing = [name for name in names if name.casefold() not in text]
        if missing:
            raise CommandError(f"The check page did not show the list cookie's medicines ({', '.join(missing)}).")

    # --- the same figures with more content -----------------------------------------------------

    def _with_more_content(self, table: Table, scale: int) -> None:
        """The in-process rows again with `scale` times the interaction rules: copies of the rules between
        copies of their groups and medicines, which no bench list meets, made in a transaction that is
        rolled back. A check's work per pair should not grow with the content."""
        version = content_version.current()
        real = Interaction.objects.published().count()
        self.stderr.write(f"Benchmarking in-process figures with {scale}× the interaction rules...")
        try:
            # A background rebuild would read through another connection, which cannot see these rows.
            with transaction.atomic(), override_settings(SEARCH_INDEX_REBUILD="sync"):
                added = add_synthetic_rules(scale)
                content_version.bump()  # so every cache sees the larger content (rolled back with it)
                self._in_process(table, f"{scale}× rules", first=False)
                transaction.set_rollback(True)
        finally:
            search_service.invalidate_index()  # nothing synthetic stays in this process's index
        if content_version.current() != version:
            raise CommandError("The content version was not restored after the synthetic rules were rolled back.")
        table.notes.append(
            f"'{scale}× rules' rows: {real:,} published rules plus {added:,} synthetic copies (between copies of "
            "their groups and medicines, no dose forms, no whole-list rules), made in a transaction that was "
            "rolled back; the load test uses the real content."
        )

    # --- load test ------------------------------------------------------------------------------

    def _load(self, table: Table, options: dict) -> None:
        try:
            wrk = bench.ensure_wrk()
        except bench.LoadTestUnavailable as exc:
            table.notes.append(f"Load test skipped: {exc}")
            self.stderr.write(f"Load test skipped: {exc}")
            return
        secret_key = secrets.token_urlsafe(50)
        base_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            bench.TRIVIAL_ENV: "1",
            **{f"RATE_LIMIT_{scope.upper()}": str(UNLIMITED) for scope in settings.RATE_LIMITS},
            **{f"RATE_LIMIT_LIST_{scope.upper()}": str(UNLIMITED) for scope in settings.RATE_LIMITS_PER_LIST},
        }
        for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_ACCESS_LOG", "DJANGO_ALLOW_ASYNC_UNSAFE"):
            base_env.pop(name, None)
        targets: list[tuple[str, dict[str, str]]] = []
        with tempfile.TemporaryDirectory(prefix="medwise-bench-") as tmp:
            tmpdir = Path(tmp)
            # collectstatic writes here (settings read STATIC_ROOT from the environment), not into the tree.
            base_env["STATIC_ROOT"] = str(tmpdir / "static")
            sqlite_env = {k: v for k, v in base_env.items() if k != "DATABASE_URL"}
            sqlite_env["SQLITE_PATH"] = self._sqlite_for_load(tmpdir, sqlite_env)
            targets.append(("SQLite", sqlite_env))
            database_url = os.environ.get("DATABASE_URL", "")
            if urlsplit(database_url).scheme in {"postgres", "postgresql", "pgsql"}:
                targets.append(("PostgreSQL", {**base_env, "DATABASE_URL": database_url}))
            else:
                table.notes.append(
                    "PostgreSQL load test not run: set DATABASE_URL=postgres://... (see docs/deploy.md) to add it."
                )
            self._collectstatic(sqlite_env)
            # The list cookie as the production-like server reads it: its name and key outside DEBUG.
            with override_settings(DEBUG=False, SECRET_KEY=secret_key):
                headers = {
                    "Cookie": f"{cookie_name()}={encode(MedList(entries=list(FIVE)))}",
                    "X-Forwarded-Proto": "https",  # as the reverse proxy sends it
                }
            paths = self._load_paths()
            for label, env in targets:
                self.stderr.write(f"Load test on {label}: gunicorn {options['workers']} workers, wrk...")
                self._load_one(table, label, env, headers, wrk, tmpdir, options, paths)
            self._index_memory(table, sqlite_env, headers, wrk, tmpdir)
        table.notes.append(
            f"Load: gunicorn ({options['workers']} sync workers, config/gunicorn.conf.py, DEBUG=false, access log on, "
            "no max-requests recycling) "
            f"and wrk (2 threads, {options['connections']} connections, {options['load_seconds']} s per run) "
            "share this machine's cores on 127.0.0.1; rate limits lifted for the run."
        )

    def _load_paths(self) -> dict[str, str]:
        """What the load test measures, by name: the trivial view first, as every other row's reference."""
        names = dict(Medication.objects.filter(slug__in=[e.slug for e in FIVE]).values_list("slug", "name"))
        return {
            "trivial view": bench.TRIVIAL_PATH,
            "check page, 5 medicines": CHECK_PATH,
            "API check, 5 medicines": f"{API_CHECK_PATH}?{_med_query(FIVE, names)}",
            f"article {ARTICLE_PATH}": ARTICLE_PATH,
        }

    def _load_one(
        self,
        table: Table,
        label: str,
        env: dict,
        headers: dict,
        wrk: str,
        tmpdir: Path,
        options: dict,
        paths: dict[str, str],
    ) -> None:
        """Requests/s and p95 for each of `paths` (name -> path; "trivial view" first), under load."""
        seconds, connections = options["load_seconds"], options["connections"]
        section = f"load {label}"
        with servers.gunicorn(
            env,
            workers=options["workers"],
            app="bench.measure:application",
            log_dir=tmpdir,
            headers={"X-Forwarded-Proto": "https"},
            # No worker recycling mid-run: a restarting worker would stall the fast trivial-view run only.
            extra_args=("--max-requests", "0"),
        ) as server:
            for path in paths.values():
                status, body = servers.http_get(server.base_url + path, headers)
                if status != 200:
                    raise CommandError(f"gunicorn answered {status} for {path}:\n{server.log_tail()}")
                if path == CHECK_PATH:
                    self._require_listed(body)
                elif path.startswith(API_CHECK_PATH):
                    _require_checked(body, len(FIVE))
            # Warm both workers (templates, connections, each one's reviewed content) before measuring.
            for path in paths.values():
                warmup = 1 if path == bench.TRIVIAL_PATH else 2
                bench.run_wrk(wrk, server.base_url + path, headers, seconds=warmup, connections=connections)
            results = {}
            for name, path in paths.items():
                results[name] = bench.run_wrk(
                    wrk, server.base_url + path, headers, seconds=seconds, connections=connections
                )
        trivial = results["trivial view"]
        for name, result in results.items():
            table.add(
                section,
                f"{name}: requests/s",
                f"{result.requests_per_second:,.0f} /s",
                times(result.requests_per_second, trivial.requests_per_second),
            )
            table.add(section, f"{name}: p95 latency", ms(result.p95), times(result.p95, trivial.p95))
            if result.status_errors or result.socket_errors:
                table.notes.append(
                    f"{section}, {name}: {result.status_errors} non-2xx/3xx responses and "
                    f"{result.socket_errors} socket errors out of {result.requests:,} requests."
                )

    def _index_memory(self, table: Table, env: dict, headers: dict, wrk: str, tmpdir: Path) -> None:
        """PSS per gunicorn worker (/proc/PID/smaps_rollup) with 2 and 4 workers: without the search
        index, with one built in each worker, with one built before the fork and shared, and after a
        publish has made the master rebuild it for a fresh set of workers, which share it again."""
        self.stderr.write("Search index memory per worker (gunicorn, 2 and 4 workers)...")
        search = f"{SEARCH_API_PATH}?q=sertaline"
        cases = (
            ("no search index (trivial view only)", "false", bench.TRIVIAL_PATH, False),
            ("index built in each worker", "false", search, False),
            ("index built before fork, shared", "true", search, False),
            ("shared, then rebuilt in the master and shared again after a publish", "true", search, True),
        )
        for workers in (2, 4):
            baseline = None
            for label, preload, path, publish in cases:
                server_env = {**env, "GUNICORN_PRELOAD": preload, "LOG_LEVEL": "INFO"}
                with servers.gunicorn(
                    server_env,
                    workers=workers,
                    app="bench.measure:application",
                    log_dir=tmpdir,
                    headers={"X-Forwarded-Proto": "https"},
                    extra_args=("--max-requests", "0"),
                ) as server:
                    bench.run_wrk(wrk, server.base_url + path, headers, seconds=3, connections=2 * workers)
                    if path == search and preload == "false":
                        _search_until_logged(server, "Search index built in ", workers, headers, wrk, search)
                    if publish:
                        replacing = bench.worker_pids(server.process.pid)
                        self._publish(server_env)
                        rebuilt = "Search index rebuilt in the master"
                        _search_until_logged(server, rebuilt, 1, headers, wrk, search, replacing=replacing)
                        # The fresh workers serve searches for as long as the others did before measuring.
                        bench.run_wrk(wrk, server.base_url + path, headers, seconds=3, connections=2 * workers)
                    pss = [bench.pss_mb(pid) for pid in bench.worker_pids(server.process.pid)]
                    master = bench.pss_mb(server.process.pid)
                mean = sum(pss) / len(pss)
                extra = "" if baseline is None else f"{mean - baseline:+.1f} MB per worker"
                baseline = mean if baseline is None else baseline
                table.add(f"memory, {workers} workers", f"PSS per worker: {label}", f"{mean:.1f} MB", extra)
                table.notes.append(
                    f"PSS, {workers} workers, {label}: workers {', '.join(f'{p:.1f}' for p in pss)} MB, "
                    f"master {master:.1f} MB."
                )

    def _publish(self, env: dict) -> None:
        """A new content version, from another process as a staff save would be."""
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from core import content_version; content_version.bump()",
            ],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _sqlite_for_load(self, tmpdir: Path, env: dict[str, str]) -> str:
        """The SQLite file to serve: the bench's own database, else the local one, else a fresh copy."""
        if connection.vendor == "sqlite":
            return str(settings.DATABASES["default"]["NAME"])
        candidate = Path(os.environ.get("SQLITE_PATH") or BASE_DIR / "db.sqlite3")
        if _sqlite_has_content(candidate):
            up_to_date = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--check", "-v0"],
                cwd=BASE_DIR,
                env={**env, "SQLITE_PATH": str(candidate)},
                capture_output=True,
                timeout=120,
                check=False,
            )
            if up_to_date.returncode == 0:
                return str(candidate)
        path = tmpdir / "load.sqlite3"
        self.stderr.write(f"{candidate} is not set up: building a temporary SQLite database for the load test...")
        for command in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["load_initial_data"]):
            subprocess.run(  # noqa: S603 - fixed command line
                [sys.executable, "manage.py", *command],
                cwd=BASE_DIR,
                env={**env, "SQLITE_PATH": str(path)},
                check=True,
                capture_output=True,
                timeout=900,
            )
        return str(path)

    def _collectstatic(self, env: dict[str, str]) -> None:
        """Outside DEBUG the templates need the hashed names from STATIC_ROOT's manifest."""
        completed = servers.run_manage(env, "collectstatic", "--noinput", "-v0")
        if completed.returncode != 0:
            raise CommandError(f"collectstatic failed:\n{completed.stdout}{completed.stderr}")


def _time_searches(queries: list[str], *, rounds: int, max_seconds: float = 30) -> tuple[bench.Timing, int]:
    """Each query once untimed, then `rounds` timed rounds (fewer past max_seconds); and how many found something."""
    for query in queries:
        search_service.search(query)
    durations: list[float] = []
    deadline = time.perf_counter() + max_seconds
    found = 0
    for _round in range(rounds):
        for query in queries:
            begun = time.perf_counter()
            results = search_service.search(query)
            durations.append(time.perf_counter() - begun)
            found += bool(results)
        if time.perf_counter() > deadline:
            break
    return bench.Timing.of(durations), found


def _search_until_logged(
    server, text: str, count: int, headers: dict, wrk: str, path: str, *, replacing: list[int] | None = None
) -> None:
    """Searches until the server's log holds `text` `count` times (each worker has built its index, or
    the master has rebuilt it); with `replacing`, also until a fresh worker has taken the place of each
    of those (the master's children are as many, and none of them)."""
    deadline = time.monotonic() + 180
    workers = len(replacing) if replacing else count

    def done() -> bool:
        if server.log_path.read_text(errors="replace").count(text) < count:
            return False
        children = bench.worker_pids(server.process.pid)
        return not replacing or (len(children) == workers and not set(children) & set(replacing))

    while not done():
        if time.monotonic() > deadline:
            raise CommandError(f"Not every worker logged {text!r} or was replaced:\n{server.log_tail()}")
        bench.run_wrk(wrk, server.base_url + path, headers, seconds=1, connections=2 * workers)


def in_process_settings() -> override_settings:
    """Production-like in-process runs: DEBUG off (no query logging), no rate limits in the way."""
    return override_settings(
        ROOT_URLCONF=bench.__name__,
        DEBUG=False,
        RATE_LIMITS=dict.fromkeys(settings.RATE_LIMITS, UNLIMITED),
        RATE_LIMITS_PER_LIST=dict.fromkeys(settings.RATE_LIMITS_PER_LIST, UNLIMITED),
    )


def add_synthetic_rules(scale: int) -> int:
    """`scale - 1` copies of every published interaction rule, each between copies of the groups and
    medicines the rule names (without dose forms), so no real list meets them. Returns how many rules
    were added. For the bench's `--content-scale`, inside a transaction that is rolled back."""
    rules = list(Interaction.objects.published())
    groups = list(DrugClass.objects.all())
    named = {r.medication_a_id for r in rules} | {r.medication_b_id for r in rules}
    medications = list(Medication.objects.filter(id__in=named).prefetch_related("classes"))
    today = date.today()
    added = 0
    for copy in range(1, scale):
        group_copies = dict(
            zip(
                [g.id for g in groups],
                DrugClass.objects.bulk_create(
                    DrugClass(name=f"Bench group {copy}-{g.id}", slug=f"bench-{copy}-{g.id}", kind=g.kind)
                    for g in groups
                ),
                strict=True,
            )
        )
        medication_copies = dict(
            zip(
                [m.id for m in medications],
                Medication.objects.bulk_create(
                    Medication(
                        name=f"Bench medicine {copy}-{m.id}",
                        slug=f"bench-{copy}-{m.id}",
                        kind=m.kind,
                        interactions_reviewed=m.interactions_reviewed,
                        coverage_signed_on=m.coverage_signed_on,
                        coverage_signer="MedWise bench",
                    )
                    for m in medications
                ),
                strict=True,
            )
        )
        Medication.classes.through.objects.bulk_create(
            Medication.classes.through(medication_id=medication_copies[m.id].id, drugclass_id=group_copies[c.id].id)
            for m in medications
            for c in m.classes.all()
        )
        copies: dict[str, Interaction] = {}
        for rule in rules:
            sides = {}
            for side in ("a", "b"):
                med_id, class_id = getattr(rule, f"medication_{side}_id"), getattr(rule, f"drug_class_{side}_id")
                sides[f"medication_{side}"] = medication_copies[med_id] if med_id else None
                sides[f"drug_class_{side}"] = group_copies[class_id] if class_id else None
            if sides["medication_a"] is not None and sides["medication_a"] == sides["medication_b"]:
                continue  # two doses of one medicine: without dose forms, a medicine with itself
            copied = Interaction(
                slug=f"bench-{copy}-{rule.id}",
                **sides,
                **{name: getattr(rule, name) for name in Interaction.TEXT_FIELDS},
                status=Status.PUBLISHED,
                reviewed_on=rule.reviewed_on or today,
                reviewed_by_name="MedWise bench",
            )
            copied.pair_key = copied.compute_pair_key()
            copies.setdefault(copied.pair_key, copied)  # rules that differed only by dose are one here
        added += len(Interaction.objects.bulk_create(copies.values()))
    return added


def _require_checked(body: bytes, count: int) -> None:
    """The API check answered with every medicine resolved: the load figure measures a real check."""
    try:
        medications = json.loads(body)["medications"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"The API check did not answer with a check: {body[:200]!r}") from exc
    if len(medications) != count:
        raise CommandError(f"The API check resolved {len(medications)} of the bench's {count} medicines.")


def _med_query(entries, names: dict[str, str]) -> str:
    """?med=...: the API takes names as people type them, so the bench sends each medicine's name."""
    return urlencode([("med", names[e.slug]) for e in entries])


def _sqlite_has_content(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            row = db.execute("SELECT count(*) FROM interactions_medication WHERE slug = 'naltrexone'").fetchone()
    except sqlite3.Error:
        return False
    return bool(row and row[0])
