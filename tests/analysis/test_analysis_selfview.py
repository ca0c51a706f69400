"""Reference tests of the self-view gap (office vs customers): U, exact p, Cliff's delta, Holm.

Data set: 6 office staff and 6 from other departments rate three dimensions of four items each, so a
respondent's dimension score is (sum of four ratings) / 4. The sums are chosen so that:

    goals       office 20 19 18 17 16 15   departments 14 13 12 11 10 9   U = 36 (complete separation)
    service     office 20 19 18 17 16 14   departments 15 13 12 11 10 9   U = 35 (one pair reversed: 14 < 15)
    innovation  office 20 17 16 13 12  9   departments 19 18 15 14 11 10  U = 18 (= n1 n2 / 2)

No ties, n = 6 each: exact p. P(U >= 36 - j) counts the partitions of j into at most 6 parts of at most 6,
over C(12, 6) = 924: P(U = 36) = 1/924, P(U >= 35) = 2/924. Two-sided: goals 2/924 = 0.0021645,
service 4/924 = 0.0043290, innovation 1 (capped).
Holm, m = 3: 0.0021645 * 3 = 0.0064935; 0.0043290 * 2 = 0.0086580; 1 * 1 = 1.
Cliff's delta = (U - (n1 n2 - U)) / 36: goals 36/36 = 1, service 34/36 = 0.94444, innovation 0.
Gaps (mean office minus mean departments, / 4 for the item count):
    goals (105 - 69) / 24 = 1.5; service (104 - 70) / 24 = 1.41667; innovation (87 - 87) / 24 = 0.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from analysis import make_frames, self_view_gaps

approx = pytest.approx
SUMS = {
    "goals": ([20, 19, 18, 17, 16, 15], [14, 13, 12, 11, 10, 9]),
    "service": ([20, 19, 18, 17, 16, 14], [15, 13, 12, 11, 10, 9]),
    "innovation": ([20, 17, 16, 13, 12, 9], [19, 18, 15, 14, 11, 10]),
}


def ratings(total: int) -> list[int]:
    """Four ratings 1-5 that add up to total."""
    base, extra = divmod(total, 4)
    return [base + 1] * extra + [base] * (4 - extra)


def frame(extra_grassroots: int = 0) -> pd.DataFrame:
    responses = []
    for group, side in (("office", 0), ("departments", 1)):
        for person in range(6):
            answers = {}
            for dimension, sums in SUMS.items():
                for i, value in enumerate(ratings(sums[side][person]), 1):
                    answers[f"{dimension}_p{i}"] = value
            responses.append({"group": group, "answers": answers})
    for _ in range(extra_grassroots):
        answers = {f"{d}_p{i}": 3 for d in SUMS for i in range(1, 5)}
        responses.append({"group": "grassroots", "answers": answers})
    return make_frames(responses)[0]


def test_self_view_gaps_hand_worked():
    t = self_view_gaps(frame(), k=5, n_boot=500).set_index("dimension")
    assert list(t.index) == ["goals", "innovation", "service"]
    assert t["u"].to_dict() == {"goals": 36.0, "innovation": 18.0, "service": 35.0}
    assert t.loc["goals", "p"] == approx(2 / 924)
    assert t.loc["service", "p"] == approx(4 / 924)
    assert t.loc["innovation", "p"] == approx(1.0)
    assert t.loc["goals", "p_holm"] == approx(3 * 2 / 924)
    assert t.loc["service", "p_holm"] == approx(2 * 4 / 924)
    assert t.loc["innovation", "p_holm"] == approx(1.0)
    assert t["method"].unique().tolist() == ["exact"]
    assert t["cliffs_delta"].to_dict() == {"goals": 1.0, "innovation": 0.0, "service": approx(34 / 36)}
    assert t["effect"].to_dict() == {"goals": "large", "innovation": "negligible", "service": "large"}
    assert t["gap"].to_dict() == {"goals": approx(1.5), "innovation": approx(0.0), "service": approx(34 / 24)}
    assert (t.loc["goals", "mean_reference"], t.loc["goals", "mean"]) == (approx(105 / 24), approx(69 / 24))
    assert t["n_reference"].tolist() == [6, 6, 6] and t["n"].tolist() == [6, 6, 6]
    assert (t["reference"] == "office").all() and (t["group"] == "departments").all()
    # the gap's bootstrap interval brackets it
    assert (t["ci_low"] <= t["gap"]).all() and (t["gap"] <= t["ci_high"]).all()


def test_self_view_p_values_agree_with_scipy():
    # the independent implementation: scipy on the respondent means computed here from the sums
    t = self_view_gaps(frame(), k=5, n_boot=100).set_index("dimension")
    for dimension, (office, departments) in SUMS.items():
        x, y = [s / 4 for s in office], [s / 4 for s in departments]
        ref = stats.mannwhitneyu(x, y, method="exact")
        assert t.loc[dimension, "u"] == ref.statistic
        assert t.loc[dimension, "p"] == approx(min(1.0, ref.pvalue))


def test_no_test_below_k_but_descriptives_stay():
    t = self_view_gaps(frame(extra_grassroots=3), k=5, n_boot=100)
    small = t.loc[t["group"] == "grassroots"]
    assert len(small) == 3
    assert small[["u", "p", "method", "p_holm"]].isna().all().all()
    assert small["p"].map(lambda v: v is None).all()
    # office sums / 4 vs all 3s: descriptives are still there
    goals = small.loc[small["dimension"] == "goals"].iloc[0]
    assert goals["gap"] == approx(105 / 24 - 3)
    assert goals["cliffs_delta"] == approx(1.0)
    # departments (n 6 >= 5) are still tested, and Holm is done per compared group
    big = t.loc[t["group"] == "departments"].set_index("dimension")
    assert big.loc["goals", "p_holm"] == approx(3 * 2 / 924)
    # with k above both sizes nothing is tested
    assert self_view_gaps(frame(), k=7, n_boot=50)["p_holm"].map(lambda v: v is None).all()


def test_groups_can_be_chosen():
    t = self_view_gaps(frame(extra_grassroots=6), groups=["grassroots"], k=5, n_boot=50)
    assert set(t["group"]) == {"grassroots"}
