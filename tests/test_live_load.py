"""The promises, over real HTTP against the production server setup (gunicorn, several sync workers).

One load per database backend (SQLite file; PostgreSQL when TEST_DATABASE_URL is set, in a database of its own)
serves three promises at once: 2,000 submissions from 50 concurrent respondents, each with distinctive
identifying headers, then (1) every acknowledged submission is stored exactly once with exactly its answers and
no request failed, (2) none of the identifying values is anywhere in the database, the exports or the logs,
(3) the stored and exported orders say nothing about the arrival order (on PostgreSQL, whose heap keeps rows in
insertion order and stamps each with its transaction's id, once the operator's nightly
``flask --app wsgi campaign scramble SLUG`` has run; before it, the test checks that it does see the leak).
Then: 20 identical POSTs in parallel store one response, and kill -9 of a worker and then of the whole server in
the middle of a load loses no acknowledged submission. The tests assert counts, never speeds: the cores are
shared.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import traceback
import urllib.parse
from collections import Counter
from contextlib import ExitStack, closing
from dataclasses import dataclass

import pytest
from scipy.stats import spearmanr
from sqlalchemy import create_engine, text

from tests import live
from tests.conftest import BACKENDS

pytestmark = pytest.mark.slow

WORKERS = 4
LOAD_SUBMISSIONS = 2000
LOAD_CLIENTS = 50
CRASH_SUBMISSIONS = 500
KILL_WORKER_AFTER = 100  # acknowledged submissions
KILL_SERVER_AFTER = 250
PARALLEL_REPLAYS = 20

# Distinctive values sent by the respondents of the load; none may reach the database, an export or a log.
AGENT, REFERRER, QUERY, PROXY = "LiveProbeAgent", "live-probe-referrer", "liveprobequery", "liveprobeproxy"
XFF_FIRST, XFF_SECOND, REAL_IP = "203.0.113.", "198.51.100.", "192.0.2."
NEEDLES = (AGENT, REFERRER, QUERY, PROXY, XFF_FIRST, XFF_SECOND, REAL_IP)


def probe_headers(i: int) -> dict[str, str]:
    return {
        "User-Agent": f"Mozilla/5.0 ({AGENT}/{i}.{i % 7}; Android 14; Pixel {i})",
        "X-Forwarded-For": f"{XFF_FIRST}{i % 250 + 1}, {XFF_SECOND}{i // 250 + 1}",
        "X-Real-IP": f"{REAL_IP}{i % 250 + 1}",
        "Forwarded": f"for={REAL_IP}{i % 250 + 1};proto=https;by={PROXY}-{i}",
        "Referer": f"https://{REFERRER}.example/wechat/{i}",
        "Accept-Language": "zh-CN,zh;q=0.9",
    }


def probe_query(i: int) -> str:
    return f"?from=groupmessage&utm_source={QUERY}-{i}"


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    """gunicorn -c gunicorn.conf.py wsgi:app with WORKERS workers on a migrated, bootstrapped database."""
    tmp = tmp_path_factory.mktemp(f"live-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = live.sqlite_url(tmp / "live.sqlite3")
        else:
            # A database of our own next to the suite's `test` database, which other tests use at the same time.
            url = stack.enter_context(live.postgres_database(os.environ["TEST_DATABASE_URL"],
                                                             live.unique_name("officepulse_live")))
        server = live.LiveServer(url, tmp, workers=WORKERS)
        server.backend = request.param
        server.demo_slug = server.setup()
        stack.enter_context(live.serving(server))
        yield server


@pytest.fixture(scope="module")
def forms():
    return live.Forms()


@dataclass
class Load:
    slug: str
    forms: dict[int, dict[str, list[str]]]  # fingerprint -> form data sent
    attempts: list[live.Attempt]  # in the order they finished

    @property
    def acknowledged(self) -> list[int]:
        """Fingerprints of the acknowledged submissions, in arrival order (as the client saw it)."""
        return [a.key for a in self.attempts if a.acknowledged]


def make_jobs(forms: live.Forms, n: int, rng: random.Random) -> list[tuple[int, dict[str, list[str]]]]:
    """n submissions of the whole questionnaire, a random group each, unique by a random fingerprint."""
    return [(fp, forms.answers(fp, group=rng.choice(forms.groups), seed=rng.randrange(7)))
            for fp in live.random_fingerprints(n, rng)]


@pytest.fixture(scope="module")
def load(server, forms):
    # The campaign `bootstrap` opened, as people would answer it after `make run`.
    slug = server.demo_slug
    jobs = make_jobs(forms, LOAD_SUBMISSIONS, random.Random(1))
    attempts = live.run(live.run_load(server.base, slug, jobs, LOAD_CLIENTS, headers_for=probe_headers,
                                         query_for=probe_query))
    return Load(slug, dict(jobs), attempts)


# ----------------------------------------------------------------------------------------------- helpers


def stored(server: live.LiveServer, slug: str) -> dict[str, dict[str, frozenset[str]]]:
    """Every stored response of the campaign: response id -> question id -> codes."""
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT r.id, a.question_id, a.code FROM responses r JOIN campaigns c ON c.id = r.campaign_id "
                "LEFT JOIN answers a ON a.response_id = r.id WHERE c.slug = :slug"), {"slug": slug}).all()
    finally:
        engine.dispose()
    responses: dict[str, dict[str, set[str]]] = {}
    for rid, qid, code in rows:
        answers = responses.setdefault(rid, {})
        if qid is not None:
            answers.setdefault(qid, set()).add(code)
    return {rid: {q: frozenset(c) for q, c in answers.items()} for rid, answers in responses.items()}


def assert_stored_exactly(forms: live.Forms, sent: dict[int, dict], responses: dict) -> Counter:
    """Each stored response is one sent form, with exactly the answers the server must keep for it."""
    fingerprints = Counter()
    for answers in responses.values():
        fp = forms.fingerprint(answers)
        assert fp in sent, "a stored response matches no submission"
        assert answers == forms.stored_codes(sent[fp]), "a stored response lost or changed answers"
        fingerprints[fp] += 1
    assert max(fingerprints.values(), default=1) == 1, "a submission was stored twice"
    return fingerprints


def cli(server: live.LiveServer, *args: str) -> str:
    """Run a `flask --app wsgi` command in this process (the same click command, without another app start-up)."""
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": server.database_url, "SECRET_KEY": live.SECRET_KEY})
    try:
        result = app.test_cli_runner().invoke(args=list(args))
        trace = "".join(traceback.format_exception(*result.exc_info)) if result.exception else ""
        assert result.exit_code == 0, f"flask {' '.join(args)}: {result.output}{trace}"
        return result.stdout
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def export_rows(server: live.LiveServer, slug: str, path, *options: str) -> list[str]:
    cli(server, "export", slug, "-o", str(path), *options)
    return path.read_text(encoding="utf-8-sig").splitlines()


def raw_database(server: live.LiveServer) -> bytes:
    """The database as bytes: SQLite's file with its -wal and -shm; PostgreSQL's pg_dump of our database."""
    if server.backend == "sqlite":
        return b"".join(path.read_bytes() for path in live.sqlite_files(server.database_url))
    if shutil.which("pg_dump"):
        dump = subprocess.run(["pg_dump", "--no-owner", "-d", live.libpq_url(server.database_url)],
                              capture_output=True, timeout=600)
        if dump.returncode == 0:
            return dump.stdout
    # No pg_dump on this machine, or one older than the server: every row of every table as text.
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
            return b"".join(str(row).encode() for t in list(tables)
                            for row in conn.execute(text(f'SELECT * FROM "{t}"')))
    finally:
        engine.dispose()


def postgres_storage(server: live.LiveServer, slug: str) -> tuple[list[str], list[str], int]:
    """The campaign's response ids in heap order (ctid) and in the order of their writing transactions (xmin,
    oldest first; age() copes with wraparound), and how many distinct xmin they have."""
    campaign = "campaign_id = (SELECT id FROM campaigns WHERE slug = :slug)"
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as conn:
            heap = conn.execute(text(f"SELECT id FROM responses WHERE {campaign} ORDER BY ctid"),
                                {"slug": slug}).scalars().all()
            written = conn.execute(text(f"SELECT id FROM responses WHERE {campaign} ORDER BY age(xmin) DESC, id"),
                                   {"slug": slug}).scalars().all()
            writers = conn.execute(text(f"SELECT count(DISTINCT xmin::text) FROM responses WHERE {campaign}"),
                                   {"slug": slug}).scalar_one()
    finally:
        engine.dispose()
    return list(heap), list(written), writers


def rank_correlation(arrival: list[int], order: list[int]) -> float:
    """Spearman's rho between the arrival order and ``order`` (both lists of the same fingerprints)."""
    assert sorted(arrival) == sorted(order)
    rank = {fp: i for i, fp in enumerate(arrival)}
    return spearmanr(range(len(order)), [rank[fp] for fp in order]).statistic


