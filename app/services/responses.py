"""The one write path of anonymous responses: a single submission, or many at once (demo data)."""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable

from sqlalchemy import JSON, Table, bindparam, cast, column, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Answer, Campaign, Comment, Receipt, RejectionCount, Response, SubmissionToken, new_response_id
from app.services import codes, receipts
from app.services.campaigns import today
from surveys.answers import Submission


class Outcome(enum.Enum):
    STORED = "stored"
    REPLAY = "replay"  # the submission id was used before: nothing new stored, the thank-you page is right
    BAD_CODE = "bad_code"  # one-time code unknown or already used: nothing stored


class CodeRejected(Exception):
    """Raised inside the write transaction to roll it back when the one-time code is not accepted."""


def submit_response(
    campaign: Campaign, submission: Submission, token: str, code: str | None = None
) -> tuple[Outcome, str | None]:
    """Store a valid submission, its used token, its receipt hash and (in code mode) its used code at once.

    Returns the outcome and, when stored, the receipt code to show the respondent (never stored in clear).
    """
    campaign_id = campaign.id
    receipt = receipts.new_receipt()
    try:
        store_responses(campaign, [submission], token=token, code=code, receipt_hash=receipts.receipt_hash(receipt))
    except IntegrityError:
        db.session.rollback()
        if db.session.get(SubmissionToken, token) is not None:
            return Outcome.REPLAY, None
        raise
    except CodeRejected:
        db.session.rollback()
        count_rejection(campaign_id, "code")
        return Outcome.BAD_CODE, None
    return Outcome.STORED, receipt


def store_responses(
    campaign: Campaign,
    submissions: Iterable[Submission],
    token: str | None = None,
    code: str | None = None,
    receipt_hash: str | None = None,
) -> int:
    """Write valid submissions, their answers and comments in one transaction.

    For a single submission, ``token`` (used submission id), ``code`` (one-time code to consume) and
    ``receipt_hash`` may be given; they are written in the same transaction.
    """
    session = db.session
    campaign_id = campaign.id
    day = today()
    responses, answers, comments = [], [], []
    for submission in submissions:
        response_id = new_response_id()
        responses.append(
            {"id": response_id, "campaign_id": campaign_id, "respondent_group": submission.group, "submitted_on": day}
        )
        answers.extend(
            {"response_id": response_id, "question_id": qid, "code": code}
            for qid, codes_ in submission.codes.items()
            for code in sorted(codes_)
        )
        comments.extend(
            {"response_id": response_id, "question_id": qid, "text": text} for qid, text in submission.texts.items()
        )
    rows = {
        SubmissionToken: [{"token": token, "campaign_id": campaign_id}] if token is not None else [],
        Response: responses,
        Answer: answers,
        Comment: comments,
        Receipt: [{"receipt_hash": receipt_hash, "response_id": responses[0]["id"]}] if receipt_hash else [],
    }
    connection = _write_connection(session, single_statement=code is None)  # on PostgreSQL; see _insert
    if code is not None:
        # The token first: a replayed submission is then told apart from a code used by another (REPLAY vs BAD_CODE).
        _insert(connection, {SubmissionToken: rows.pop(SubmissionToken)})
        if not codes.consume(campaign_id, code):
            raise CodeRejected
    _insert(connection, rows)
    session.commit()
    return len(responses)


def _insert(connection, rows: dict[type, list[dict]]) -> None:
    """Insert complete rows (model -> list of column dicts): on PostgreSQL in one statement, else one per table."""
    rows = {model: table_rows for model, table_rows in rows.items() if table_rows}
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        # JSON text is made in C (json) and read in C (PostgreSQL); arrays would be dumped value by value in Python.
        params = {model.__tablename__: json.dumps(table_rows, default=str) for model, table_rows in rows.items()}
        connection.execute(_one_statement(tuple(model.__table__ for model in rows)), params)
        return
    # Plain Core inserts: the rows are complete dicts, and the ORM's bulk-insert bookkeeping would only cost CPU.
    for model, table_rows in rows.items():
        connection.execute(insert(model.__table__), table_rows)


@functools.cache
def _one_statement(tables: tuple[Table, ...]):
    """``INSERT ... SELECT * FROM json_to_recordset(<the rows as JSON>)`` per table, the first ones as writable CTEs.

    One statement and one round trip, whatever the number of rows, and the same SQL every time (prepared once per
    connection). Foreign keys between the tables hold: PostgreSQL checks them at the end of the statement.
    """

    def from_json(table: Table):
        columns = [column(c.name, c.type) for c in table.columns]
        recordset = func.json_to_recordset(cast(bindparam(table.name), JSON)).table_valued(*columns)
        recordset = recordset.render_derived(name=f"{table.name}_rows", with_types=True)
        return insert(table).from_select([c.name for c in columns], select(*recordset.c))

    *first, last = tables
    return from_json(last).add_cte(*(from_json(table).cte(f"{table.name}_written") for table in first))


def count_rejection(campaign_id: int, reason: str) -> None:
    """Add one to the counter of submissions turned away for ``reason`` (all that is kept about them)."""
    session = db.session
    _write_connection(session, single_statement=True)
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    statement = dialect.insert(RejectionCount).values(campaign_id=campaign_id, reason=reason, count=1)
    session.execute(statement.on_conflict_do_update(
        index_elements=["campaign_id", "reason"], set_={"count": RejectionCount.count + 1}))
    session.commit()


def _write_connection(session, single_statement: bool):
    """Return the session's connection, ready for a write that stands or falls as a whole.

    PostgreSQL: a single statement is atomic by itself, so it runs on the request's connection as it is; outside a
    transaction (the public form reads so, see ``surveys.campaign_with_definition``) it commits on its own, without
    the round trips of BEGIN and COMMIT. Several statements begin a transaction, ending whatever was read before.
    SQLite: whatever was read is ended, and the write begins IMMEDIATE, which waits (busy_timeout) for the write
    lock instead of failing on a read snapshot that cannot be upgraded.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()
        return session.connection(execution_options={"sqlite_immediate": True})
    if not single_statement:
        session.rollback()
    return session.connection()
