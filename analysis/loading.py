"""Read a campaign's stored answers into the tidy frames the rest of the library takes.

A large campaign has millions of answers, and building one Python row per answer costs more than the whole
analysis; so the database sends one row per response, with its question ids and its codes each packed into
one comma-separated string. Most responses answer the same questions, so each distinct list of question ids
is split once; pandas' C parser reads all the codes straight into a categorical.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, String, column, func, select, table

from surveys import DONT_KNOW, Survey

from .errors import AnalysisError
from .frames import ANSWER_COLUMNS, COMMENT_COLUMNS

_RESPONSES = table("responses", column("id", String), column("campaign_id"), column("respondent_group", String))
_ANSWERS = table("answers", column("response_id", String), column("question_id", String), column("code", String))
_COMMENTS = table("comments", column("response_id", String), column("question_id", String), column("text", String))
_NUMERIC = ("likert", "nps")
# It occurs in no question id or code (surveys.loader's ID_RE and CODE_RE).
_SEP = ","


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


def _packed_answers(campaign_id: int):
    """One row per response of the campaign: id, group, its question ids, its codes.

    A database feeds the aggregates of a GROUP BY the same rows in the same order, so the n-th question id
    and the n-th code are one answer. (Two aggregates of plain columns cost SQLite much less than one of
    ``question_id || ',' || code``; a third, ``count(*)``, would add a third to SQLite's time: the numbers
    of answers are read off the lists instead.)
    """
    r, a = _RESPONSES, _ANSWERS
    return (
        select(r.c.id, r.c.respondent_group, func.aggregate_strings(a.c.question_id, _SEP),
               func.aggregate_strings(a.c.code, _SEP))
        .join_from(r, a, a.c.response_id == r.c.id)
        .where(r.c.campaign_id == campaign_id)
        .group_by(r.c.id)  # the group depends on the id (its primary key): grouping by it too makes SQLite sort
        .order_by(r.c.id)
    )


def _comments(campaign_id: int):
    """The campaign's comments with the group of their response: ``COMMENT_COLUMNS``."""
    r, c = _RESPONSES, _COMMENTS
    return (select(r.c.id, r.c.respondent_group, c.c.question_id, c.c.text)
            .join_from(r, c, c.c.response_id == r.c.id).where(r.c.campaign_id == campaign_id))


def _fetch(conn: Connection, statement) -> list[tuple]:
    """All rows of a query as plain tuples, straight from the driver's cursor.

    SQLAlchemy builds a Row object per row, which for the hundred thousand rows of a large campaign costs more
    than reading them. The only parameter is the campaign id, an int, so it is compiled into the statement.
    """
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _categorical(positions: np.ndarray, values: Sequence[object] | pd.Series) -> pd.Categorical:
    """Return values[positions] as a categorical of text (categories sorted, as validation wants them)."""
    codes, categories = pd.factorize(pd.Series(values, dtype="str"), sort=True)
    # Narrowed before the take, so that millions of positions are gathered as bytes rather than as int64.
    return _from_codes(codes.astype(_code_dtype(len(categories)))[positions], categories)


def _code_dtype(n_categories: int) -> type:
    """The integer type pandas would choose for the codes of a categorical of n categories."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if n_categories < np.iinfo(t).max)


def _from_codes(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """A categorical from codes that are valid by construction (so pandas need not check millions of them)."""
    return pd.Categorical.from_codes(codes.astype(_code_dtype(len(categories)), copy=False), categories=categories,
                                      validate=False)


def _read_codes(packed: list[str]) -> pd.Categorical:
    """Read the packed codes of every response into one categorical."""
    if not packed:
        return pd.Categorical([], categories=pd.Index([], dtype="str"))
    text = io.BytesIO(_SEP.join(packed).encode())
    return pd.read_csv(text, header=None, names=["code"], lineterminator=_SEP, dtype="category", na_filter=False,
                       quoting=csv.QUOTE_NONE)["code"].array


def _read_questions(packed: list[str]) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Read the packed question ids of every response: positions in the sorted distinct ids, those ids, and the
    number of answers of each response.

    Most responses answer the same questions, so each distinct list is split once.
    """
    lists, distinct = pd.factorize(pd.Series(packed, dtype=object))
    split = [ids.split(_SEP) for ids in distinct]
    asked_ids = pd.Index(sorted(set().union(*split)), dtype="str")
    positions = [asked_ids.get_indexer(ids) for ids in split]
    counts = np.array([len(ids) for ids in split], dtype=np.intp)[lists]
    if not len(lists):
        return np.array([], dtype=np.intp), asked_ids, counts
    return np.concatenate([positions[i] for i in lists]), asked_ids, counts


