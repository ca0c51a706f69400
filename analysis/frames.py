"""The input contract: the tidy answers and comments frames, their validation, and a builder for tests.

The web layer produces one row per answer (see `ANSWER_COLUMNS`); a multi-choice answer has one row per
chosen code. `make_frames` builds the same frames from a few hand-written responses, so that tests and
notebooks need no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._grouping import codes, has_repeats, isin
from .errors import AnalysisError
from .labels import TOTAL

__all__ = [
    "ANSWER_COLUMNS",
    "COMMENT_COLUMNS",
    "QuestionSpec",
    "group_sizes",
    "infer_question",
    "make_frames",
    "validate_answers",
    "validate_comments",
]

ANSWER_COLUMNS = (
    "response_id",
    "campaign_id",
    "group",
    "question_id",
    "item",
    "dimension",
    "block",
    "qtype",
    "code",
    "value",
    "dont_know",
)
COMMENT_COLUMNS = ("response_id", "group", "question_id", "text")

QTYPES = ("likert", "single", "multi", "nps")
_RANGES = {"likert": (1.0, 5.0), "nps": (0.0, 10.0)}


@dataclass(frozen=True)
class QuestionSpec:
    """What the answers frame says about one question besides the answer itself."""

    qtype: str
    block: str | None = None
    dimension: str | None = None
    item: str | None = None


_PAIRED = re.compile(r"^(?P<dim>[a-z][a-z0-9]*)_(?P<kind>[pe])(?P<num>\d+)$")


def infer_question(question_id: str) -> QuestionSpec:
    """Guess a question's type, block, dimension and item from the bundled survey's id convention.

    ``<dim>_p<n>`` is a perception item, ``<dim>_e<n>`` the expectation paired with ``<dim>_p<n>``,
    ``cause_<x>`` a root cause, ``morale_<n>`` a morale item, ``enps`` the 0-10 question and
    ``overall`` the satisfaction grade.

    Parameters
    ----------
    question_id : str
        The question's id.

    Returns
    -------
    QuestionSpec

    Raises
    ------
    AnalysisError
        If the id follows none of these conventions.

    Examples
    --------
    >>> infer_question("service_e2")
    QuestionSpec(qtype='likert', block='expectation', dimension='service', item='service_p2')
    """
    match = _PAIRED.match(question_id)
    if match and not question_id.startswith(("cause_", "morale_")):
        dim, kind, num = match["dim"], match["kind"], match["num"]
        block = "perception" if kind == "p" else "expectation"
        return QuestionSpec("likert", block, dim, f"{dim}_p{num}")
    if question_id.startswith("cause_"):
        return QuestionSpec("likert", "cause", None, question_id)
    if question_id.startswith("morale_"):
        return QuestionSpec("likert", "morale", None, question_id)
    if question_id == "enps":
        return QuestionSpec("nps", "enps", None, question_id)
    if question_id == "overall":
        return QuestionSpec("single", "overall", None, question_id)
    raise AnalysisError(f"cannot infer question {question_id!r}: pass its QuestionSpec in `questions`")


def _answer_rows(rid: str, campaign_id: int, group: str, qid: str, spec: QuestionSpec, answer) -> list[dict]:
    base = {
        "response_id": rid,
        "campaign_id": campaign_id,
        "group": group,
        "question_id": qid,
        "item": spec.item or qid,
        "dimension": spec.dimension,
        "block": spec.block,
        "qtype": spec.qtype,
    }
    codes = list(answer) if spec.qtype == "multi" else [answer]
    rows = []
    for code in codes:
        dont_know = code == "dk"
        value = np.nan
        if spec.qtype in _RANGES and not dont_know:
            value = float(code)
        rows.append({**base, "code": str(code), "value": value, "dont_know": dont_know})
    return rows


def make_frames(
    responses: Iterable[Mapping],
    *,
    campaign_id: int = 1,
    questions: Mapping[str, QuestionSpec] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build an answers frame and a comments frame from hand-written responses.

    Parameters
    ----------
    responses : iterable of mappings
        Each with ``group`` (str), ``answers`` (question id -> code: an int 1-5 or 0-10, ``"dk"``, a
        grade code, or a list of codes for a multi question), optional ``comments`` (question id -> text)
        and optional ``response_id`` (default ``r0001``, ``r0002``, ... in order, campaign-prefixed
        when campaign_id is not 1).
    campaign_id : int
        Written into every answer row.
    questions : mapping, optional
        QuestionSpec per question id, for ids that `infer_question` cannot read.

    Returns
    -------
    answers, comments : DataFrame
        Frames with exactly `ANSWER_COLUMNS` and `COMMENT_COLUMNS`.

    Examples
    --------
    >>> answers, comments = make_frames([
    ...     {"group": "office", "answers": {"service_p1": 4, "service_e1": "dk", "overall": "satisfied"},
    ...      "comments": {"improve_one": "多征求基层意见"}},
    ... ])
    >>> answers[["question_id", "item", "block", "code", "value", "dont_know"]].values.tolist()[:2]
    [['service_p1', 'service_p1', 'perception', '4', 4.0, False], \
['service_e1', 'service_p1', 'expectation', 'dk', nan, True]]
    >>> comments["text"].tolist()
    ['多征求基层意见']
    """
    questions = dict(questions or {})
    rows: list[dict] = []
    notes: list[dict] = []
    for index, response in enumerate(responses, start=1):
        if "group" not in response:
            raise AnalysisError(f"response {index} has no group")
        prefix = "r" if campaign_id == 1 else f"c{campaign_id}r"
        rid = str(response.get("response_id", f"{prefix}{index:04d}"))
        group = str(response["group"])
        for qid, answer in response.get("answers", {}).items():
            spec = questions.get(qid) or infer_question(qid)
            rows.extend(_answer_rows(rid, campaign_id, group, qid, spec, answer))
        for qid, text in response.get("comments", {}).items():
            notes.append({"response_id": rid, "group": group, "question_id": qid, "text": str(text)})
    answers = pd.DataFrame(rows, columns=list(ANSWER_COLUMNS))
    answers["value"] = answers["value"].astype(float)
    answers["dont_know"] = answers["dont_know"].astype(bool)
    answers["campaign_id"] = answers["campaign_id"].astype("int64")
    return answers, pd.DataFrame(notes, columns=list(COMMENT_COLUMNS))


