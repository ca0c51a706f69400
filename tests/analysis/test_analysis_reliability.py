"""Reference tests of Cronbach's alpha and corrected item-total correlations, worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import cronbach_alpha, make_frames

approx = pytest.approx


def frame(patterns, copies=10, dimension="goals", extra=()) -> pd.DataFrame:
    responses = [{"group": group, "answers": {f"{dimension}_p{i}": v for i, v in enumerate(p, 1)}}
                 for p in patterns for group in ["office", "grassroots"] * (copies // 2)]
    responses += [{"group": "office", "answers": a} for a in extra]
    return make_frames(responses)[0]


def test_alpha_and_item_total_by_hand():
    # patterns (1,2,2), (3,3,4), (5,4,5), 10 each, groups pooled. Per pattern block of three:
    #   item 1: 1 3 5, SS 8    -> var 80/29          totals 5 10 14, mean 29/3, SS 122/3 -> var 1220/87
    #   item 2: 2 3 4, SS 2    -> var 20/29
    #   item 3: 2 4 5, SS 14/3 -> var 140/87         sum of item variances = 440/87
    # alpha = 3/2 * (1 - 440/1220) = 1170/1220 = 0.959016
    # corrected item-total r (the 10 copies do not change r):
    #   item 1 vs 4 7 9:  Sxy 10, Sxx 8, Syy 114/9   -> 10 / sqrt(8 * 114/9)   = 0.993399
    #   item 2 vs 3 7 10: Sxy 7,  Sxx 2, Syy 222/9   -> 7 / sqrt(2 * 222/9)    = 0.996616
    #   item 3 vs 3 5 7:  Sxy 6,  Sxx 42/9, Syy 8    -> 6 / sqrt(42/9 * 8)     = 0.981981
    # one respondent with a don't-know is not a complete case
    dims, items = cronbach_alpha(frame([(1, 2, 2), (3, 3, 4), (5, 4, 5)],
                                       extra=[{"goals_p1": 5, "goals_p2": "dk", "goals_p3": 1}]))
    d = dims.iloc[0]
    assert (d["dimension"], d["n"], d["n_items"]) == ("goals", 30, 3)
    assert d["alpha"] == approx(1170 / 1220)
    assert d["low_alpha"] is False
    assert items["item"].tolist() == ["goals_p1", "goals_p2", "goals_p3"]
    assert items["r_corrected"].tolist() == approx([10 / math.sqrt(8 * 114 / 9), 7 / math.sqrt(2 * 222 / 9),
                                                    6 / math.sqrt(42 / 9 * 8)])
    assert items["low_r"].tolist() == [False, False, False]


def test_alpha_matches_covariance_formula():
    # independent formula: alpha = k/(k-1) * (1 - trace(C) / sum(C)) on random data
    rng = np.random.default_rng(8)
    base = rng.integers(1, 6, 40)
    data = np.clip(base[:, None] + rng.integers(-1, 2, (40, 4)), 1, 5)
    answers = make_frames([{"group": "office",
                            "answers": {f"support_p{i + 1}": int(v) for i, v in enumerate(r)}}
                           for r in data])[0]
    cov = np.cov(data, rowvar=False)
    expected = 4 / 3 * (1 - np.trace(cov) / cov.sum())
    assert cronbach_alpha(answers)[0].iloc[0]["alpha"] == approx(expected)


def test_flags_for_a_reversed_item():
    # (1,1,5), (3,3,3), (5,5,1): every item variance 80/29, totals 7 9 11 -> var 80/29
    # alpha = 3/2 * (1 - 3) = -3; item 3 against 2 6 10 has r = -1; item 1 against 6 6 6 (constant) has
    # no correlation at all (None flag)
    dims, items = cronbach_alpha(frame([(1, 1, 5), (3, 3, 3), (5, 5, 1)]))
    assert dims.iloc[0]["alpha"] == approx(-3.0)
    assert dims.iloc[0]["low_alpha"] is True
    by_item = items.set_index("item")
    assert by_item.loc["goals_p3", "r_corrected"] == approx(-1.0)
    assert by_item.loc["goals_p3", "low_r"] is True
    assert math.isnan(by_item.loc["goals_p1", "r_corrected"])
    assert by_item.loc["goals_p1", "low_r"] is None


def test_nothing_below_thirty_complete_cases():
    dims, items = cronbach_alpha(frame([(1, 2, 2), (3, 3, 4), (5, 4, 5)], copies=8)[lambda f: ~f[
        "response_id"].isin(["r0001", "r0002"])])
    d = dims.iloc[0]
    assert d["n"] == 22
    assert math.isnan(d["alpha"]) and d["low_alpha"] is None
    assert items["r_corrected"].isna().all() and items["low_r"].map(lambda v: v is None).all()
    # min_n is a parameter
    assert not math.isnan(cronbach_alpha(frame([(1, 2, 2), (3, 3, 4), (5, 4, 5)], copies=8), min_n=20)[0]
                          .iloc[0]["alpha"])
