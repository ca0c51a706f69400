"""Wave over wave: each dimension's score and SERVQUAL gap per campaign, and the change between waves.

Waves are independent samples (anonymous respondents cannot be linked), so the interval of a change
resamples each wave's respondents on its own. A change is ``improved`` when its 95% interval lies above
zero, ``worse`` when below, ``no clear change`` otherwise (for both measures higher is better).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._grouping import positions
from ._util import Answers, Prepared, empty, order_rows, prepare, with_pooled
from .errors import AnalysisError
from .gaps import respondent_dimension_gaps
from .scores import respondent_dimension_scores
from .stats import bootstrap_diff_ci, cell_rng

__all__ = ["wave_changes", "wave_scores"]

_KEYS = ["measure", "dimension", "group"]


def _people(frames: Sequence[Answers], min_share: float) -> pd.DataFrame:
    """Respondent-level score and gap per wave, long format, with the pool."""
    if isinstance(frames, pd.DataFrame) or len(frames) == 0:
        raise AnalysisError("pass a sequence of answers frames, one per campaign, in time order")
    parts = []
    for wave, frame in enumerate(frames, start=1):
        table = frame.frame if isinstance(frame, Prepared) else frame
        campaigns = pd.unique(table["campaign_id"]) if "campaign_id" in table.columns else []
        if len(campaigns) != 1:
            raise AnalysisError(f"wave {wave} must hold exactly one campaign, got {list(campaigns)}")
        data = prepare(frame)
        scores = respondent_dimension_scores(data, "perception", min_share)
        scores = scores.rename(columns={"score": "value"})
        gaps = respondent_dimension_gaps(data, min_share).rename(columns={"gap": "value"})
        for measure, table in (("score", scores), ("gap", gaps)):
            if not table.empty:
                parts.append(table[["response_id", "group", "dimension", "value"]].assign(
                    campaign_id=campaigns[0], wave=wave, measure=measure))
    if not parts:
        return empty(["response_id", "group", "dimension", "value", "campaign_id", "wave", "measure"])
    return with_pooled(pd.concat(parts, ignore_index=True))


def wave_scores(frames: Sequence[Answers], min_share: float = 0.5) -> pd.DataFrame:
    """Give each dimension's mean score and mean gap per wave and group.

    Parameters
    ----------
    frames : sequence of DataFrame
        One answers frame per campaign of the same survey, in time order.
    min_share : float
        Share of a dimension's items a respondent must have rated.

    Returns
    -------
    DataFrame
        Columns ``campaign_id, wave, measure, dimension, group, n, value`` (measure ``score`` = mean
        perception, ``gap`` = perception - expectation; wave counts from 1).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> w1, _ = make_frames([{"group": "office", "answers": {"goals_p1": 2, "goals_e1": 5}}], campaign_id=7)
    >>> wave_scores([w1])[["campaign_id", "measure", "group", "value"]].values.tolist()
    [[7, 'gap', 'office', -3.0], [7, 'gap', 'all', -3.0], [7, 'score', 'office', 2.0], \
[7, 'score', 'all', 2.0]]
    """
    people = _people(frames, min_share)
    keys = ["campaign_id", "wave", *_KEYS]
    columns = [*keys, "n", "value"]
    if people.empty:
        return empty(columns)
    table = people.groupby(keys, sort=False)["value"].agg(n="size", value="mean").reset_index()
    return order_rows(table, ["wave", *_KEYS])[columns]


def _label(low: float, high: float) -> str | None:
    if math.isnan(low) or math.isnan(high):
        return None
    if low > 0:
        return "improved"
    if high < 0:
        return "worse"
    return "no clear change"


def wave_changes(
    frames: Sequence[Answers], n_boot: int = 2000, seed: int = 0, min_share: float = 0.5
) -> pd.DataFrame:
    """Give the change of each dimension's score and gap between consecutive waves, with a 95% interval.

    Returns
    -------
    DataFrame
        Columns ``campaign_from, campaign_to, measure, dimension, group, n_from, n_to, value_from,
        value_to, change, ci_low, ci_high, label`` (label: improved / no clear change / worse).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> w1, _ = make_frames([{"group": "office", "answers": {"goals_p1": 2}}] * 6, campaign_id=1)
    >>> w2, _ = make_frames([{"group": "office", "answers": {"goals_p1": 4}}] * 6, campaign_id=2)
    >>> t = wave_changes([w1, w2])
    >>> t.loc[t["group"] == "office", ["change", "ci_low", "label"]].to_dict("records")
    [{'change': 2.0, 'ci_low': 2.0, 'label': 'improved'}]
    """
    people = _people(frames, min_share)
    columns = ["campaign_from", "campaign_to", *_KEYS, "n_from", "n_to", "value_from", "value_to", "change",
               "ci_low", "ci_high", "label"]
    values = people["value"].to_numpy(dtype=float)
    cells = positions(people, ["wave", *_KEYS])
    campaigns = dict(people.drop_duplicates("wave")[["wave", "campaign_id"]].itertuples(index=False))
    nobody = np.array([], dtype=int)
    rows = []
    for wave in range(1, len(frames)):
        if wave not in campaigns or wave + 1 not in campaigns:
            continue
        for measure, dimension, group in dict.fromkeys(key[1:] for key in cells if key[0] in (wave, wave + 1)):
            x = values[cells.get((wave + 1, measure, dimension, group), nobody)]
            y = values[cells.get((wave, measure, dimension, group), nobody)]
            rng = cell_rng(seed, "wave", wave, measure, dimension, group)
            low, high = bootstrap_diff_ci(x, y, rng, n_boot)
            rows.append({
                "campaign_from": campaigns[wave], "campaign_to": campaigns[wave + 1],
                "measure": measure, "dimension": dimension, "group": group, "n_from": len(y), "n_to": len(x),
                "value_from": y.mean() if len(y) else math.nan, "value_to": x.mean() if len(x) else math.nan,
                "change": x.mean() - y.mean() if len(x) and len(y) else math.nan,
                "ci_low": low, "ci_high": high, "label": _label(low, high),
            })
    if not rows:
        return empty(columns)
    return order_rows(pd.DataFrame(rows, columns=columns), ["campaign_to", *_KEYS])
