"""Wave over wave: score and gap per campaign, the change, its interval and its label."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import AnalysisError, build_wave_report, make_frames, wave_changes, wave_scores

approx = pytest.approx


def wave(campaign_id, perceptions, expectation=5, group="office"):
    return make_frames([{"response_id": f"{campaign_id}-{group}-{i}", "group": group,
                         "answers": {"goals_p1": p, "goals_e1": expectation}}
                        for i, p in enumerate(perceptions)], campaign_id=campaign_id)[0]


def test_scores_and_gaps_per_wave():
    # wave 1: 2 3 4 -> score 3, gap -2; wave 2: 4 4 5 -> score 13/3, gap -2/3
    t = wave_scores([wave(11, [2, 3, 4]), wave(12, [4, 4, 5])])
    office = t.loc[t["group"] == "office"].set_index(["wave", "measure"])
    assert office.loc[(1, "score"), "value"] == approx(3.0)
    assert office.loc[(1, "gap"), "value"] == approx(-2.0)
    assert office.loc[(2, "score"), "value"] == approx(13 / 3)
    assert office.loc[(2, "gap"), ["campaign_id", "n"]].tolist() == [12, 3]
    assert list(t.columns) == ["campaign_id", "wave", "measure", "dimension", "group", "n", "value"]


def test_change_with_interval_and_label():
    t = wave_changes([wave(1, [2, 3, 4]), wave(2, [4, 4, 5])], n_boot=2000, seed=0)
    r = t.loc[(t["group"] == "office") & (t["measure"] == "score")].iloc[0]
    # change 13/3 - 3 = 4/3. Resampled wave-2 means are >= 4 and wave-1 means <= 4, so the change is >= 0;
    # it is 0 only when wave 2 draws 4 4 4 ((2/3)^3) and wave 1 draws 4 4 4 ((1/3)^3): p = 0.011 < 0.025
    assert (r["campaign_from"], r["campaign_to"], r["n_from"], r["n_to"]) == (1, 2, 3, 3)
    assert (r["value_from"], r["value_to"], r["change"]) == (approx(3.0), approx(13 / 3), approx(4 / 3))
    assert 0 < r["ci_low"] < r["change"] < r["ci_high"] <= 3.0
    assert r["label"] == "improved"
    gap = t.loc[(t["group"] == "office") & (t["measure"] == "gap")].iloc[0]
    assert gap["change"] == approx(4 / 3)  # the same rise, as expectations did not move


@pytest.mark.parametrize(("before", "after", "label"), [
    ([2, 2, 2], [4, 4, 4], "improved"), ([4, 4, 4], [4, 4, 4], "no clear change"),
    ([4, 4, 4], [3, 3, 3], "worse"), ([1, 5, 1, 5], [5, 1, 5, 1], "no clear change"),
])
def test_labels(before, after, label):
    t = wave_changes([wave(1, before), wave(2, after)], n_boot=500)
    assert t.loc[(t["group"] == "all") & (t["measure"] == "score"), "label"].iloc[0] == label


def test_three_waves_give_two_changes():
    t = wave_changes([wave(1, [2, 2]), wave(2, [3, 3]), wave(3, [5, 5])], n_boot=100)
    pooled = t.loc[(t["group"] == "all") & (t["measure"] == "score")]
    assert pooled[["campaign_from", "campaign_to"]].values.tolist() == [[1, 2], [2, 3]]
    assert pooled["change"].tolist() == [1.0, 2.0]


def test_bad_input():
    with pytest.raises(AnalysisError):
        wave_changes([])
    with pytest.raises(AnalysisError):
        wave_scores(wave(1, [3]))  # a frame, not a list of frames
    both = wave(1, [3])
    both.loc[0, "campaign_id"] = 2
    with pytest.raises(AnalysisError):
        wave_scores([both])


def test_wave_report_suppresses_small_groups():
    w1 = wave(1, [2] * 6)
    w2 = wave(2, [4] * 6)
    small = wave(2, [1, 1], group="grassroots")
    report = build_wave_report([w1, pd.concat([w2, small], ignore_index=True)], k=5, n_boot=50)
    changes = report["changes"]
    grass = changes.loc[changes["group"] == "grassroots"]
    assert grass["suppressed"].all() and grass["change"].isna().all()
    # office (6 then 6) is the next smallest group in wave 2's cells: hidden as the complement
    assert changes.loc[changes["group"] == "office", "suppressed"].all()
    assert not changes.loc[changes["group"] == "all", "suppressed"].any()
    scores = report["scores"]
    assert not scores.loc[(scores["campaign_id"] == 1) & (scores["group"] == "office"), "suppressed"].any()
