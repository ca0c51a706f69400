"""What makes large campaigns fast must not change a figure: grouping by codes, prepared answers, the
packed loading query and the bootstrap of large samples, each checked against the plain pandas way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import create_engine, text

from analysis import build_report, load_responses, make_frames, question_table, validate_answers
from analysis._grouping import aggregate, group_ids, positions
from analysis._util import with_pooled
from analysis.stats import RESAMPLE_MAX, bootstrap_diff_ci, bootstrap_mean_ci, cell_rng
from surveys import TEMPLATES_DIR, load
from surveys.answers import validate
from surveys.synthetic import synthetic_answers

SURVEY = load(TEMPLATES_DIR / "office-service-quality.yaml")


def rows(seed: int, n: int = 400) -> pd.DataFrame:
    """Rows with categorical keys (some missing), fractional values and no particular order."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "dimension": pd.Categorical(rng.choice(["goals", "service", None], n)),
        "item": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "group": pd.Categorical(rng.choice(["office", "grassroots", "departments"], n)),
        "value": rng.choice([1.0, 2.5, 3.0, 4.25, 5.0], n),
        "flag": rng.random(n) < 0.4,
    })


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("layout", ["shuffled", "sorted"])
def test_aggregate_is_the_pooled_groupby_to_the_last_bit(seed, layout):
    frame = rows(seed)
    if layout == "sorted":  # groups that follow one another are summed another way by pandas
        frame = frame.sort_values(["dimension", "item", "group"], kind="stable").reset_index(drop=True)
    keys = ["dimension", "item", "group"]
    named = {"n": ("value", "size"), "mean": ("value", "mean"), "sd": ("value", "std"), "k": ("flag", "sum"),
             "share": ("flag", "mean"), "items": ("item", "nunique")}
    ours = aggregate(frame, keys, **named)
    theirs = with_pooled(frame).groupby(keys, sort=False, dropna=False, observed=True).agg(**named).reset_index()
    theirs = theirs.astype({k: str for k in keys if k != "group"}).replace({"nan": np.nan})
    order = ["dimension", "item", "group"]
    ours = ours.sort_values(order, na_position="first").reset_index(drop=True)
    theirs = theirs.sort_values(order, na_position="first").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True, check_dtype=False)


def test_group_ids_and_positions_follow_the_rows():
    frame = rows(7)
    ids, groups = group_ids(frame, ["dimension", "group"])
    expected = frame.groupby(["dimension", "group"], sort=False, dropna=False, observed=True).ngroup().to_numpy()
    assert (ids == expected).all()
    for key, index in positions(frame, ["dimension", "group"]).items():
        same = (frame["group"] == key[1]) & (frame["dimension"].isna() if pd.isna(key[0])
                                             else frame["dimension"] == key[0])
        assert (index == np.flatnonzero(same)).all()
    assert len(groups) == ids.max() + 1


def test_categorical_and_text_frames_give_the_same_report():
    forms = [validate(SURVEY, form) for form in synthetic_answers(SURVEY, 80, seed=3)]
    answers, comments = make_frames([
        {"group": f.group, "answers": {q: next(iter(c)) for q, c in f.codes.items() if q != SURVEY.group_question},
         "comments": f.texts} for f in forms])
    categorical = answers.astype({c: "category" for c in ("response_id", "group", "question_id", "item", "block")})
    a = build_report(answers, comments, k=3, n_boot=200)
    b = build_report(categorical, comments, k=3, n_boot=200)
    for name in a["tables"]:
        pd.testing.assert_frame_equal(a["tables"][name], b["tables"][name], check_exact=True)
    assert a["findings"] == b["findings"]


def test_validated_frames_are_categorical_with_sorted_categories():
    answers, _ = make_frames([{"group": g, "answers": {"goals_p1": 3}} for g in ("office", "departments")])
    clean = validate_answers(answers.iloc[::-1])
    for column in ("response_id", "group", "question_id", "code"):
        assert isinstance(clean[column].dtype, pd.CategoricalDtype)
        assert clean[column].cat.categories.is_monotonic_increasing


