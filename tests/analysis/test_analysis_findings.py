"""Findings: sentences, order (certain and large gaps first), and nothing from suppressed cells."""

from __future__ import annotations

import math

import pandas as pd

from analysis import findings

NAN = math.nan


def self_view():
    return pd.DataFrame([
        {"dimension": "service", "reference": "office", "group": "grassroots", "gap": 0.94, "ci_low": 0.4,
         "ci_high": 1.5, "cliffs_delta": 0.6, "effect": "large", "p_holm": 0.004, "suppressed": False},
        {"dimension": "goals", "reference": "office", "group": "departments", "gap": 0.3, "ci_low": -0.2,
         "ci_high": 0.8, "cliffs_delta": 0.2, "effect": "small", "p_holm": 0.2, "suppressed": False},
        {"dimension": "innovation", "reference": "office", "group": "grassroots", "gap": -0.5, "ci_low": -1.0,
         "ci_high": 0.1, "cliffs_delta": -0.3, "effect": "small", "p_holm": None, "suppressed": False},
        {"dimension": "positioning", "reference": "office", "group": "departments", "gap": NAN,
         "ci_low": NAN, "ci_high": NAN, "cliffs_delta": NAN, "effect": None, "p_holm": None,
         "suppressed": True},
    ])


def service_gaps():
    return pd.DataFrame([
        {"dimension": "support", "group": "all", "n": 20, "gap": -1.2, "ci_low": -1.6, "ci_high": -0.8,
         "suppressed": False},
        {"dimension": "vitality", "group": "office", "n": 6, "gap": -0.1, "ci_low": -0.4, "ci_high": 0.2,
         "suppressed": False},
        {"dimension": "positioning", "group": "grassroots", "n": NAN, "gap": NAN, "ci_low": NAN,
         "ci_high": NAN, "suppressed": True},
    ])


def test_order_and_wording():
    found = findings(self_view=self_view(), service_gaps=service_gaps())
    assert [f["zh"] for f in found] == [
        "保障能力：全体认为实际表现低于期望 1.2 分（95% 区间 -1.6 至 -0.8），差距明确",
        "服务意识与对象：基层分局、所评价低于办公室自评 0.9 分，差异显著，效应量大",
        "工作创新：基层分局、所评价高于办公室自评 0.5 分，样本较小，未作检验，效应量小",
        "工作目标与规划：机关其他科室评价低于办公室自评 0.3 分，差异不显著，效应量小",
    ]
    assert found[1]["en"] == (
        "Service orientation: grassroots units rate the office 0.9 points lower than the "
        "office rates itself; significant (Holm-adjusted p = 0.004), large effect.")
    assert found[0]["en"] == ("Equipment and skills: all respondents rate performance 1.2 points below their "
                              "expectation (95% CI -1.6 to -0.8); the gap is clear.")
    first = found[1]
    assert (first["kind"], first["dimension"], first["group"], first["reference"]) == (
        "self_view", "service", "grassroots", "office")
    assert (first["size"], first["p"], first["effect"], first["certain"]) == (0.94, 0.004, "large", True)


def test_nothing_from_suppressed_or_tiny_gaps():
    found = findings(self_view=self_view(), service_gaps=service_gaps())
    assert "positioning" not in {f["dimension"] for f in found}
    assert "职责定位" not in "".join(f["zh"] for f in found)
    assert "vitality" not in {f["dimension"] for f in found}  # |-0.1| < min_gap and not certain
    assert len(findings(self_view=self_view(), service_gaps=service_gaps(), min_gap=0.0)) == 5
    assert len(findings(self_view=self_view(), limit=1)) == 1
    assert findings() == []


def test_other_kinds():
    satisfaction = pd.DataFrame([
        {"question_id": "overall", "group": "grassroots", "n_answered": 10, "n": 6, "score": 60.0,
         "satisfied_pct": 50.0, "dissatisfied_pct": 50.0, "dont_know_pct": 40.0, "suppressed": False},
        {"question_id": "overall", "group": "office", "n_answered": 8, "n": 8, "score": 80.0,
         "satisfied_pct": 100.0, "dissatisfied_pct": 0.0, "dont_know_pct": 0.0, "suppressed": False},
    ])
    causes = pd.DataFrame([
        {"cause": "pay", "question_id": "cause_pay", "group": "all", "n": 20, "mean": 4.2, "pct_severe": 80.0,
         "rank": 1, "suppressed": False},
        {"cause": "skills", "question_id": "cause_skills", "group": "all", "n": 20, "mean": 3.1,
         "pct_severe": 35.0, "rank": 2, "suppressed": False},
    ])
    enps = pd.DataFrame([
        {"question_id": "enps", "group": "office", "n": 8, "enps": -25.0, "se": 30.0, "ci_low": -83.8,
         "ci_high": 33.8, "indicative": True, "suppressed": False},
        {"question_id": "enps", "group": "all", "n": 8, "enps": -25.0, "se": 30.0, "ci_low": -83.8,
         "ci_high": 33.8, "indicative": True, "suppressed": False},
    ])
    found = findings(satisfaction=satisfaction, causes=causes, enps=enps)
    assert [f["kind"] for f in found] == ["invisible", "cause", "enps"]
    assert found[0]["zh"] == "基层分局、所中有 40% 表示不了解办公室的总体工作"
    assert found[1]["zh"] == "最受指认的制约因素：待遇（平均 4.2 分，80% 评为 4-5 分）"
    assert found[1]["cause"] == "pay"
    assert found[2]["zh"] == "办公室工作人员的推荐值 eNPS 为 -25（95% 区间 -84 至 +34），样本较少，仅供参考"
    assert all(set(f) == set(found[0]) for f in found)
