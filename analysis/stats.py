"""Small statistical building blocks: Wilson interval, Holm, Cliff's delta, Mann-Whitney, bootstrap.

Choice of Mann-Whitney p-value (see `mann_whitney`): respondent dimension scores are means of three or
four 1-5 ratings, so ties are common and samples are small (an office of 10-30 people).

* no ties and both samples of at most 50: the exact null distribution of U (scipy ``method="exact"``);
* ties and at most 60 respondents in all: a permutation test (scipy ``PermutationMethod``, 4,999 seeded
  resamples; scipy enumerates every split instead when there are fewer), which stays valid with ties
  where the exact table does not;
* otherwise the normal approximation with tie and continuity correction (scipy ``"asymptotic"``), which
  is accurate at those sizes. It is computed here, by scipy's formula (the tests check it against scipy),
  because importing scipy.stats takes about a second, which every results page of a large campaign would
  otherwise pay in a fresh worker; scipy is imported for the small samples only.

Bootstrap intervals resample the values with replacement. Drawing n indices per resample costs n x n_boot,
which is too much for a campaign of many thousands; above `RESAMPLE_MAX` draws, a resample is drawn as the
multinomial counts of the distinct values instead (a resample's mean depends on nothing else): the same
bootstrap distribution, from a different random stream, at a cost that does not grow with n.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from .errors import AnalysisError

__all__ = [
    "Z95",
    "bootstrap_diff_ci",
    "bootstrap_mean_ci",
    "cell_rng",
    "cliffs_delta",
    "effect_size_label",
    "holm",
    "mann_whitney",
    "wilson_interval",
]

#: The 97.5% quantile of the standard normal distribution.
Z95 = 1.959963984540054

EXACT_MAX_N = 50
PERMUTATION_MAX_TOTAL = 60
PERMUTATION_RESAMPLES = 4999
RESAMPLE_MAX = 2**18


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion (as proportions 0-1).

    Parameters
    ----------
    successes : int
        Number of successes, 0 <= successes <= n.
    n : int
        Number of trials; 0 gives (nan, nan).
    z : float
        Normal quantile; the default gives a 95% interval.

    Examples
    --------
    >>> lo, hi = wilson_interval(8, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.4902, 0.9433)
    """
    if n < 0 or successes < 0 or successes > n:
        raise AnalysisError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Adjust p-values for multiple tests with Holm's step-down method.

    None (a test not run) stays None and does not count as a test.

    Examples
    --------
    >>> holm([0.01, 0.04, None, 0.03])
    [0.03, 0.06, None, 0.06]
    """
    present = [(p, i) for i, p in enumerate(pvalues) if p is not None and not math.isnan(p)]
    m = len(present)
    adjusted: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def cliffs_delta(x: Sequence[float], y: Sequence[float]) -> float:
    """Return Cliff's delta, (#(x > y) - #(x < y)) / (n1 n2) over all pairs; nan if a sample is empty.

    Examples
    --------
    >>> cliffs_delta([3, 4, 5], [1, 2, 4])
    0.6666666666666666
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.size == 0 or b.size == 0 or np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    # Count the pairs from the sorted y rather than comparing all n1 x n2 of them (exact integer counts).
    ordered = np.sort(b)
    x_above = np.searchsorted(ordered, a, side="left").sum()
    x_below = (b.size - np.searchsorted(ordered, a, side="right")).sum()
    return float((x_above - x_below) / (a.size * b.size))


def effect_size_label(delta: float | None) -> str | None:
    """Name the size of a Cliff's delta with Romano et al.'s (2006) thresholds 0.147 / 0.33 / 0.474.

    Examples
    --------
    >>> effect_size_label(-0.5)
    'large'
    """
    if delta is None or math.isnan(delta):
        return None
    size = abs(delta)
    if size < 0.147:
        return "negligible"
    if size < 0.33:
        return "small"
    if size < 0.474:
        return "medium"
    return "large"


