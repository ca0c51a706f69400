"""Helpers shared by the table functions (not public)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from ._grouping import isin, plain, plain_frame
from .errors import AnalysisError
from .frames import validate_answers
from .labels import GROUP_ORDER, TOTAL


class Prepared:
    """A validated answers frame, and a memo of the tables derived from it (computed once, then shared).

    Every table function accepts the tidy answers frame or this object. `build_report` prepares the
    answers once, so that millions of rows are validated (and copied) once rather than by every table,
    and tables such as the respondents' dimension scores are computed once for all the figures using them.
    """

    def __init__(self, clean: pd.DataFrame) -> None:
        self.frame = clean
        self._memo: dict[Hashable, Any] = {}

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return compute(), computed on the first call with this key only (callers must not modify it)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


#: What the table functions take: the tidy answers frame, or `Prepared` answers.
Answers: TypeAlias = pd.DataFrame | Prepared


def prepare(answers: Answers) -> Prepared:
    """Validate an answers frame once (prepared answers are returned as they are)."""
    return answers if isinstance(answers, Prepared) else Prepared(validate_answers(answers))


def replace_values(column: pd.Series, mapping: Mapping[object, object]) -> pd.Series:
    """Return column.replace(mapping), for a categorical column too (its categories gain the new values)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        new = [v for v in dict.fromkeys(mapping.values()) if v not in column.cat.categories]
        column = column.cat.add_categories(new) if new else column
    return column.replace(mapping)


def with_pooled(frame: pd.DataFrame) -> pd.DataFrame:
    """Append a copy of every row with group = TOTAL, so one groupby gives groups and the pool."""
    frame = frame.assign(group=plain(frame["group"]))
    return pd.concat([frame, frame.assign(group=TOTAL)], ignore_index=True)


def _group_key(group: object, order: Mapping[object, int]) -> str:
    if group == TOTAL:
        return "2:"
    if group in order:
        return f"0:{order[group]:02d}"
    return f"1:{group}"


def group_rank(groups: pd.Series) -> pd.Series:
    """Sort key of group codes: known groups in GROUP_ORDER, then others by name, the pool last."""
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return plain(groups).map(lambda group: _group_key(group, order))


def _ranks(column: pd.Series, key: Callable[[object], str]) -> np.ndarray:
    """Integer sort key of a column: the rank of key(value) among the column's distinct values."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    ranks = pd.Series([key(u) for u in uniques], dtype=object).rank(method="dense").to_numpy()
    return ranks[codes]


def _text_ranks(column: pd.Series) -> np.ndarray:
    """Integer sort key of a text column: its string form, a missing value as ""."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if categories.is_monotonic_increasing and categories.dtype == "str" and "" not in categories:
            return column.cat.codes.to_numpy()  # validated frames' categories are sorted: codes sort the same
    return _ranks(column, lambda v: "" if pd.isna(v) else str(v))


def sort_rows(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Sort rows by keys, groups in report order, and return a fresh RangeIndex.

    Text keys sort by their string form (a missing value as ""), numeric keys by value, missing last.
    """
    if table.empty:
        return table.reset_index(drop=True)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    sort_keys = pd.DataFrame(index=table.index)
    for i, key in enumerate(keys):
        column = table[key]
        if key in ("group", "reference"):
            sort_keys[f"k{i}"] = _ranks(column, lambda g: _group_key(g, order))
        elif pd.api.types.is_numeric_dtype(column) and not isinstance(column.dtype, pd.CategoricalDtype):
            sort_keys[f"k{i}"] = column
        else:
            sort_keys[f"k{i}"] = _text_ranks(column)
    index = sort_keys.sort_values(list(sort_keys.columns), kind="stable").index
    return table.loc[index].reset_index(drop=True)


def order_rows(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """`sort_rows`, and no categorical columns (as every table shows them)."""
    return plain_frame(sort_rows(table, keys))


def likert_rows(answers: Answers, blocks: Sequence[str], *, valid_only: bool = True,
                columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Validate answers and keep the likert rows of some blocks (and only valid 1-5 answers).

    `columns` (default all) says which columns to keep: copying fewer of millions of rows saves time.
    """
    clean = prepare(answers).frame
    keep = isin(clean["qtype"], ["likert"]) & isin(clean["block"], blocks)
    if valid_only:
        keep &= ~clean["dont_know"].to_numpy() & clean["value"].notna().to_numpy()
    return clean.loc[keep, list(clean.columns if columns is None else columns)]


def check_choice(name: str, value: object, allowed: Sequence[object]) -> None:
    """Raise AnalysisError unless value is one of allowed."""
    if value not in allowed:
        raise AnalysisError(f"{name} must be one of {list(allowed)}, got {value!r}")


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """An empty table with the given columns."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
