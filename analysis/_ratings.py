"""The likert ratings of prepared answers as arrays, and their tallies per item cell and group (not public).

Most tables count or average the ratings per item (or a coarser key of the item: its dimension, ...) and
group. Grouping millions of rows by several text keys is what costs; here the rows are numbered once by
their item cell (block, dimension, item, question_id), and every tally is a few ``numpy.bincount`` calls.
Counts and sums of whole numbers are exact whatever the order of adding, so the figures are pandas' own; a
mean of ratings with fractions (which stored answers never have) is left to pandas, as `aggregate` does it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._grouping import aggregate, codes, group_ids, grouped, isin, plain_frame
from ._util import Prepared, likert_rows
from .labels import TOTAL

ITEM = ["block", "dimension", "item", "question_id"]
LEVELS = [f"c{v}" for v in range(1, 6)]


@dataclass(frozen=True)
class Ratings:
    """The likert answers of prepared answers (at most one per respondent and question), as arrays."""

    cells: pd.DataFrame  # ITEM of each cell (categorical)
    cell: np.ndarray  # per answer: its cell
    respondent: np.ndarray  # per answer: response_id code
    group: np.ndarray  # per answer: group code
    groups: pd.Index  # the group of each code
    value: np.ndarray  # per answer: the rating, NaN when not a valid one
    dont_know: np.ndarray  # per answer
    whole: bool  # every rating is a whole number


def ratings(data: Prepared) -> Ratings:
    """Return the likert answers of prepared answers as `Ratings` (computed once)."""

    def compute() -> Ratings:
        frame = data.frame
        likert = frame[[*ITEM, "response_id", "group", "value", "dont_know"]].iloc[
            np.flatnonzero(isin(frame["qtype"], ["likert"]))]
        cell, cells = group_ids(likert, ITEM)
        value = likert["value"].to_numpy(dtype=float)
        valid = value[~np.isnan(value)]
        return Ratings(cells=cells, cell=cell, respondent=likert["response_id"].cat.codes.to_numpy(),
                       group=likert["group"].cat.codes.to_numpy(), groups=frame["group"].cat.categories,
                       value=value, dont_know=likert["dont_know"].to_numpy(),
                       whole=bool(np.all(valid == np.trunc(valid))))

    return data.memo("ratings", compute)


def _cell_sums(data: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Per item cell and group: the additive figures of its answers, and of its valid ratings only.

    Two arrays of shape (cells, groups, len(_SUMS)), computed once: every tally adds up rows of these
    instead of going through the millions of answers again.
    """

    def compute() -> tuple[np.ndarray, np.ndarray]:
        r = ratings(data)
        size = len(r.cells) * len(r.groups)
        ids = r.cell.astype(np.int64) * len(r.groups) + r.group
        valid = ~np.isnan(r.value)
        value = np.where(valid, r.value, 0.0)
        level = np.where(valid & (value == np.trunc(value)) & (value >= 1) & (value <= 5), value, 0).astype(np.int64)
        # Column 0 of the histogram: answers that are no whole rating 1-5 (don't know, missing, fractions).
        histogram = np.bincount(ids * 6 + level, minlength=size * 6).reshape(size, 6).astype(float)

        def weighted(weights: np.ndarray) -> np.ndarray:
            return np.bincount(ids, weights=weights, minlength=size)

        every = np.column_stack([histogram.sum(axis=1), weighted(valid), weighted(r.dont_know), histogram[:, 1:],
                                 weighted(valid & (value >= 4)), weighted(value), weighted(value * value)])
        valid_only = every.copy()
        valid_only[:, 0] = every[:, 1]  # the rows of the valid ratings are the valid ratings
        valid_only[:, 2] = weighted(r.dont_know & valid)
        shape = (len(r.cells), len(r.groups), len(_SUMS))
        return every.reshape(shape), valid_only.reshape(shape)

    return data.memo("cell-sums", compute)


_SUMS = ["rows", "n", "dont_know", *LEVELS, "favourable", "sum", "sum_sq"]


