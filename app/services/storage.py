"""Storage order on PostgreSQL: make where and in which transaction a response's rows were written say
nothing about when it arrived.

SQLite keeps the response tables ``WITHOUT ROWID``, so they are stored in the order of their random keys. A
PostgreSQL heap instead keeps rows where they were inserted, so ``ORDER BY ctid`` replays the arrival order
(and so does ``pg_dump``, which copies heap order), and every row carries the id of the transaction that
wrote it (``xmin``), which grows with arrival. The same holds for the rows written in the same transaction
as a response: its receipt (which names the response), its used submission id and, in code mode, its used
one-time code.

:func:`scramble` fixes both for some campaigns (or all):

1. one transaction rewrites the campaigns' rows in every such table (``UPDATE … SET col = col``): they all
   get this transaction's id as their ``xmin``. Row locks only: submissions go on meanwhile.
2. a second transaction takes the tables' ACCESS EXCLUSIVE locks (submissions wait from here) and
   ``CLUSTER``s each on its primary key: the heaps are rewritten in the order of the random keys, rows of
   other campaigns included, without the replaced row versions, and the old files are dropped at commit.
3. ``VACUUM (ANALYZE)`` removes replaced versions that an older snapshot still needed during step 2 (they
   keep their old ``xmin``) and refreshes the planner's statistics.

Why this order: CLUSTER keeps the row versions that its own transaction has just replaced, old ``xmin``
included (to it they are only "recently dead"), so the rewrite must be committed first; CLUSTER then UPDATE
would put the new versions at the end of the heap in scan order and double the table.

Nothing is stored about scrambles: a campaign is done when its responses share one ``xmin`` and lie in key
order in the heap. :func:`pending_campaigns` looks for campaigns where either fails (answers came in since,
or step 2 failed after step 1), which is what the nightly ``flask campaign scramble`` does.

Cost: the tables are locked for the CLUSTER of all rows of all campaigns, not only the chosen ones; measured
figures in docs/deploy.md. The lock is asked for with a short ``lock_timeout``, a few times, so that a long
reader never makes submissions queue for long behind the waiting lock request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import Campaign

# Every table written in a response's transaction, in the order the write path (app.services.responses)
# takes them, so that taking all their locks at once cannot deadlock with a submission or a withdrawal.
# For each: the column rewritten to itself (not a foreign key, so no referential check runs) and the
# condition that selects the chosen campaigns' rows.
_OF_RESPONSES = "response_id IN (SELECT id FROM responses WHERE campaign_id = ANY(:ids))"
TABLES: tuple[tuple[str, str, str], ...] = (
    ("submission_tokens", "token", "campaign_id = ANY(:ids)"),
    ("participation_codes", "used", "used AND campaign_id = ANY(:ids)"),  # used: in the use order
    ("responses", "respondent_group", "campaign_id = ANY(:ids)"),
    ("answers", "code", _OF_RESPONSES),
    ("comments", "question_id", _OF_RESPONSES),
    ("receipts", "receipt_hash", _OF_RESPONSES),
)
LOCK_TIMEOUT = "3s"  # how long submissions may queue behind one attempt to take the locks
LOCK_ATTEMPTS = 10
LOCK_PAUSE = 2.0  # seconds between attempts, during which submissions go on
_RETRY_SQLSTATES = {"55P03", "40P01"}  # lock_not_available, deadlock_detected


class StorageError(RuntimeError):
    """The storage order could not be scrambled."""


class StorageBusy(StorageError):
    """The tables could not be locked within the attempts allowed."""


@dataclass
class ScrambleResult:
    backend: str
    campaigns: int | None = None  # how many campaigns were rewritten; None: all of them
    rows: dict[str, int] = field(default_factory=dict)  # rows rewritten, per table
    rewrite: float = 0.0  # seconds of the rewrite (row locks only: submissions go on)
    lock_wait: float = 0.0  # seconds spent waiting for the locks (all attempts)
    locked: float = 0.0  # seconds the tables were locked: submissions waited this long
    vacuum: float = 0.0  # seconds of VACUUM (ANALYZE) afterwards (no lock that blocks submissions)
    error: str | None = None  # set by callers that carry on after a failure (closing a campaign)

    @property
    def done(self) -> bool:
        return self.backend == "postgresql" and self.error is None


def backend() -> str:
    return db.engine.dialect.name


def supported() -> bool:
    """Only PostgreSQL needs this: SQLite already stores the response tables in random-key order."""
    return backend() == "postgresql"


def pending_campaigns() -> list[Campaign]:
    """Return the campaigns whose responses do not all share one ``xmin`` or do not lie in key order in the
    heap: answers came in since the last scramble, or there never was one. Empty on SQLite."""
    if not supported():
        return []
    ids = db.session.execute(text(
        "SELECT campaign_id FROM ("
        " SELECT campaign_id, id, xmin::text AS writer,"
        " lag(id) OVER (PARTITION BY campaign_id ORDER BY ctid) AS earlier FROM responses) AS stored "
        "GROUP BY campaign_id HAVING count(DISTINCT writer) > 1 OR bool_or(earlier > id)"
    )).scalars().all()
    if not ids:
        return []
    return list(db.session.execute(db.select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.id)).scalars())


def scramble(campaigns: Sequence[Campaign] | None = None) -> ScrambleResult:
    """Rewrite ``campaigns``' rows (None: every row) in one transaction, reorder the tables by their random
    keys in a second one, then vacuum. A no-op on SQLite. Raises StorageBusy if the locks cannot be had
    (the rows are rewritten then, but not reordered: the campaigns stay pending)."""
    if not supported():
        return ScrambleResult(backend())
    ids = None if campaigns is None else [c.id for c in campaigns]
    session = db.session
    session.commit()  # our own session must hold no lock on these tables while we wait for them
    result = ScrambleResult("postgresql", campaigns=None if ids is None else len(ids))
    try:
        started = time.monotonic()
        for name, column, where in TABLES:
            condition = "" if ids is None else f" WHERE {where}"
            # Table, column and condition are the constants of TABLES; the ids are a bound parameter.
            statement = text(f"UPDATE {name} SET {column} = {column}{condition}")  # nosec B608
            result.rows[name] = session.execute(statement, {} if ids is None else {"ids": ids}).rowcount
        session.commit()
        result.rewrite = time.monotonic() - started
        indexes = {name: _primary_key_index(name) for name, _, _ in TABLES}
        started = time.monotonic()
        _lock_tables()
        locked_at = time.monotonic()
        result.lock_wait = locked_at - started
        for name, index in indexes.items():
            session.execute(text(f"CLUSTER {name} USING {index}"))
        session.commit()
        result.locked = time.monotonic() - locked_at
    except BaseException:
        session.rollback()
        raise
    vacuum_started = time.monotonic()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name, _, _ in TABLES:
            conn.execute(text(f"VACUUM (ANALYZE) {name}"))
    result.vacuum = time.monotonic() - vacuum_started
    return result


def _lock_tables() -> None:
    """Begin a transaction holding every table's ACCESS EXCLUSIVE lock; retry a few times, then raise
    StorageBusy. All at once, in the write path's order: no deadlock with a submission."""
    session = db.session
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        session.commit()
        try:
            session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            session.execute(text(
                "LOCK TABLE " + ", ".join(name for name, _, _ in TABLES) + " IN ACCESS EXCLUSIVE MODE"))
            session.execute(text("SET LOCAL lock_timeout = 0"))
            return
        except OperationalError as exc:
            session.rollback()
            if getattr(exc.orig, "sqlstate", None) not in _RETRY_SQLSTATES:
                raise
            if attempt == LOCK_ATTEMPTS:
                raise StorageBusy(
                    f"could not lock the response tables in {LOCK_ATTEMPTS} attempts of {LOCK_TIMEOUT} (a long "
                    f"transaction holds them); the rows were rewritten but not reordered, try again later") from exc
            time.sleep(LOCK_PAUSE)


def _primary_key_index(table: str) -> str:
    """Return the quoted name of ``table``'s primary key index (named by migrations or by create_all)."""
    return db.session.execute(text(
        "SELECT quote_ident(c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(:table) AND i.indisprimary"
    ), {"table": table}).scalar_one()