# ------------------------------------------------------------------------------------------------- tests


def test_concurrent_submissions_are_all_stored(server, load, forms):
    failed = [a.error for a in load.attempts if a.error]
    assert not [a for a in load.attempts if a.server_error], failed[:10]
    assert failed == []
    assert len(load.acknowledged) == LOAD_SUBMISSIONS
    fingerprints = assert_stored_exactly(forms, load.forms, stored(server, load.slug))
    assert set(fingerprints) == set(load.acknowledged)


def test_no_identifying_metadata_is_kept(server, load, tmp_path):
    assert len(load.acknowledged) == LOAD_SUBMISSIONS
    places = {
        "database": raw_database(server),
        "CSV export": "\n".join(export_rows(server, load.slug, tmp_path / "codes.csv")).encode(),
        "CSV export with labels": "\n".join(export_rows(server, load.slug, tmp_path / "labels.csv", "--labels",
                                                        "--questions", "--lang", "en")).encode(),
        "results JSON": cli(server, "results", load.slug).encode(),
        "server log": server.log_path.read_bytes(),
    }
    # The search finds what is there: the campaign's slug is in the database and the log, answers in the exports.
    assert load.slug.encode() in places["database"] and f'"POST /s/{load.slug}'.encode() in places["server log"]
    assert places["CSV export"].count(b"\n") == LOAD_SUBMISSIONS
    assert json.loads(places["results JSON"])["n_responses"] == LOAD_SUBMISSIONS
    hits = [(needle, place) for needle in NEEDLES for place, blob in places.items() if needle.encode() in blob]
    assert hits == []


