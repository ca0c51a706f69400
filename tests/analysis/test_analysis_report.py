"""The one-call report: merging, suppression of every table, comments, findings."""

from __future__ import annotations

import pytest

from analysis import build_report, make_frames

approx = pytest.approx


def campaign():
    responses = []
    plan = {"office": (8, 5, "satisfied"), "departments": (7, 3, "fairly_satisfied"),
            "grassroots": (9, 2, "dissatisfied"), "leaders": (2, 4, "very_satisfied")}
    for group, (size, rating, grade) in plan.items():
        for i in range(size):
            wobble = i % 2  # two different scores per group, so that there is spread
            answers = {f"{d}_p{j}": rating - wobble if rating > 1 else rating
                       for d in ("service", "goals") for j in (1, 2)}
            answers |= {f"{d}_e{j}": 5 for d in ("service", "goals") for j in (1, 2)}
            answers |= {"cause_pay": 4 + wobble, "cause_skills": 2, "overall": grade}
            if group == "office":
                answers["enps"] = 9 + wobble
            responses.append({"group": group, "answers": answers,
                              "comments": {"improve_one": f"{group} 待遇太低"}})
    return make_frames(responses)


def test_report_end_to_end():
    answers, comments = campaign()
    report = build_report(answers, comments, k=5, k_comments=9, n_boot=100, seed=0)
    assert report["merged"] == {"leaders": "departments"}
    tables = report["tables"]
    for name, table in tables.items():
        assert "suppressed" in table.columns, name
        if "group" in table.columns:
            assert "leaders" not in set(table["group"]), name
    responses = tables["responses"].set_index("group")
    assert responses["n"].to_dict() == {"office": 8, "departments": 9, "grassroots": 9, "all": 26}
    # departments = 7 rated 3/2 and 2 leaders rated 4/3 on service: (4*3 + 3*2 + 4 + 3) / 9 per item
    dims = tables["dimension_scores"].set_index(["dimension", "group"])
    assert dims.loc[("service", "departments"), "mean"] == approx((4 * 3 + 3 * 2 + 4 + 3) / 9)
    # comments: office has 8 < 9 respondents, so none of its comments are shown; leaders' come with
    # the departments', and nothing says whose they are
    texts = report["comments"]["text"].tolist()
    assert len(texts) == 18 and not any(t.startswith("office") for t in texts)
    assert sum(t.startswith("leaders") for t in texts) == 2
    themes = tables["themes"].set_index(["theme", "raters"])
    assert themes.loc[("pay", "all"), ["n", "count"]].tolist() == [18, 18]
    # largest certain gaps first: grassroots' SERVQUAL gap (five rate 2 and four 1, against 5:
    # (5*3 + 4*4) / 9 = 3.44), then office (4 at 5, 4 at 4: 4.5) minus grassroots (14/9): 2.94
    found = report["findings"]
    assert found[0]["kind"] == "service_gap" and found[0]["size"] == approx(-31 / 9)
    assert all(f["certain"] for f in found[:4])
    views = [f for f in found if f["kind"] == "self_view" and f["group"] == "grassroots"]
    assert views[0]["size"] == approx(4.5 - 14 / 9)
    sentence = "服务意识与对象：基层分局、所评价低于办公室自评 2.9 分，差异显著，效应量大"
    assert sentence in [f["zh"] for f in views]
    assert list(report["keywords"].columns) == ["keyword", "weight"]


def test_report_is_reproducible():
    answers, comments = campaign()
    a = build_report(answers, comments, n_boot=50, seed=3)
    b = build_report(answers, comments, n_boot=50, seed=3)
    for name in a["tables"]:
        assert a["tables"][name].equals(b["tables"][name]), name
    assert a["comments"].equals(b["comments"]) and a["findings"] == b["findings"]


def test_report_without_comments_or_with_a_small_campaign():
    answers, _ = campaign()
    report = build_report(answers, k=5, n_boot=20)
    assert report["comments"].empty and report["tables"]["themes"].empty
    few = answers.loc[answers["group"] == "office"]
    report = build_report(few, k=10, n_boot=20)
    assert report["tables"]["dimension_scores"]["suppressed"].all()
    assert report["findings"] == []
