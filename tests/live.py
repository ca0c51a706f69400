"""A real gunicorn server and an asyncio load client, for the live tests and the submission benchmark.

The server is the production setup of `make run`: ``gunicorn -c gunicorn.conf.py wsgi:app`` from the venv, with
HOST/PORT/WEB_CONCURRENCY, DATABASE_URL and SECRET_KEY in the environment, after ``flask --app wsgi db upgrade``
and ``flask --app wsgi bootstrap``. ``OFFICEPULSE_MIN_FILL_SECONDS=0`` turns the minimum fill time off, since
the load client answers in milliseconds.

The client speaks just enough HTTP/1.1 over asyncio streams (one connection per request, ``Connection: close``,
as gunicorn's sync workers answer anyway) to be cheap on the two cores it shares with the server. Each simulated
respondent is a :class:`Browser` with its own cookie jar, because the session cookie carries the CSRF token.

A *fingerprint* makes each submission's answers unique (eight 1-5 ratings read as a number in base 5), so that a
stored response or an exported row can be mapped back to the client-side record of its submission without
storing anything about its arrival: fingerprints are drawn at random, and the arrival order is kept only by the
client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: the tests and the benchmark run with .venv/bin/python
SECRET_KEY = "live-secret-" + "k" * 40
ADMIN_PASSWORD = "live-admin-password"
SURVEY_KEY = "office-service-quality"


def run(coroutine):
    """``asyncio.run(coroutine)`` in a thread of its own, so that it also works while an event loop runs in this
    one (Playwright's sync API keeps one running for the browser tests' session)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------- databases


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sqlite_files(url: str) -> list[Path]:
    """Return the database file and its -wal and -shm companions (those that exist)."""
    path = Path(url.removeprefix("sqlite:///"))
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def libpq_url(url: str) -> str:
    """Return a SQLAlchemy PostgreSQL URL as libpq (psql, pg_dump, psycopg) takes it."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


@contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """Create the database ``name`` on the server of ``server_url`` (a SQLAlchemy URL), yield its URL, drop it.

    The tests and the benchmark never touch the database named in ``server_url`` itself (the test suite owns
    it): they only connect to it to create and drop their own.
    """
    import psycopg
    from psycopg import sql

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"unsafe database name {name!r}")
    parts = urllib.parse.urlsplit(server_url)
    own_url = urllib.parse.urlunsplit(parts._replace(path="/" + name))

    def admin(statement) -> None:
        with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
            conn.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    admin(drop)
    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield own_url
    finally:
        admin(drop)


def unique_name(prefix: str) -> str:
    """A database name of this process: other people's runs on the same server do not collide with it."""
    return f"{prefix}_{os.getpid()}_{random.randrange(16**6):06x}"


# ----------------------------------------------------------------------------------------------- server


