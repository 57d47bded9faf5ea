"""Measuring for `python manage.py bench` (make bench), and the WSGI entry point of its load test.

The load test runs gunicorn on `bench.measure:application`. With MEDWISE_BENCH_TRIVIAL=1
in its environment, that application mounts a trivial view at /__bench__/ok next to the whole app
(same settings, same middleware), so a load test can compare a real page with the cheapest
possible Django response served by the very same processes. Without the variable it is exactly
config.wsgi's application: nothing extra is ever mounted by accident.

Nothing here imports models at module level: gunicorn imports this module before Django is set up.
"""

from __future__ import annotations

import gzip
import math
import os
import random
import shutil
import string
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

BASE_DIR = Path(__file__).resolve().parent.parent
TRIVIAL_PATH = "/__bench__/ok"
TRIVIAL_ENV = "MEDWISE_BENCH_TRIVIAL"


# --- the trivial view and its URLconf ---------------------------------------------------------------


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


_urlpatterns: list | None = None


def __getattr__(name: str):
    """`urlpatterns`, built on first use: include() imports config.urls at once, and gunicorn imports
    this module before Django is set up."""
    global _urlpatterns
    if name != "urlpatterns":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _urlpatterns is None:
        _urlpatterns = [
            path(TRIVIAL_PATH.lstrip("/"), trivial, name="bench_trivial"),
            path("", include("config.urls")),
        ]
    return _urlpatterns


handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

_application = None


def application(environ, start_response):
    """WSGI entry point for the bench's gunicorn; built on the first request of each worker."""
    global _application
    if _application is None:
        _application = _build_application()
    return _application(environ, start_response)


def _build_application():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    if os.environ.get(TRIVIAL_ENV) != "1":
        return app
    from django.core.handlers.wsgi import WSGIHandler

    class BenchHandler(WSGIHandler):
        def get_response(self, request):
            # Resolve through this module: the whole app plus the trivial view, same middleware.
            request.urlconf = __name__
            return super().get_response(request)

    return BenchHandler()


# --- statistics ------------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Timing:
    samples: int
    p50: float  # seconds
    p95: float

    @classmethod
    def of(cls, durations: list[float]) -> Timing:
        return cls(len(durations), percentile(durations, 50), percentile(durations, 95))


def time_calls(
    call: Callable[[], object], *, iterations: int, max_seconds: float, warmup: int = 3, min_iterations: int = 5
) -> Timing:
    """Time `call` up to `iterations` times, stopping early after `max_seconds` (but not before
    `min_iterations`, each of which is itself bounded by the code under test)."""
    for _ in range(warmup):
        call()
    durations: list[float] = []
    deadline = time.perf_counter() + max_seconds
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
        if len(durations) >= min_iterations and time.perf_counter() > deadline:
            break
    return Timing.of(durations)


def gzip_size(data: bytes, level: int = 6) -> int:
    # mtime=0: the same bytes always give the same size.
    return len(gzip.compress(data, compresslevel=level, mtime=0))


# --- realistic search queries ------------------------------------------------------------------------

# What people type: brands, generics, their misspellings, the first letters, and doses.
# fmt: off
HAND_WRITTEN_QUERIES = [
    "Zoloft", "zoloft", "  ZOLOFT ", "sertraline", "sertaline", "setraline", "zolof", "Lexapro", "lexipro",
    "escitalopram", "Prozac", "prozak", "fluoxetine", "fluoxitine", "Celexa", "citalopram", "citalopam",
    "Wellbutrin", "Wellbutrin XL", "wellbutrn", "bupropion", "buproprion", "Zyban", "Contrave", "naltrexone",
    "naltrexon", "naltrexone 4.5 mg", "naltrexone 4.5mg", "naltrexone 1.5 mg", "naltrexone 50 mg",
    "naltrexone 50mg", "naltrexone 380 mg", "Vivitrol", "vivitrol 380 mg", "ReVia", "LDN 4.5 mg",
    "low dose naltrexone", "Suboxone", "suboxen", "buprenorphine", "buprenorfine", "Subutex", "Sublocade",
    "methadone", "methadon", "Narcan", "naloxone", "tramadol", "tramadole", "Ultram", "tramadol 50 mg", "oxycodone",
    "oxycontin", "OxyContin 10 mg", "Percocet", "hydrocodone", "Vicodin", "Norco", "fentanyl", "fentanyl patch",
    "Duragesic", "morphine", "kratom", "kratum", "cratom", "alcohol", "cannabis", "st john's wort",
    "St. Johns Wort", "saint johns wort", "Xanax", "xanex", "alprazolam", "Klonopin", "clonazepam", "Valium",
    "diazepam", "Ativan", "lorazepam", "Ambien", "zolpidem", "trazodone", "trazadone", "Desyrel", "Cymbalta",
    "duloxetine", "duloxetene", "Effexor XR", "effexer", "venlafaxine", "Pristiq", "Remeron", "mirtazapine",
    "Lithobid", "lithium", "gabapentin", "gabapentine", "Neurontin", "Lyrica", "pregabalin", "Advil", "ibuprofen",
    "ibuprophen", "Motrin", "Aleve", "naproxen", "Tylenol", "Tylenol #3", "acetaminophen", "acetominophen",
    "paracetamol", "aspirin", "Bayer aspirin", "warfarin", "Coumadin", "Eliquis", "apixaban", "Xarelto", "Plavix",
    "Imitrex", "sumatriptan", "Maxalt", "Delsym", "dextromethorphan", "Imodium", "loperamide", "Zyvox", "linezolid",
    "Nardil", "phenelzine", "Parnate", "Emsam", "selegiline", "methylene blue", "Flagyl", "metronidazole",
    "Antabuse", "disulfiram", "Campral", "acamprosate", "metformin", "lisinopril", "atorvastatin", "omeprazole",
    "levothyroxine", "amlodipine", "metoprolol", "prednisone", "amoxicillin", "albuterol",
]
# fmt: on