def tally(
    data: Prepared,
    blocks: Sequence[str],
    keys: Sequence[str],
    *,
    valid_only: bool = True,
    by_group: bool = True,
    sd: bool = False,
    respondents: bool = False,
) -> pd.DataFrame:
    """Tally the likert answers of some blocks per keys of their item cell and group, and pooled (TOTAL).

    Returns one row per keys and group that has answers (as a groupby finds them): the keys, ``group``,
    ``n`` (valid ratings), ``dont_know``, ``c1`` .. ``c5`` (ratings of each value), ``favourable`` (ratings
    of 4 or more), ``mean`` of the ratings, and on request ``sd`` and ``respondents`` (how many rated).
    `valid_only` leaves out the answers without a valid rating (they count in no figure but make rows);
    without `by_group`, only the pooled rows.

    Counts and sums add up: the figures of a key are the sums of its item cells' (`_cell_sums`); only the
    respondents need the answers themselves.
    """
    r = ratings(data)
    keys = list(keys)
    chosen_cells = np.flatnonzero(isin(r.cells["block"], blocks))
    key_of_cell, table = group_ids(r.cells, keys)
    sums = np.zeros((len(table), len(r.groups), len(_SUMS)))
    np.add.at(sums, key_of_cell[chosen_cells], _cell_sums(data)[1 if valid_only else 0][chosen_cells])
    n_groups = len(r.groups)
    splits = [(sums.reshape(-1, len(_SUMS)), None)] if by_group else []
    if respondents:
        chosen = isin(r.cells["block"], blocks)[r.cell] & ~np.isnan(r.value)
        key = key_of_cell[r.cell[chosen]]
        per_key_group = _distinct(key * n_groups + r.group[chosen], len(table) * n_groups, r.respondent[chosen])
        per_key = _distinct(key, len(table), r.respondent[chosen])
    parts = []
    for figures, label in [*splits, (sums.sum(axis=1), TOTAL)]:
        frame = pd.DataFrame(figures, columns=_SUMS)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = frame["sum"] / frame["n"]
            # Exact for whole ratings (sums of whole numbers below 2**53); fractions are redone below.
            variance = (frame["n"] * frame["sum_sq"] - frame["sum"] ** 2) / (frame["n"] * (frame["n"] - 1))
        frame = frame.drop(columns=["sum", "sum_sq"]).astype(np.int64).assign(mean=mean)
        if sd:
            frame["sd"] = np.sqrt(variance.clip(lower=0)).where(frame["n"] > 1)
        if respondents:
            frame["respondents"] = per_key_group if label is None else per_key
        count = len(frame)
        if label is None:
            frame = frame.assign(key=np.arange(count) // n_groups, group=r.groups[np.arange(count) % n_groups])
        else:
            frame = frame.assign(key=np.arange(count), group=label)
        parts.append(frame.loc[frame.pop("rows") > 0])
    out = pd.concat(parts, ignore_index=True)
    out = pd.concat([plain_frame(table).iloc[out.pop("key")].reset_index(drop=True), out], axis=1)
    if not r.whole and len(out):  # pandas' own means (and sds), which depend on the order of adding fractions
        rows = likert_rows(data, blocks, valid_only=valid_only, columns=[*keys, "group", "value"])
        named = {"mean": ("value", "mean")} | ({"sd": ("value", "std")} if sd else {})
        means = (aggregate(rows, [*keys, "group"], **named) if by_group
                 else plain_frame(grouped(rows.assign(group=TOTAL), [*keys, "group"], **named)))
        out = out.drop(columns=list(named)).merge(means, on=[*keys, "group"], how="left", validate="one_to_one")
    return out


def _distinct(ids: np.ndarray, count: int, respondent: np.ndarray) -> np.ndarray:
    """How many distinct respondents the answers of each number (0 .. count - 1) have."""
    width = int(respondent.max(initial=0)) + 1
    pairs = pd.unique(ids.astype(np.int64) * width + respondent)
    return np.bincount(pairs // width, minlength=count)


def per_respondent(data: Prepared, block: str) -> pd.DataFrame:
    """Count and average each respondent's valid ratings of the questions of `block`, per dimension.

    Returns ``response_id, group, block, dimension, n_items, score`` (categorical keys, in no particular
    order) for the ratings of questions with a dimension: what grouping those rows by the keys gives.
    """
    r = ratings(data)
    frame = data.frame
    chosen_cells = isin(r.cells["block"], [block]) & r.cells["dimension"].notna().to_numpy()
    chosen = chosen_cells[r.cell] & ~np.isnan(r.value)
    width = len(frame["dimension"].cat.categories) + 1
    ids = r.respondent[chosen].astype(np.int64) * width + codes(r.cells["dimension"])[r.cell[chosen]]
    bound = (len(frame["response_id"].cat.categories) + 1) * width
    n = np.bincount(ids, minlength=bound)
    present = np.flatnonzero(n)
    sums = np.bincount(ids, weights=r.value[chosen], minlength=bound)
    respondent, dimension = present // width, present % width - 1
    group_of = np.zeros(bound // width, dtype=np.int64)
    group_of[r.respondent] = r.group  # one group per respondent (validated)
    table = pd.DataFrame({
        "response_id": pd.Categorical.from_codes(respondent, dtype=frame["response_id"].dtype),
        "group": pd.Categorical.from_codes(group_of[respondent], dtype=frame["group"].dtype),
        "block": pd.Categorical([block] * len(present), dtype=frame["block"].dtype),
        "dimension": pd.Categorical.from_codes(dimension, dtype=frame["dimension"].dtype),
        "n_items": n[present],
        "score": sums[present] / n[present],
    })
    if not r.whole and len(table):  # pandas' own means, which depend on the order of adding fractions
        keys = ["response_id", "group", "block", "dimension"]
        rows = likert_rows(data, [block], columns=[*keys, "value"])
        means = grouped(rows.loc[rows["dimension"].notna()], keys, score=("value", "mean"))
        table = table.drop(columns="score").merge(means, on=keys, how="left", validate="one_to_one")
    return table
