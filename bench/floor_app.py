"""The floor of the submission benchmark: a bare endpoint that stores a submission's rows and nothing else.

``POST /floor/<slug>`` takes the same form body as the survey (the answers plus ``sid``) and writes the same rows
as the app does (a submission token, the response, one answer row per chosen code, one comment per text, and a
receipt hash when the schema has receipts), with no CSRF check, no validation, no ORM and no template, in one
write transaction: on PostgreSQL one SQL statement (writable CTEs); on SQLite, which has no writable CTEs, one
multi-row INSERT per table. It is served the way the app is: ``gunicorn -c gunicorn.conf.py bench.floor_app:app``,
with the same database settings (the SQLite WAL, busy timeout, ``synchronous=FULL``, ``BEGIN IMMEDIATE`` and the
test of idle pooled connections come from the engine and pool hooks in ``app``, and the workers' start-up check
runs on this app too). Whatever the app spends above this floor is its own cost.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, abort, request
from sqlalchemy import inspect, text

from app.config import load_config
from app.extensions import db

NOT_ANSWERS = {"csrf_token", "sid", "started", "code", "website"}
TEXT_QUESTIONS = {"improve_one", "suggestion"}  # the bundled questionnaire's open questions
GROUP = "group"

app = Flask(__name__)
load_config(app, None)
db.init_app(app)
_campaign_ids: dict[str, int] = {}
_has_receipts: list[bool] = []


def has_receipts() -> bool:
    if not _has_receipts:
        _has_receipts.append(inspect(db.engine).has_table("receipts"))
    return _has_receipts[0]


def campaign_id(slug: str) -> int:
    if slug not in _campaign_ids:
        with db.engine.connect() as conn:
            found = conn.execute(text("SELECT id FROM campaigns WHERE slug = :s"), {"s": slug}).scalar()
            conn.rollback()
        if found is None:
            abort(404)
        _campaign_ids[slug] = found
    return _campaign_ids[slug]


def _values(name: str, rows: list[tuple], width: int, params: dict) -> str:
    """Return ``(:n_0_0, ...), (...)`` for ``rows`` and put their values in ``params``."""
    groups = []
    for i, row in enumerate(rows):
        assert len(row) == width
        keys = [f"{name}_{i}_{j}" for j in range(width)]
        params.update(zip(keys, row, strict=True))
        groups.append("(" + ", ".join(":" + k for k in keys) + ")")
    return ", ".join(groups)


@app.get("/floor/ready")
def ready():
    return "ok"


@app.post("/floor/<slug>")
def store(slug: str):
    cid = campaign_id(slug)
    form = request.form
    rid = uuid.uuid4().hex
    day = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date()
    answers = [(rid, q, code) for q in form if q not in NOT_ANSWERS | TEXT_QUESTIONS for code in form.getlist(q)]
    comments = [(rid, q, form[q]) for q in TEXT_QUESTIONS if form.get(q)]
    params = {"token": form["sid"], "cid": cid, "rid": rid, "grp": form[GROUP], "day": day}
    token_sql = "INSERT INTO submission_tokens (token, campaign_id) VALUES (:token, :cid)"
    response_sql = ("INSERT INTO responses (id, campaign_id, respondent_group, submitted_on) "
                    "VALUES (:rid, :cid, :grp, :day)")
    answers_sql = "INSERT INTO answers (response_id, question_id, code) VALUES " + _values("a", answers, 3, params)
    comments_sql = ("INSERT INTO comments (response_id, question_id, text) VALUES " + _values("c", comments, 3, params)
                    if comments else None)
    receipt_sql = None
    if has_receipts():
        params["receipt"] = hashlib.sha256(secrets.token_bytes(16)).hexdigest()
        receipt_sql = "INSERT INTO receipts (receipt_hash, response_id) VALUES (:receipt, :rid)"
    with db.engine.connect().execution_options(sqlite_immediate=True) as conn:
        if conn.dialect.name == "postgresql":
            ctes = [("t", token_sql), ("r", response_sql)] + [
                (n, s) for n, s in (("c", comments_sql), ("h", receipt_sql)) if s]
            statement = "WITH " + ", ".join(f"{n} AS ({s})" for n, s in ctes) + " " + answers_sql
            conn.execute(text(statement), params)
        else:
            params["day"] = day.isoformat()  # how SQLAlchemy's Date stores a date in SQLite
            for statement in (token_sql, response_sql, answers_sql, comments_sql, receipt_sql):
                if statement:
                    conn.execute(text(statement), params)
        conn.commit()
    return "", 204
