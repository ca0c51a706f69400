"""The one write path of anonymous responses: a single submission, or many at once (demo data)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Answer, Campaign, Comment, Response, SubmissionToken, new_response_id
from app.services.campaigns import today
from surveys.answers import Submission


def submit_response(campaign: Campaign, submission: Submission, token: str) -> bool:
    """Store a valid submission and its used token in one transaction.

    Returns False, storing nothing, when ``token`` was already used (a double click or a replay).
    """
    try:
        store_responses(campaign, [submission], token=token)
    except IntegrityError:
        db.session.rollback()
        if db.session.get(SubmissionToken, token) is not None:
            return False
        raise
    return True


def store_responses(campaign: Campaign, submissions: Iterable[Submission], token: str | None = None) -> int:
    """Write valid submissions, their answers and comments (and ``token``, if given) in one transaction."""
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
            for qid, codes in submission.codes.items()
            for code in sorted(codes)
        )
        comments.extend(
            {"response_id": response_id, "question_id": qid, "text": text} for qid, text in submission.texts.items()
        )
    # End any read transaction first: in SQLite a read snapshot cannot always be upgraded to a write, while
    # a transaction begun IMMEDIATE waits (busy_timeout) for the write lock instead of failing.
    session.rollback()
    session.connection(execution_options={"sqlite_immediate": True})
    if token is not None:
        session.execute(insert(SubmissionToken).values(token=token, campaign_id=campaign_id))
    for model, rows in ((Response, responses), (Answer, answers), (Comment, comments)):
        if rows:
            session.execute(insert(model), rows)
    session.commit()
    return len(responses)