def test_arrival_order_is_hidden(server, load, forms, tmp_path):
    """|Spearman rho| between arrival and the exported order, and the stored order, is below 0.1.

    The known order is the order in which the 2,000 submissions of the load were acknowledged, recorded by the
    client only; each stored response or exported row is mapped back to it by its answers' fingerprint. Why 2,000
    and not 200: for a random order, rho has a standard deviation of about 1/sqrt(n - 1); with 200 submissions
    |rho| > 0.1 happens by chance in about 16 % of runs, with 2,000 in about 1e-5 (4.5 standard deviations), so
    the assertion is not flaky, while an order that follows arrival (sequential ids, insertion order) gives
    |rho| close to 1. Concurrency does not blur that: 50 clients reorder neighbours, not the whole sequence.

    Stored order: on SQLite the table's physical order (a ``WITHOUT ROWID`` table is stored in random-key
    order). On PostgreSQL the heap keeps rows in insertion order and each row's ``xmin`` is the id of the
    transaction that wrote it; the test first checks that both still follow arrival (|rho| > 0.5: the check
    sees the leak), then runs ``flask --app wsgi campaign scramble SLUG`` as the nightly cron job does, and
    asserts that the heap order (``ORDER BY ctid``) no longer does and that all responses share one ``xmin``.
    """
    arrival = load.acknowledged
    assert len(arrival) == LOAD_SUBMISSIONS
    orders = {}
    header, *rows = csv.reader(export_rows(server, load.slug, tmp_path / "export.csv"))
    orders["CSV export"] = [forms.fingerprint(dict(zip(header, row, strict=True))) for row in rows]
    by_id = {rid: forms.fingerprint(answers) for rid, answers in stored(server, load.slug).items()}
    if server.backend == "sqlite":
        # The table's physical order: a full scan without the campaign index. The table is WITHOUT ROWID, so
        # this is primary-key (random id) order.
        path = live.sqlite_files(server.database_url)[0]
        with closing(sqlite3.connect(path)) as conn:
            ids = [rid for rid, cid in conn.execute("SELECT id, campaign_id FROM responses NOT INDEXED")]
        orders["table order"] = [by_id[rid] for rid in ids if rid in by_id]
    else:
        # As the load left it, the heap replays the arrival order and so do the transaction ids: this is the
        # leak the scramble removes, and what the checks below must be able to see.
        heap, written, _ = postgres_storage(server, load.slug)
        leaks = {"heap order before the scramble": rank_correlation(arrival, [by_id[rid] for rid in heap]),
                 "xmin order before the scramble": rank_correlation(arrival, [by_id[rid] for rid in written])}
        assert all(rho > 0.5 for rho in leaks.values()), f"the leak is not visible: {leaks}"

        output = cli(server, "campaign", "scramble", load.slug)  # the operator's nightly cron job
        assert "Scrambled the storage order of 1 campaign(s)" in output, output
        assert f"{LOAD_SUBMISSIONS:,} responses" in output, output

        heap, _, writers = postgres_storage(server, load.slug)
        assert writers == 1, f"the responses still carry {writers} distinct xmin after the scramble"
        orders["heap order after the scramble"] = [by_id[rid] for rid in heap]
    for name, order in orders.items():
        rho = rank_correlation(arrival, order)
        assert abs(rho) < 0.1, f"{name} follows arrival order: rho = {rho:.3f}"


