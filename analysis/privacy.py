"""The privacy guards: every table, filter and comment list the head sees passes through here.

* `suppress`: any row describing fewer than k respondents loses its figures (NaN / None) and gets
  ``suppressed = True``; an empty row looks exactly the same. Complementary suppression: within each
  cell (same item, dimension, ...), while the hidden groups together describe fewer than k people, the
  next smallest group is hidden too, so "pool minus the shown groups" never describes fewer than k.
* `merge_groups`: the ``leaders`` group is reported within ``departments`` unless it reaches k.
* `check_filter`: a filter whose selection or complement is smaller than k raises `FilterRefused`.
* `visible_comments`: comments only from groups with at least k_comments respondents, shuffled, with
  nothing but the question id and the text.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from ._util import group_rank, replace_values
from .errors import AnalysisError, FilterRefused
from .frames import validate_comments
from .labels import DEFAULT_K, DEFAULT_K_COMMENTS, MERGED, TOTAL

__all__ = [
    "KEY_COLUMNS",
    "check_filter",
    "group_merges",
    "hidden_groups",
    "merge_groups",
    "suppress",
    "visible_comments",
]

#: Columns that name a cell rather than describe people; they survive suppression.
KEY_COLUMNS = frozenset({
    "campaign_id", "campaign_from", "campaign_to", "wave", "block", "measure", "dimension", "item",
    "question_id", "cause", "theme", "raters", "group", "reference", "maps_to",
})


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise AnalysisError(f"k must be a positive integer, got {k!r}")


def _complement(hidden: np.ndarray, counts: np.ndarray, ranks: np.ndarray, positions: np.ndarray,
                k: int) -> None:
    """Hide the next smallest groups of one cell until, for every count column, the hidden rows
    describe 0 or at least k people (ranks: the rows' `group_rank`, for ties)."""
    size = counts.min(axis=1)
    while True:
        hidden_totals = counts[positions][hidden[positions]].sum(axis=0)
        if ((hidden_totals == 0) | (hidden_totals >= k)).all():
            return
        candidates = [p for p in positions if not hidden[p] and counts[p].max() > 0]
        if not candidates:
            return
        hidden[min(candidates, key=lambda p: (size[p], ranks[p]))] = True


def _blank(column: pd.Series, hidden: np.ndarray) -> pd.Series:
    if not hidden.any():
        return column
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float).where(~hidden)
    return column.astype(object).where(~hidden, None)