def test_large_samples_resample_counts_with_the_same_distribution():
    rng = np.random.default_rng(5)
    values = rng.choice([-2.0, -1.0, 0.0, 0.5, 1.0], 3000, p=[0.1, 0.3, 0.3, 0.2, 0.1])
    assert values.size * 1000 > RESAMPLE_MAX  # the multinomial path
    low, high = bootstrap_mean_ci(values, cell_rng(0, "big"), 1000)
    ref = stats.bootstrap((values,), np.mean, method="percentile", n_resamples=4000,
                          rng=np.random.default_rng(1)).confidence_interval
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(low - ref.low) < 0.3 * se and abs(high - ref.high) < 0.3 * se  # Monte Carlo error ~0.1 se
    assert bootstrap_mean_ci(np.full(5000, 3.0), cell_rng(0), 1000) == (3.0, 3.0)
    low, high = bootstrap_diff_ci(values + 1, values, cell_rng(1, "d"), 1000)
    assert low < 1 < high and high - low == pytest.approx(2 * 1.96 * np.sqrt(2) * se, rel=0.15)


def test_load_responses_reads_every_answer_once_in_key_order(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    rng = np.random.default_rng(2)
    stored = []
    with engine.begin() as conn:
        for sql in ("CREATE TABLE responses (id TEXT PRIMARY KEY, campaign_id INT, respondent_group TEXT)",
                    "CREATE TABLE answers (response_id TEXT, question_id TEXT, code TEXT)",
                    "CREATE TABLE comments (response_id TEXT, question_id TEXT, text TEXT)"):
            conn.execute(text(sql))
        for i, form in enumerate(synthetic_answers(SURVEY, 25, seed=4)):
            submission, rid = validate(SURVEY, form), f"r{rng.integers(1e9):09d}"
            conn.execute(text("INSERT INTO responses VALUES (:r, :c, :g)"), {"r": rid, "c": 1 + i % 2,
                                                                            "g": submission.group})
            answers = [(rid, q, c) for q, codes in submission.codes.items() for c in codes] + [(rid, "gone", "1")]
            for row in rng.permutation(np.array(answers, dtype=object)):  # stored in no particular order
                conn.execute(text("INSERT INTO answers VALUES (:r, :q, :c)"), dict(zip("rqc", row, strict=True)))
            stored += [(rid, q, c, 1 + i % 2) for rid, q, c in answers if q != "gone"]
    answers, _ = load_responses(engine, 1, SURVEY)
    expected = sorted((r, q, c) for r, q, c, campaign in stored if campaign == 1)
    assert list(zip(answers["response_id"], answers["question_id"], answers["code"], strict=True)) == expected
    meta = question_table(SURVEY).set_index("question_id")
    blocks = meta.loc[answers["question_id"].astype(object), "block"].fillna("-").to_numpy()
    assert (answers["block"].astype(object).fillna("-").to_numpy() == blocks).all()
    likert = answers["qtype"] == "likert"
    assert answers.loc[likert & ~answers["dont_know"], "value"].between(1, 5).all()
    assert answers.loc[~likert & (answers["qtype"] != "nps"), "value"].isna().all()


def test_keyword_tables_are_jieba_analyses():
    import warnings

    from analysis.themes import JIEBA_STOP_WORDS, KEYWORD_STOP_WORDS, _engines

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jieba.analyse leaves its IDF file open
        import jieba.analyse

        reference = jieba.analyse.TFIDF()
    _, idf, median, stop_words = _engines()
    assert idf == reference.idf_freq and median == reference.median_idf
    assert JIEBA_STOP_WORDS == reference.STOP_WORDS and stop_words == JIEBA_STOP_WORDS | KEYWORD_STOP_WORDS


def test_keywords_are_jiebas_extract_tags_on_all_the_texts():
    import warnings

    from analysis import top_keywords
    from analysis.themes import KEYWORD_STOP_WORDS, _engines

    texts = ["复印机、传真机经常坏，影响办事效率，希望更新设备。", "办公室人员待遇偏低，津贴少。",
             "干多干少一个样，希望建立考核激励机制。", "复印机老化"] * 3 + ["出台制度前多征求基层分局的意见。"]
    comments = pd.DataFrame({"response_id": [f"r{i}" for i in range(len(texts))], "group": "office",
                             "question_id": "q", "text": texts})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba.analyse

        extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = _engines()[0]
    extractor.stop_words = set(extractor.stop_words) | KEYWORD_STOP_WORDS
    expected = extractor.extract_tags("\n".join(texts), topK=10, withWeight=True)
    assert top_keywords(comments).values.tolist() == [list(tag) for tag in expected]