class LiveServer:
    """gunicorn serving ``app`` (default: the OfficePulse app) on a free port, its output in ``log_path``."""

    def __init__(self, database_url: str, workdir: Path, workers: int | None = 4, app: str = "wsgi:app",
                 ready_path: str = "/privacy", extra_env: Mapping[str, str] | None = None):
        self.database_url = database_url
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        self.app = app
        self.ready_path = ready_path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OFFICEPULSE_", "FLASK_"))}
        env.update({
            "HOST": "127.0.0.1", "PORT": str(self.port), "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
            "OFFICEPULSE_MIN_FILL_SECONDS": "0", "OFFICEPULSE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        for name in ("WEB_CONCURRENCY", "REDIS_URL", "PUBLIC_BASE_URL"):  # the caller's, not this server's
            env.pop(name, None)
        if workers is not None:
            env["WEB_CONCURRENCY"] = str(workers)
        env.update(extra_env or {})
        self.env = env

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def flask(self, *args: str, timeout: float = 600) -> str:
        """Run ``flask --app wsgi ARGS`` against this server's database; return its standard output."""
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def setup(self) -> str:
        """Migrate and bootstrap the database, as `make run` does; return the demo campaign's slug."""
        self.flask("db", "upgrade")
        output = self.flask("bootstrap", "--qr", str(self.workdir / "qr.png"))
        return re.search(r"^Survey \(.*\): \S+/s/(\S+)$", output, re.M).group(1)

    def start(self, timeout: float = 240) -> LiveServer:
        """Start gunicorn and wait until it answers ``ready_path``. A fresh free port on every (re)start."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.env["PORT"] = str(self.port)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout  # each worker imports pandas and scipy: slow on busy cores
        while True:
            try:
                if run(Browser(self.base).get(self.ready_path, timeout=10)).status == 200:
                    return self
            except (OSError, TimeoutError, IncompleteResponse):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log()[-5000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"gunicorn did not serve within {timeout} s:\n{self.log()[-5000:]}")
            time.sleep(0.3)

    def worker_pids(self) -> list[int]:
        """The pids of the master's live child processes (its workers)."""
        assert self.proc is not None
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def wait_workers(self, count: int, timeout: float = 240) -> None:
        """Wait until the master runs ``count`` workers (after a worker was killed, say)."""
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < count:
            assert time.monotonic() < deadline, f"gunicorn did not respawn its workers: {self.worker_pids()}"
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the live workers (not the master, which only supervises)."""
        return sum(cpu_seconds(self.worker_pids()).values())

    def wait_idle(self, seconds: float = 1.0, timeout: float = 240) -> None:
        """Wait until every worker has booted: none used more than 5 % of a core for ``seconds``.

        ``start`` returns as soon as one worker answers; the others may still be importing the app.
        """
        deadline = time.monotonic() + timeout
        before = cpu_seconds(self.worker_pids())
        while time.monotonic() < deadline:
            time.sleep(seconds)
            after = cpu_seconds(self.worker_pids())
            if after.keys() == before.keys() and all(after[p] - before[p] <= 0.05 * seconds for p in after):
                return
            before = after
        raise RuntimeError("gunicorn's workers did not settle")

    def kill(self) -> None:
        """kill -9 the master, then every process left in its group (the workers): a crash of the whole server."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        """Stop gunicorn gracefully (SIGTERM to the master), or kill it if it does not stop in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """CPU time (user + system, seconds) of each of ``pids`` that is still running."""
    hz = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / hz
    return seconds


def postgres_backends(database: str) -> list[int]:
    """The pids of the PostgreSQL server processes connected to ``database`` on this machine."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
        except OSError:
            continue
        if len(words) >= 4 and words[0] == "postgres:" and database in words[2:4]:
            pids.append(int(cmdline.parent.name))
    return pids


@contextmanager
def serving(server: LiveServer) -> Iterator[LiveServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def open_campaign(database_url: str, name: str, survey_key: str = SURVEY_KEY) -> str:
    """Open a campaign of the bundled questionnaire in ``database_url`` (already bootstrapped); return its slug.

    With another ``survey_key``, the questionnaire is first stored under that key, so that the campaign is the
    first wave of a survey of its own: the form of a later wave of the same survey shows what the previous
    wave found, which would tie one scenario's campaign to another's responses.
    """
    import surveys
    from app import create_app
    from app.extensions import db
    from app.services import campaigns
    from app.services.surveys import import_survey

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        try:
            if survey_key != SURVEY_KEY:
                path = surveys.TEMPLATES_DIR / f"{SURVEY_KEY}.yaml"
                source = re.sub(rf"^key: {SURVEY_KEY}$", f"key: {survey_key}", path.read_text(), count=1,
                                flags=re.M)
                import_survey(source, filename=str(path))
            return campaigns.open_campaign(survey_key, name).slug
        finally:
            db.session.remove()
            db.engine.dispose()


# ----------------------------------------------------------------------------------------------- client


class IncompleteResponse(Exception):
    """The connection ended before a whole response arrived: the request is not acknowledged."""


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def parse_response(data: bytes) -> Reply:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise IncompleteResponse(f"no complete header in {len(data)} bytes")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise IncompleteResponse(f"bad status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    reply = Reply(int(parts[1]), headers, body)
    if (reply.header("transfer-encoding") or "").lower() == "chunked":
        reply.body = _dechunk(body)
    elif (length := reply.header("content-length")) is not None and len(body) != int(length):
        raise IncompleteResponse(f"{len(body)} of {length} body bytes")
    return reply


def _dechunk(body: bytes) -> bytes:
    out, pos = [], 0
    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise IncompleteResponse("truncated chunked body")
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[end + 2:end + 2 + size])
        if end + 2 + size > len(body):
            raise IncompleteResponse("truncated chunked body")
        pos = end + 4 + size


class Browser:
    """One simulated respondent: its own cookie jar, fixed extra headers, one connection per request."""

    def __init__(self, base: str, headers: Mapping[str, str] | None = None):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.headers = {"User-Agent": "officepulse-live-test", **(headers or {})}
        self.cookies: dict[str, str] = {}

    async def request(self, method: str, target: str, body: bytes | None = None,
                      headers: Mapping[str, str] | None = None, timeout: float = 60) -> Reply:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: close",
                 "Accept-Encoding: identity"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        raw = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + (body or b"")
        reply = parse_response(await asyncio.wait_for(self._exchange(raw), timeout))
        for name, value in reply.headers:
            if name.lower() == "set-cookie":
                self._remember(value)
        return reply

    async def _exchange(self, raw: bytes) -> bytes:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(raw)
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    def _remember(self, set_cookie: str) -> None:
        pair, *attributes = set_cookie.split(";")
        name, _, value = pair.strip().partition("=")
        expired = any(a.strip().lower() in ("max-age=0", "max-age=-1") for a in attributes)
        if expired or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    async def get(self, target: str, **kwargs) -> Reply:
        return await self.request("GET", target, **kwargs)

    async def post(self, target: str, form: Mapping[str, Sequence[str]], **kwargs) -> Reply:
        body = urllib.parse.urlencode(form, doseq=True).encode()
        return await self.request("POST", target, body=body, **kwargs)


def hidden_fields(html: str) -> dict[str, str]:
    from tests.conftest import hidden_fields as extract

    return extract(html)


# ------------------------------------------------------------------------------------------------ forms

FINGERPRINT_DIGITS = 8  # 5**8 = 390,625 distinct fingerprints


class Forms:
    """Full answers of the bundled questionnaire, each made unique by a fingerprint."""

    def __init__(self):
        import surveys
        from surveys.answers import validate

        self.survey = surveys.load(surveys.TEMPLATES_DIR / f"{SURVEY_KEY}.yaml")
        self._validate = validate
        # Ratings asked of every group, with five codes and no "don't know".
        self.digits = [q.id for q in self.survey.questions
                       if q.type == "likert" and q.show_if is None and list(q.codes) == ["1", "2", "3", "4", "5"]
                       ][:FINGERPRINT_DIGITS]
        assert len(self.digits) == FINGERPRINT_DIGITS
        self.groups = list(self.survey.question(self.survey.group_question).codes)

    def answers(self, fingerprint: int, group: str = "office", seed: int = 0) -> dict[str, list[str]]:
        """Return form data answering every question for ``group``, unique to ``fingerprint``."""
        from tests.helpers import full_answers

        form = full_answers(self.survey, group, seed)
        for qid in self.digits:
            fingerprint, digit = divmod(fingerprint, 5)
            form[qid] = [str(digit + 1)]
        assert fingerprint == 0, "fingerprint out of range"
        return form

    def fingerprint(self, codes: Mapping[str, str | Sequence[str]]) -> int:
        """Read the fingerprint back from stored or exported codes (question id -> code, or codes)."""
        value = 0
        for qid in reversed(self.digits):
            code = codes[qid]
            code = code if isinstance(code, str) else next(iter(code))
            value = value * 5 + int(code) - 1
        return value

    def stored_codes(self, form: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
        """The coded answers the server must store for ``form`` (question id -> codes)."""
        submission = self._validate(self.survey, form)
        assert submission.ok, submission.errors
        return dict(submission.codes)


def random_fingerprints(n: int, rng: random.Random) -> list[int]:
    return rng.sample(range(5**FINGERPRINT_DIGITS), n)


# ------------------------------------------------------------------------------------------------- load


@dataclass
class Attempt:
    """What the client saw of one submission (GET the form, POST the answers)."""

    key: int  # the fingerprint
    get_status: int | None = None
    post_status: int | None = None
    error: str | None = None  # a transport failure or an unexpected status
    latencies: list[tuple[str, float]] = field(default_factory=list)  # ("GET"|"POST", seconds)
    acked_at: float | None = None  # monotonic time the 303 arrived

    @property
    def acknowledged(self) -> bool:
        return self.post_status == 303

    @property
    def server_error(self) -> bool:
        return (self.get_status or 0) >= 500 or (self.post_status or 0) >= 500


async def submit(base: str, slug: str, answers: Mapping[str, Sequence[str]], key: int = 0,
                 headers: Mapping[str, str] | None = None, query: str = "", timeout: float = 60) -> Attempt:
    """One respondent: GET the form with a fresh cookie jar, POST the answers with its hidden fields."""
    attempt = Attempt(key)
    browser = Browser(base, headers)
    path = f"/s/{slug}"
    try:
        start = time.perf_counter()
        page = await browser.get(path + query, timeout=timeout)
        attempt.latencies.append(("GET", time.perf_counter() - start))
        attempt.get_status = page.status
        if page.status != 200:
            attempt.error = f"GET {page.status}"
            return attempt
        start = time.perf_counter()
        reply = await browser.post(path, {**answers, **hidden_fields(page.text)}, timeout=timeout)
        attempt.latencies.append(("POST", time.perf_counter() - start))
        attempt.post_status = reply.status
        if reply.status == 303:
            attempt.acked_at = time.monotonic()
        else:
            attempt.error = f"POST {reply.status}"
    except (OSError, TimeoutError, IncompleteResponse) as exc:
        attempt.error = f"{type(exc).__name__}: {exc}"
    return attempt


async def run_load(base: str, slug: str, jobs: Sequence[tuple[int, Mapping[str, Sequence[str]]]], clients: int,
                   headers_for: Callable[[int], Mapping[str, str]] | None = None,
                   query_for: Callable[[int], str] | None = None,
                   on_done: Callable[[Attempt], None] | None = None) -> list[Attempt]:
    """Submit every (fingerprint, answers) job from ``clients`` concurrent respondents.

    Returns the attempts in the order they finished, so the acknowledged ones are in arrival order.
    ``headers_for``/``query_for`` give the i-th job's extra headers and query string; ``on_done`` sees each
    attempt as it finishes (the crash test kills the server from there).
    """
    finished: list[Attempt] = []
    queue = iter(enumerate(jobs))

    async def client() -> None:
        for i, (key, answers) in queue:
            attempt = await submit(base, slug, answers, key, headers_for(i) if headers_for else None,
                                   query_for(i) if query_for else "")
            finished.append(attempt)
            if on_done:
                on_done(attempt)

    await asyncio.gather(*(client() for _ in range(clients)))
    return finished


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]
