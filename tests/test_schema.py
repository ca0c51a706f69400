"""What the database may hold about a respondent, held against an allow-list; migrations match models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from app.extensions import db, init_migrations

# Adding a column to a response table must be a decision: update this list only after checking that the
# new column cannot identify a respondent or reveal arrival order (docs/privacy.md).
RESPONSE_TABLES = {
    "responses": {"id", "campaign_id", "respondent_group", "submitted_on"},
    "answers": {"response_id", "question_id", "code"},
    "comments": {"response_id", "question_id", "text"},
    "submission_tokens": {"token", "campaign_id"},
    "participation_codes": {"code_hmac", "campaign_id", "used"},
    "rejection_counts": {"campaign_id", "reason", "count"},
    "receipts": {"receipt_hash", "response_id"},
}
FORBIDDEN_WORDS = ("ip", "agent", "referrer", "referer", "session", "cookie", "time", "created", "seq", "user")


def test_response_tables_hold_only_allowed_columns(app):
    with app.app_context():
        inspector = inspect(db.engine)
        for table, allowed in RESPONSE_TABLES.items():
            assert {c["name"] for c in inspector.get_columns(table)} == allowed, table
            for column in allowed:
                assert not any(word in column.split("_") for word in FORBIDDEN_WORDS), (table, column)


def test_submission_tokens_have_no_link_to_responses(app):
    with app.app_context():
        fks = inspect(db.engine).get_foreign_keys("submission_tokens")
    assert [fk["referred_table"] for fk in fks] == ["campaigns"]


def test_sqlite_tables_are_without_rowid(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        with db.engine.connect() as conn:
            for table in ("responses", "answers", "comments", "submission_tokens", "participation_codes", "receipts"):
                sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
                assert sql.rstrip().endswith("WITHOUT ROWID"), table
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_migrations_build_the_schema_of_the_models(app):
    init_migrations(app)
    with app.app_context():
        db.drop_all()
        try:
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == []
        finally:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
