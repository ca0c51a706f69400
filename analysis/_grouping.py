"""Categorical columns, and grouping, counting and matching millions of rows by their codes (not public).

pandas finds groups by hashing the keys of every row; with categorical keys, one integer per row made from
the codes does the same work in a few array operations. Integer keys below a bound not much larger than
their number are counted with arrays indexed by key, others with a hash table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from .labels import TOTAL


def plain(column: pd.Series) -> pd.Series:
    """Return a categorical column with the dtype of its categories (other columns as they are)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype(column.cat.categories.dtype)
    return column


def plain_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Return the table with every categorical column made `plain` (what the tables show)."""
    categorical = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    return table.assign(**{c: plain(table[c]) for c in categorical}) if categorical else table


def codes(column: pd.Series) -> np.ndarray:
    """The categorical codes of a column as int64 counting from 1 (0: missing)."""
    return np.add(column.cat.codes.to_numpy(), 1, dtype=np.int64)


def isin(column: pd.Series, values: Collection[object]) -> np.ndarray:
    """Return column.isin(values) as an array; for a categorical column, from a table of its categories."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.isin(list(values)).to_numpy()
    wanted = np.append(column.cat.categories.isin(list(values)), False)  # the last for code -1 (missing)
    return wanted[column.cat.codes.to_numpy()]


def per_category(column: pd.Series, mapping: Mapping[object, float]) -> np.ndarray:
    """Return mapping[value] (NaN if absent or missing) for each value of a categorical column."""
    values = np.array([*(mapping.get(c, np.nan) for c in column.cat.categories), np.nan], dtype=float)
    return values[column.cat.codes.to_numpy()]  # code -1 (missing) takes the last


def _small(bound: int, n: int) -> bool:
    return bound <= 4 * n + 1024


def _dense(values: np.ndarray, bound: int) -> tuple[np.ndarray, int]:
    """Renumber non-negative integers below bound as 0, 1, ... (in increasing order); return them and how many."""
    if _small(bound, len(values)):
        present = np.bincount(values, minlength=bound) > 0
        return (np.cumsum(present) - 1)[values], int(present.sum())
    ids, uniques = pd.factorize(values)
    return ids, len(uniques)


def has_repeats(keys: np.ndarray, bound: int) -> bool:
    """Whether some of the non-negative integer keys below bound occur more than once."""
    if _small(bound, len(keys)):
        return bool(len(keys)) and int(np.bincount(keys, minlength=bound).max()) > 1
    return bool(pd.Index(keys).has_duplicates)


def find(needles: np.ndarray, haystack: np.ndarray, bound: int) -> np.ndarray:
    """Return the position of each needle in haystack (distinct keys), -1 where absent; keys are below bound."""
    if _small(bound, len(needles) + len(haystack)):
        slot = np.full(bound, -1, dtype=np.intp)
        slot[haystack] = np.arange(len(haystack))
        return slot[needles]
    return pd.Index(haystack).get_indexer(needles)


def distinct_counts(rows: pd.DataFrame, by: str, of: str) -> dict[object, int]:
    """Return ``dict(rows.groupby(by)[of].nunique())`` for two categorical columns, from their codes."""
    seen = np.zeros((len(rows[by].cat.categories) + 1, len(rows[of].cat.categories) + 1), dtype=bool)
    seen[codes(rows[by]), codes(rows[of])] = True  # row and column 0: missing
    return {name: int(seen[i, 1:].sum())
            for i, name in enumerate(rows[by].cat.categories, start=1) if seen[i].any()}


