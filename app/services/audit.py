"""The audit log of admin writes: who did what, when. Never anything about respondents."""

from __future__ import annotations

from flask_login import current_user

from app.extensions import db
from app.models import AuditEntry


def record(action: str, target: str = "", detail: str = "", username: str | None = None) -> None:
    """Add an entry for the current admin (or ``username``, e.g. 'cli') and commit it."""
    if username is None:
        username = current_user.username if current_user and current_user.is_authenticated else "?"
    db.session.add(AuditEntry(username=username, action=action, target=target[:200], detail=detail))
    db.session.commit()


def entries(limit: int = 500) -> list[AuditEntry]:
    return list(db.session.execute(
        db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    ).scalars())
