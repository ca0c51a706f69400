"""The one write path of an anonymous response."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Answer, Campaign, Comment, Response, SubmissionToken, new_response_id
from app.services.campaigns import today
from surveys.answers import Submission


def submit_response(campaign: Campaign, submission: Submission, token: str) -> bool:
    """Store a valid submission, its answers and its used token in one transaction.

    Returns False, storing nothing, when ``token`` was already used (a double click or a replay).
    """
    session = db.session
    campaign_id = campaign.id
    response_id = new_response_id()
    answers = [
        {"response_id": response_id, "question_id": qid, "code": code}
        for qid, codes in submission.codes.items()
        for code in sorted(codes)
    ]
    comments = [
        {"response_id": response_id, "question_id": qid, "text": text} for qid, text in submission.texts.items()
    ]
    # End any read transaction first: in SQLite a read snapshot cannot always be upgraded to a write, while
    # a transaction begun IMMEDIATE waits (busy_timeout) for the write lock instead of failing.
    session.rollback()
    session.connection(execution_options={"sqlite_immediate": True})
    try:
        session.execute(insert(SubmissionToken).values(token=token, campaign_id=campaign_id))
        session.execute(
            insert(Response).values(
                id=response_id,
                campaign_id=campaign_id,
                respondent_group=submission.group,
                submitted_on=today(),
            )
        )
        if answers:
            session.execute(insert(Answer), answers)
        if comments:
            session.execute(insert(Comment), comments)
        session.commit()
    except IntegrityError:
        session.rollback()
        if token_used(token):
            return False
        raise
    return True


def token_used(token: str) -> bool:
    return db.session.get(SubmissionToken, token) is not None