def mann_whitney(x: Sequence[float], y: Sequence[float], seed: int = 0) -> dict:
    """Run a two-sided Mann-Whitney U test, choosing the p-value method as the module explains.

    Returns
    -------
    dict
        ``u`` (U of sample x), ``p`` and ``method`` ("exact", "permutation" or "asymptotic").

    Examples
    --------
    >>> mann_whitney([4.0, 4.5, 5.0], [1.0, 2.0, 3.0])
    {'u': 9.0, 'p': 0.1, 'method': 'exact'}
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.size == 0 or b.size == 0:
        raise AnalysisError("Mann-Whitney needs two non-empty samples")
    both = np.concatenate([a, b])
    values, rank_of, ties = np.unique(both, return_inverse=True, return_counts=True)
    tied = values.size < both.size
    if (not tied and max(a.size, b.size) <= EXACT_MAX_N) or (tied and both.size <= PERMUTATION_MAX_TOTAL):
        from scipy import stats as _st  # small samples only (see the module)

        if tied:
            method = "permutation"
            how = _st.PermutationMethod(n_resamples=PERMUTATION_RESAMPLES, rng=np.random.default_rng(seed))
        else:
            method = how = "exact"
        res = _st.mannwhitneyu(a, b, alternative="two-sided", method=how)
        return {"u": float(res.statistic), "p": min(1.0, float(res.pvalue)), "method": method}
    # The normal approximation with tie and continuity correction (scipy's "asymptotic", two-sided).
    n1, n2, n = a.size, b.size, both.size
    mid_ranks = np.cumsum(ties) - (ties - 1) / 2
    u = float(mid_ranks[rank_of[:n1]].sum() - n1 * (n1 + 1) / 2)
    tie_term = float((ties.astype(float) ** 3 - ties).sum())
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    z = (max(u, n1 * n2 - u) - n1 * n2 / 2 - 0.5) / sd if sd > 0 else math.nan
    p = min(1.0, max(0.0, math.erfc(z / math.sqrt(2)))) if sd > 0 else 1.0
    return {"u": u, "p": p, "method": "asymptotic"}


def cell_rng(seed: int, *key: object) -> np.random.Generator:
    """Return a generator seeded by `seed` and a cell's key, so each cell's draws ignore the others.

    Examples
    --------
    >>> float(cell_rng(0, "service", "office").random()) == float(cell_rng(0, "service", "office").random())
    True
    """
    return np.random.default_rng([seed, zlib.crc32(repr(key).encode("utf-8"))])


def _resampled_means(data: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    """Return the means of n_boot resamples of data, with replacement (see the module on large samples)."""
    if data.size * n_boot <= RESAMPLE_MAX:
        return data[rng.integers(0, data.size, size=(n_boot, data.size))].mean(axis=1)
    levels, counts = np.unique(data, return_counts=True)
    return rng.multinomial(data.size, counts / data.size, size=n_boot) @ levels / data.size


def _percentile_ci(draws: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return (float(low), float(high))


def bootstrap_mean_ci(
    values: Sequence[float], rng: np.random.Generator, n_boot: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Return a percentile bootstrap interval of a mean (resampling the values with replacement).

    Examples
    --------
    >>> bootstrap_mean_ci([2.0, 2.0, 2.0], np.random.default_rng(0))
    (2.0, 2.0)
    """
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return (math.nan, math.nan)
    if n_boot < 1:
        raise AnalysisError("n_boot must be at least 1")
    return _percentile_ci(_resampled_means(data, rng, n_boot), level)


def bootstrap_diff_ci(
    x: Sequence[float],
    y: Sequence[float],
    rng: np.random.Generator,
    n_boot: int = 2000,
    level: float = 0.95,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval of mean(x) - mean(y), resampling each sample on its own.

    Examples
    --------
    >>> bootstrap_diff_ci([3.0, 3.0], [1.0, 1.0], np.random.default_rng(0))
    (2.0, 2.0)
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.size == 0 or b.size == 0:
        return (math.nan, math.nan)
    if n_boot < 1:
        raise AnalysisError("n_boot must be at least 1")
    draws_a = _resampled_means(a, rng, n_boot)
    draws_b = _resampled_means(b, rng, n_boot)
    return _percentile_ci(draws_a - draws_b, level)
