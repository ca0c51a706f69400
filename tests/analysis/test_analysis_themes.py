"""Comment themes (jieba + theme dictionary), their split by overall rating, and TF-IDF keywords."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from analysis import CAUSE_NAMES, THEMES, AnalysisError, comment_themes, make_frames, top_keywords

ROOT = Path(__file__).resolve().parents[2]

# respondent, overall grade (low = weight <= 60, high = above, unknown = dk), comments
PEOPLE = [
    ("a", "dissatisfied", ["待遇太低，津贴也少"]),  # pay
    ("b", "fairly_satisfied", ["复印机和传真机经常坏，电脑太旧"]),  # equipment
    ("c", "satisfied", ["希望多组织业务培训"]),  # skills (业务, 培训)
    ("d", "dk", ["办公室要多征求基层意见"]),  # service (基层), consultation (意见)
    # efficiency (twice: 推诿, 拖沓), leadership
    ("e", "very_satisfied", ["工作效率低，办事推诿", "领导要重视办公室工作，办事拖沓"]),
]


def frames():
    return make_frames([{"response_id": rid, "group": "office", "answers": {"overall": grade},
                         "comments": {f"q{i}": text for i, text in enumerate(texts)}}
                        for rid, grade, texts in PEOPLE])


def test_theme_dictionary_covers_the_seed():
    targets = {theme["maps_to"] for theme in THEMES.values()}
    assert {f"cause:{c}" for c in CAUSE_NAMES} <= targets
    assert {f"problem:{d}" for d in ("goals", "service", "positioning", "innovation", "vitality")} <= targets
    for word in ("激励", "考核", "待遇", "工资", "津贴", "设备", "电脑", "复印机", "传真", "培训", "技能",
                 "领导", "重视", "服务", "基层", "计划", "目标", "创新", "效率", "拖沓", "推诿", "沟通",
                 "征求意见"):
        assert any(word in theme["keywords"] for theme in THEMES.values()), word


def test_counts_per_theme_overall():
    _, comments = frames()
    t = comment_themes(comments)
    assert list(t.columns) == ["theme", "maps_to", "raters", "n", "count", "pct"]
    assert set(t["raters"]) == {"all"} and (t["n"] == 5).all()
    counts = dict(zip(t["theme"], t["count"], strict=True))
    # e's two comments mention efficiency twice (推诿, 拖沓) but e counts once
    assert counts == {"service": 1, "consultation": 1, "efficiency": 1, "pay": 1, "leadership": 1,
                      "equipment": 1, "skills": 1, "goals": 0, "innovation": 0, "awareness": 0, "rules": 0,
                      "incentives": 0}
    # mentioned themes first, in dictionary order among equals
    assert t["theme"].tolist()[:3] == ["service", "consultation", "efficiency"]
    assert t.loc[t["theme"] == "pay", "pct"].iloc[0] == pytest.approx(20.0)


def test_split_by_low_and_high_overall_raters():
    answers, comments = frames()
    t = comment_themes(comments, answers).set_index(["theme", "raters"])
    # low: a, b (n 2); high: c, e (n 2); unknown: d (n 1); the segments add up to all (n 5)
    assert t.loc[("pay", "all"), "n"] == 5
    assert t.loc[("pay", "low"), ["n", "count"]].tolist() == [2, 1]
    assert t.loc[("pay", "high"), "count"] == 0
    assert t.loc[("skills", "high"), ["n", "count", "pct"]].tolist() == [2, 1, 50.0]
    assert t.loc[("consultation", "unknown"), ["n", "count"]].tolist() == [1, 1]
    # a stricter low cut-off (30): b's 基本满意 (60) counts as high now
    t = comment_themes(comments, answers, low_max=30).set_index(["theme", "raters"])
    assert t.loc[("equipment", "high"), "count"] == 1


def test_top_keywords():
    comments = pd.DataFrame({"response_id": ["a", "b", "c"], "group": "office", "question_id": "q",
                             "text": ["复印机老化", "复印机经常卡纸，复印机太旧", "传真机也老化"]})
    t = top_keywords(comments, 3)
    assert list(t.columns) == ["keyword", "weight"]
    assert t["keyword"].iloc[0] == "复印机"
    assert len(t) == 3 and t["weight"].is_monotonic_decreasing
    assert top_keywords(comments.iloc[:0]).empty
    generic = comments.assign(text=["办公室工作希望加强", "办公室工作", "复印机"])
    assert "办公室" not in top_keywords(generic)["keyword"].tolist()
    with pytest.raises(AnalysisError):
        top_keywords(comments, 0)


def test_empty_comments():
    assert comment_themes(pd.DataFrame(columns=["response_id", "group", "question_id", "text"])).empty


def test_jieba_stays_quiet_on_first_use():
    code = ("from analysis.themes import comment_themes, top_keywords; import pandas as pd; "
            "c = pd.DataFrame({'response_id': ['a'], 'group': ['office'], 'question_id': ['q'], "
            "'text': ['复印机老化，待遇太低']}); comment_themes(c); top_keywords(c)")
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""


@pytest.mark.parametrize("cache", ["missing", "corrupt", "jieba's own"])
def test_dictionary_is_jiebas_whatever_its_cache_file(cache, tmp_path, monkeypatch):
    import jieba

    from analysis.themes import _load_dictionary

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # jieba keeps its cache in gettempdir()
    reference = jieba.Tokenizer()
    reference.initialize()  # builds the dictionary from dict.txt and writes tmp_path/jieba.cache
    written = (tmp_path / "jieba.cache").read_bytes()
    if cache == "missing":
        (tmp_path / "jieba.cache").unlink()
    elif cache == "corrupt":
        (tmp_path / "jieba.cache").write_bytes(written[: len(written) // 2])

    tokenizer = jieba.Tokenizer()
    _load_dictionary(tokenizer)

    assert tokenizer.initialized
    assert tokenizer.total == reference.total and tokenizer.FREQ == reference.FREQ
    assert tokenizer.lcut("复印机老化，待遇太低") == reference.lcut("复印机老化，待遇太低")
    assert (tmp_path / "jieba.cache").read_bytes() == written  # rebuilt by jieba when it was not usable