def suppress(
    table: pd.DataFrame,
    k: int = DEFAULT_K,
    *,
    n_cols: Sequence[str] = ("n",),
    group_col: str = "group",
    by: Sequence[str] | None = None,
    total_label: str = TOTAL,
    complementary: bool = True,
    hide: Sequence[bool] | pd.Series | None = None,
    keys: Collection[str] = KEY_COLUMNS,
) -> pd.DataFrame:
    """Hide every row that describes fewer than k respondents, and the rows that would reveal it.

    Parameters
    ----------
    table : DataFrame
        Any table of this library (one row per cell).
    k : int
        Minimum number of respondents a shown row may describe.
    n_cols : sequence of str
        The columns counting the respondents a row describes; a row is hidden when any is below k
        (NaN counts as 0). A gap between two groups names both counts. Complementary suppression
        holds for each count column separately.
    group_col : str
        The respondent-group column; rows with `total_label` there are the pool. Without this column,
        complementary suppression does not apply.
    by : sequence of str, optional
        Columns that define a cell within which groups add up to the pool; default: the key columns
        (`KEY_COLUMNS` or `keys`) of the table other than `group_col`.
    total_label : str
        The group value of pooled rows.
    complementary : bool
        Apply complementary suppression within each cell.
    hide : boolean sequence, optional
        Rows to hide in any case (e.g. groups hidden elsewhere, so that two tables cannot be
        subtracted); rows already flagged ``suppressed`` stay hidden too.
    keys : collection of str
        Columns that name cells; every other column is a figure and is blanked when hidden.

    Returns
    -------
    DataFrame
        A copy with a fresh index, figures (including the counts) blanked on hidden rows, and a boolean
        ``suppressed`` column. Empty rows (n = 0) are hidden too, so they look the same.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["office", "departments", "grassroots", "all"],
    ...                   "n": [8, 6, 3, 17], "mean": [4.1, 3.5, 2.0, 3.5]})
    >>> suppress(t, 5)[["group", "n", "mean", "suppressed"]].values.tolist()
    [['office', 8.0, 4.1, False], ['departments', nan, nan, True], ['grassroots', nan, nan, True], \
['all', 17.0, 3.5, False]]
    """
    _check_k(k)
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("suppress needs a DataFrame")
    missing = [c for c in n_cols if c not in table.columns]
    if missing or not n_cols:
        raise AnalysisError(f"table lacks the count columns {missing or list(n_cols)}")
    out = table.reset_index(drop=True)
    counts = out[list(n_cols)].apply(pd.to_numeric, errors="coerce").fillna(0)
    hidden = (counts < k).any(axis=1).to_numpy(dtype=bool, copy=True)
    count_matrix = counts.to_numpy(dtype=float)
    if "suppressed" in out.columns:
        hidden |= out["suppressed"].fillna(True).astype(bool).to_numpy()
    if hide is not None:
        mask = np.asarray(hide, dtype=bool)
        if mask.shape != hidden.shape:
            raise AnalysisError(f"hide has {mask.size} entries for {len(out)} rows")
        hidden |= mask
    if complementary and group_col in out.columns and len(out):
        cell_cols = [c for c in (by if by is not None else [c for c in out.columns if c in keys])
                     if c != group_col]
        missing = [c for c in cell_cols if c not in out.columns]
        if missing:
            raise AnalysisError(f"table lacks the cell columns {missing}")
        cells = (out.groupby(cell_cols, dropna=False, sort=False).ngroup().to_numpy() if cell_cols
                 else np.zeros(len(out), dtype=int))
        groups = out[group_col].to_numpy()
        not_total = groups != total_label
        ranks = group_rank(pd.Series(groups)).to_numpy()
        for cell in np.unique(cells):
            positions = np.flatnonzero((cells == cell) & not_total)
            _complement(hidden, count_matrix, ranks, positions, k)
    figures = [c for c in out.columns if c not in keys and c != group_col and c != "suppressed"
               and c not in (by or ())]
    for column in figures:
        out[column] = _blank(out[column], hidden)
    out["suppressed"] = hidden
    return out


def hidden_groups(sizes: Mapping[str, int] | pd.Series, k: int = DEFAULT_K) -> set[str]:
    """Name the groups whose respondent count must be hidden (small ones and their complements).

    Examples
    --------
    >>> sorted(hidden_groups({"office": 8, "departments": 6, "grassroots": 3}, 5))
    ['departments', 'grassroots']
    """
    sizes = dict(sizes)
    if TOTAL in sizes:
        raise AnalysisError(f"no group may be called {TOTAL!r}")
    table = pd.DataFrame({"group": [*sizes, TOTAL], "n": [*sizes.values(), sum(sizes.values())]})
    out = suppress(table, k)
    return {g for g, s in zip(out["group"], out["suppressed"], strict=True) if s and g != TOTAL}


def group_merges(
    sizes: Mapping[str, int] | pd.Series,
    k: int = DEFAULT_K,
    source: str = "leaders",
    into: str = "departments",
) -> dict[str, str]:
    """Say which groups are reported inside another: ``{source: into}`` when source has 1..k-1 people.

    Examples
    --------
    >>> group_merges({"office": 9, "leaders": 2}, 5)
    {'leaders': 'departments'}
    >>> group_merges({"office": 9, "leaders": 5}, 5)
    {}
    """
    _check_k(k)
    n = int(dict(sizes).get(source, 0))
    return {source: into} if 0 < n < k else {}


def reported_groups(sizes: Mapping[str, int] | pd.Series, k: int = DEFAULT_K) -> dict[str, str]:
    """Map each group to the group it is reported under in row-level outputs (exports, counts).

    The leaders are merged as in every table (`group_merges`); then every group whose size must be hidden
    (`hidden_groups`: small ones and their complements, together 0 or at least k people) is reported as
    one group, ``MERGED``, so that no reported group has fewer than k respondents.

    Examples
    --------
    >>> reported_groups({"office": 9, "departments": 6, "grassroots": 2, "leaders": 1}, 5)
    {'office': 'office', 'departments': 'merged', 'grassroots': 'merged', 'leaders': 'merged'}
    >>> reported_groups({"office": 9, "departments": 6, "leaders": 5}, 5)
    {'office': 'office', 'departments': 'departments', 'leaders': 'leaders'}
    """
    merges = group_merges(sizes, k)
    merged_sizes: dict[str, int] = {}
    for group, n in dict(sizes).items():
        target = merges.get(group, group)
        merged_sizes[target] = merged_sizes.get(target, 0) + int(n)
    hidden = hidden_groups(merged_sizes, k)
    result = {}
    for group in dict(sizes):
        target = merges.get(group, group)
        result[group] = MERGED if target in hidden else target
    return result