def _unpack(rows: Sequence[Sequence], survey: Survey, campaign_id: int) -> pd.DataFrame:
    """Build the answers frame from the packed rows (`_packed_answers`)."""
    ids, groups, questions_packed, codes_packed = (
        (list(part) for part in zip(*rows, strict=True)) if rows else ([], [], [], []))
    asked, asked_ids, counts = _read_questions(questions_packed)
    answer_codes = _read_codes(codes_packed)
    code_counts = np.fromiter((codes.count(_SEP) + 1 for codes in codes_packed), dtype=np.intp, count=len(ids))
    if (counts != code_counts).any() or len(answer_codes) != len(asked) or answer_codes.isna().any():
        raise AnalysisError("cannot unpack the stored answers: a question id or code contains a comma")
    code, codes = answer_codes.codes, answer_codes.categories
    respondent = np.repeat(np.arange(len(ids)), counts)
    # Each response's answers in (question id, code) order, as the answers table's primary key has them
    # (whatever order the database aggregated them in).
    order = (respondent * len(asked_ids) + asked) * len(codes) + _ranks(codes)[code]
    if (np.diff(order) < 0).any():
        sort = np.argsort(order, kind="stable")
        respondent, asked, code = respondent[sort], asked[sort], code[sort]
    # Decode each distinct question and code once; answers to questions the survey does not code are left out.
    questions = question_table(survey)
    question = pd.Index(questions["question_id"]).get_indexer(asked_ids)[asked]
    keep = question >= 0
    if not keep.all():
        respondent, question, code = respondent[keep], question[keep], code[keep]
    # The value of every (question, code) pair once, then one lookup per answer.
    numeric = np.isin(questions["qtype"].to_numpy(dtype=object), _NUMERIC)
    code_is_dont_know = np.asarray(codes == DONT_KNOW)
    numbers = pd.to_numeric(pd.Series(codes), errors="coerce").to_numpy(dtype=float)
    values = np.where(numeric[:, None] & ~code_is_dont_know, numbers, np.nan)
    value, dont_know = values[question, code], code_is_dont_know[code]
    columns = {
        "response_id": _from_codes(respondent, pd.Index(ids, dtype="str")),
        "campaign_id": np.full(len(question), campaign_id, dtype=np.int64),
        "group": _categorical(respondent, groups),
        **{name: _categorical(question, questions[name]) for name in ("question_id", "item", "dimension",
                                                                       "block", "qtype")},
        "code": _from_codes(code, codes),
        "value": value,
        "dont_know": dont_know,
    }
    return pd.DataFrame(columns, copy=False).loc[:, list(ANSWER_COLUMNS)]  # the arrays are new: no copies


def _ranks(values: pd.Index) -> np.ndarray:
    """The rank of each value in sorted order."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[np.argsort(values.to_numpy(dtype=object))] = np.arange(len(values))
    return ranks


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
        answer one row per chosen code, responses in id order and their answers in question id and code
        order; ``value`` is the number for likert and NPS
        answers and NaN for "don't know" and choice codes; the text columns are categorical);
        ``comments`` has :data:`analysis.frames.COMMENT_COLUMNS`.

    Examples
    --------
    >>> from sqlalchemy import create_engine, text
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
    [['service_e1', 'service_p1', nan, True], ['service_p1', 'service_p1', 4.0, False]]
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return load_responses(conn, campaign_id, survey)
    rows = _fetch(bind, _packed_answers(campaign_id))
    notes = _fetch(bind, _comments(campaign_id))
    answers = _unpack(rows, survey, campaign_id)
    comments = pd.DataFrame.from_records(notes, columns=list(COMMENT_COLUMNS), nrows=len(notes))
    return answers, comments
