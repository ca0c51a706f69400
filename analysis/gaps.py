"""Gaps: SERVQUAL (perception - expectation), self-view vs customer view, importance-performance.

Intervals are percentile bootstraps that resample respondents, seeded per cell (`stats.cell_rng`), so
a figure does not change when other cells are added or removed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._grouping import (
    cells,
    codes,
    distinct_counts,
    find,
    grouped,
    has_repeats,
    per_category,
    plain_frame,
    positions,
)
from ._ratings import tally
from ._util import Answers, Prepared, check_choice, empty, likert_rows, order_rows, prepare, sort_rows
from .errors import AnalysisError
from .scores import respondent_scores
from .stats import (
    bootstrap_diff_ci,
    bootstrap_mean_ci,
    cell_rng,
    cliffs_delta,
    effect_size_label,
    holm,
    mann_whitney,
)

__all__ = [
    "add_quadrants",
    "importance_performance",
    "respondent_dimension_gaps",
    "self_view_gaps",
    "servqual_gaps",
]


def _pairs(answers: Answers) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per respondent and item: perception, expectation and gap (both valid); items per dimension.

    Computed once per prepared answers.
    """
    data = prepare(answers)

    def compute() -> tuple[pd.DataFrame, dict[str, int]]:
        every = likert_rows(data, ["perception", "expectation"], valid_only=False,
                            columns=["response_id", "group", "dimension", "item", "block", "value", "dont_know"])
        expected = (every["block"] == "expectation").to_numpy()
        described = expected & every["dimension"].notna().to_numpy()
        counts = distinct_counts(every.loc[described, ["dimension", "item"]], "dimension", "item")
        valid = (~every["dont_know"] & every["value"].notna()).to_numpy()
        sides = {"perception": np.flatnonzero(valid & (every["block"] == "perception").to_numpy()),
                 "expectation": np.flatnonzero(valid & expected)}
        # One integer per (respondent, item), from the categorical codes.
        n_items = len(every["item"].cat.categories) + 1
        bound = (len(every["response_id"].cat.categories) + 1) * n_items
        key = codes(every["response_id"]) * n_items + codes(every["item"])
        for block, rows in sides.items():
            if has_repeats(key[rows], bound):
                raise AnalysisError(f"a respondent has two {block} answers for one item")
        # An inner join, in the order of the perception rows (as DataFrame.merge does it).
        match = find(key[sides["perception"]], key[sides["expectation"]], bound)
        found = match >= 0
        cols = ["response_id", "group", "dimension", "item", "value"]
        pairs = every[cols].iloc[sides["perception"][found]].rename(columns={"value": "perception"})
        pairs = pairs.reset_index(drop=True)
        pairs["expectation"] = every["value"].to_numpy()[sides["expectation"][match[found]]]
        pairs["gap"] = pairs["perception"] - pairs["expectation"]
        return pairs, counts

    return data.memo("pairs", compute)


def respondent_dimension_gaps(answers: Answers, min_share: float = 0.5) -> pd.DataFrame:
    """Average each respondent's item gaps (perception - expectation) within each dimension.

    A respondent counts for a dimension when both ratings are valid for at least ``min_share`` of the
    dimension's paired items.

    Returns
    -------
    DataFrame
        Columns ``response_id, group, dimension, n_items, perception, expectation, gap``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {
    ...     "goals_p1": 3, "goals_e1": 5, "goals_p2": 4, "goals_e2": 4}}])
    >>> respondent_dimension_gaps(answers)[["n_items", "gap"]].to_dict("records")
    [{'n_items': 2, 'gap': -1.0}]
    """
    return plain_frame(_respondent_gaps(prepare(answers), min_share))


def _respondent_gaps(data: Prepared, min_share: float) -> pd.DataFrame:
    """`respondent_dimension_gaps` with categorical text columns, computed once per prepared answers."""
    if not 0 < min_share <= 1:
        raise AnalysisError(f"min_share must be in (0, 1], got {min_share}")

    def compute() -> pd.DataFrame:
        pairs, counts = _pairs(data)
        columns = ["response_id", "group", "dimension", "n_items", "perception", "expectation", "gap"]
        pairs = pairs.loc[pairs["dimension"].notna()]
        if pairs.empty:
            return empty(columns)
        table = grouped(pairs, ["response_id", "group", "dimension"], n_items=("gap", "size"),
                        perception=("perception", "mean"), expectation=("expectation", "mean"), gap=("gap", "mean"))
        needed = per_category(table["dimension"], {d: min_share * n - 1e-9 for d, n in counts.items()})
        return sort_rows(table.loc[table["n_items"] >= needed], ["dimension", "group", "response_id"])[columns]

    return data.memo(("respondent_gaps", min_share), compute)