def merge_groups(
    frame: pd.DataFrame,
    k: int = DEFAULT_K,
    sizes: Mapping[str, int] | pd.Series | None = None,
    source: str = "leaders",
    into: str = "departments",
) -> pd.DataFrame:
    """Report `source` (局领导) within `into` (机关其他科室) unless it has at least k respondents.

    Works on the answers frame and the comments frame alike. `sizes` (respondents per group) default
    to the distinct response ids per group of `frame`; pass the answers' sizes for a comments frame.

    Examples
    --------
    >>> f = pd.DataFrame({"response_id": ["a", "b", "c"], "group": ["leaders", "departments", "office"]})
    >>> merge_groups(f, 5)["group"].tolist()
    ['departments', 'departments', 'office']
    """
    if "group" not in frame.columns:
        raise AnalysisError("frame lacks a group column")
    if sizes is None:
        if "response_id" not in frame.columns:
            raise AnalysisError("pass sizes, or a frame with response_id")
        sizes = frame.drop_duplicates("response_id").groupby("group").size()
    merges = group_merges(sizes, k, source, into)
    out = frame.copy()
    if merges:
        out["group"] = replace_values(out["group"], merges)
    return out


def check_filter(n_selected: int, n_total: int, k: int = DEFAULT_K) -> None:
    """Refuse a filter whose selection, or whose complement, has fewer than k respondents.

    A selection of everyone (empty complement) is allowed: it shows nothing new.

    Raises
    ------
    FilterRefused
        With a message that does not state the sizes.

    Examples
    --------
    >>> check_filter(12, 20, 5)
    >>> check_filter(17, 20, 5)
    Traceback (most recent call last):
    ...
    analysis.errors.FilterRefused: 筛选结果或其余部分少于 5 人，为保护匿名不予显示。\
 The selection or the rest has fewer than 5 respondents; it is not shown, to protect anonymity.
    """
    _check_k(k)
    for name, value in (("n_selected", n_selected), ("n_total", n_total)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise AnalysisError(f"{name} must be a non-negative integer, got {value!r}")
    if n_selected > n_total:
        raise AnalysisError("the selection cannot be larger than the total")
    rest = n_total - n_selected
    if n_selected < k or 0 < rest < k:
        raise FilterRefused(
            f"筛选结果或其余部分少于 {k} 人，为保护匿名不予显示。 The selection or the rest has fewer than"
            f" {k} respondents; it is not shown, to protect anonymity."
        )


def visible_comments(
    comments: pd.DataFrame,
    sizes: Mapping[str, int] | pd.Series,
    k_comments: int = DEFAULT_K_COMMENTS,
    seed: int | None = None,
) -> pd.DataFrame:
    """Return the comments that may be shown: from groups of at least `k_comments` respondents, shuffled.

    Parameters
    ----------
    comments : DataFrame
        The comments frame (``response_id, group, question_id, text``).
    sizes : mapping or Series
        Respondents per group (e.g. `analysis.frames.group_sizes` of the answers).
    k_comments : int
        Minimum group size for showing its comments.
    seed : int, optional
        Seed of the shuffle; None shuffles differently each time.

    Returns
    -------
    DataFrame
        Columns ``question_id, text`` only (never the group or the response), in random order.

    Examples
    --------
    >>> c = pd.DataFrame({"response_id": ["a", "b"], "group": ["office", "leaders"],
    ...                   "question_id": ["improve_one"] * 2, "text": ["多下基层", "设备太旧"]})
    >>> visible_comments(c, {"office": 12, "leaders": 2}, 10, seed=0).to_dict("records")
    [{'question_id': 'improve_one', 'text': '多下基层'}]
    """
    _check_k(k_comments)
    clean = validate_comments(comments)
    sizes = dict(sizes)
    eligible = clean["group"].map(lambda g: sizes.get(g, 0) >= k_comments).astype(bool)
    shown = clean.loc[eligible, ["question_id", "text"]].reset_index(drop=True)
    order = np.random.default_rng(seed).permutation(len(shown))
    return shown.iloc[order].reset_index(drop=True)
