"""Submission throughput of the production setup against its floor, and the streamed export of 100,000 responses.

For each database (SQLite by default; PostgreSQL when reachable) this starts the server as `make run` does
(``gunicorn -c gunicorn.conf.py wsgi:app`` after ``flask --app wsgi db upgrade`` and ``bootstrap``, with
``OFFICEPULSE_MIN_FILL_SECONDS=0``; WEB_CONCURRENCY at its default unless ``--workers``) and, in the same setup,
the floor (``bench/floor_app.py``: a bare endpoint writing the same rows in one statement). An asyncio client
(``tests/live.py``) then keeps N respondents busy for a fixed time at each concurrency level:

* ours: GET the form with a fresh cookie jar, POST the full bundled questionnaire (every question of the
  ``office`` group) with the form's CSRF token and submission id, expect 303;
* floor: POST the same answers to the floor endpoint, expect 204.

It reports completed submissions/s, requests/s, p50/p95/p99 latency of single requests, errors (any transport
failure or unexpected status, warm-up included), and ours/floor as a ratio of submissions/s. Then it fills a
campaign with ``flask --app wsgi demo-data SLUG --responses 100000`` and times ``flask --app wsgi export SLUG -o
FILE`` with its peak RSS (``getrusage(RUSAGE_CHILDREN)`` of a wrapper process whose only child is the export),
beside the peak RSS of a command that only starts the app (``campaign list``).

Usage: ``python -m bench.bench_submit [--duration S] [--warmup S] [--clients 10,50,100] [--workers N]
[--postgres URL | --no-postgres] [--no-sqlite] [--export-responses N | --no-export] [--export-postgres]
[--output docs/benchmarks.md]`` (the export is measured on SQLite unless ``--export-postgres``).
The Submission section of the output file is replaced; other sections are left as they are.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.common import machine, measured, write_section
from tests import live

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "officepulse_bench"
SECTION = "## Submission"
GOAL_RATIO, GOAL_P99_MS, GOAL_CLIENTS = 0.5, 500, 50


@dataclass
class Run:
    backend: str
    target: str  # "ours" or "floor"
    clients: int
    duration: float
    submissions: int = 0  # completed in the measured window
    requests: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, single requests in the window
    server_cpu: float = 0.0  # seconds of CPU the workers used in the window
    database_cpu: float = 0.0  # seconds of CPU PostgreSQL's backends used in the window
    client_cpu: float = 0.0  # seconds of CPU this (client) process used in the window
    errors: int = 0  # the whole run, warm-up included
    server_errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def per_second(self, n: int) -> float:
        return n / self.duration

    def ms(self, q: float) -> float:
        return 1000 * live.percentile(self.latencies, q)

    def cpu_ms(self, seconds: float) -> float:
        """CPU milliseconds per completed submission."""
        return 1000 * seconds / self.submissions if self.submissions else float("nan")


async def drive(target, backend: str, name: str, clients: int, warmup: float, duration: float,
                server: live.LiveServer, database: str | None) -> Run:
    """Keep ``clients`` respondents submitting through ``target`` for warmup + duration seconds."""
    run = Run(backend, name, clients, duration)
    window_start = time.monotonic() + warmup
    window_end = window_start + duration

    def cpu() -> tuple[float, float, float]:
        backends = sum(live.cpu_seconds(live.postgres_backends(database)).values()) if database else 0.0
        return server.cpu_seconds(), backends, time.process_time()

    async def sample() -> None:
        await asyncio.sleep(window_start - time.monotonic())
        start = cpu()
        await asyncio.sleep(window_end - time.monotonic())
        run.server_cpu, run.database_cpu, run.client_cpu = (b - a for a, b in zip(start, cpu(), strict=True))

    async def client() -> None:
        while time.monotonic() < window_end:
            attempt = await target()
            finished = time.monotonic()
            if attempt.error:
                run.errors += 1
                run.server_errors += attempt.server_error
                kind = attempt.error.split(":")[0]
                run.error_kinds[kind] = run.error_kinds.get(kind, 0) + 1
            elif window_start <= finished <= window_end:
                run.submissions += 1
                run.requests += len(attempt.latencies)
                run.latencies.extend(seconds for _, seconds in attempt.latencies)

    await asyncio.gather(sample(), *(client() for _ in range(clients)))
    return run


async def prime(target, n: int, clients: int) -> None:
    """Send ``n`` unmeasured submissions, so that every worker has compiled its templates and warmed its caches."""
    gate = asyncio.Semaphore(clients)

    async def one() -> None:
        async with gate:
            await target()

    await asyncio.gather(*(one() for _ in range(n)))


def ours(base: str, slug: str, pool: list[dict]):
    bodies = itertools.cycle(pool)

    async def target() -> live.Attempt:
        return await live.submit(base, slug, next(bodies), timeout=120)

    return target


def floor(base: str, slug: str, pool: list[dict]):
    bodies = itertools.cycle(pool)

    async def target() -> live.Attempt:
        attempt = live.Attempt(0)
        try:
            start = time.perf_counter()
            body = {**next(bodies), "sid": [secrets.token_urlsafe(24)]}
            reply = await live.Browser(base).post(f"/floor/{slug}", body, timeout=120)
            attempt.latencies.append(("POST", time.perf_counter() - start))
            attempt.post_status = reply.status
            if reply.status != 204:
                attempt.error = f"POST {reply.status}"
        except (OSError, TimeoutError, live.IncompleteResponse) as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        return attempt

    return target


def export_benchmark(server: live.LiveServer, n: int, workdir: Path) -> dict:
    slug = live.open_campaign(server.database_url, "export benchmark", survey_key="bench-export")
    print(f"  filling {n} responses (demo-data)...", flush=True)
    start = time.perf_counter()
    server.flask("demo-data", slug, "--responses", str(n), timeout=3600)
    fill_seconds = time.perf_counter() - start
    baseline = measured(server, "campaign", "list")
    out = workdir / f"export-{n}.csv"
    print("  exporting...", flush=True)
    export = measured(server, "export", slug, "-o", str(out))
    with open(out, "rb") as fh:
        rows = sum(1 for _ in fh) - 1
    return {"responses": n, "fill_seconds": fill_seconds, "seconds": export["seconds"],
            "cpu_seconds": export["cpu_seconds"], "baseline_cpu_seconds": baseline["cpu_seconds"],
            "maxrss_mb": export["maxrss_kb"] / 1024, "baseline_seconds": baseline["seconds"],
            "baseline_maxrss_mb": baseline["maxrss_kb"] / 1024, "rows": rows, "size_mb": out.stat().st_size / 2**20}


def bench_backend(backend: str, database_url: str, args, workdir: Path, database: str | None = None) -> dict:
    print(f"[{backend}] migrating and bootstrapping {database_url}", flush=True)
    app_server = live.LiveServer(database_url, workdir / "ours", workers=args.workers)
    # Ours: the campaign `bootstrap` opens, the first of its survey (the form of a later wave would also show
    # the previous wave's findings). Floor and export campaigns go to a survey of their own.
    demo_slug = app_server.setup()
    floor_server = live.LiveServer(database_url, workdir / "floor", workers=args.workers, app="bench.floor_app:app",
                                   ready_path="/floor/ready")
    forms = live.Forms()
    rng = random.Random(0)
    pool = [forms.answers(f) for f in live.random_fingerprints(500, rng)]
    runs: list[Run] = []
    with live.serving(app_server), live.serving(floor_server):
        app_server.wait_idle()
        floor_server.wait_idle()
        workers = len(app_server.worker_pids())
        print(f"[{backend}] serving with {workers} workers each", flush=True)
        floor_slug = live.open_campaign(database_url, "floor", survey_key="bench-floor")
        asyncio.run(prime(ours(app_server.base, demo_slug, pool), 20 * workers, workers))
        asyncio.run(prime(floor(floor_server.base, floor_slug, pool), 20 * workers, workers))
        for clients in args.clients:
            for name, server, make in (("ours", app_server, ours), ("floor", floor_server, floor)):
                slug = demo_slug if name == "ours" else live.open_campaign(database_url, f"floor {clients}",
                                                                          survey_key="bench-floor")
                run = asyncio.run(drive(make(server.base, slug, pool), backend, name, clients, args.warmup,
                                        args.duration, server, database))
                runs.append(run)
                print(f"[{backend}] {name:5} {clients:3} clients: {run.per_second(run.submissions):7.1f} subm/s "
                      f"{run.per_second(run.requests):7.1f} req/s  p50 {run.ms(50):6.0f} p95 {run.ms(95):6.0f} "
                      f"p99 {run.ms(99):6.0f} ms  errors {run.errors} {run.error_kinds or ''} CPU ms/subm: server "
                      f"{run.cpu_ms(run.server_cpu):.1f} db {run.cpu_ms(run.database_cpu):.1f} "
                      f"client {run.cpu_ms(run.client_cpu):.1f}", flush=True)
    result = {"backend": backend, "workers": workers, "runs": runs}
    if args.export_responses and (backend == "SQLite" or args.export_postgres):
        result["export"] = export_benchmark(app_server, args.export_responses, workdir)
        print(f"[{backend}] export: {result['export']}", flush=True)
    return result


# ------------------------------------------------------------------------------------------------ report


def total_cpu_ms(run: Run) -> float:
    return run.cpu_ms(run.server_cpu + run.database_cpu)


def mean_cpu_ms(runs: list[Run], attribute: str) -> float:
    return 1000 * sum(getattr(r, attribute) for r in runs) / sum(r.submissions for r in runs)


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(live.libpq_url(url)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def render(results: list[dict], info: dict, args, started: datetime, elapsed: float) -> str:
    lines = [
        SECTION,
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {info['cores']} cores ({info['cpu']}, {info['mem_gb']:.0f} GB), "
        f"Python {info['python']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {info['postgres']}" if info.get("postgres") else "")
        + f", commit {info['commit']}. Command: `{args.command}` "
        f"({elapsed / 60:.0f} min). Load average {info['load'][0]:.1f} at the start and {os.getloadavg()[0]:.1f} at "
        "the end: the cores are shared with other work, so throughput and latency are noisy, while CPU time per "
        "submission is not.",
        "",
        f"Server: `gunicorn -c gunicorn.conf.py wsgi:app` as `make run` starts it, "
        f"{results[0]['workers'] if results else '?'} sync workers (WEB_CONCURRENCY "
        f"{args.workers if args.workers else 'default: 2 x cores + 1, at most 8'}), "
        "`OFFICEPULSE_MIN_FILL_SECONDS=0`, answering the campaign `bootstrap` opened (the first wave of its survey). "
        "Load: an asyncio client on the same machine (`tests/live.py`), each respondent a fresh cookie jar: "
        "**ours** = GET `/s/<slug>` + POST of the full bundled questionnaire (every question of the `office` group) "
        "with the form's CSRF token and submission id, expecting 303; **floor** = one POST of the same answers to "
        "`bench/floor_app.py`, a bare endpoint in the same gunicorn setup and database settings that writes the "
        "same rows (submission token, response, 57 answer rows, 2 comments, receipt hash when the schema has "
        "receipts) in one transaction (PostgreSQL: one statement; SQLite: one multi-row INSERT per table), "
        "expecting 204. "
        f"Each level runs {args.warmup:g} s of warm-up, then {args.duration:g} s measured.",
        "",
        "subm/s = submissions completed in the measured window per second; latency = single requests (ours: GET "
        "and POST pooled); errors = transport failures and unexpected statuses over the whole run; server CPU "
        "ms/subm = user + system CPU of the gunicorn workers (+ PostgreSQL's backends) in the window per "
        "submission; ratio (subm/s) = ours subm/s / floor subm/s; ratio (CPU) = floor CPU per submission / ours, "
        "i.e. the same ratio of capacities read from CPU cost, which other load on the machine does not skew.",
        "",
        LATENCY_NOTE,
        "",
        ROUND_TRIPS_NOTE,
        "",
    ]
    for result in results:
        backend = result["backend"]
        lines += [f"### {backend}", "",
                  "| clients | target | subm/s | req/s | p50 ms | p95 ms | p99 ms | errors | server CPU ms/subm | "
                  "ratio (subm/s) | ratio (CPU) |",
                  "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        by_key = {(r.target, r.clients): r for r in result["runs"]}
        for clients in args.clients:
            floor_run = by_key.get(("floor", clients))
            for target in ("ours", "floor"):
                run = by_key.get((target, clients))
                if run is None:
                    continue
                throughput_ratio = cpu_ratio = ""
                if target == "ours" and floor_run and floor_run.submissions and run.submissions:
                    throughput_ratio = f"{run.submissions / floor_run.submissions:.2f}"
                    cpu_ratio = f"{total_cpu_ms(floor_run) / total_cpu_ms(run):.2f}"
                errors = str(run.errors) + (f" ({', '.join(f'{k}: {v}' for k, v in run.error_kinds.items())})"
                                            if run.errors else "")
                cpu = f"{run.cpu_ms(run.server_cpu):.1f}"
                if run.database_cpu:
                    cpu += f" + {run.cpu_ms(run.database_cpu):.1f} db"
                lines.append(f"| {clients} | {target} | {run.per_second(run.submissions):.1f} | "
                             f"{run.per_second(run.requests):.1f} | {run.ms(50):.0f} | {run.ms(95):.0f} | "
                             f"{run.ms(99):.0f} | {errors} | {cpu} | {throughput_ratio} | {cpu_ratio} |")
        lines.append("")
        ours_runs = [r for r in result["runs"] if r.target == "ours" and r.submissions]
        floor_runs = [r for r in result["runs"] if r.target == "floor" and r.submissions]
        if ours_runs and floor_runs:
            lines.append(f"The load client itself used {mean_cpu_ms(ours_runs, 'client_cpu'):.1f} ms of CPU per "
                         f"submission (ours) and {mean_cpu_ms(floor_runs, 'client_cpu'):.1f} ms (floor), on the "
                         "same cores.")
        goal = by_key.get(("ours", GOAL_CLIENTS)), by_key.get(("floor", GOAL_CLIENTS))
        if all(goal) and goal[0].submissions and goal[1].submissions:
            ours_run, floor_run = goal
            ratio = ours_run.submissions / floor_run.submissions
            checks = [
                (f"ours/floor >= {GOAL_RATIO}", ratio >= GOAL_RATIO,
                 f"{ratio:.2f} by throughput, {total_cpu_ms(floor_run) / total_cpu_ms(ours_run):.2f} by CPU cost"),
                (f"p99 < {GOAL_P99_MS} ms", ours_run.ms(99) < GOAL_P99_MS, f"{ours_run.ms(99):.0f} ms"),
                ("0 errors", ours_run.errors == 0, str(ours_run.errors)),
            ]
            lines.append(f"Goals at {GOAL_CLIENTS} clients: " + "; ".join(
                f"{name}: {value}, **{'met' if ok else 'not met'}**" for name, ok, value in checks) + ".")
        lines.append("")
    exports = [r for r in results if "export" in r]
    if exports:
        lines += ["### Export", "",
                  "`flask --app wsgi export SLUG -o FILE` of a campaign filled with `flask --app wsgi demo-data SLUG "
                  "--responses N`; wall time and peak RSS of the whole command (interpreter and app start-up "
                  "included), beside `flask --app wsgi campaign list`, which only starts the app.",
                  "",
                  "| database | responses | CSV rows | CSV MB | export s | export CPU s | export peak RSS MB | "
                  "start-up only s | start-up only CPU s | start-up only peak RSS MB | demo-data fill s |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for result in exports:
            e = result["export"]
            lines.append(f"| {result['backend']} | {e['responses']:,} | {e['rows']:,} | {e['size_mb']:.1f} | "
                         f"{e['seconds']:.1f} | {e['cpu_seconds']:.1f} | {e['maxrss_mb']:.0f} | "
                         f"{e['baseline_seconds']:.1f} | {e['baseline_cpu_seconds']:.1f} | "
                         f"{e['baseline_maxrss_mb']:.0f} | {e['fill_seconds']:.0f} |")
        lines.append("")
    lines += [LIVE_TESTS, ""]
    return "\n".join(lines)


LATENCY_NOTE = (
    "The clients never pause between submissions (a closed loop), so the mean latency is clients / throughput "
    "(Little's law): at 50 clients a p99 under 500 ms needs well over 100 requests/s, i.e. a few ms of CPU per "
    "request on 2 cores. So the latency goal, like the ratio, comes down to the app's CPU per submission "
    "(server CPU ms/subm), not to waiting on the database."
)

ROUND_TRIPS_NOTE = (
    "Per submission on PostgreSQL, ours makes two HTTP requests and two database round trips: the GET shows the "
    "campaign as the worker read it within the last `CAMPAIGN_CACHE_SECONDS` (5; see docs/deploy.md), with no "
    "query; the POST reads the campaign with its survey (and the previous wave's id) afresh, outside a "
    "transaction, then writes every row in one statement (`json_to_recordset` per table, writable CTEs), which "
    "commits by itself; pooled connections are tested only after lying idle for a second. The floor makes one "
    "request and three round trips (BEGIN, its statement, COMMIT). What remains above the floor is the work of "
    "two requests through Flask: sessions and CSRF, the signed render time, validating 59 answers, the 80 KB "
    "form page."
)

LIVE_TESTS = """### The live tests (`tests/test_live_load.py`)