def servqual_gaps(
    answers: Answers,
    level: str = "dimension",
    n_boot: int = 2000,
    seed: int = 0,
    min_share: float = 0.5,
) -> pd.DataFrame:
    """Average the SERVQUAL gap per item or dimension and group, with a bootstrap 95% interval.

    Parameters
    ----------
    answers : DataFrame
        The tidy answers frame.
    level : {"dimension", "item"}
        Item level averages per-respondent item gaps; dimension level averages per-respondent
        dimension gaps (see `respondent_dimension_gaps`).
    n_boot, seed : int
        Bootstrap resamples (of respondents) and seed.
    min_share : float
        Share of a dimension's items a respondent must have rated (dimension level).

    Returns
    -------
    DataFrame
        Columns ``dimension, [item,] group, n, perception, expectation, gap, ci_low, ci_high``
        (gap = perception - expectation; negative means the office falls short).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": p, "goals_e1": 5}}
    ...                           for p in (3, 4)])
    >>> servqual_gaps(answers).head(1)[["group", "n", "gap"]].to_dict("records")
    [{'group': 'office', 'n': 2, 'gap': -1.5}]
    """
    check_choice("level", level, ("item", "dimension"))
    if level == "item":
        people = _pairs(answers)[0]
        keys = ["dimension", "item", "group"]
    else:
        people = _respondent_gaps(prepare(answers), min_share)
        keys = ["dimension", "group"]
    columns = [*keys, "n", "perception", "expectation", "gap", "ci_low", "ci_high"]
    if people.empty:
        return empty(columns)
    values = {c: people[c].to_numpy(dtype=float) for c in ("perception", "expectation", "gap")}
    rows = []
    for key, index in cells(people, keys):
        gaps = values["gap"][index]
        low, high = bootstrap_mean_ci(gaps, cell_rng(seed, "servqual", *key), n_boot)
        rows.append({**dict(zip(keys, key, strict=True)), "n": len(index),
                     "perception": values["perception"][index].mean(),
                     "expectation": values["expectation"][index].mean(),
                     "gap": gaps.mean(), "ci_low": low, "ci_high": high})
    return order_rows(pd.DataFrame(rows), keys)[columns]


