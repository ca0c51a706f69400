"""Helpers shared by the table functions (not public)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .errors import AnalysisError
from .frames import validate_answers
from .labels import GROUP_ORDER, TOTAL


def with_pooled(frame: pd.DataFrame) -> pd.DataFrame:
    """Append a copy of every row with group = TOTAL, so one groupby gives groups and the pool."""
    return pd.concat([frame, frame.assign(group=TOTAL)], ignore_index=True)


def group_rank(groups: pd.Series) -> pd.Series:
    """Sort key of group codes: known groups in GROUP_ORDER, then others by name, the pool last."""
    order = {g: i for i, g in enumerate(GROUP_ORDER)}

    def key(group: object) -> str:
        if group == TOTAL:
            return "2:"
        if group in order:
            return f"0:{order[group]:02d}"
        return f"1:{group}"

    return groups.map(key)


def order_rows(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Sort rows by keys, groups in report order; return a fresh RangeIndex."""
    if table.empty:
        return table.reset_index(drop=True)
    sort_keys = pd.DataFrame(index=table.index)
    for i, key in enumerate(keys):
        column = table[key]
        if key in ("group", "reference"):
            sort_keys[f"k{i}"] = group_rank(column)
        elif pd.api.types.is_numeric_dtype(column):
            sort_keys[f"k{i}"] = column
        else:
            sort_keys[f"k{i}"] = column.astype(object).where(column.notna(), "").astype(str)
    index = sort_keys.sort_values(list(sort_keys.columns), kind="stable").index
    return table.loc[index].reset_index(drop=True)


def likert_rows(answers: pd.DataFrame, blocks: Sequence[str], *, valid_only: bool = True) -> pd.DataFrame:
    """Validate answers and keep the likert rows of some blocks (and only valid 1-5 answers)."""
    clean = validate_answers(answers)
    rows = clean.loc[(clean["qtype"] == "likert") & clean["block"].isin(list(blocks))]
    if valid_only:
        rows = rows.loc[~rows["dont_know"] & rows["value"].notna()]
    return rows


def check_choice(name: str, value: object, allowed: Sequence[object]) -> None:
    """Raise AnalysisError unless value is one of allowed."""
    if value not in allowed:
        raise AnalysisError(f"{name} must be one of {list(allowed)}, got {value!r}")


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """An empty table with the given columns."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