def test_parallel_identical_posts_store_one_response(server, forms):
    slug = live.open_campaign(server.database_url, "重复提交", survey_key="live-replay")
    answers = forms.answers(7)

    async def replay():
        browser = live.Browser(server.base)
        page = await browser.get(f"/s/{slug}")
        form = {**answers, **live.hidden_fields(page.text)}

        async def post():
            clone = live.Browser(server.base)
            clone.cookies = dict(browser.cookies)  # the same session: a double click, a replayed request
            reply = await clone.post(f"/s/{slug}", form)
            location = urllib.parse.urlsplit(reply.header("Location") or "").path
            thanks = await clone.get(location) if reply.status == 303 else None
            return reply.status, thanks and thanks.status, thanks and thanks.text

        return await asyncio.gather(*(post() for _ in range(PARALLEL_REPLAYS)))

    results = live.run(replay())
    assert [(status, thanks) for status, thanks, _ in results] == [(303, 200)] * PARALLEL_REPLAYS
    assert all("答卷已提交成功" in page for _, _, page in results)
    responses = stored(server, slug)
    assert len(responses) == 1
    assert_stored_exactly(forms, {7: answers}, responses)


def test_kill_9_loses_no_acknowledged_submission(server, forms):
    """kill -9 a worker in the middle of a load, later the master and all workers; restart; nothing acknowledged
    is missing, nothing is half-written, the database is intact and takes answers again."""
    slug = live.open_campaign(server.database_url, "崩溃测试", survey_key="live-crash")
    jobs = make_jobs(forms, CRASH_SUBMISSIONS, random.Random(2))
    killed: dict[str, int] = {}
    acks = 0

    def chaos(attempt: live.Attempt) -> None:
        nonlocal acks
        acks += attempt.acknowledged
        if acks >= KILL_WORKER_AFTER and "worker" not in killed:
            killed["worker"] = server.worker_pids()[0]
            os.kill(killed["worker"], signal.SIGKILL)
        elif acks >= KILL_SERVER_AFTER and "server" not in killed:
            killed["server"] = server.proc.pid
            server.kill()

    attempts = live.run(live.run_load(server.base, slug, jobs, LOAD_CLIENTS, on_done=chaos))
    assert set(killed) == {"worker", "server"}, f"the load ended before the kills: {acks} acknowledged"
    assert not [a for a in attempts if a.server_error]
    assert any(a.error for a in attempts)  # the crash did interrupt requests
    acknowledged = {a.key for a in attempts if a.acknowledged}

    server.start()
    fingerprints = assert_stored_exactly(forms, dict(jobs), stored(server, slug))
    assert acknowledged <= set(fingerprints), f"{len(acknowledged - set(fingerprints))} acknowledged answers lost"
    if server.backend == "sqlite":
        with closing(sqlite3.connect(live.sqlite_files(server.database_url)[0])) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    fp, answers = make_jobs(forms, 1, random.Random(3))[0]
    again = live.run(live.submit(server.base, slug, answers, fp))
    assert again.acknowledged, again.error
    assert len(stored(server, slug)) == len(fingerprints) + 1