def group_ids(rows: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Number the groups of rows per keys in order of first appearance (missing values make groups too).

    Returns each row's group number and the groups' keys, one row per group: what
    ``rows.groupby(keys, sort=False, dropna=False)`` finds, computed from one integer per row (much faster
    for millions of rows with several categorical keys).
    """
    combined = np.zeros(len(rows), dtype=np.int64)
    bound, offset = 1, 0  # offset: the 1 added to every categorical code (-1 for missing), added once at the end
    for key in keys:
        column = rows[key]
        if isinstance(column.dtype, pd.CategoricalDtype):
            numbers, size, shift = column.cat.codes.to_numpy(), len(column.cat.categories) + 1, 1
        else:
            numbers, uniques = pd.factorize(column, use_na_sentinel=False)
            size, shift = max(len(uniques), 1), 0
        if bound * size >= 2**62:  # renumber the combinations so far before they overflow
            combined, bound = _dense(combined + offset, bound)
            offset = 0
        combined *= size
        combined += numbers
        bound, offset = bound * size, offset * size + shift
    ids, count = _dense(combined + offset, bound)
    firsts = np.full(count, len(rows))
    np.minimum.at(firsts, ids, np.arange(len(rows)))
    order = np.argsort(firsts)
    renumber = np.empty(count, dtype=np.intp)
    renumber[order] = np.arange(count)
    return renumber[ids], rows[list(keys)].iloc[firsts[order]].reset_index(drop=True)


def grouped(rows: pd.DataFrame, keys: Sequence[str], **named: tuple[str, str]) -> pd.DataFrame:
    """Return ``rows.groupby(keys, sort=False, dropna=False).agg(**named).reset_index()``."""
    ids, groups = group_ids(rows, keys)
    return pd.concat([groups, _agg(rows, ids, len(groups), named)], axis=1)


def _agg(rows: pd.DataFrame, ids: np.ndarray, count: int, named: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Aggregate the rows of each group number 0 .. count - 1; counting is done with numpy (exactly)."""
    figures = {}
    for name, (column, how) in named.items():
        if how == "size":
            figures[name] = np.bincount(ids, minlength=count)
        elif how == "sum" and rows[column].dtype == bool:
            figures[name] = np.bincount(ids, weights=rows[column].to_numpy(), minlength=count).astype(np.int64)
        elif (how == "nunique" and isinstance(rows[column].dtype, pd.CategoricalDtype)
              and _small(count * (len(rows[column].cat.categories) + 1), len(ids))):
            width = len(rows[column].cat.categories) + 1
            seen = np.bincount(ids * width + codes(rows[column]), minlength=count * width).reshape(count, width)
            figures[name] = (seen[:, 1:] > 0).sum(axis=1)  # column 0: missing, which nunique does not count
        elif how == "mean" and rows[column].dtype.kind in "fi" and not _fractional(rows[column]):
            # Sums of whole numbers are exact in any order, so sum / count is pandas' mean to the last bit.
            values = rows[column].to_numpy(dtype=float)
            valid = ~np.isnan(values)
            with np.errstate(invalid="ignore", divide="ignore"):
                figures[name] = (np.bincount(ids, weights=np.where(valid, values, 0.0), minlength=count)
                                 / np.bincount(ids, weights=valid, minlength=count))
    rest = {name: spec for name, spec in named.items() if name not in figures}
    if rest:  # the group numbers as categorical codes, so that pandas need not find the groups again
        by = pd.Categorical.from_codes(ids, categories=pd.RangeIndex(count))
        values = rows[list(dict.fromkeys(column for column, _ in rest.values()))]
        table = values.groupby(by, observed=False).agg(**rest)
        figures |= {name: table[name].to_numpy() for name in rest}
    return pd.DataFrame({name: figures[name] for name in named})


def _fractional(column: pd.Series) -> bool:
    """Whether a column holds numbers with fractions (sums of which depend on the order of adding)."""
    if column.dtype.kind != "f":
        return False
    values = column.to_numpy()
    fractions = values - np.trunc(values)
    return bool(np.any(fractions[~np.isnan(fractions)]))


def _pooled_ids(rows: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, pd.DataFrame]:
    """`group_ids` of rows per keys, and per keys without ``group`` (the pools, found from the groups)."""
    ids, groups = group_ids(rows, keys)
    # The groups are numbered in order of first appearance, so the pools of the groups are too.
    pool_of_group, pools = group_ids(groups, [k for k in keys if k != "group"])
    return ids, groups, pool_of_group[ids], pools


def aggregate(rows: pd.DataFrame, keys: Sequence[str], **named: tuple[str, str]) -> pd.DataFrame:
    """Aggregate rows per keys (one of them ``group``), and again with all groups pooled as TOTAL.

    The same table as ``with_pooled(rows).groupby(keys, sort=False, dropna=False).agg(**named)``, to the
    last bit, without copying the rows: pandas adds up the groups that follow one another in the rows with
    numpy's pairwise sum, and interleaved ones with a compensated sum, which agree unless the numbers have
    fractions; for a mean of those, the rows are laid out as with_pooled does (the pool after the groups).
    """
    keys = list(keys)
    ids, groups, pooled_ids, pools = _pooled_ids(rows, keys)
    table = pd.concat([plain_frame(groups), plain_frame(pools).assign(group=TOTAL)[keys]], ignore_index=True)
    values = rows[list(dict.fromkeys(column for column, _ in named.values()))]
    if any(how == "mean" and _fractional(values[column]) for column, how in named.values()):
        figures = _agg(pd.concat([values, values], ignore_index=True),
                       np.concatenate([ids, pooled_ids + len(groups)]), len(table), named)
    else:
        figures = pd.concat([_agg(values, ids, len(groups), named), _agg(values, pooled_ids, len(pools), named)],
                            ignore_index=True)
    return pd.concat([table, figures], axis=1)


def positions(rows: pd.DataFrame, keys: Sequence[str]) -> dict[tuple, np.ndarray]:
    """Return the row positions (in row order) of each group of rows per keys, missing values included."""
    return dict(_split(*group_ids(rows, keys))) if len(rows) else {}


def cells(rows: pd.DataFrame, keys: Sequence[str]) -> list[tuple[tuple, np.ndarray]]:
    """Return the key and row positions of every cell of rows per keys (one of them ``group``), pools last.

    The cells of ``with_pooled(rows).groupby(keys, dropna=False)``, each pooled cell keyed with group TOTAL;
    positions are in row order.
    """
    keys = list(keys)
    at = keys.index("group")
    if rows.empty:
        return []
    ids, groups, pooled_ids, pools = _pooled_ids(rows, keys)
    return [*_split(ids, groups), *(((*key[:at], TOTAL, *key[at:]), index) for key, index in _split(pooled_ids, pools))]


def _split(ids: np.ndarray, groups: pd.DataFrame) -> list[tuple[tuple, np.ndarray]]:
    """Pair each group's key with the positions (in row order) of its rows."""
    # numpy sorts integers of 16 bits by radix sort, much faster than other ones
    narrow = ids.astype(np.uint16) if len(groups) <= 2**16 else ids
    split = np.split(np.argsort(narrow, kind="stable"), np.cumsum(np.bincount(ids, minlength=len(groups)))[:-1])
    return list(zip(groups.itertuples(index=False, name=None), split, strict=True))
