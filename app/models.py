"""Database models (SQLAlchemy 2.0 style).

Anonymity is a property of the schema (see docs/privacy.md): the response tables hold the answers, the
campaign, the respondent group and the calendar date only. ``tests/test_schema.py`` holds these tables
against an allow-list, so a new column fails CI until someone decides it is safe.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column, relationship

from app.extensions import db

# In SQLite a WITHOUT ROWID table is stored in primary-key order; with random keys, the storage order
# says nothing about the arrival order.
NO_ROWID = {"sqlite_with_rowid": False}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_response_id() -> str:
    return uuid.uuid4().hex


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Survey(db.Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", order_by="SurveyVersion.number"
    )


class SurveyVersion(db.Model):
    """An immutable stored definition; campaigns point at the version they were opened with."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number", name="uq_survey_versions_survey_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)  # the YAML text, re-validated by surveys.loads() on use
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="versions")


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    min_comment_group_size: Mapped[int] = mapped_column(Integer, default=10)
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "open": anyone with the link; "codes": each answer needs a one-time participation code
    collection_mode: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    offered_groups: Mapped[str | None] = mapped_column(String(400))  # space-separated group codes; None = all

    survey_version: Mapped[SurveyVersion] = relationship()

    @property
    def groups_offered(self) -> list[str] | None:
        return self.offered_groups.split() if self.offered_groups else None

    def status(self, today: date) -> str:
        """Return 'scheduled', 'open' or 'closed' as of the calendar date ``today``."""
        if self.closed_at is not None or (self.closes_on is not None and today > self.closes_on):
            return "closed"
        if today < self.opens_on:
            return "scheduled"
        return "open"


def _previous_wave_id():
    """The id of the campaign of the same survey opened just before (the largest smaller id), as a subquery."""
    earlier, earlier_version, own_version = aliased(Campaign), aliased(SurveyVersion), aliased(SurveyVersion)
    return (
        select(func.max(earlier.id))
        .join(earlier_version, earlier.survey_version_id == earlier_version.id)
        .join(own_version, own_version.survey_id == earlier_version.survey_id)
        .where(own_version.id == Campaign.survey_version_id, earlier.id < Campaign.id)
        .scalar_subquery()
    )


# Loaded on first use, or with the campaign itself where the page needs it (the public form: one query less).
Campaign.previous_wave_id = column_property(_previous_wave_id(), deferred=True)


class Response(db.Model):
    """One anonymous submission. Nothing else may be added without updating the allow-list test."""

    __tablename__ = "responses"
    __table_args__ = NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_response_id)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    respondent_group: Mapped[str] = mapped_column(String(40))
    submitted_on: Mapped[date] = mapped_column(Date)

    # Deleting a response (a withdrawal) deletes its answers, comments and receipt with it.
    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    comments: Mapped[list[Comment]] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    receipt: Mapped[Receipt | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Answer(db.Model):
    """One coded answer; a multi-choice answer is one row per chosen code."""

    __tablename__ = "answers"
    __table_args__ = NO_ROWID

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class Comment(db.Model):
    """The text of an open question, kept apart from the coded answers."""

    __tablename__ = "comments"
    __table_args__ = NO_ROWID

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class SubmissionToken(db.Model):
    """A used per-render submission id, making a replayed POST store nothing. No link to the response."""

    __tablename__ = "submission_tokens"
    __table_args__ = NO_ROWID

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))


class ParticipationCode(db.Model):
    """A one-time code, kept only as an HMAC with a used flag: no time, no link to any response."""

    __tablename__ = "participation_codes"
    __table_args__ = NO_ROWID

    code_hmac: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class RejectionCount(db.Model):
    """How many submissions were turned away, and why; nothing else is kept about them."""

    __tablename__ = "rejection_counts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntry(db.Model):
    """An admin's write: who did what, when. Nothing about respondents."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    username: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class Action(db.Model):
    """A rectification (整改) action recorded against a campaign's weak dimension or cause."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    dimension: Mapped[str | None] = mapped_column(String(40))  # a dimension id or a cause id
    what: Mapped[str] = mapped_column(Text)
    responsible_post: Mapped[str] = mapped_column(String(100), default="")  # a post, not a person's name
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")  # planned | in_progress | done
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Receipt(db.Model):
    """Only the hash of a respondent's receipt code: the holder can confirm or withdraw their response."""

    __tablename__ = "receipts"
    __table_args__ = NO_ROWID

    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), unique=True)
