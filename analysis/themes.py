"""Comment themes: jieba segmentation against a theme dictionary, and TF-IDF keywords.

The themes are the seed analysis's five problems (``problem:<dimension>``) and seven root causes
(``cause:<cause>``). A comment mentions a theme when one of its jieba tokens is one of the theme's
keywords; the keywords are added to a private jieba tokenizer so that they come out as whole tokens.
jieba is imported and initialised on first use, quietly (its logger is set to WARNING).
"""

from __future__ import annotations

import functools
import logging
import marshal
import tempfile
import warnings
from collections.abc import Mapping
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._grouping import plain
from ._util import Answers, empty, prepare
from .errors import AnalysisError
from .frames import validate_comments
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


#: The stop words of jieba.analyse's TF-IDF (KeywordExtractor.STOP_WORDS in jieba 0.42).
JIEBA_STOP_WORDS = frozenset({
    "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be", "as", "on", "with",
    "can", "if", "from", "which", "you", "it", "this", "then", "at", "have", "all", "not", "one", "has", "or",
})


def prepare_segmenter() -> None:
    """Set jieba up now (about a second: its dictionary), e.g. in a server before it forks its workers."""
    _engines()


@functools.cache
def _engines() -> tuple[Any, dict[str, float], float, frozenset[str]]:
    """Import jieba quietly; return a tokenizer that knows the theme keywords, and the TF-IDF tables.

    The tables are jieba.analyse's: the IDF of each word, the median IDF (for other words) and the stop
    words, read as ``jieba.analyse.TFIDF()`` reads them. jieba.analyse itself is not imported: on import
    it also sets up a part-of-speech tagger, which takes seconds and is not used here.
    """
    with warnings.catch_warnings():
        # jieba 0.42 may import pkg_resources.
        warnings.simplefilter("ignore")
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        _load_dictionary(tokenizer)
        for theme in THEMES.values():
            for word in theme["keywords"]:
                tokenizer.add_word(word, freq=100_000)
    # idf.txt has one "word idf" per line, and no word contains white space.
    fields = (Path(jieba.__file__).parent / "analyse" / "idf.txt").read_bytes().decode("utf-8").split()
    idf = dict(zip(fields[0::2], map(float, fields[1::2]), strict=True))
    values = np.fromiter(idf.values(), dtype=float, count=len(idf))
    median = float(np.partition(values, len(values) // 2)[len(values) // 2])  # sorted(values)[n // 2], as jieba
    return tokenizer, idf, median, JIEBA_STOP_WORDS | KEYWORD_STOP_WORDS


def _load_dictionary(tokenizer: Any) -> None:
    """Load jieba's prefix dictionary from the cache file jieba keeps in the temporary directory, or build it.

    jieba reads that file with ``marshal.load`` on an open file, which reads it a few bytes at a time (about 1 s
    for its 9 MB); reading it whole and then ``marshal.loads`` gives the same dictionary in a quarter of the time.
    When the file is missing or not a dictionary, jieba builds it (and writes the file) as it always does.
    """
    cache = Path(tempfile.gettempdir()) / "jieba.cache"  # where jieba.Tokenizer().initialize() keeps it
    try:
        # The same file, trusted as much as jieba trusts it when it loads it with marshal.load itself.
        freq, total = marshal.loads(cache.read_bytes())  # nosec B302
        usable = isinstance(freq, dict) and isinstance(total, int) and bool(freq)
    except (OSError, EOFError, ValueError, TypeError):
        usable = False
    if not usable:
        tokenizer.initialize()
        return
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True


def tokenize(text: str) -> list[str]:
    """Segment a text with jieba (theme keywords kept whole), dropping blanks.

    Examples
    --------
    >>> tokenize("复印机经常坏")[0]
    '复印机'
    """
    tokenizer = _engines()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        return [t for t in tokenizer.lcut(str(text)) if t.strip()]


def _raters(answers: Answers, weights: Mapping[str, float], low_max: float) -> pd.Series:
    """Say "low" or "high" for each respondent with a valid overall grade (indexed by response id)."""
    clean = prepare(answers).frame
    overall = clean.loc[(clean["block"] == "overall") & ~clean["dont_know"] & clean["code"].isin(list(weights)),
                        ["response_id", "code"]]
    first = overall.drop_duplicates("response_id")
    weight = plain(first["code"]).map(weights)
    return pd.Series(np.where(weight <= low_max, "low", "high"), index=plain(first["response_id"]).to_numpy())


def comment_themes(
    comments: pd.DataFrame,
    answers: Answers | None = None,
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
    # A commenter mentions a theme when one of their comments does (jieba never joins words across the
    # blank between two comments, so this is the same as segmenting all their comments together), and
    # jieba segments each distinct text once.
    text_codes, texts = pd.factorize(clean["text"])
    keywords = [set(theme["keywords"]) for theme in THEMES.values()]
    found = np.array([[bool(words & tokens) for words in keywords] for tokens in map(set, map(tokenize, texts))],
                     dtype=bool).reshape(len(texts), len(THEMES))
    mentions = pd.DataFrame(found[text_codes], columns=list(THEMES)).groupby(clean["response_id"].to_numpy()).any()
    segments = {TOTAL: np.ones(len(mentions), dtype=bool)}
    if answers is not None:
        raters = _raters(answers, dict(DEFAULT_GRADE_WEIGHTS if weights is None else weights), low_max)
        rated = raters.reindex(mentions.index).fillna("unknown").to_numpy()
        for segment in ("low", "high", "unknown"):
            segments[segment] = rated == segment
    rows = []
    for code, theme in THEMES.items():
        for segment, people in segments.items():
            n = int(people.sum())
            count = int(mentions.loc[people, code].sum())
            rows.append({"theme": code, "maps_to": theme["maps_to"], "raters": segment, "n": n,
                         "count": count, "pct": count / n * 100 if n else float("nan")})
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
    _, idf, median_idf, stop_words = _engines()
    # jieba's TFIDF.extract_tags on the texts joined by newlines, with each distinct text segmented once
    # and its words counted as often as it occurs (same counts, same order of first appearance).
    text_codes, texts = pd.factorize(clean["text"])
    freq: dict[str, float] = {}
    for text, times in zip(texts, np.bincount(text_codes).tolist(), strict=True):
        for word in tokenize(text):
            if len(word.strip()) < 2 or word.lower() in stop_words:
                continue
            freq[word] = freq.get(word, 0.0) + times
    total = sum(freq.values())
    for word in freq:
        freq[word] *= idf.get(word, median_idf) / total
    tags = sorted(freq.items(), key=itemgetter(1), reverse=True)[:top_k]
    return pd.DataFrame(tags, columns=["keyword", "weight"])
