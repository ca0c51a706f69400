"""Reference tests of item/dimension scores, % favourable, satisfaction, eNPS, causes, SERVQUAL, IPA.

Data set D1 (six people), every figure below worked out by hand in the comments:

    resp group       goals_p 1-3  goals_e 1-3  service_p  service_e  pay skills overall           enps
    o1   office      4  5  dk     5  5  4      5  4       5  5       5   2      very_satisfied    10
    o2   office      3  dk dk     4  dk dk     4  4       4  5       4   3      satisfied          9
    o3   office      4  4  5      5  4  5      5  5       5  4       3   dk     dk                 5
    g1   grassroots  2  3  2      5  5  5      2  1       5  5       5   4      dissatisfied       -
    g2   grassroots  dk 2  dk     4  4  4      3  dk      4  dk      4   4      fairly_satisfied   -
    g3   grassroots  3  3  4      4  5  5      2  2       5  4       dk  5      very_dissatisfied  -
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    add_quadrants,
    causes,
    dimension_scores,
    enps,
    favourable,
    importance_performance,
    item_scores,
    likert_counts,
    make_frames,
    respondent_dimension_gaps,
    respondent_dimension_scores,
    satisfaction,
    servqual_gaps,
)

DK = "dk"
ROWS = [
    ("o1", "office", (4, 5, DK), (5, 5, 4), (5, 4), (5, 5), 5, 2, "very_satisfied", 10),
    ("o2", "office", (3, DK, DK), (4, DK, DK), (4, 4), (4, 5), 4, 3, "satisfied", 9),
    ("o3", "office", (4, 4, 5), (5, 4, 5), (5, 5), (5, 4), 3, DK, DK, 5),
    ("g1", "grassroots", (2, 3, 2), (5, 5, 5), (2, 1), (5, 5), 5, 4, "dissatisfied", None),
    ("g2", "grassroots", (DK, 2, DK), (4, 4, 4), (3, DK), (4, DK), 4, 4, "fairly_satisfied", None),
    ("g3", "grassroots", (3, 3, 4), (4, 5, 5), (2, 2), (5, 4), DK, 5, "very_dissatisfied", None),
]


def d1() -> pd.DataFrame:
    responses = []
    for rid, group, gp, ge, sp, se, pay, skills, overall, nps in ROWS:
        answers = {f"goals_p{i}": v for i, v in enumerate(gp, 1)}
        answers |= {f"goals_e{i}": v for i, v in enumerate(ge, 1)}
        answers |= {f"service_p{i}": v for i, v in enumerate(sp, 1)}
        answers |= {f"service_e{i}": v for i, v in enumerate(se, 1)}
        answers |= {"cause_pay": pay, "cause_skills": skills, "overall": overall}
        if nps is not None:
            answers["enps"] = nps
        responses.append({"response_id": rid, "group": group, "answers": answers})
    return make_frames(responses)[0]


def row(table: pd.DataFrame, **keys) -> dict:
    mask = pd.Series(True, index=table.index)
    for column, value in keys.items():
        mask &= table[column] == value
    found = table.loc[mask]
    assert len(found) == 1, f"{len(found)} rows for {keys}"
    return found.iloc[0].to_dict()


approx = pytest.approx


# ---------------------------------------------------------------------------------------------- items
def test_item_scores_exclude_dont_know():
    t = item_scores(d1())
    # goals_p1 office: 4, 3, 4 -> n 3, mean 11/3; deviations 1/3, -2/3, 1/3 -> SS 6/9, var 1/3, sd 0.57735
    r = row(t, question_id="goals_p1", group="office")
    assert (r["n"], r["mean"], r["sd"]) == (3, approx(11 / 3), approx(math.sqrt(1 / 3)))
    # grassroots: 2, dk, 3 -> n 2, mean 2.5, sd 0.70711
    r = row(t, question_id="goals_p1", group="grassroots")
    assert (r["n"], r["mean"], r["sd"]) == (2, 2.5, approx(math.sqrt(0.5)))
    # pooled: 4, 3, 4, 2, 3 -> n 5, mean 3.2
    r = row(t, question_id="goals_p1", group="all")
    assert (r["n"], r["mean"]) == (5, approx(3.2))
    # the expectation rows share the item of their perception question
    r = row(t, question_id="goals_e1", group="all")
    assert (r["item"], r["block"], r["n"], r["mean"]) == ("goals_p1", "expectation", 6, approx(4.5))
    assert list(t.columns) == ["block", "dimension", "item", "question_id", "group", "n", "mean", "sd"]


def test_likert_counts():
    t = likert_counts(d1())
    # service_p2 pooled: 4, 4, 5, 1, dk, 2 -> n 5, dk 1, c1 1, c2 1, c4 2, c5 1; favourable 3/5
    r = row(t, question_id="service_p2", group="all")
    assert [r[c] for c in ("n", "dont_know", "c1", "c2", "c3", "c4", "c5")] == [5, 1, 1, 1, 0, 2, 1]
    assert r["pct_favourable"] == approx(60.0)


# ------------------------------------------------------------------------------------------ dimensions
def test_respondent_dimension_scores_need_half_of_items():
    t = respondent_dimension_scores(d1())
    goals = t.loc[t["dimension"] == "goals"].set_index("response_id")
    # goals has 3 items, so 2 rated are needed: o2 (1 item) and g2 (1 item) get no score
    assert sorted(goals.index) == ["g1", "g3", "o1", "o3"]
    assert goals.loc["o1", "score"] == approx(4.5)  # 4, 5
    assert goals.loc["o3", "score"] == approx(13 / 3)  # 4, 4, 5
    assert goals.loc["o1", "n_items"] == 2
    # service has 2 items, so 1 is enough: g2 rated one (3)
    service = t.loc[t["dimension"] == "service"].set_index("response_id")
    assert service.loc["g2", "score"] == 3.0


def test_dimension_scores_by_group_and_pooled():
    t = dimension_scores(d1())
    # goals: office (4.5 + 13/3) / 2 = 4.41667; grassroots (7/3 + 10/3) / 2 = 17/6; pool (4.5 + 10) / 4
    assert row(t, dimension="goals", group="office")["mean"] == approx(53 / 12)
    assert row(t, dimension="goals", group="office")["n"] == 2
    assert row(t, dimension="goals", group="grassroots")["mean"] == approx(17 / 6)
    assert row(t, dimension="goals", group="all")["mean"] == approx(3.625)
    assert row(t, dimension="goals", group="all")["n"] == 4
    # service: office 4.5, 4, 5 -> 4.5; grassroots 1.5, 3, 2 -> 6.5/3; pool 20/6
    assert row(t, dimension="service", group="office")["mean"] == approx(4.5)
    assert row(t, dimension="service", group="grassroots")["mean"] == approx(6.5 / 3)
    assert row(t, dimension="service", group="all")["mean"] == approx(20 / 6)
    assert row(t, dimension="service", group="all")["n"] == 6


def test_min_share_is_configurable():
    # with min_share 1 only those who rated all three goals items count: o3 and g1, g3
    t = dimension_scores(d1(), min_share=1.0)
    assert row(t, dimension="goals", group="all")["n"] == 3
    with pytest.raises(AnalysisError):
        dimension_scores(d1(), min_share=0)


# ------------------------------------------------------------------------------------------ favourable
def test_favourable_item_with_wilson_interval():
    t = favourable(d1())
    r = row(t, question_id="goals_p1", group="office")
    # 4, 3, 4: 2 of 3 favourable. Wilson, z = 1.959964, z^2 = 3.841459:
    # denom = 1 + z^2/3 = 2.280486; centre = (2/3 + z^2/6) / denom = 1.306910 / 2.280486 = 0.573084
    # half = z / denom * sqrt((2/3)(1/3)/3 + z^2/36) = 0.859451 * 0.425184 = 0.365424
    assert (r["n"], r["n_favourable"]) == (3, 2)
    assert r["pct_favourable"] == approx(200 / 3)
    assert r["ci_low"] == approx(20.7660, abs=1e-3)
    assert r["ci_high"] == approx(93.8508, abs=1e-3)


def test_favourable_wilson_at_zero():
    # 0 of 5: centre = (z^2/10) / (1 + z^2/5) = 0.384146 / 1.768292 = 0.217241, half equal -> (0, 43.4482)
    answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": 2}}] * 5)
    r = row(favourable(answers), group="office")
    assert (r["pct_favourable"], r["ci_low"]) == (0.0, 0.0)
    assert r["ci_high"] == approx(43.4482, abs=1e-3)


def test_favourable_dimension_level():
    t = favourable(d1(), level="dimension")
    # service office: 5 4 / 4 4 / 5 5 -> 6 answers all favourable, 3 people
    r = row(t, dimension="service", group="office")
    assert (r["n"], r["n_answers"], r["n_favourable"], r["pct_favourable"]) == (3, 6, 6, 100.0)
    # service grassroots: 2 1 / 3 / 2 2 -> 5 answers, none favourable
    r = row(t, dimension="service", group="grassroots")
    assert (r["n"], r["n_answers"], r["pct_favourable"]) == (3, 5, 0.0)
    with pytest.raises(AnalysisError):
        favourable(d1(), level="group")


# ---------------------------------------------------------------------------------------- satisfaction
def test_satisfaction_hundred_point_score():
    t = satisfaction(d1())
    # office: 100, 80, dk -> n 2 of 3; score 90; satisfied 2/2; dissatisfied 0; dk 1/3
    r = row(t, group="office")
    assert (r["n_answered"], r["n"], r["score"]) == (3, 2, 90.0)
    assert (r["satisfied_pct"], r["dissatisfied_pct"], r["dont_know_pct"]) == (100.0, 0.0, approx(100 / 3))
    # grassroots: 30, 60, 0 -> score 30; satisfied (fairly) 1/3; dissatisfied 2/3; no dk
    r = row(t, group="grassroots")
    assert (r["n"], r["score"], r["satisfied_pct"], r["dissatisfied_pct"], r["dont_know_pct"]) == (
        3, approx(30.0), approx(100 / 3), approx(200 / 3), 0.0)
    # pool: (100 + 80 + 30 + 60 + 0) / 5 = 54; satisfied 3/5; dissatisfied 2/5; dk 1/6
    r = row(t, group="all")
    assert (r["n_answered"], r["n"], r["score"], r["satisfied_pct"], r["dissatisfied_pct"]) == (
        6, 5, approx(54.0), approx(60.0), approx(40.0))
    assert r["dont_know_pct"] == approx(100 / 6)


def test_satisfaction_custom_weights_in_any_order():
    weights = {"dissatisfied": 3, "very_satisfied": 10, "very_dissatisfied": 0, "fairly_satisfied": 6,
               "satisfied": 8}
    r = row(satisfaction(d1(), weights), group="all")
    # (10 + 8 + 3 + 6 + 0) / 5 = 5.4; the top three by weight are still the satisfied grades
    assert (r["score"], r["satisfied_pct"]) == (approx(5.4), approx(60.0))


def test_satisfaction_rejects_unknown_codes_and_short_scales():
    answers, _ = make_frames([{"group": "office", "answers": {"overall": "so-so"}}])
    with pytest.raises(AnalysisError, match="so-so"):
        satisfaction(answers)
    with pytest.raises(AnalysisError):
        satisfaction(d1(), {"good": 100, "bad": 0})


# ------------------------------------------------------------------------------------------------ eNPS
def test_enps_small_group_is_indicative():
    r = row(enps(d1()), group="office")
    # 10, 9, 5: p = 2/3, d = 1/3 -> 33.33; SE = 100 sqrt((1 - 1/9) / 3) = 100 sqrt(8/27) = 54.4331
    # interval 33.33 -+ 1.959964 * 54.4331 = -73.354 .. 140.02, clipped to 100
    assert r["n"] == 3
    assert (r["promoters_pct"], r["passives_pct"], r["detractors_pct"]) == (
        approx(200 / 3), approx(0.0, abs=1e-9), approx(100 / 3))
    assert r["enps"] == approx(100 / 3)
    assert r["se"] == approx(54.4331, abs=1e-4)
    assert r["ci_low"] == approx(-73.3537, abs=1e-3)
    assert r["ci_high"] == 100.0
    assert r["indicative"]


def test_enps_twenty_answers():
    values = [10] * 4 + [9] * 4 + [8] * 4 + [7] * 3 + [6] * 2 + [3] * 2 + [0]
    answers, _ = make_frames([{"group": "office", "answers": {"enps": v}} for v in values])
    r = row(enps(answers), group="office")
    # p = 8/20 = 0.4, d = 5/20 = 0.25 -> 15; SE = 100 sqrt((0.65 - 0.0225) / 20) = 17.7130
    # interval 15 -+ 1.959964 * 17.7130 = 15 -+ 34.7168
    assert (r["n"], r["enps"], r["passives_pct"]) == (20, approx(15.0), approx(35.0))
    assert r["se"] == approx(17.7130, abs=1e-4)
    assert (r["ci_low"], r["ci_high"]) == (approx(-19.7168, abs=1e-3), approx(49.7168, abs=1e-3))
    assert not r["indicative"]


# ---------------------------------------------------------------------------------------------- causes
def test_causes_ranked_per_group():
    t = causes(d1())
    # office pay 5, 4, 3 -> 4.0, 2/3 severe; skills 2, 3 -> 2.5, none severe
    r = row(t, cause="pay", group="office")
    assert (r["n"], r["mean"], r["pct_severe"], r["rank"]) == (3, 4.0, approx(200 / 3), 1)
    r = row(t, cause="skills", group="office")
    assert (r["n"], r["mean"], r["pct_severe"], r["rank"]) == (2, 2.5, 0.0, 2)
    # grassroots: pay 5, 4 -> 4.5; skills 4, 4, 5 -> 4.333; both all severe
    assert row(t, cause="pay", group="grassroots")["rank"] == 1
    assert row(t, cause="skills", group="grassroots")["mean"] == approx(13 / 3)
    # pool: pay 21/5 = 4.2, 4 of 5 severe; skills 18/5 = 3.6, 3 of 5 severe
    r = row(t, cause="pay", group="all")
    assert (r["mean"], r["pct_severe"], r["rank"]) == (approx(4.2), approx(80.0), 1)
    r = row(t, cause="skills", group="all")
    assert (r["mean"], r["pct_severe"], r["rank"]) == (approx(3.6), approx(60.0), 2)
    assert t["group"].tolist()[:2] == ["office", "office"]


# ------------------------------------------------------------------------------------------- SERVQUAL
def test_servqual_item_gaps():
    t = servqual_gaps(d1(), level="item", n_boot=500)
    # goals_p1: office 4-5, 3-4, 4-5 -> -1 each, interval (-1, -1)
    r = row(t, item="goals_p1", group="office")
    assert (r["n"], r["gap"], r["ci_low"], r["ci_high"]) == (3, -1.0, -1.0, -1.0)
    # grassroots: 2-5 = -3, (dk), 3-4 = -1 -> n 2, -2; pool: (-1 -1 -1 -3 -1) / 5 = -1.4
    assert row(t, item="goals_p1", group="grassroots")["gap"] == approx(-2.0)
    assert row(t, item="goals_p1", group="all")["gap"] == approx(-1.4)
    assert row(t, item="goals_p1", group="all")["n"] == 5


def test_servqual_dimension_gaps():
    t = servqual_gaps(d1(), n_boot=500, seed=3)
    # goals (3 pairs, 2 needed): o1 -1, 0 -> -0.5; o3 -1, 0, 0 -> -1/3; g1 -3, -2, -3 -> -8/3;
    # g3 -1, -2, -1 -> -4/3; o2 and g2 have one pair only
    r = row(t, dimension="goals", group="office")
    assert (r["n"], r["gap"]) == (2, approx(-5 / 12))
    assert r["perception"] == approx(53 / 12)  # (4.5 + 13/3) / 2
    assert r["expectation"] == approx(29 / 6)  # (5 + 14/3) / 2
    assert row(t, dimension="goals", group="grassroots")["gap"] == approx(-2.0)
    assert row(t, dimension="goals", group="all")["gap"] == approx(-29 / 24)
    # service (2 pairs, 1 needed): office -0.5, -0.5, +0.5 -> -1/6; grassroots -3.5, -1, -2.5 -> -7/3
    assert row(t, dimension="service", group="office")["gap"] == approx(-1 / 6)
    r = row(t, dimension="service", group="grassroots")
    assert (r["n"], r["gap"]) == (3, approx(-7 / 3))
    # a bootstrap interval of a mean of -3.5, -1, -2.5 lies within their range and around the mean
    assert -3.5 <= r["ci_low"] <= r["gap"] <= r["ci_high"] <= -1.0
    assert row(t, dimension="service", group="all")["gap"] == approx(-1.25)


def test_servqual_bootstrap_is_seeded():
    a = servqual_gaps(d1(), n_boot=300, seed=1)
    b = servqual_gaps(d1(), n_boot=300, seed=1)
    c = servqual_gaps(d1(), n_boot=300, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["ci_low"].equals(c["ci_low"])


def test_respondent_dimension_gaps():
    t = respondent_dimension_gaps(d1()).set_index(["response_id", "dimension"])
    assert t.loc[("o1", "goals"), "gap"] == approx(-0.5)
    assert t.loc[("g1", "service"), "gap"] == approx(-3.5)
    assert ("o2", "goals") not in t.index


# ------------------------------------------------------------------------------ importance-performance
def test_importance_performance_pooled():
    t = importance_performance(d1()).set_index("item")
    # importance = mean expectation, performance = mean perception (valid answers, pooled):
    #   goals_p1   4.5  (5 4 5 5 4 4)     3.2    (4 3 4 2 3)
    #   goals_p2   4.6  (5 4 5 4 5)       3.4    (5 4 3 2 3)
    #   goals_p3   4.6  (4 5 5 4 5)       11/3   (5 2 4)
    #   service_p1 14/3 (5 4 5 5 4 5)     3.5    (5 4 5 2 3 2)
    #   service_p2 4.6  (5 5 4 5 4)       3.2    (4 4 5 1 2)
    # crosshairs: importance 22.9667 / 5 = 4.59333, performance 16.9667 / 5 = 3.39333
    assert t.loc["goals_p1", "importance"] == approx(4.5)
    assert t.loc["goals_p3", "performance"] == approx(11 / 3)
    assert t["importance_mean"].iloc[0] == approx(4.593333, abs=1e-6)
    assert t["performance_mean"].iloc[0] == approx(3.393333, abs=1e-6)
    # priority = importance * (5 - performance)
    assert t.loc["goals_p1", "priority"] == approx(4.5 * 1.8)
    assert t.loc["service_p2", "priority"] == approx(4.6 * 1.8)
    assert t.loc["service_p1", "priority"] == approx(14 / 3 * 1.5)
    assert t["quadrant"].to_dict() == {
        "goals_p1": "low_priority",
        "goals_p2": "keep_up_the_good_work",  # 3.4 >= 3.3933
        "goals_p3": "keep_up_the_good_work",
        "service_p1": "keep_up_the_good_work",
        "service_p2": "concentrate_here",
    }
    assert (t.loc["goals_p1", "n_importance"], t.loc["goals_p1", "n_performance"]) == (6, 5)


def test_importance_performance_by_group_and_quadrants_skip_suppressed():
    t = importance_performance(d1(), by_group=True)
    assert set(t["group"]) == {"office", "grassroots", "all"}
    pooled = t.loc[t["group"] == "all"].assign(suppressed=False).reset_index(drop=True)
    # hiding service_p2 moves the crosshairs to the mean of the other four items
    pooled.loc[pooled["item"] == "service_p2", ["importance", "performance"]] = float("nan")
    pooled.loc[pooled["item"] == "service_p2", "suppressed"] = True
    redone = add_quadrants(pooled).set_index("item")
    assert redone["importance_mean"].dropna().iloc[0] == approx((4.5 + 4.6 + 4.6 + 14 / 3) / 4)
    assert redone["performance_mean"].dropna().iloc[0] == approx((3.2 + 3.4 + 11 / 3 + 3.5) / 4)
    assert redone.loc["service_p2", "quadrant"] is None
    # performance mean 3.44167: goals_p2 (3.4) is now low; importance mean 4.59167
    assert redone.loc["goals_p2", "quadrant"] == "concentrate_here"
