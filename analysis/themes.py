"""Comment themes: jieba segmentation against a theme dictionary, and TF-IDF keywords.

The themes are the seed analysis's five problems (``problem:<dimension>``) and seven root causes
(``cause:<cause>``). A comment mentions a theme when one of its jieba tokens is one of the theme's
keywords; the keywords are added to a private jieba tokenizer so that they come out as whole tokens.
jieba is imported and initialised on first use, quietly (its logger is set to WARNING).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ._util import empty
from .errors import AnalysisError
from .frames import validate_answers, validate_comments
from .labels import DEFAULT_GRADE_WEIGHTS, TOTAL

__all__ = ["KEYWORD_STOP_WORDS", "THEMES", "comment_themes", "tokenize", "top_keywords"]

#: Words too common in comments about an office to be keywords.
KEYWORD_STOP_WORDS = frozenset({
    "办公室", "工作", "希望", "建议", "问题", "需要", "加强", "提高", "进一步", "我们",
    "一些", "没有", "可以", "应该", "还是", "比较", "现在", "有些", "感觉", "觉得",
})

#: theme code -> names, what it maps to, and its keywords (whole jieba tokens).
THEMES: Mapping[str, Mapping[str, Any]] = {
    "goals": {"zh": "目标与规划", "en": "goals and planning", "maps_to": "problem:goals",
              "keywords": ("目标", "规划", "计划", "方向", "定位", "思路")},
    "service": {"zh": "服务基层", "en": "serving the units", "maps_to": "problem:service",
                "keywords": ("服务", "基层", "需求", "群众", "下基层", "调研")},
    "consultation": {"zh": "沟通与征求意见", "en": "consultation", "maps_to": "problem:positioning",
                     "keywords": ("沟通", "征求意见", "意见", "建议", "商量", "协调", "解释", "单方面")},
    "innovation": {"zh": "创新", "en": "innovation", "maps_to": "problem:innovation",
                   "keywords": ("创新", "新办法", "老办法", "照搬", "改进", "信息化", "无纸化")},
    "efficiency": {"zh": "效率与作风", "en": "promptness and attitude", "maps_to": "problem:vitality",
                   "keywords": ("效率", "拖沓", "推诿", "拖延", "热情", "积极", "态度", "速度", "主动")},
    "awareness": {"zh": "思想认识", "en": "awareness", "maps_to": "cause:awareness",
                  "keywords": ("认识", "意识", "重要性", "思想")},
    "rules": {"zh": "规章制度", "en": "rules", "maps_to": "cause:rules",
              "keywords": ("制度", "规章", "纪律", "追究", "执行")},
    "incentives": {"zh": "激励与考核", "en": "incentives and appraisal", "maps_to": "cause:incentives",
                   "keywords": ("激励", "考核", "竞争", "奖惩", "绩效", "晋升")},
    "pay": {"zh": "待遇", "en": "pay", "maps_to": "cause:pay",
            "keywords": ("待遇", "工资", "津贴", "补贴", "收入", "奖金")},
    "leadership": {"zh": "领导重视", "en": "leadership support", "maps_to": "cause:leadership",
                   "keywords": ("领导", "重视", "支持", "关心", "落实")},
    "equipment": {"zh": "办公设备", "en": "equipment", "maps_to": "cause:equipment",
                  "keywords": ("设备", "电脑", "复印机", "传真", "传真机", "打印机", "相机", "老化")},
    "skills": {"zh": "培训与技能", "en": "training and skills", "maps_to": "cause:skills",
               "keywords": ("培训", "技能", "业务", "学习", "能力", "专业")},
}


@functools.cache
def _engines() -> tuple[Any, Any]:
    """Import jieba quietly and build a tokenizer that knows the theme keywords, and a TF-IDF extractor."""
    with warnings.catch_warnings():
        # jieba 0.42 leaves its IDF file open (a ResourceWarning) and may import pkg_resources.
        warnings.simplefilter("ignore")
        import jieba
        import jieba.analyse

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        for theme in THEMES.values():
            for word in theme["keywords"]:
                tokenizer.add_word(word, freq=100_000)
        extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = tokenizer
    extractor.stop_words = set(extractor.stop_words) | KEYWORD_STOP_WORDS
    return tokenizer, extractor


def tokenize(text: str) -> list[str]:
    """Segment a text with jieba (theme keywords kept whole), dropping blanks.

    Examples
    --------
    >>> tokenize("复印机经常坏")[0]
    '复印机'
    """
    tokenizer, _ = _engines()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        return [t for t in tokenizer.lcut(str(text)) if t.strip()]


def _themes_of(text: str) -> set[str]:
    tokens = set(tokenize(text))
    return {code for code, theme in THEMES.items() if tokens & set(theme["keywords"])}


def _raters(answers: pd.DataFrame, weights: Mapping[str, float], low_max: float) -> dict[str, str]:
    clean = validate_answers(answers)
    overall = clean.loc[(clean["block"] == "overall") & ~clean["dont_know"] & clean["code"].isin(weights)]
    weight = overall.drop_duplicates("response_id").set_index("response_id")["code"].map(weights)
    return {rid: ("low" if w <= low_max else "high") for rid, w in weight.items()}


def comment_themes(
    comments: pd.DataFrame,
    answers: pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    low_max: float = 60.0,
) -> pd.DataFrame:
    """Count the commenters who mention each theme, overall and split by low vs high overall raters.

    Parameters
    ----------
    comments : DataFrame
        The comments frame; pass only comments that may be analysed (see `privacy.visible_comments`'s
        rule); several comments of one respondent count once per theme.
    answers : DataFrame, optional
        The answers frame; with it, rows for ``raters`` ``low`` (overall grade weight <= `low_max`, i.e.
        基本满意 or below by default), ``high`` (above) and ``unknown`` (don't know or no answer) are
        added; the three segments add up to ``all``, so suppression can protect each of them.
    weights : mapping, optional
        Grade weights (default 100/80/60/30/0).
    low_max : float
        Highest weight counted as a low rating.

    Returns
    -------
    DataFrame
        Columns ``theme, maps_to, raters, n, count, pct``: n = commenters in that rater segment
        (``all``, ``low``, ``high``, ``unknown``), count = those mentioning the theme,
        pct = count / n * 100.

    Examples
    --------
    >>> c = pd.DataFrame({"response_id": ["a", "b"], "group": ["office"] * 2,
    ...                   "question_id": ["improve_one"] * 2, "text": ["待遇太低，津贴少", "复印机老坏"]})
    >>> t = comment_themes(c)
    >>> t.loc[t["theme"].isin(["pay", "equipment", "skills"]), ["theme", "n", "count"]].to_dict("records")
    [{'theme': 'pay', 'n': 2, 'count': 1}, {'theme': 'equipment', 'n': 2, 'count': 1}, \
{'theme': 'skills', 'n': 2, 'count': 0}]
    """
    clean = validate_comments(comments)
    columns = ["theme", "maps_to", "raters", "n", "count", "pct"]
    if clean.empty:
        return empty(columns)
    mentions = clean.groupby("response_id")["text"].agg(" ".join).map(_themes_of)
    segments = {TOTAL: list(mentions.index)}
    if answers is not None:
        raters = _raters(answers, dict(DEFAULT_GRADE_WEIGHTS if weights is None else weights), low_max)
        for segment in ("low", "high", "unknown"):
            segments[segment] = [rid for rid in mentions.index if raters.get(rid, "unknown") == segment]
    rows = []
    for code, theme in THEMES.items():
        for segment, people in segments.items():
            count = sum(code in mentions[rid] for rid in people)
            rows.append({"theme": code, "maps_to": theme["maps_to"], "raters": segment, "n": len(people),
                         "count": count, "pct": count / len(people) * 100 if people else float("nan")})
    table = pd.DataFrame(rows, columns=columns)
    # Most mentioned themes first (dictionary order among equals); segments all, low, high.
    overall = table.loc[table["raters"] == TOTAL].set_index("theme")["count"]
    theme_order = {code: (-overall[code], i) for i, code in enumerate(THEMES)}
    segment_order = {TOTAL: 0, "low": 1, "high": 2, "unknown": 3}
    pairs = zip(table["theme"], table["raters"], strict=True)
    position = [(theme_order[t], segment_order[r]) for t, r in pairs]
    table = table.iloc[sorted(range(len(table)), key=position.__getitem__)]
    return table.reset_index(drop=True)


def top_keywords(comments: pd.DataFrame, top_k: int = 10) -> pd.DataFrame:
    """Rank the comments' keywords by TF-IDF (jieba.analyse.extract_tags over all texts together).

    Words in `KEYWORD_STOP_WORDS` (办公室, 工作, 希望 ...) are left out.

    Returns
    -------
    DataFrame
        Columns ``keyword, weight``, highest weight first.

    Examples
    --------
    >>> c = pd.DataFrame({"response_id": ["a"], "group": ["office"], "question_id": ["q"],
    ...                   "text": ["复印机老化，传真机老化，设备更新太慢"]})
    >>> top_keywords(c, 2)["keyword"].tolist()[0]
    '老化'
    """
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise AnalysisError(f"top_k must be a positive integer, got {top_k!r}")
    clean = validate_comments(comments)
    if clean.empty:
        return empty(["keyword", "weight"])
    _, extractor = _engines()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        tags = extractor.extract_tags("\n".join(clean["text"]), topK=top_k, withWeight=True)
    return pd.DataFrame(tags, columns=["keyword", "weight"])