def self_view_gaps(
    answers: Answers,
    reference: str = "office",
    groups: Sequence[str] | None = None,
    k: int = 5,
    min_share: float = 0.5,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare the office's view of itself with each customer group's, per dimension.

    gap = mean perception of `reference` minus that of the group (respondent dimension scores), so a
    positive gap means the office rates itself higher than its customers do. Beside it: a bootstrap
    95% interval of the gap, Cliff's delta (reference vs group) and its size label, and a two-sided
    Mann-Whitney test (method chosen as `analysis.stats` explains) with Holm's correction across the
    dimensions compared for that group. The test runs only when both groups have at least `k`
    respondents; otherwise ``u``, ``p``, ``method`` and ``p_holm`` are None (descriptives only).

    Returns
    -------
    DataFrame
        Columns ``dimension, reference, group, n_reference, n, mean_reference, mean, gap, ci_low,
        ci_high, cliffs_delta, effect, u, p, method, p_holm``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames(
    ...     [{"group": "office", "answers": {"service_p1": v}} for v in (5, 5, 4)]
    ...     + [{"group": "grassroots", "answers": {"service_p1": v}} for v in (3, 2, 4)])
    >>> self_view_gaps(answers, k=3).round(3).head(1)[["gap", "cliffs_delta", "effect"]].to_dict("records")
    [{'gap': 1.667, 'cliffs_delta': 0.889, 'effect': 'large'}]
    """
    scores = respondent_scores(prepare(answers), "perception", min_share)
    if groups is None:
        present = order_rows(scores[["group"]].drop_duplicates(), ["group"])["group"]
        groups = [g for g in present if g != reference]
    columns = ["dimension", "reference", "group", "n_reference", "n", "mean_reference", "mean", "gap",
               "ci_low", "ci_high", "cliffs_delta", "effect", "u", "p", "method", "p_holm"]
    dimensions = list(pd.unique(scores["dimension"]))
    if not dimensions or not groups:
        return empty(columns)
    values = scores["score"].to_numpy(dtype=float)
    cell = positions(scores, ["dimension", "group"])
    nobody = np.array([], dtype=int)
    rows = []
    for group in groups:
        block = []
        for dimension in dimensions:
            x = values[cell.get((dimension, reference), nobody)]
            y = values[cell.get((dimension, group), nobody)]
            low, high = bootstrap_diff_ci(x, y, cell_rng(seed, "self_view", dimension, group), n_boot)
            delta = cliffs_delta(x, y)
            test = mann_whitney(x, y, seed) if min(x.size, y.size) >= max(k, 1) else None
            block.append({
                "dimension": dimension, "reference": reference, "group": group,
                "n_reference": int(x.size), "n": int(y.size),
                "mean_reference": x.mean() if x.size else math.nan, "mean": y.mean() if y.size else math.nan,
                "gap": x.mean() - y.mean() if x.size and y.size else math.nan,
                "ci_low": low, "ci_high": high, "cliffs_delta": delta, "effect": effect_size_label(delta),
                "u": test["u"] if test else None, "p": test["p"] if test else None,
                "method": test["method"] if test else None,
            })
        for row, adjusted in zip(block, holm([row["p"] for row in block]), strict=True):
            row["p_holm"] = adjusted
        rows.extend(block)
    table = pd.DataFrame(rows, columns=columns)
    for column in ("u", "p", "p_holm"):
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    return order_rows(table, ["dimension", "group"])[columns]


def importance_performance(answers: Answers, by_group: bool = False) -> pd.DataFrame:
    """Place each paired item on the importance-performance matrix.

    importance = mean expectation rating, performance = mean perception rating (valid answers);
    priority = importance x (5 - performance); quadrants against the grand means (see `add_quadrants`).
    Only items rated on both sides by someone are placed; a group that rated only one side of an item
    keeps its row, with a count of 0 and no mean on the other side.

    Parameters
    ----------
    answers : DataFrame
        The tidy answers frame.
    by_group : bool
        False: the pool only (``group == "all"``); True: every group and the pool.

    Returns
    -------
    DataFrame
        Columns ``dimension, item, group, n_importance, n_performance, importance, performance, priority,
        importance_mean, performance_mean, quadrant``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {
    ...     "goals_p1": 2, "goals_e1": 5, "goals_p2": 5, "goals_e2": 3}}])
    >>> importance_performance(answers)[["item", "priority", "quadrant"]].to_dict("records")
    [{'item': 'goals_p1', 'priority': 15.0, 'quadrant': 'concentrate_here'}, \
{'item': 'goals_p2', 'priority': 0.0, 'quadrant': 'possible_overkill'}]
    """
    columns = ["dimension", "item", "group", "n_importance", "n_performance", "importance", "performance",
               "priority", "importance_mean", "performance_mean", "quadrant"]
    stats = tally(prepare(answers), ["perception", "expectation"], ["dimension", "item", "block"], by_group=by_group)
    if stats.empty:
        return empty(columns)
    keys = ["dimension", "item", "group"]
    wide = stats.rename(columns={"n": "size"}).set_index([*keys, "block"])[["size", "mean"]].unstack("block")
    if ("mean", "expectation") not in wide.columns or ("mean", "perception") not in wide.columns:
        return empty(columns)
    # A group that rated only one side of an item keeps its row (count 0 on the other side), so that
    # the pool never holds people that no group row accounts for.
    table = pd.DataFrame({
        "n_importance": wide[("size", "expectation")].fillna(0).astype("int64"),
        "n_performance": wide[("size", "perception")].fillna(0).astype("int64"),
        "importance": wide[("mean", "expectation")], "performance": wide[("mean", "perception")],
    }).reset_index()
    items = table.groupby("item")[["n_importance", "n_performance"]].transform("sum")
    table = table.loc[(items["n_importance"] > 0) & (items["n_performance"] > 0)]
    table["priority"] = table["importance"] * (5 - table["performance"])
    return add_quadrants(order_rows(table, ["group", "dimension", "item"]))[columns]


def add_quadrants(table: pd.DataFrame) -> pd.DataFrame:
    """(Re)compute the crosshairs and quadrants of an importance-performance table, per group.

    The crosshairs are the means of the shown items' importance and performance: rows flagged
    ``suppressed`` are left out, so that the crosshair cannot reveal a hidden item. An item on a
    crosshair counts as high. Quadrants: high importance and low performance ``concentrate_here``;
    high and high ``keep_up_the_good_work``; low and low ``low_priority``; low and high
    ``possible_overkill``.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["all"] * 3, "importance": [5.0, 3.0, 4.0],
    ...                   "performance": [2.0, 4.0, 3.0]})
    >>> add_quadrants(t)["quadrant"].tolist()
    ['concentrate_here', 'possible_overkill', 'keep_up_the_good_work']
    """
    out = table.copy()
    shown = out[["importance", "performance"]].notna().all(axis=1)
    if "suppressed" in out.columns:
        shown &= ~out["suppressed"].fillna(False).astype(bool)
    out["importance_mean"] = np.nan
    out["performance_mean"] = np.nan
    out["quadrant"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for _, index in out.loc[shown].groupby("group", sort=False).groups.items():
        cell = out.loc[index]
        imp_mean, perf_mean = cell["importance"].mean(), cell["performance"].mean()
        high_imp = cell["importance"] >= imp_mean
        high_perf = cell["performance"] >= perf_mean
        quadrant = np.select(
            [high_imp & ~high_perf, high_imp & high_perf, ~high_imp & ~high_perf],
            ["concentrate_here", "keep_up_the_good_work", "low_priority"],
            "possible_overkill",
        )
        out.loc[index, "importance_mean"] = imp_mean
        out.loc[index, "performance_mean"] = perf_mean
        out.loc[index, "quadrant"] = quadrant
    return out