#: The text columns of the answers frame; validation makes them categorical (millions of rows, few values).
TEXT_COLUMNS = ("response_id", "group", "question_id", "item", "dimension", "block", "qtype", "code")


def _sorted_categorical(column: pd.Series) -> pd.Series:
    """Return the column as a categorical with sorted categories, so that its codes sort like its values."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    categories = column.cat.categories
    try:
        if not categories.is_monotonic_increasing:
            column = column.cat.reorder_categories(categories.sort_values())
    except TypeError:  # values that cannot be compared keep their order
        pass
    return column


def validate_answers(answers: pd.DataFrame) -> pd.DataFrame:
    """Check an answers frame against the input contract and return a clean copy.

    Parameters
    ----------
    answers : DataFrame
        One row per answer with `ANSWER_COLUMNS`.

    Returns
    -------
    DataFrame
        A copy with ``value`` as float, ``dont_know`` as bool and the `TEXT_COLUMNS` as categoricals
        (categories sorted); don't-know rows have NaN values.

    Raises
    ------
    AnalysisError
        Missing columns, a group named like the pooled label, an unknown qtype, a value out of range,
        two answers of one respondent to a single-answer question, or a response in two groups.

    Examples
    --------
    >>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": 5}}])
    >>> validate_answers(answers)["value"].tolist()
    [5.0]
    """
    if not isinstance(answers, pd.DataFrame):
        raise AnalysisError("answers must be a pandas DataFrame")
    missing = [c for c in ANSWER_COLUMNS if c not in answers.columns]
    if missing:
        raise AnalysisError(f"answers frame lacks columns {missing}")
    out = answers.loc[:, list(ANSWER_COLUMNS)]  # pandas copies on write: the caller's frame never changes
    for column in TEXT_COLUMNS:
        out[column] = _sorted_categorical(out[column])
    if isin(out["group"], [TOTAL]).any():
        raise AnalysisError(f"no respondent group may be called {TOTAL!r}: it labels pooled rows")
    if out["group"].isna().any() or out["response_id"].isna().any():
        raise AnalysisError("every answer needs a response_id and a group")
    bad_types = sorted(set(out["qtype"].dropna().unique()) - set(QTYPES))
    if bad_types or out["qtype"].isna().any():
        raise AnalysisError(f"unknown qtype {bad_types or [None]}; expected one of {QTYPES}")
    try:
        out["value"] = pd.to_numeric(out["value"]).astype(float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"non-numeric value in answers: {exc}") from None
    respondent, question, group = (codes(out[c]) for c in ("response_id", "question_id", "group"))
    single = (out["qtype"] != "multi").to_numpy()
    n_questions, n_respondents = (len(out[c].cat.categories) + 1 for c in ("question_id", "response_id"))
    if has_repeats(respondent[single] * n_questions + question[single], n_respondents * n_questions):
        raise AnalysisError("a respondent has two answers to one (non-multi) question")
    group_of = np.zeros(n_respondents, dtype=np.int64)
    group_of[respondent] = group  # one of each respondent's groups: any other differs from it
    if (group_of[respondent] != group).any():
        raise AnalysisError("a response belongs to two groups")
    dont_know = out["dont_know"].fillna(False).astype(bool).to_numpy()
    value = np.where(dont_know, np.nan, out["value"].to_numpy())
    for qtype, (low, high) in _RANGES.items():
        values = value[isin(out["qtype"], [qtype])]
        wrong = values[(values < low) | (values > high)]  # NaN is neither
        if len(wrong):
            raise AnalysisError(f"{qtype} value {float(wrong[0])} outside {low:g}-{high:g}")
    return out.assign(dont_know=dont_know, value=value)


def validate_comments(comments: pd.DataFrame) -> pd.DataFrame:
    """Check a comments frame against the input contract and return a copy without blank texts.

    Examples
    --------
    >>> _, comments = make_frames([{"group": "office", "comments": {"q": "  "}}])
    >>> len(validate_comments(comments))
    0
    """
    if not isinstance(comments, pd.DataFrame):
        raise AnalysisError("comments must be a pandas DataFrame")
    missing = [c for c in COMMENT_COLUMNS if c not in comments.columns]
    if missing:
        raise AnalysisError(f"comments frame lacks columns {missing}")
    out = comments.loc[:, list(COMMENT_COLUMNS)].copy()
    text = out["text"].fillna("").astype(str).str.strip()
    return out.loc[text != ""].assign(text=text[text != ""])


def group_sizes(answers: pd.DataFrame) -> pd.Series:
    """Count the respondents (distinct response ids) of each group.

    Examples
    --------
    >>> answers, _ = make_frames([{"group": "office", "answers": {"enps": 9}},
    ...                           {"group": "office", "answers": {"enps": 3}}])
    >>> group_sizes(answers).to_dict()
    {'office': 2}
    """
    if "response_id" not in answers.columns or "group" not in answers.columns:
        raise AnalysisError("need response_id and group columns to count respondents")
    groups = answers.drop_duplicates("response_id")["group"]
    if isinstance(groups.dtype, pd.CategoricalDtype):  # count the groups present, named as plain values
        groups = groups.astype(groups.cat.categories.dtype)
    return groups.groupby(groups).size().rename("n").astype("int64")
