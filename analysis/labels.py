"""Codes and their Chinese / English names: groups, dimensions, causes, grades, quadrants.

Tables carry codes only; these mappings turn them into words (findings, charts, exports).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import AnalysisError

__all__ = [
    "BLOCKS",
    "CAUSE_NAMES",
    "DEFAULT_GRADE_WEIGHTS",
    "DEFAULT_K",
    "DEFAULT_K_COMMENTS",
    "DIMENSION_NAMES",
    "EFFECT_NAMES",
    "GROUP_NAMES",
    "GROUP_ORDER",
    "QUADRANT_NAMES",
    "TOTAL",
    "WAVE_LABEL_NAMES",
    "label",
]

#: Default minimum group size k (the campaign may set another).
DEFAULT_K = 5
#: Default minimum group size for showing comments.
DEFAULT_K_COMMENTS = 10
#: The `group` value of pooled rows ("all respondents"); no respondent group may use it.
TOTAL = "all"
MERGED = "merged"  # the reported name of groups merged so that none is smaller than k

BLOCKS = ("perception", "expectation", "cause", "morale", "enps", "overall")

#: Known groups in report order; unknown codes sort after these, alphabetically, and TOTAL last.
GROUP_ORDER = ("office", "departments", "grassroots", "leaders")

GROUP_NAMES: Mapping[str, Mapping[str, str]] = {
    "office": {"zh": "办公室工作人员", "en": "office staff"},
    "departments": {"zh": "机关其他科室", "en": "other departments"},
    "grassroots": {"zh": "基层分局、所", "en": "grassroots units"},
    "leaders": {"zh": "局领导", "en": "bureau leaders"},
    TOTAL: {"zh": "全体", "en": "all respondents"},
    MERGED: {"zh": "其他（合并的小组）", "en": "other (merged small groups)"},
}

DIMENSION_NAMES: Mapping[str, Mapping[str, str]] = {
    "goals": {"zh": "工作目标与规划", "en": "Goals and planning"},
    "service": {"zh": "服务意识与对象", "en": "Service orientation"},
    "positioning": {"zh": "职责定位与沟通", "en": "Role and consultation"},
    "innovation": {"zh": "工作创新", "en": "Innovation"},
    "vitality": {"zh": "精神面貌与效率", "en": "Energy and promptness"},
    "support": {"zh": "保障能力", "en": "Equipment and skills"},
}

CAUSE_NAMES: Mapping[str, Mapping[str, str]] = {
    "awareness": {"zh": "思想认识", "en": "awareness"},
    "rules": {"zh": "规章制度执行", "en": "enforcement of rules"},
    "incentives": {"zh": "竞争激励机制", "en": "incentives"},
    "pay": {"zh": "待遇", "en": "pay"},
    "leadership": {"zh": "领导重视与落实", "en": "leadership support"},
    "equipment": {"zh": "办公设备", "en": "office equipment"},
    "skills": {"zh": "业务技能", "en": "skills"},
}

#: 百分制 weights of the `overall` grade codes (configurable per survey).
DEFAULT_GRADE_WEIGHTS: Mapping[str, float] = {
    "very_satisfied": 100.0,
    "satisfied": 80.0,
    "fairly_satisfied": 60.0,
    "dissatisfied": 30.0,
    "very_dissatisfied": 0.0,
}

QUADRANT_NAMES: Mapping[str, Mapping[str, str]] = {
    "concentrate_here": {"zh": "重点改进", "en": "concentrate here"},
    "keep_up_the_good_work": {"zh": "继续保持", "en": "keep up the good work"},
    "low_priority": {"zh": "次要改进", "en": "low priority"},
    "possible_overkill": {"zh": "可能过度", "en": "possible overkill"},
}

EFFECT_NAMES: Mapping[str, Mapping[str, str]] = {
    "negligible": {"zh": "效应量可忽略", "en": "negligible effect"},
    "small": {"zh": "效应量小", "en": "small effect"},
    "medium": {"zh": "效应量中等", "en": "medium effect"},
    "large": {"zh": "效应量大", "en": "large effect"},
}

WAVE_LABEL_NAMES: Mapping[str, Mapping[str, str]] = {
    "improved": {"zh": "改善", "en": "improved"},
    "no clear change": {"zh": "无明显变化", "en": "no clear change"},
    "worse": {"zh": "变差", "en": "worse"},
}


def label(kind: str, code: str | None, lang: str = "zh") -> str:
    """Return the name of a code in a language, or the code itself when unknown.

    Parameters
    ----------
    kind : {"group", "dimension", "cause", "quadrant", "effect", "wave"}
        Which mapping to look in.
    code : str or None
        The code; None gives an empty string.
    lang : {"zh", "en"}
        The language.

    Examples
    --------
    >>> label("dimension", "service")
    '服务意识与对象'
    >>> label("group", "grassroots", "en")
    'grassroots units'
    >>> label("group", "interns")
    'interns'
    """
    tables = {
        "group": GROUP_NAMES,
        "dimension": DIMENSION_NAMES,
        "cause": CAUSE_NAMES,
        "quadrant": QUADRANT_NAMES,
        "effect": EFFECT_NAMES,
        "wave": WAVE_LABEL_NAMES,
    }
    if kind not in tables:
        raise AnalysisError(f"unknown label kind {kind!r}; expected one of {sorted(tables)}")
    if code is None:
        return ""
    names = tables[kind].get(code)
    if names is None:
        return str(code)
    return names.get(lang, names["en"])
