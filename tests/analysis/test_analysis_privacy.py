"""The privacy guards: suppression, complementary suppression, merging, filters, comments.

The last test is property-style: random group sizes 1-30 through the whole report, checking that no shown
row describes fewer than k respondents and that no pool minus shown groups does either.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import (
    AnalysisError,
    FilterRefused,
    build_report,
    check_filter,
    group_merges,
    hidden_groups,
    make_frames,
    merge_groups,
    suppress,
    visible_comments,
)

approx = pytest.approx


def table(groups, ns, item="goals_p1"):
    return pd.DataFrame({
        "item": item, "group": groups, "n": ns,
        "mean": [3.0 + i / 10 for i in range(len(groups))],
        "label": [f"q{i}" for i in range(len(groups))],
        "flag": [True] * len(groups),
    })


def shown(out):
    return dict(zip(out["group"], ~out["suppressed"], strict=True))


# ---------------------------------------------------------------------------------------- primary rule
def test_rows_below_k_lose_every_figure():
    out = suppress(table(["office", "grassroots", "all"], [7, 4, 11]), 5, complementary=False)
    hidden = out.iloc[1]
    assert hidden["suppressed"] and math.isnan(hidden["n"]) and math.isnan(hidden["mean"])
    assert hidden["label"] is None and hidden["flag"] is None
    assert (hidden["item"], hidden["group"]) == ("goals_p1", "grassroots")  # keys stay
    kept = out.iloc[0]
    assert (kept["n"], kept["mean"], kept["label"], kept["flag"], kept["suppressed"]) == (7, 3.0, "q0", True,
                                                                                           False)
    assert out["suppressed"].dtype == bool


def test_suppressed_and_empty_look_the_same():
    out = suppress(table(["office", "departments", "grassroots", "all"], [9, 0, 3, 12]), 5,
                   complementary=False)
    empty, small = out.iloc[1].drop(["group", "item"]), out.iloc[2].drop(["group", "item"])
    assert empty.isna().drop("suppressed").all() and small.isna().drop("suppressed").all()
    assert list(empty.index) == list(small.index) and empty["suppressed"] and small["suppressed"]


def test_exactly_k_is_shown_and_nan_counts_hide():
    out = suppress(table(["office", "all"], [5, 5]), 5)
    assert not out["suppressed"].any()
    out = suppress(table(["office", "all"], [float("nan"), 5]), 5, complementary=False)
    assert out["suppressed"].tolist() == [True, False]


def test_any_count_column_below_k_hides_the_row():
    t = pd.DataFrame({"dimension": ["goals"], "reference": ["office"], "group": ["grassroots"],
                      "n_reference": [8], "n": [4], "gap": [0.9]})
    out = suppress(t, 5, n_cols=("n_reference", "n"))
    assert out["suppressed"].tolist() == [True] and math.isnan(out.loc[0, "n_reference"])


# ------------------------------------------------------------------------------------- complementary
def test_one_small_group_takes_the_next_smallest_with_it():
    # grassroots 3 < 5; pool - office - departments would give it away, so departments (6) goes too
    out = suppress(table(["office", "departments", "grassroots", "all"], [8, 6, 3, 17]), 5)
    assert shown(out) == {"office": True, "departments": False, "grassroots": False, "all": True}


def test_two_small_groups_adding_up_to_k_are_enough():
    out = suppress(table(["office", "departments", "grassroots", "all"], [8, 3, 2, 13]), 5)
    assert shown(out) == {"office": True, "departments": False, "grassroots": False, "all": True}


def test_two_small_groups_below_k_together_take_a_third():
    # 2 + 2 = 4 < 5: the next smallest (departments, 6) is hidden as well
    out = suppress(table(["office", "departments", "grassroots", "leaders", "all"], [9, 6, 2, 2, 19]), 5)
    assert shown(out) == {"office": True, "departments": False, "grassroots": False, "leaders": False,
                          "all": True}


def test_ties_for_next_smallest_follow_the_group_order():
    out = suppress(table(["office", "departments", "grassroots", "all"], [6, 6, 1, 13]), 5)
    assert shown(out) == {"office": False, "departments": True, "grassroots": False, "all": True}


def test_each_cell_is_handled_on_its_own():
    t = pd.concat([table(["office", "grassroots", "all"], [8, 3, 11], "goals_p1"),
                   table(["office", "grassroots", "all"], [8, 7, 15], "goals_p2")], ignore_index=True)
    out = suppress(t, 5)
    assert out["suppressed"].tolist() == [True, True, False, False, False, False]


def test_empty_groups_need_no_complement_and_pool_below_k_hides():
    out = suppress(table(["office", "departments", "all"], [7, 0, 7]), 5)
    assert shown(out) == {"office": True, "departments": False, "all": True}
    out = suppress(table(["office", "all"], [3, 3]), 5)
    assert out["suppressed"].all()


def test_hide_mask_and_existing_flags_are_respected():
    t = table(["office", "departments", "grassroots", "all"], [9, 8, 7, 24])
    out = suppress(t, 5, hide=[False, False, True, False])
    # grassroots (7) is hidden by request; alone it still describes >= k people, so nobody else goes
    assert shown(out) == {"office": True, "departments": True, "grassroots": False, "all": True}
    again = suppress(out, 5)
    assert again["suppressed"].tolist() == out["suppressed"].tolist()
    with pytest.raises(AnalysisError):
        suppress(t, 5, hide=[True])


def test_complementary_can_be_switched_off_and_bad_input_raises():
    out = suppress(table(["office", "departments", "grassroots", "all"], [8, 6, 3, 17]), 5,
                   complementary=False)
    assert shown(out)["departments"]
    with pytest.raises(AnalysisError):
        suppress(table(["office"], [5]), 0)
    with pytest.raises(AnalysisError):
        suppress(table(["office"], [5]), 5, n_cols=("count",))
    with pytest.raises(AnalysisError):
        suppress([1, 2], 5)


def test_hidden_groups():
    assert hidden_groups({"office": 8, "departments": 6, "grassroots": 3}, 5) == {"departments", "grassroots"}
    assert hidden_groups({"office": 8, "departments": 6}, 5) == set()


# ------------------------------------------------------------------------------------------- merging
def test_leaders_merged_unless_they_reach_k():
    assert group_merges({"office": 9, "leaders": 4}, 5) == {"leaders": "departments"}
    assert group_merges({"office": 9, "leaders": 5}, 5) == {}
    assert group_merges({"office": 9}, 5) == {}
    answers, comments = make_frames(
        [{"group": "leaders", "answers": {"goals_p1": 4}, "comments": {"q": "多请示"}}] * 3
        + [{"group": "departments", "answers": {"goals_p1": 2}}] * 4)
    merged = merge_groups(answers, 5)
    assert set(merged["group"]) == {"departments"}
    assert set(answers["group"]) == {"leaders", "departments"}  # the input is not changed
    sizes = answers.drop_duplicates("response_id").groupby("group").size()
    assert set(merge_groups(comments, 5, sizes)["group"]) == {"departments"}
    assert set(merge_groups(answers, 3)["group"]) == {"leaders", "departments"}


# -------------------------------------------------------------------------------------------- filters
@pytest.mark.parametrize(("selected", "total", "k", "refused"), [
    (4, 20, 5, True), (5, 20, 5, False), (15, 20, 5, False), (16, 20, 5, True), (20, 20, 5, False),
    (0, 20, 5, True), (3, 3, 5, True), (10, 30, 10, False), (25, 30, 10, True),
])
def test_check_filter(selected, total, k, refused):
    if refused:
        with pytest.raises(FilterRefused) as info:
            check_filter(selected, total, k)
        assert isinstance(info.value, AnalysisError)
        message = str(info.value)
        assert str(selected) not in message.replace(str(k), "") and "匿名" in message
    else:
        check_filter(selected, total, k)


@pytest.mark.parametrize("args", [(-1, 5, 5), (6, 5, 5), (1.5, 5, 5), (True, 5, 5), (1, 5, 0)])
def test_check_filter_bad_input(args):
    with pytest.raises(AnalysisError):
        check_filter(*args)


# ------------------------------------------------------------------------------------------- comments
def test_comments_only_from_big_groups_shuffled_and_anonymous():
    rows = [("office", f"办公室意见{i}") for i in range(12)]
    rows += [("grassroots", f"基层意见{i}") for i in range(4)]
    comments = pd.DataFrame({"response_id": [f"r{i}" for i in range(16)], "group": [g for g, _ in rows],
                             "question_id": "improve_one", "text": [t for _, t in rows]})
    out = visible_comments(comments, {"office": 12, "grassroots": 9}, k_comments=10, seed=1)
    assert list(out.columns) == ["question_id", "text"]
    assert sorted(out["text"]) == sorted(t for g, t in rows if g == "office")
    assert out["text"].tolist() != [t for g, t in rows if g == "office"]  # shuffled
    assert out.equals(visible_comments(comments, {"office": 12, "grassroots": 9}, 10, seed=1))
    assert len(visible_comments(comments, {"office": 9, "grassroots": 9}, 10)) == 0
    blank = comments.assign(text=["  "] * 16)
    assert visible_comments(blank, {"office": 12}, 10).empty


# ----------------------------------------------------------------------------------- property (report)
GROUPS = ("office", "departments", "grassroots", "leaders")
QUESTIONS = [f"{d}_{kind}{i}" for d in ("goals", "service") for kind in "pe" for i in (1, 2, 3)]
GRADES = ["very_satisfied", "satisfied", "fairly_satisfied", "dissatisfied", "very_dissatisfied", "dk"]
COMMENT_WORDS = ["待遇太低", "复印机老坏", "多征求基层意见", "培训太少", "办事拖沓"]


def random_campaign(rng: np.random.Generator):
    sizes = {g: int(rng.integers(1, 31)) for g in GROUPS}
    p_dk = float(rng.uniform(0, 0.4))
    responses = []
    for group, size in sizes.items():
        for _ in range(size):
            answers = {q: ("dk" if rng.random() < p_dk else int(rng.integers(1, 6))) for q in QUESTIONS}
            answers |= {"cause_pay": int(rng.integers(1, 6)), "overall": GRADES[rng.integers(0, 6)]}
            if group == "office":
                answers["enps"] = int(rng.integers(0, 11))
            text = f"{group} {COMMENT_WORDS[rng.integers(0, 5)]}"
            note = {"improve_one": text} if rng.random() < 0.7 else {}
            responses.append({"group": group, "answers": answers, "comments": note})
    answers, comments = make_frames(responses)
    return sizes, answers, comments


COUNT_COLUMNS = {
    "satisfaction": ("n", "n_answered"), "self_view": ("n_reference", "n"),
    "ipa": ("n_importance", "n_performance"),
}
GROUP_COLUMN = {"themes": "raters"}
NOT_PARTITIONED = {"self_view", "reliability_dimensions", "reliability_items"}


def check_table(name: str, out: pd.DataFrame, k: int) -> None:
    counts = COUNT_COLUMNS.get(name, ("n",))
    visible = out.loc[~out["suppressed"]]
    # 1. no shown row describes fewer than k respondents (n = 0 is never shown either)
    for column in counts:
        assert (visible[column] >= k).all(), (name, column, visible[column].min())
    # 2. no difference "pool minus shown groups" describes between 1 and k-1 respondents
    group_col = GROUP_COLUMN.get(name, "group")
    if name in NOT_PARTITIONED or group_col not in out.columns:
        return
    cell_cols = [c for c in out.columns if c in ("block", "dimension", "item", "question_id", "cause",
                                                   "theme")]
    for _, cell in out.groupby(cell_cols, dropna=False) if cell_cols else [(None, out)]:
        pool = cell.loc[cell[group_col] == "all"]
        if pool.empty or pool["suppressed"].iloc[0]:
            continue
        for column in counts:
            groups_shown = cell.loc[(cell[group_col] != "all") & ~cell["suppressed"], column].sum()
            rest = pool[column].iloc[0] - groups_shown
            assert rest == 0 or rest >= k, (name, column, rest)


def test_property_no_output_describes_fewer_than_k():
    rng = np.random.default_rng(2024)
    for _ in range(12):
        sizes, answers, comments = random_campaign(rng)
        k = int(rng.choice([3, 5, 7]))
        k_comments = int(rng.choice([5, 10]))
        report = build_report(answers, comments, k=k, k_comments=k_comments, n_boot=20, seed=1)
        merged = {**sizes}
        if report["merged"]:
            merged["departments"] += merged.pop("leaders")
        for name, out in report["tables"].items():
            check_table(name, out, k)
        # the self-view table never shows a cell that the score table hides
        dims = report["tables"]["dimension_scores"]
        hidden = dims.loc[dims["suppressed"]]
        hidden_cells = set(zip(hidden["dimension"], hidden["group"], strict=True))
        views = report["tables"]["self_view"]
        for dimension, group, suppressed in zip(views["dimension"], views["group"], views["suppressed"],
                                                strict=True):
            if (dimension, group) in hidden_cells or (dimension, "office") in hidden_cells:
                assert suppressed
        # comments only from groups with at least k_comments respondents; never with their group
        assert list(report["comments"].columns) == ["question_id", "text"]
        for text in report["comments"]["text"]:
            assert merged[text.split()[0] if text.split()[0] in merged else "departments"] >= k_comments
        # findings only name shown cells
        for finding in report["findings"]:
            if finding["kind"] == "self_view":
                same = (views["dimension"] == finding["dimension"]) & (views["group"] == finding["group"])
                row = views.loc[same]
                assert not row["suppressed"].iloc[0]
        # any filter the checker lets through leaves at least k on both sides
        total = sum(sizes.values())
        for selected in rng.integers(0, total + 1, 20):
            try:
                check_filter(int(selected), total, k)
            except FilterRefused:
                assert selected < k or 0 < total - selected < k
            else:
                assert selected >= k and (total - selected == 0 or total - selected >= k)


def test_report_small_groups_example():
    # office 3, grassroots 6: each group alone would be shown as its own complement -> both hidden
    answers, _ = make_frames([{"group": "office", "answers": {"service_p1": 4}}] * 3
                             + [{"group": "grassroots", "answers": {"service_p1": 2}}] * 6)
    report = build_report(answers, k=5, n_boot=20)
    scores = report["tables"]["item_scores"]
    assert scores.loc[scores["group"] == "all", "mean"].iloc[0] == approx((12 + 12) / 9)
    assert scores.loc[scores["group"] != "all", "suppressed"].all()


def test_property_suppress_on_random_cells():
    # 150 random tables: 1-4 cells, 2-5 groups of 0-30 people, two count columns, a pool row per cell
    rng = np.random.default_rng(7)
    for _ in range(150):
        k = int(rng.integers(2, 11))
        rows = []
        for cell in range(int(rng.integers(1, 5))):
            groups = ["office", "departments", "grassroots", "leaders", "interns"][: int(rng.integers(2, 6))]
            sizes = rng.integers(0, 31, (len(groups), 2))
            for group, (a, b) in zip(groups, sizes, strict=True):
                rows.append({"item": f"i{cell}", "group": group, "n": a, "n_other": b, "mean": 3.0})
            rows.append({"item": f"i{cell}", "group": "all", "n": sizes[:, 0].sum(),
                         "n_other": sizes[:, 1].sum(), "mean": 3.0})
        raw = pd.DataFrame(rows)
        out = suppress(raw, k, n_cols=("n", "n_other"))
        for column in ("n", "n_other"):
            assert (out.loc[~out["suppressed"], column] >= k).all()
            # where the pool is shown, pool minus the shown groups is 0 or describes at least k people
            for item, cell in out.groupby("item"):
                pool = raw.loc[(raw["item"] == item) & (raw["group"] == "all"), column].iloc[0]
                if not cell.loc[cell["group"] == "all", "suppressed"].iloc[0]:
                    rest = pool - cell.loc[(cell["group"] != "all") & ~cell["suppressed"], column].sum()
                    assert rest == 0 or rest >= k
        assert out.loc[out["suppressed"], ["n", "n_other", "mean"]].isna().all().all()
