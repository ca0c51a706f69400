"""Scores: items, dimensions, % favourable, 百分制 satisfaction, eNPS and root causes.

Every function takes the tidy answers frame (see `analysis.frames`) and returns one row per cell, for
each respondent group and for the pool (``group == "all"``), with ``n`` = the respondents the figure
describes. Don't-know answers never count in a score's n. Percentages are 0-100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ._grouping import aggregate, distinct_counts, isin, per_category, plain, plain_frame
from ._ratings import ITEM, LEVELS, per_respondent, ratings, tally
from ._util import Answers, Prepared, check_choice, empty, order_rows, prepare, sort_rows
from .errors import AnalysisError
from .labels import DEFAULT_GRADE_WEIGHTS
from .stats import Z95, wilson_interval

__all__ = [
    "causes",
    "dimension_scores",
    "enps",
    "favourable",
    "item_scores",
    "likert_counts",
    "respondent_dimension_scores",
    "satisfaction",
]

LIKERT_BLOCKS = ("perception", "expectation", "cause", "morale")
_ITEM_KEYS = ["block", "dimension", "item", "question_id", "group"]


def item_scores(answers: Answers, blocks: Sequence[str] = LIKERT_BLOCKS) -> pd.DataFrame:
    """Score every 1-5 item: mean and standard deviation of the valid answers, per group and pooled.

    Parameters
    ----------
    answers : DataFrame
        The tidy answers frame.
    blocks : sequence of str
        Which blocks' likert questions to score.

    Returns
    -------
    DataFrame
        Columns ``block, dimension, item, question_id, group, n, mean, sd``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": 4}},
    ...                           {"group": "office", "answers": {"goals_p1": "dk"}},
    ...                           {"group": "grassroots", "answers": {"goals_p1": 2}}])
    >>> item_scores(answers)[["group", "n", "mean"]].values.tolist()
    [['office', 1, 4.0], ['grassroots', 1, 2.0], ['all', 2, 3.0]]
    """
    table = tally(prepare(answers), blocks, ITEM, sd=True)
    columns = [*_ITEM_KEYS, "n", "mean", "sd"]
    if table.empty:
        return empty(columns)
    return order_rows(table, _ITEM_KEYS)[columns]


def likert_counts(answers: Answers, blocks: Sequence[str] = LIKERT_BLOCKS) -> pd.DataFrame:
    """Count each rating 1-5 and don't-know per item, per group and pooled (feeds diverging bars).

    Returns
    -------
    DataFrame
        Columns ``block, dimension, item, question_id, group, n, dont_know, c1, c2, c3, c4, c5,
        pct_favourable``; n counts valid ratings, pct_favourable = (c4 + c5) / n * 100.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": v}} for v in (5, 4, 2, "dk")])
    >>> likert_counts(answers).head(1)[["n", "dont_know", "c2", "c4", "c5"]].to_dict("records")
    [{'n': 3, 'dont_know': 1, 'c2': 1, 'c4': 1, 'c5': 1}]
    """
    table = tally(prepare(answers), blocks, ITEM, valid_only=False)
    columns = [*_ITEM_KEYS, "n", "dont_know", *LEVELS, "pct_favourable"]
    if table.empty:
        return empty(columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["pct_favourable"] = (table["c4"] + table["c5"]) / table["n"].replace(0, np.nan) * 100
    return order_rows(table, _ITEM_KEYS)[columns]


def favourable(answers: Answers, level: str = "item", block: str = "perception") -> pd.DataFrame:
    """Share of favourable (4-5) ratings with a Wilson 95% interval, per item or dimension and group.

    Parameters
    ----------
    answers : DataFrame
        The tidy answers frame.
    level : {"item", "dimension"}
        At dimension level every valid rating of the dimension's items counts as one trial, so
        ``n_answers`` is the interval's denominator and ``n`` the number of respondents; ratings of one
        person are correlated, so the interval is somewhat too narrow there.
    block : str
        The block to use.

    Returns
    -------
    DataFrame
        item level: ``block, dimension, item, question_id, group, n, n_favourable, pct_favourable,
        ci_low, ci_high``; dimension level: ``block, dimension, group, n, n_answers, n_favourable,
        pct_favourable, ci_low, ci_high`` (percentages).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": v}} for v in [5] * 8 + [2] * 2])
    >>> favourable(answers).head(1)[["n", "pct_favourable"]].to_dict("records")
    [{'n': 10, 'pct_favourable': 80.0}]
    """
    check_choice("level", level, ("item", "dimension"))
    keys = _ITEM_KEYS if level == "item" else ["block", "dimension", "group"]
    count = "n" if level == "item" else "n_answers"
    columns = [*keys, "n", *(["n_answers"] if level == "dimension" else []), "n_favourable",
               "pct_favourable", "ci_low", "ci_high"]
    table = tally(prepare(answers), [block], keys[:-1], respondents=level == "dimension")
    if table.empty:
        return empty(columns)
    table = table.rename(columns={"n": count, "favourable": "n_favourable", "respondents": "n"})
    table["pct_favourable"] = table["n_favourable"] / table[count] * 100
    pairs = zip(table["n_favourable"], table[count], strict=True)
    bounds = [wilson_interval(int(s), int(t)) for s, t in pairs]
    table["ci_low"] = [100 * b[0] for b in bounds]
    table["ci_high"] = [100 * b[1] for b in bounds]
    return order_rows(table, keys)[columns]


def respondent_dimension_scores(
    answers: Answers,
    block: str = "perception",
    min_share: float = 0.5,
    items_per_dimension: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Score each respondent on each dimension: the mean of their valid ratings of its items.

    A respondent gets a score only when they rated at least ``min_share`` of the dimension's items
    (don't-know does not count as rated). The number of items of a dimension is the number of distinct
    questions of that block and dimension in the frame, unless `items_per_dimension` says otherwise.

    Returns
    -------
    DataFrame
        Columns ``response_id, group, block, dimension, n_items, score`` (n_items = items rated).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([
    ...     {"group": "office", "answers": {"goals_p1": 4, "goals_p2": 5, "goals_p3": "dk"}},
    ...     {"group": "office", "answers": {"goals_p1": 4, "goals_p2": "dk", "goals_p3": "dk"}}])
    >>> respondent_dimension_scores(answers)[["response_id", "n_items", "score"]].values.tolist()
    [['r0001', 2, 4.5]]
    """
    return plain_frame(respondent_scores(prepare(answers), block, min_share, items_per_dimension))