def search_queries(curated: list[tuple[str, list[str]]], catalog_names: list[str], seed: int = 20240501) -> list[str]:
    """At least 200 queries, the same every run: the hand-written ones, then for each curated
    medicine its name, a brand, a misspelling and a prefix, then names from the full dictionary.

    `curated` is [(generic name, [brand names])]; `catalog_names` are names of uncurated medicines.
    """
    rng = random.Random(seed)
    queries = list(HAND_WRITTEN_QUERIES)
    for name, brands in curated:
        queries.append(name)
        if brands:
            queries.append(rng.choice(sorted(brands)))
        queries.append(misspell(name, rng))
        queries.append(name[: rng.randint(3, 5)])
    if catalog_names:
        step = max(1, len(catalog_names) // 60)
        sample = catalog_names[::step][:60]
        queries.extend(sample)
        queries.extend(misspell(name, rng) for name in sample[:20])
    return [q for q in queries if q.strip()]


def one_letter_queries() -> list[str]:
    """What a search box sends after the first key: every letter."""
    return list(string.ascii_lowercase)


def misspelt_queries(curated: list[str], catalog_names: list[str], seed: int = 20240502) -> list[str]:
    """One typo in every curated medicine's name and in 100 names from the full dictionary."""
    rng = random.Random(seed)
    step = max(1, len(catalog_names) // 100)
    names = [*curated, *catalog_names[::step][:100]]
    return [typo for typo in (misspell(name, rng) for name in names if len(name) >= 5) if typo.strip()]


def misspell(word: str, rng: random.Random) -> str:
    """One plausible typo: a dropped, doubled, swapped or wrong letter."""
    if len(word) < 5:
        return word
    position = rng.randint(1, len(word) - 2)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return word[:position] + word[position + 1 :]
    if kind == "double":
        return word[:position] + word[position] + word[position:]
    if kind == "swap":
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    return word[:position] + rng.choice("aeiouyrstn") + word[position + 1 :]


# --- load test: gunicorn and wrk on loopback ------------------------------------------------------------


class LoadTestUnavailable(RuntimeError):
    """The load test cannot run here (no wrk); the message says why, in one line."""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise LoadTestUnavailable(
            "wrk is not installed and this is not root with apt-get: install it (apt-get install wrk) "
            "to run the load test."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "install", "-y", "-qq", "wrk"], [apt, "update", "-qq"], [apt, "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)  # noqa: S603 - fixed
        found = shutil.which("wrk")
        if found:
            return found
    raise LoadTestUnavailable("wrk is missing and 'apt-get install -y wrk' did not install it.")


def worker_pids(master: int) -> list[int]:
    """The processes whose parent is `master` (gunicorn's workers), from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry))
    return sorted(pids)


def pss_mb(pid: int) -> float:
    """Proportional set size: private pages plus each shared page divided by the processes sharing it."""
    return _smaps_rollup_mb(pid, "Pss")


def rss_mb(pid: int) -> float:
    return _smaps_rollup_mb(pid, "Rss")


def _smaps_rollup_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} line for process {pid}")


WRK_SCRIPT = """
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%.0f duration_us=%.0f p50_us=%.0f p95_us=%.0f status_errors=%.0f socket_errors=%.0f\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    requests_per_second: float
    p50: float  # seconds
    p95: float
    status_errors: int  # responses other than 2xx/3xx
    socket_errors: int


def _lua_string(value: str) -> str:
    if any(ch in value for ch in '"\\\n\r'):
        raise ValueError("header values for the wrk script must not contain quotes, backslashes or newlines")
    return f'"{value}"'


def run_wrk(
    wrk: str, url: str, headers: dict[str, str], *, seconds: int, connections: int, threads: int = 2
) -> LoadResult:
    lines = [f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}" for name, value in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(headers="\n".join(lines)))
    try:
        completed = subprocess.run(  # noqa: S603 - fixed command line
            [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    finally:
        os.unlink(script.name)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH "):
            values = dict(part.split("=", 1) for part in line.split()[1:])
            requests, duration_us = int(values["requests"]), int(values["duration_us"])
            return LoadResult(
                requests=requests,
                requests_per_second=requests / (duration_us / 1e6) if duration_us else 0.0,
                p50=int(values["p50_us"]) / 1e6,
                p95=int(values["p95_us"]) / 1e6,
                status_errors=int(values["status_errors"]),
                socket_errors=int(values["socket_errors"]),
            )
    raise RuntimeError(f"wrk gave no result (exit {completed.returncode}): {completed.stdout}{completed.stderr}")
