"""Read a campaign's stored answers into the tidy frames the rest of the library takes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

from surveys import DONT_KNOW, Survey

from .frames import ANSWER_COLUMNS, COMMENT_COLUMNS

_ANSWERS_SQL = text(
    "SELECT r.id AS response_id, r.respondent_group AS grp, a.question_id, a.code "
    "FROM responses r JOIN answers a ON a.response_id = r.id WHERE r.campaign_id = :campaign"
)
_COMMENTS_SQL = text(
    "SELECT r.id AS response_id, r.respondent_group AS grp, c.question_id, c.text "
    "FROM responses r JOIN comments c ON c.response_id = r.id WHERE r.campaign_id = :campaign"
)
_NUMERIC = ("likert", "nps")


def question_table(survey: Survey) -> pd.DataFrame:
    """Return one row per coded question: ``question_id, item, dimension, block, qtype``.

    Examples
    --------
    >>> from surveys import TEMPLATES_DIR, load
    >>> table = question_table(load(TEMPLATES_DIR / "office-service-quality.yaml"))
    >>> table.set_index("question_id").loc["service_e1", ["item", "block"]].tolist()
    ['service_p1', 'expectation']
    """
    rows = [
        (q.id, q.item, q.dimension, q.block, q.type) for q in survey.questions if q.type != "text"
    ]
    return pd.DataFrame(rows, columns=["question_id", "item", "dimension", "block", "qtype"])


def load_responses(
    bind: Engine | Connection, campaign_id: int, survey: Survey
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the answers and comments frames of one campaign, each read with a single query.

    Parameters
    ----------
    bind : Engine or Connection
        Where the OfficePulse tables live.
    campaign_id : int
        The campaign whose responses are read.
    survey : Survey
        The survey version the campaign was opened with (question types, blocks, dimensions, pairs).

    Returns
    -------
    (answers, comments) : tuple of DataFrame
        ``answers`` has the columns of :data:`analysis.frames.ANSWER_COLUMNS` (one row per answer, a multi
        answer one row per chosen code; ``value`` is the number for likert and NPS answers and NaN for
        "don't know" and choice codes); ``comments`` has :data:`analysis.frames.COMMENT_COLUMNS`.

    Examples
    --------
    >>> from sqlalchemy import create_engine
    >>> from surveys import TEMPLATES_DIR, load
    >>> engine = create_engine("sqlite://")
    >>> with engine.begin() as conn:
    ...     for sql in ("CREATE TABLE responses (id TEXT, campaign_id INT, respondent_group TEXT)",
    ...                 "CREATE TABLE answers (response_id TEXT, question_id TEXT, code TEXT)",
    ...                 "CREATE TABLE comments (response_id TEXT, question_id TEXT, text TEXT)",
    ...                 "INSERT INTO responses VALUES ('r1', 7, 'office')",
    ...                 "INSERT INTO answers VALUES ('r1', 'service_p1', '4'), ('r1', 'service_e1', 'dk')"):
    ...         _ = conn.execute(text(sql))
    >>> answers, comments = load_responses(engine, 7, load(TEMPLATES_DIR / "office-service-quality.yaml"))
    >>> answers[["question_id", "item", "value", "dont_know"]].values.tolist()
    [['service_p1', 'service_p1', 4.0, False], ['service_e1', 'service_p1', nan, True]]
    """
    params = {"campaign": campaign_id}
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            raw = pd.read_sql(_ANSWERS_SQL, conn, params=params)
            notes = pd.read_sql(_COMMENTS_SQL, conn, params=params)
    else:
        raw = pd.read_sql(_ANSWERS_SQL, bind, params=params)
        notes = pd.read_sql(_COMMENTS_SQL, bind, params=params)
    answers = raw.merge(question_table(survey), on="question_id", how="inner").rename(columns={"grp": "group"})
    answers["campaign_id"] = campaign_id
    answers["dont_know"] = answers["code"] == DONT_KNOW
    numeric = answers["qtype"].isin(_NUMERIC) & ~answers["dont_know"]
    answers["value"] = np.where(numeric, pd.to_numeric(answers["code"].where(numeric), errors="coerce"), np.nan)
    comments = notes.rename(columns={"grp": "group"})
    return answers.loc[:, list(ANSWER_COLUMNS)], comments.loc[:, list(COMMENT_COLUMNS)]