def respondent_scores(
    data: Prepared,
    block: str = "perception",
    min_share: float = 0.5,
    items_per_dimension: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """`respondent_dimension_scores` with categorical text columns, computed once per prepared answers."""
    if not 0 < min_share <= 1:
        raise AnalysisError(f"min_share must be in (0, 1], got {min_share}")

    def compute() -> pd.DataFrame:
        cells = ratings(data).cells
        rated = isin(cells["block"], [block]) & cells["dimension"].notna().to_numpy()
        counts = distinct_counts(cells.loc[rated, ["dimension", "question_id"]], "dimension", "question_id")
        counts.update(items_per_dimension or {})
        table = per_respondent(data, block)
        if table.empty:
            return empty(["response_id", "group", "block", "dimension", "n_items", "score"])
        needed = per_category(table["dimension"], {d: min_share * n - 1e-9 for d, n in counts.items()})
        table = table.loc[table["n_items"] >= needed]
        return sort_rows(table, ["dimension", "group", "response_id"])

    key = ("respondent_scores", block, min_share, frozenset((items_per_dimension or {}).items()))
    return data.memo(key, compute)


def dimension_scores(
    answers: Answers, block: str = "perception", min_share: float = 0.5
) -> pd.DataFrame:
    """Score each dimension: the mean of respondents' dimension scores, per group and pooled.

    Returns
    -------
    DataFrame
        Columns ``block, dimension, group, n, mean, sd`` (n = respondents with a dimension score).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": 4, "goals_p2": 5}},
    ...                           {"group": "office", "answers": {"goals_p1": 2, "goals_p2": 2}}])
    >>> dimension_scores(answers).head(1)[["group", "n", "mean"]].to_dict("records")
    [{'group': 'office', 'n': 2, 'mean': 3.25}]
    """
    people = respondent_scores(prepare(answers), block, min_share)
    keys = ["block", "dimension", "group"]
    columns = [*keys, "n", "mean", "sd"]
    if people.empty:
        return empty(columns)
    table = aggregate(people, keys, n=("score", "size"), mean=("score", "mean"), sd=("score", "std"))
    return order_rows(table, keys)[columns]


def _grade_sets(weights: Mapping[str, float], n_top: int, n_bottom: int) -> tuple[list[str], list[str]]:
    if len(weights) < n_top + n_bottom:
        raise AnalysisError(f"need at least {n_top + n_bottom} grades, got {list(weights)}")
    for code, weight in weights.items():
        if not isinstance(weight, int | float) or math.isnan(weight):
            raise AnalysisError(f"grade weight of {code!r} must be a number, got {weight!r}")
    ordered = sorted(weights, key=lambda code: -weights[code])
    return ordered[:n_top], ordered[len(ordered) - n_bottom:]


def satisfaction(
    answers: Answers,
    weights: Mapping[str, float] | None = None,
    n_top: int = 3,
    n_bottom: int = 2,
) -> pd.DataFrame:
    """Compute the 百分制 satisfaction score and its shares from the ``overall`` block.

    score = mean grade weight of the valid answers; satisfied_pct = share of the `n_top` highest-weighted
    grades and dissatisfied_pct = share of the `n_bottom` lowest, both over valid answers;
    dont_know_pct = share of don't-know over all answers (a high one means the office is invisible).

    Parameters
    ----------
    answers : DataFrame
        The tidy answers frame.
    weights : mapping, optional
        Grade code -> weight; default `DEFAULT_GRADE_WEIGHTS` (100/80/60/30/0).
    n_top, n_bottom : int
        How many grades count as satisfied and as dissatisfied.

    Returns
    -------
    DataFrame
        Columns ``question_id, group, n_answered, n, score, satisfied_pct, dissatisfied_pct,
        dont_know_pct`` (n_answered includes don't-know, n does not).

    Raises
    ------
    AnalysisError
        A code that is neither a grade nor ``dk``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> grades = ["very_satisfied", "dissatisfied", "dk", "satisfied"]
    >>> answers, _ = make_frames([{"group": "office", "answers": {"overall": g}} for g in grades])
    >>> satisfaction(answers).head(1)[["n", "score", "satisfied_pct", "dont_know_pct"]].to_dict("records")
    [{'n': 3, 'score': 70.0, 'satisfied_pct': 66.66666666666666, 'dont_know_pct': 25.0}]
    """
    weights = dict(DEFAULT_GRADE_WEIGHTS if weights is None else weights)
    top, bottom = _grade_sets(weights, n_top, n_bottom)
    clean = prepare(answers).frame
    rows = clean.loc[clean["block"] == "overall"]
    rows = rows.assign(code=plain(rows["code"]), dont_know=rows["dont_know"] | (rows["code"] == "dk"))
    unknown = sorted(set(rows.loc[~rows["dont_know"], "code"]) - set(weights))
    if unknown:
        raise AnalysisError(f"unknown overall grade codes {unknown}; known: {list(weights)}")
    columns = ["question_id", "group", "n_answered", "n", "score", "satisfied_pct", "dissatisfied_pct",
               "dont_know_pct"]
    if rows.empty:
        return empty(columns)
    valid = ~rows["dont_know"]
    rows = rows.assign(
        valid=valid,
        weight=rows["code"].map(weights).where(valid),
        top=rows["code"].isin(top) & valid,
        bottom=rows["code"].isin(bottom) & valid,
    )
    keys = ["question_id", "group"]
    table = aggregate(
        rows, keys, n_answered=("valid", "size"), n=("valid", "sum"), score=("weight", "mean"),
        n_top=("top", "sum"), n_bottom=("bottom", "sum"), n_dk=("dont_know", "sum"),
    )
    table["n"] = table["n"].astype("int64")
    denominator = table["n"].replace(0, np.nan)
    table["satisfied_pct"] = table["n_top"] / denominator * 100
    table["dissatisfied_pct"] = table["n_bottom"] / denominator * 100
    table["dont_know_pct"] = table["n_dk"] / table["n_answered"] * 100
    return order_rows(table, keys)[columns]


def enps(answers: Answers, indicative_below: int = 10) -> pd.DataFrame:
    """Compute the employee Net Promoter Score from 0-10 answers, with its 95% interval.

    eNPS = %(9-10) - %(0-6); SE = 100 * sqrt((p + d - (p - d)^2) / n) with p, d the promoter and
    detractor shares; interval eNPS +- 1.96 SE, clipped to -100..100; ``indicative`` when n is below
    `indicative_below`.

    Returns
    -------
    DataFrame
        Columns ``question_id, group, n, promoters_pct, passives_pct, detractors_pct, enps, se, ci_low,
        ci_high, indicative``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"enps": v}} for v in (10, 9, 8, 6)])
    >>> enps(answers).head(1)[["n", "enps", "indicative"]].to_dict("records")
    [{'n': 4, 'enps': 25.0, 'indicative': True}]
    """
    clean = prepare(answers).frame
    rows = clean.loc[(clean["qtype"] == "nps") & clean["value"].notna()]
    columns = ["question_id", "group", "n", "promoters_pct", "passives_pct", "detractors_pct", "enps", "se",
               "ci_low", "ci_high", "indicative"]
    if rows.empty:
        return empty(columns)
    rows = rows.assign(promoter=rows["value"] >= 9, detractor=rows["value"] <= 6)
    keys = ["question_id", "group"]
    table = aggregate(rows, keys, n=("value", "size"), p=("promoter", "mean"), d=("detractor", "mean"))
    table["promoters_pct"] = table["p"] * 100
    table["detractors_pct"] = table["d"] * 100
    table["passives_pct"] = 100 - table["promoters_pct"] - table["detractors_pct"]
    table["enps"] = table["promoters_pct"] - table["detractors_pct"]
    spread = (table["p"] + table["d"] - (table["p"] - table["d"]) ** 2).clip(lower=0)
    table["se"] = 100 * np.sqrt(spread / table["n"])
    table["ci_low"] = (table["enps"] - Z95 * table["se"]).clip(lower=-100)
    table["ci_high"] = (table["enps"] + Z95 * table["se"]).clip(upper=100)
    table["indicative"] = table["n"] < indicative_below
    return order_rows(table, keys)[columns]


def causes(answers: Answers) -> pd.DataFrame:
    """Rank the root causes: mean severity (1-5) and % rating 4-5, per group and pooled.

    The cause code is the question id without its ``cause_`` prefix. ``rank`` is 1 for the highest mean
    severity within the group (ties share the smaller rank).

    Returns
    -------
    DataFrame
        Columns ``cause, question_id, group, n, mean, pct_severe, rank``, sorted by group then rank.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"cause_pay": 5, "cause_skills": 2}},
    ...                           {"group": "office", "answers": {"cause_pay": 4, "cause_skills": 3}}])
    >>> causes(answers).query("group == 'office'")[["cause", "mean", "pct_severe", "rank"]].values.tolist()
    [['pay', 4.5, 100.0, 1], ['skills', 2.5, 0.0, 2]]
    """
    table = tally(prepare(answers), ["cause"], ["question_id"])
    columns = ["cause", "question_id", "group", "n", "mean", "pct_severe", "rank"]
    if table.empty:
        return empty(columns)
    table.insert(0, "cause", table["question_id"].str.removeprefix("cause_"))
    table["pct_severe"] = table["favourable"] / table["n"] * 100  # the share of ratings of 4 or 5
    table["rank"] = table.groupby("group")["mean"].rank(method="min", ascending=False).astype("int64")
    return order_rows(table, ["group", "rank", "cause"])[columns]
