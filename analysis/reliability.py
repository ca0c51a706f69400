"""Reliability of the dimensions: Cronbach's alpha and corrected item-total correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._util import Answers, empty, likert_rows, order_rows
from .errors import AnalysisError

__all__ = ["cronbach_alpha"]


def _alpha(matrix: np.ndarray) -> float:
    k = matrix.shape[1]
    total_var = matrix.sum(axis=1).var(ddof=1)
    if k < 2 or total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - matrix.var(axis=0, ddof=1).sum() / total_var))


def _complete_cases(part: pd.DataFrame) -> tuple[np.ndarray, list[object]]:
    """Return the ratings of the respondents who rated every question of part validly, and the questions.

    Rows are respondents in response-id order, columns questions in question-id order (as a pivot of
    part would give them); the categories of validated frames are sorted, so their codes sort the same.
    """
    people, person = np.unique(part["response_id"].cat.codes.to_numpy(), return_inverse=True)
    questions, question = np.unique(part["question_id"].cat.codes.to_numpy(), return_inverse=True)
    matrix = np.full((people.size, questions.size), np.nan)
    matrix[person, question] = part["value"].to_numpy(dtype=float)
    names = part["question_id"].cat.categories[questions].tolist()
    return matrix[~np.isnan(matrix).any(axis=1)], names


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def cronbach_alpha(
    answers: Answers,
    block: str = "perception",
    min_n: int = 30,
    alpha_min: float = 0.70,
    r_min: float = 0.30,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estimate each dimension's Cronbach's alpha on the pooled complete cases.

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the total score), over respondents
    who rated every item of the dimension validly (all groups pooled). The corrected item-total
    correlation of an item is its Pearson correlation with the sum of the dimension's other items.
    Below `min_n` complete cases nothing is estimated: alpha, r and the flags are None.

    Parameters
    ----------
    answers : DataFrame
        The tidy answers frame.
    block : str
        The block whose items form the scales.
    min_n : int
        Minimum number of complete cases.
    alpha_min, r_min : float
        Flag thresholds: ``low_alpha`` when alpha < alpha_min, ``low_r`` when r < r_min.

    Returns
    -------
    dimensions, items : DataFrame
        ``dimension, n, n_items, alpha, low_alpha`` and ``dimension, item, n, r_corrected, low_r``.

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> rows = [(1, 2, 2), (3, 3, 4), (5, 4, 5)] * 10
    >>> answers, _ = make_frames([{"group": "office", "answers": dict(zip(
    ...     ["goals_p1", "goals_p2", "goals_p3"], r))} for r in rows])
    >>> dims, items = cronbach_alpha(answers)
    >>> round(float(dims.loc[0, "alpha"]), 4), bool(dims.loc[0, "low_alpha"])
    (0.959, False)
    """
    if min_n < 2:
        raise AnalysisError("min_n must be at least 2")
    # validated: one answer per respondent and question
    rows = likert_rows(answers, [block], valid_only=False, columns=["response_id", "question_id", "dimension", "value"])
    rows = rows.loc[rows["dimension"].notna()]
    dim_cols = ["dimension", "n", "n_items", "alpha", "low_alpha"]
    item_cols = ["dimension", "item", "n", "r_corrected", "low_r"]
    if rows.empty:
        return empty(dim_cols), empty(item_cols)
    dims, items = [], []
    for dimension, part in rows.groupby("dimension", sort=False, observed=True):
        matrix, questions = _complete_cases(part)
        n, k = matrix.shape
        enough = n >= min_n and k >= 2
        alpha = _alpha(matrix) if enough else None
        dims.append({"dimension": dimension, "n": n, "n_items": k, "alpha": alpha,
                     "low_alpha": None if alpha is None or np.isnan(alpha) else bool(alpha < alpha_min)})
        for j, item in enumerate(questions):
            rest = np.delete(matrix, j, axis=1).sum(axis=1)
            r = _corr(matrix[:, j], rest) if enough else None
            items.append({"dimension": dimension, "item": item, "n": n, "r_corrected": r,
                          "low_r": None if r is None or np.isnan(r) else bool(r < r_min)})
    dims_table = pd.DataFrame(dims, columns=dim_cols)
    items_table = pd.DataFrame(items, columns=item_cols)
    dims_table["alpha"] = dims_table["alpha"].astype(float)
    items_table["r_corrected"] = items_table["r_corrected"].astype(float)
    # Flags are True / False / None (not estimated): keep them as Python objects.
    dims_table["low_alpha"] = dims_table["low_alpha"].astype(object)
    items_table["low_r"] = items_table["low_r"].astype(object)
    return order_rows(dims_table, ["dimension"]), order_rows(items_table, ["dimension", "item"])