They run against the same setup (gunicorn from the venv with `-c gunicorn.conf.py`, 4 workers, a temporary SQLite
file, and a database of their own on the `TEST_DATABASE_URL` server when it is set), assert counts and never
speeds, and are marked `slow` (still run by `make test`):

* one load of 2,000 submissions from 50 concurrent respondents, each with its own distinctive `User-Agent`,
  `X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `Referer` and query string; then: every submission acknowledged
  (303) and stored exactly once with exactly its answers, 0 server errors; none of those values anywhere in the
  raw database (SQLite file with its `-wal` and `-shm`; `pg_dump` on PostgreSQL), in the CSV exports (codes, and
  labels with question texts), in the results JSON or in the server's log; and the arrival order hidden;
* crash: kill -9 of a worker, then of the master and every worker, in the middle of a load; after a restart every
  acknowledged submission is present and complete, `PRAGMA integrity_check` is ok, the server takes answers again;
* idempotency: 20 identical POSTs of one rendered form in parallel: 20 thank-you pages, 1 response.

Arrival order: the client records the order in which submissions were acknowledged; nothing about it is sent
or stored (each submission's answers carry a random fingerprint, a distinct combination of eight ratings, which
maps a stored response or an exported row back to its client-side record). The test asserts that the Spearman
rank correlation between acknowledged order and stored order (the table's physical order: on SQLite, where the
table is `WITHOUT ROWID`, key order; on PostgreSQL, the heap order after the scramble, see below) and exported
order is below 0.1 in absolute value. It uses the 2,000 submissions of the load rather than 200: for 200 random
orders |rho| > 0.1 has a probability of about 16 %, so a single draw would fail one run in six; for 2,000
(standard deviation of rho about 1/sqrt(1999) = 0.022) the probability is about 1e-5, while any order that leaks
arrival (sequential ids, insertion order) gives |rho| near 1.
PostgreSQL keeps rows in its heap in insertion order and stamps each with the id of the transaction that wrote
it (`xmin`). As the load leaves them, the test first asserts that heap order (`ORDER BY ctid`) and `xmin` order
do follow arrival (|rho| > 0.5; measured 0.98 and 1.00 in three runs), so the check demonstrably sees the leak.
Then it runs `flask --app wsgi campaign scramble SLUG`, as the operator's nightly cron job does, and asserts
that |rho| of the heap order is below 0.1 and that the campaign's 2,000 responses share one `xmin`."""


def postgres_reachable(url: str) -> bool:
    try:
        postgres_version(url)
    except Exception as exc:  # noqa: BLE001 - any failure means: measure SQLite only, and say so
        print(f"PostgreSQL not measured ({url}): {exc}", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per level and target")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds before each measurement")
    parser.add_argument("--clients", default="10,50,100", help="concurrency levels, comma-separated")
    parser.add_argument("--workers", type=int, default=None, help="WEB_CONCURRENCY (default: gunicorn.conf.py's)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
                        help=f"a PostgreSQL server URL; database {BENCH_DATABASE} is created there and dropped")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--export-responses", type=int, default=100_000)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument("--export-postgres", action="store_true", help="measure the export on PostgreSQL too")
    parser.add_argument("--output", type=Path, default=live.ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    args.export_responses = 0 if args.no_export else args.export_responses
    args.command = "python -m bench.bench_submit" + (" " + " ".join(argv if argv is not None else sys.argv[1:])
                                                     if (argv if argv is not None else sys.argv[1:]) else "")
    started, t0 = datetime.now(UTC), time.monotonic()
    info = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="officepulse-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        if not args.no_sqlite:
            results.append(
                bench_backend("SQLite", live.sqlite_url(workdir / "bench.sqlite3"), args, workdir / "sqlite"))
        if not args.no_postgres and postgres_reachable(args.postgres):
            info["postgres"] = postgres_version(args.postgres)
            url = stack.enter_context(live.postgres_database(args.postgres, BENCH_DATABASE))
            results.append(bench_backend("PostgreSQL", url, args, workdir / "postgres", database=BENCH_DATABASE))
    section = render(results, info, args, started, time.monotonic() - t0)
    write_section(args.output, SECTION, section)
    print(f"Wrote the {SECTION.lstrip('# ')} section of {args.output}")


if __name__ == "__main__":
    main()
