"""The ten charts of the head's dashboard, drawn from the already-suppressed tables of `build_report`.

Every chart is a function ``<name>_chart(tables..., locale="zh") -> Figure`` that builds a
`matplotlib.figure.Figure` with the object API (pyplot is never imported: it leaks figures in a server).
Most delegate the drawing to ``plot_<name>(table, ax=None, ...) -> Axes``, which draws on a given Axes
(or a new figure's); the few table-shaping steps that are not drawing (`likert_percentages`,
`summary_values`, `enps_by_wave`) are separate functions.

Conventions shared by all charts:

* Only suppressed tables go in (never raw answers); a row flagged ``suppressed`` is drawn as a hatched
  bar or cell labelled ``n<k`` and never shows a number. A table with nothing to show (no answers, or
  every row suppressed) gives a figure that says so instead of raising.
* One colour and one marker per respondent group, the same in every chart (`GROUP_COLOURS`,
  Okabe-Ito, colour-blind safe); gaps below zero are warm (`NEGATIVE`), above zero cool (`POSITIVE`);
  colour is never the only cue: values are written beside bars, groups also differ by marker shape
  or position, suppressed cells by a hatch and ``n<k``.
* Black text on white, about 8 x 5 inches (A4-friendly), Chinese labels (English with
  ``locale="en"``) in the bundled CJK font (`analysis.fonts`), so they render on a machine without
  Chinese fonts, in PNG, SVG and PDF alike.
* Captions: every chart has a one-line "how to read it" caption, ``CAPTIONS[name][locale]``; the
  figure carries it as ``fig.officepulse_caption`` (and its registry name as ``fig.officepulse_chart``),
  so code that only holds the figure can print it under the image. The caption is not drawn inside
  the figure.

The registry `CHARTS` maps the web layer's names to functions of one signature,
``function(report, locale="zh", *, waves=None, items=None) -> Figure``; `draw` looks one up.

Examples
--------
>>> from analysis import build_report, make_frames
>>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": 4, "goals_e1": 5}}] * 6)
>>> fig = draw("gap", build_report(answers, n_boot=20))
>>> fig.officepulse_caption == CAPTIONS["gap"]["zh"]
True
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch, Rectangle

from ._util import group_rank
from .errors import AnalysisError
from .fonts import chart_rc
from .labels import DIMENSION_NAMES, TOTAL, label
from .themes import THEMES

__all__ = [
    "CAPTIONS",
    "CHARTS",
    "FIGSIZE",
    "GROUP_COLOURS",
    "GROUP_MARKERS",
    "NEGATIVE",
    "POSITIVE",
    "SUPPRESSED_LABEL",
    "TITLES",
    "causes_chart",
    "draw",
    "enps_by_wave",
    "gap_chart",
    "group_colour",
    "group_marker",
    "heatmap_chart",
    "ipa_chart",
    "item_labels",
    "likert_chart",
    "likert_percentages",
    "morale_chart",
    "plot_causes",
    "plot_enps",
    "plot_gaps",
    "plot_heatmap",
    "plot_ipa",
    "plot_likert",
    "plot_self_view",
    "plot_summary",
    "plot_themes",
    "plot_trend",
    "self_view_chart",
    "summary_chart",
    "summary_values",
    "themes_chart",
    "trend_chart",
]

LOCALES = ("zh", "en")
#: Size of every figure in inches (fits an A4 page with margins).
FIGSIZE = (8.0, 5.0)
_DPI = 100

#: One colour per respondent group (Okabe-Ito); the pool is dark grey.
GROUP_COLOURS: Mapping[str, str] = {
    "office": "#E69F00",
    "departments": "#56B4E9",
    "grassroots": "#009E73",
    "leaders": "#CC79A7",
    TOTAL: "#333333",
}
#: One marker per respondent group, so groups differ without colour too.
GROUP_MARKERS: Mapping[str, str] = {"office": "o", "departments": "s", "grassroots": "^", "leaders": "D",
                                    TOTAL: "X"}
_EXTRA_COLOURS = ("#0072B2", "#882255", "#999933", "#F0E442")
_EXTRA_MARKERS = ("v", "P", "h", "<")

#: Warm colour for gaps below zero (falls short), cool colour for gaps above zero.
NEGATIVE = "#D55E00"
POSITIVE = "#0072B2"
_NEGATIVE_TEXT = "#8F3F00"
_POSITIVE_TEXT = "#004F7C"
_NEGATIVE_TINT = "#FBE9DF"
_POSITIVE_TINT = "#E4EFF7"
_GREY = "#666666"
_LIGHT = "#BBBBBB"
#: The only thing a suppressed cell or bar ever says.
SUPPRESSED_LABEL = "n<k"
_HATCH = "////"
_MINUS = "\u2212"

# 1-5 ratings: warm (low) to cool (high), light grey neutral; the ends are dark, so black and white
# copies still tell them apart by position (left / right of zero).
_LIKERT_COLOURS = ("#D55E00", "#F2B48C", "#D9D9D9", "#9CC8E6", "#0072B2")
_LIKERT_TEXT = ("white", "black", "black", "black", "white")
_FAVOURABLE_CMAP = LinearSegmentedColormap.from_list(
    "officepulse_favourable",
    [(0.0, "#C85200"), (0.3, "#EE9A63"), (0.5, "#F7F7F7"), (0.7, "#8CBFE3"), (1.0, "#1F6FA8")])
_DIMENSION_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_DIMENSION_MARKERS = ("o", "s", "^", "D", "v", "P", "X")

_SCALES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "perception": {"zh": ("很差", "较差", "一般", "较好", "很好"),
                   "en": ("Very poor", "Poor", "Fair", "Good", "Very good")},
    "expectation": {"zh": ("很不重要", "不太重要", "一般", "比较重要", "非常重要"),
                    "en": ("Not important", "Not very", "Moderately", "Quite", "Very important")},
    "cause": {"zh": ("不制约", "轻微", "有一定制约", "较大", "严重"),
              "en": ("None", "Slight", "Moderate", "Considerable", "Severe")},
    "morale": {"zh": ("完全不同意", "不太同意", "一般", "比较同意", "完全同意"),
               "en": ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")},
}
_SHORT_DIMENSIONS: Mapping[str, Mapping[str, str]] = {
    "goals": {"zh": "目标", "en": "Goals "}, "service": {"zh": "服务", "en": "Service "},
    "positioning": {"zh": "定位", "en": "Role "}, "innovation": {"zh": "创新", "en": "Innov. "},
    "vitality": {"zh": "效率", "en": "Energy "}, "support": {"zh": "保障", "en": "Equip. "},
    "morale": {"zh": "士气", "en": "Morale "},
}
_EFFECT_SHORT: Mapping[str, Mapping[str, str]] = {
    "negligible": {"zh": "效应可忽略", "en": "negligible"}, "small": {"zh": "效应小", "en": "small"},
    "medium": {"zh": "效应中", "en": "medium"}, "large": {"zh": "效应大", "en": "large"},
}

#: Title of each chart, by registry name and locale.
TITLES: Mapping[str, Mapping[str, str]] = {
    "summary": {"zh": "总体评价", "en": "Summary"},
    "gap": {"zh": "服务差距：实际表现 − 期望", "en": "Service gap: performance − expectation"},
    "self-view": {"zh": "服务导向：办公室自评与服务对象评价",
                  "en": "Service orientation: self-view vs customers' view"},
    "ipa": {"zh": "重要性−表现矩阵", "en": "Importance-performance matrix"},
    "likert": {"zh": "各题评价分布", "en": "Ratings of every statement"},
    "heatmap": {"zh": "好评率：维度 × 人员类别", "en": "% favourable: dimension × group"},
    "morale": {"zh": "士气", "en": "Morale"},
    "causes": {"zh": "根源：制约因素排序", "en": "Root causes, ranked"},
    "themes": {"zh": "意见建议主题", "en": "Comment themes"},
    "trend": {"zh": "历次测评变化", "en": "Trend across waves"},
}

#: One-line "how to read it" caption of each chart, by registry name and locale.
CAPTIONS: Mapping[str, Mapping[str, str]] = {
    "summary": {
        "zh": "满意度为百分制得分；满意率、差评率按作答者计算，"
              "不了解率按全部回答计算；n 为人数，“n<k”表示人数过少已隐藏。",
        "en": "Score is out of 100; satisfied and dissatisfied shares are of those who graded, the don't-know"
              " share is of all answers; n = respondents; \"n<k\" = too few people, hidden.",
    },
    "gap": {
        "zh": "条形向左（暖色区）表示实际表现低于期望，越长差距越大；"
              "细线为 95% 区间，竖黑线为全体；差距最大的维度在最上方。",
        "en": "Bars to the left (warm side) mean performance falls short of expectations; whiskers are 95%"
              " intervals, the black tick is all respondents; the largest shortfall is at the top.",
    },
    "self-view": {
        "zh": "每行连接办公室自评（圆点）与该类服务对象的评价；右侧数字为对象评价减自评，"
              "负数（暖色）表示办公室自我评价偏高，* 为差异显著。",
        "en": "Each row links the office's self-rating (circle) with that group's rating; the number is the"
              " group minus the office, negative (warm) = the office rates itself higher; * = significant.",
    },
    "ipa": {
        "zh": "横轴为实际表现、纵轴为重要程度，虚线为平均值；"
              "左上“重点改进”区的题目最该优先整改，标签与各题评价分布图一致。",
        "en": "Performance across, importance up, dashed lines at the means; items in the top-left"
              " \"concentrate here\" quadrant come first; labels match the ratings chart.",
    },
    "likert": {
        "zh": "每条以“一般”的中点为 0：右侧为好评（4–5 分），"
              "左侧为差评（1–2 分）；好评率最低的题目在最上方，右侧为人数与好评率。",
        "en": "Each bar is centred on the middle of \"fair\": favourable (4-5) to the right, unfavourable (1-2)"
              " to the left; lowest % favourable at the top; n and % favourable at the right.",
    },
    "heatmap": {
        "zh": "每格为该类人员对该维度的好评率（4–5 分占比）及人数；颜色越暖好评率越低；斜线格“n<k”表示人数过少已隐藏。",
        "en": "Each cell is the share of favourable (4-5) ratings and n; warmer = lower; hatched \"n<k\""
              " cells have too few respondents and are hidden.",
    },
    "morale": {
        "zh": "左：净推荐值（推荐者%−贬损者%，−100 至 100）及 95% 区间，低于 0 在暖色区；右：士气各题的评价分布。",
        "en": "Left: eNPS (% promoters − % detractors, −100 to 100) with its 95% interval, below 0 on the"
              " warm side; right: the morale statements' ratings.",
    },
    "causes": {
        "zh": "按全体平均制约程度（1–5）从高到低排列，条形为全体，标记为各类人员；右侧为认为“制约较大/严重”的比例。",
        "en": "Causes ranked by mean severity (1-5) of all respondents (bar); markers show each group; the"
              " share rating 4-5 is at the right.",
    },
    "themes": {
        "zh": "条形为提到该主题的留言人比例（括号内为人数）；"
              "▼为总体评价较低者、▲为较高者，两者差距大说明该主题与不满相关。",
        "en": "Bars: share of commenters mentioning the theme (count in brackets); ▼ low and ▲ high overall"
              " raters; a wide spread ties the theme to dissatisfaction.",
    },
    "trend": {
        "zh": "每个维度一格，折线为各次测评的平均得分；标题注明全体的变化是否明确（95% 区间不含 0）。",
        "en": "One panel per dimension, lines join each wave's mean score; the title says whether the change"
              " for all respondents is clear (95% interval excludes 0).",
    },
}

_TEXT: Mapping[str, Mapping[str, str]] = {
    "nothing": {"zh": "暂无可显示的数据", "en": "Nothing to show"},
    "nothing_why": {"zh": "尚无回答，或各类人员均少于 k 人（为保护匿名已隐藏，显示为“n<k”）。",
                    "en": "No answers yet, or every group has fewer than k respondents"
                          " (hidden to protect anonymity, shown as \"n<k\")."},
    "no_waves": {"zh": "需要同一问卷的两次或以上测评。", "en": "Needs two or more waves of the same survey."},
    "no_comments": {"zh": "暂无可分析的意见建议（留言人数不足或尚无留言）。",
                    "en": "No comments to analyse (too few commenters, or none yet)."},
    "below": {"zh": "← 低于期望", "en": "← below expectation"},
    "above": {"zh": "高于期望 →", "en": "above expectation →"},
    "gap_axis": {"zh": "实际表现 − 期望（分）", "en": "Performance − expectation (points)"},
    "all_tick": {"zh": "全体", "en": "all"},
    "hidden_panel": {"zh": "人数过少，未显示", "en": "too few respondents, not shown"},
    "office_self": {"zh": "办公室自评", "en": "office self-rating"},
    "rating_axis": {"zh": "平均评分（1–5）", "en": "Mean rating (1-5)"},
    "vs": {"zh": "对比：", "en": "vs "},
    "performance": {"zh": "实际表现（平均分）", "en": "Performance (mean rating)"},
    "importance": {"zh": "重要程度（平均分）", "en": "Importance (mean rating)"},
    "equal": {"zh": "重要程度 = 表现", "en": "importance = performance"},
    "hidden_items": {"zh": "人数过少未显示（n<k）：", "en": "Hidden, too few respondents (n<k): "},
    "percent_axis": {"zh": "占作答人数的百分比", "en": "% of those who rated"},
    "n_fav": {"zh": "人数 · 好评率", "en": "n · % fav."},
    "favourable": {"zh": "好评率（4–5 分，%）", "en": "% favourable (4-5)"},
    "enps_axis": {"zh": "净推荐值 eNPS", "en": "eNPS"},
    "indicative": {"zh": "仅供参考", "en": "indicative"},
    "wave": {"zh": "第{n}次", "en": "Wave {n}"},
    "morale_items": {"zh": "士气各题", "en": "Morale statements"},
    "severity_axis": {"zh": "平均制约程度（1 不制约 – 5 严重制约）", "en": "Mean severity (1 none - 5 severe)"},
    "severe": {"zh": "较大/严重", "en": "rate 4-5"},
    "hidden_group": {"zh": "（n<k，未显示）", "en": " (n<k, hidden)"},
    "theme_axis": {"zh": "提到该主题的留言人比例（%）", "en": "% of commenters mentioning the theme"},
    "low_raters": {"zh": "总体评价较低者（基本满意及以下）", "en": "low overall raters (fairly satisfied or below)"},
    "high_raters": {"zh": "总体评价较高者", "en": "high overall raters"},
    "all_commenters": {"zh": "全部留言人", "en": "all commenters"},
    "keywords": {"zh": "高频关键词：", "en": "Top keywords: "},
    "people": {"zh": "人", "en": ""},
    "score": {"zh": "满意度得分", "en": "Satisfaction score"},
    "satisfied": {"zh": "满意率", "en": "Satisfied"},
    "dissatisfied": {"zh": "差评率", "en": "Dissatisfied"},
    "dont_know": {"zh": "不了解率", "en": "Don't know"},
    "responses": {"zh": "回复数", "en": "Responses"},
    "enps": {"zh": "净推荐值 eNPS", "en": "eNPS"},
    "of_100": {"zh": "百分制", "en": "out of 100"},
    "interval": {"zh": "95% 区间 {low} 至 {high}", "en": "95% CI {low} to {high}"},
    "answered": {"zh": "作答 {n} 人", "en": "n = {n} answered"},
    "score_axis": {"zh": "平均得分（1–5）", "en": "Mean score (1-5)"},
    "gap_trend_axis": {"zh": "表现 − 期望（分）", "en": "Performance − expectation"},
    "one_wave": {"zh": "（仅一次测评）", "en": " (one wave only)"},
}

_ITEM_ID = re.compile(r"^(?P<dim>[a-z][a-z0-9]*)_[pe]?(?P<num>\d+)$")


# ----------------------------------------------------------------------------- small helpers


def _styled(function: Callable[..., Any]) -> Callable[..., Any]:
    """Build the figure under the charts' rcParams (CJK font...), leaving the global ones alone."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context(chart_rc()):
            return function(*args, **kwargs)

    return wrapper


def _t(key: str, locale: str, **values: Any) -> str:
    text = _TEXT[key][locale]
    return text.format(**values) if values else text


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise AnalysisError(f"locale must be one of {list(LOCALES)}, got {locale!r}")


def _check_table(table: object, columns: Iterable[str], what: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError(f"{what} must be a DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AnalysisError(f"{what} lacks the columns {missing}")
    out = table.reset_index(drop=True).copy()
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    out["suppressed"] = out["suppressed"].fillna(True).astype(bool)
    return out


def _visible(table: pd.DataFrame) -> pd.DataFrame:
    return table.loc[~table["suppressed"]]


def _ink(colour: Any) -> str:
    """Black text on light colours, white on dark ones (relative luminance)."""
    red, green, blue = to_rgb(colour)
    return "black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.4 else "white"


def _stable_index(code: object, size: int) -> int:
    return zlib.crc32(str(code).encode("utf-8")) % size


def group_colour(group: str) -> str:
    """Return the colour of a respondent group (the same in every chart).

    Examples
    --------
    >>> group_colour("office")
    '#E69F00'
    """
    return GROUP_COLOURS.get(group) or _EXTRA_COLOURS[_stable_index(group, len(_EXTRA_COLOURS))]


def group_marker(group: str) -> str:
    """Return the marker of a respondent group (the same in every chart).

    Examples
    --------
    >>> group_marker("grassroots")
    '^'
    """
    return GROUP_MARKERS.get(group) or _EXTRA_MARKERS[_stable_index(group, len(_EXTRA_MARKERS))]


def _ordered_groups(groups: Iterable[str], pool: bool = True) -> list[str]:
    unique = pd.Series(list(dict.fromkeys(g for g in groups if isinstance(g, str))), dtype=object)
    if unique.empty:
        return []
    ordered = unique.iloc[group_rank(unique).argsort(kind="stable")].tolist()
    return ordered if pool else [g for g in ordered if g != TOTAL]


def _dimension_order(dimensions: Iterable[str]) -> list[str]:
    known = list(DIMENSION_NAMES)
    present = list(dict.fromkeys(d for d in dimensions if isinstance(d, str)))
    return sorted(present, key=lambda d: (known.index(d) if d in known else len(known), d))


def _signed(value: float, digits: int = 1) -> str:
    text = f"{value:+.{digits}f}"
    if text.lstrip("+-").strip("0.") == "":
        text = f"{0:.{digits}f}"
    return text.replace("-", _MINUS)


def _number(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace("-", _MINUS)


def _n(value: object) -> str:
    return f"n={int(value)}" if value is not None and not pd.isna(value) else SUPPRESSED_LABEL


def _paren(text: str, locale: str) -> str:
    return f"（{text}）" if locale == "zh" else f" ({text})"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _item_code(question_id: str, locale: str) -> str:
    """A short, stable name of an item: 服务2 for service_p2 (Service 2 in English)."""
    if question_id.startswith("cause_"):
        return label("cause", question_id.removeprefix("cause_"), locale)
    match = _ITEM_ID.match(question_id)
    if not match:
        return question_id
    dim = match["dim"]
    short = _SHORT_DIMENSIONS.get(dim, {}).get(locale, f"{dim} ")
    return f"{short}{match['num']}"


def _item_label(question_id: str, items: Mapping[str, str] | None, locale: str) -> str:
    code = _item_code(question_id, locale)
    text = (items or {}).get(question_id)
    if not text:
        return code
    return f"{code} {_shorten(str(text), 16 if locale == 'zh' else 36)}"


def item_labels(survey: Any, locale: str = "zh") -> dict[str, str]:
    """Map each question id of a survey to its statement in a locale (for the Likert and IPA charts).

    Parameters
    ----------
    survey : surveys.Survey
        Anything with ``questions``, each with ``id`` and ``text`` (locale -> text).
    locale : {"zh", "en"}
        The language.

    Examples
    --------
    >>> from surveys import TEMPLATES_DIR, load
    >>> survey = load(TEMPLATES_DIR / "office-service-quality.yaml")
    >>> item_labels(survey)["goals_p1"]
    '办公室有明确的年度工作计划'
    """
    _check_locale(locale)
    out = {}
    for question in survey.questions:
        text = question.text or {}
        out[question.id] = text.get(locale) or next(iter(text.values()), question.id)
    return out


def _new_figure(figsize: tuple[float, float] = FIGSIZE) -> Figure:
    return Figure(figsize=figsize, dpi=_DPI, layout="constrained", facecolor="white")


def _title(fig: Figure, name: str, locale: str, extra: str = "") -> None:
    fig.suptitle(TITLES[name][locale] + extra, x=0.01, ha="left", fontsize=13)


def _finish(fig: Figure, name: str, locale: str) -> Figure:
    fig.officepulse_chart = name
    fig.officepulse_caption = CAPTIONS[name][locale]
    return fig


def _notice(ax: Axes, locale: str, message: str | None = None) -> Axes:
    """Turn an Axes into a plain message: there is nothing to draw."""
    ax.set_axis_off()
    ax.text(0.5, 0.58, _t("nothing", locale), ha="center", va="center", fontsize=14, transform=ax.transAxes,
            gid="notice")
    ax.text(0.5, 0.42, message or _t("nothing_why", locale), ha="center", va="center", fontsize=9,
            color="#333333", transform=ax.transAxes, wrap=True, gid="notice")
    return ax


@_styled
def _notice_figure(name: str, locale: str, message: str | None = None) -> Figure:
    fig = _new_figure()
    _title(fig, name, locale)
    _notice(fig.add_subplot(), locale, message)
    return _finish(fig, name, locale)


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    return ax if ax is not None else _new_figure(figsize).add_subplot()


def _hatch_row(ax: Axes, y: float, height: float, gid: str | None = None, x0: float = 0.0,
               x1: float = 1.0, text: bool = True) -> None:
    """A hatched band across the axes at data height y, labelled n<k (a suppressed bar: no value)."""
    transform = ax.get_yaxis_transform()
    ax.add_patch(Rectangle((x0, y - height / 2), x1 - x0, height, transform=transform, facecolor="white",
                           edgecolor=_GREY, hatch=_HATCH, hatchcolor=_LIGHT, linewidth=0.6, zorder=1.5))
    if text:
        ax.text((x0 + x1) / 2, y, SUPPRESSED_LABEL, transform=transform, ha="center", va="center", fontsize=7.5,
                zorder=4, gid=gid, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8})


def _sign_background(ax: Axes, locale: str, low: float, high: float, labels: bool = True,
                     vertical: bool = False) -> None:
    """Tint the negative side warm and the positive side cool, with words, so sign is not colour alone."""
    span = ax.axhspan if vertical else ax.axvspan
    if low < 0:
        span(low, 0, facecolor=_NEGATIVE_TINT, edgecolor="none", zorder=0)
    if high > 0:
        span(0, high, facecolor=_POSITIVE_TINT, edgecolor="none", zorder=0)
    (ax.axhline if vertical else ax.axvline)(0, color="black", linewidth=0.9, zorder=2)
    if labels and not vertical:
        transform = ax.get_xaxis_transform()
        if low < 0:
            ax.text(low, 1.005, _t("below", locale), transform=transform, ha="left", va="bottom", fontsize=8,
                    color=_NEGATIVE_TEXT)
        if high > 0:
            ax.text(high, 1.005, _t("above", locale), transform=transform, ha="right", va="bottom", fontsize=8,
                    color=_POSITIVE_TEXT)


def _group_handles(groups: Sequence[str], locale: str, suffix: Mapping[str, str] | None = None,
                   marker: bool = False) -> list[Any]:
    handles = []
    for group in groups:
        name = label("group", group, locale) + (suffix or {}).get(group, "")
        if marker:
            handles.append(Line2D([], [], color=group_colour(group), marker=group_marker(group), linestyle="",
                                  markeredgecolor="black", markeredgewidth=0.5, markersize=6, label=name))
        else:
            handles.append(Patch(facecolor=group_colour(group), edgecolor="black", linewidth=0.5, label=name))
    return handles


def _n_range(values: pd.Series) -> str:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if values.empty:
        return SUPPRESSED_LABEL
    low, high = int(values.min()), int(values.max())
    return f"n={high}" if low == high else f"n={low}–{high}"


def _tables(report: Mapping[str, Any]) -> Mapping[str, pd.DataFrame]:
    if not isinstance(report, Mapping) or not isinstance(report.get("tables"), Mapping):
        raise AnalysisError("report must be what analysis.build_report returns (a dict with 'tables')")
    return report["tables"]


def _table(report: Mapping[str, Any], name: str) -> pd.DataFrame:
    tables = _tables(report)
    if name not in tables:
        raise AnalysisError(f"report lacks the table {name!r}")
    return tables[name]


# ----------------------------------------------------------------------------- 1. service gap


_GAP_COLUMNS = ("dimension", "group", "n", "gap", "ci_low", "ci_high")


@_styled
def plot_gaps(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh") -> Axes:
    """Draw the SERVQUAL gap per dimension: one horizontal bar per group, the pool as a black tick.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["service_gaps"]``: ``dimension, group, n, gap, ci_low, ci_high, suppressed``.
    ax : Axes, optional
        Where to draw; default a new figure's.
    locale : {"zh", "en"}
        The language of the labels.

    Returns
    -------
    Axes

    Examples
    --------
    >>> t = pd.DataFrame({"dimension": ["service"] * 2, "group": ["office", "all"], "n": [8, 8],
    ...                   "gap": [-0.8, -0.8], "ci_low": [-1.1, -1.1], "ci_high": [-0.5, -0.5]})
    >>> plot_gaps(t).get_xlabel()
    '实际表现 − 期望（分）'
    """
    _check_locale(locale)
    table = _check_table(table, _GAP_COLUMNS, "service_gaps")
    ax = _axes(ax)
    shown = _visible(table)
    if shown.empty:
        return _notice(ax, locale)
    pool = table.loc[table["group"] == TOTAL].set_index("dimension")
    # Largest shortfall on top: order by the pool's gap, then by the groups' mean gap.
    mean_gap = shown.groupby("dimension")["gap"].mean()
    order_key = {d: (pool["gap"].get(d) if d in pool.index and not pd.isna(pool["gap"].get(d))
                     else mean_gap.get(d, math.inf)) for d in table["dimension"].unique()}
    dimensions = sorted(_dimension_order(table["dimension"]), key=lambda d: order_key[d])
    groups = _ordered_groups(table["group"], pool=False) or [TOTAL]
    low = min(0.0, float(shown["ci_low"].fillna(shown["gap"]).min()))
    high = max(0.0, float(shown["ci_high"].fillna(shown["gap"]).max()))
    pad = max(0.25, 0.12 * (high - low))
    low, high = low - pad, high + pad
    ax.set_xlim(low, high)
    _sign_background(ax, locale, low, high)
    band = 0.8
    height = band / len(groups)
    for i, dimension in enumerate(dimensions):
        cells = table.loc[table["dimension"] == dimension].set_index("group")
        for j, group in enumerate(groups):
            if group not in cells.index:
                continue
            row = cells.loc[group]
            y = i - band / 2 + (j + 0.5) * height
            if row["suppressed"] or pd.isna(row["gap"]):
                _hatch_row(ax, y, height * 0.9, gid=f"cell:{dimension}:{group}")
                continue
            ax.barh(y, row["gap"], height=height * 0.9, color=group_colour(group), edgecolor="black",
                    linewidth=0.4, zorder=3)
            if not pd.isna(row["ci_low"]) and not pd.isna(row["ci_high"]):
                ax.plot([row["ci_low"], row["ci_high"]], [y, y], color="black", linewidth=0.8, zorder=4)
            end = row["ci_low"] if row["gap"] < 0 else row["ci_high"]
            end = row["gap"] if pd.isna(end) else end
            offset = -0.03 if row["gap"] < 0 else 0.03
            ax.text(end + offset * (high - low) / 2, y, _signed(row["gap"]), ha="right" if row["gap"] < 0 else "left",
                    va="center", fontsize=6.5, zorder=7, gid=f"cell:{dimension}:{group}",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 0.4})
        if dimension in pool.index and not pool.loc[dimension, "suppressed"] and not pd.isna(pool.loc[dimension,
                                                                                                   "gap"]):
            ax.plot([pool.loc[dimension, "gap"]] * 2, [i - band / 2, i + band / 2], color="black", linewidth=2.2,
                    zorder=6, solid_capstyle="butt")
    ticks = []
    for dimension in dimensions:
        name = label("dimension", dimension, locale)
        if dimension in pool.index and not pool.loc[dimension, "suppressed"]:
            gap, n = pool.loc[dimension, "gap"], pool.loc[dimension, "n"]
            name += f"\n{_t('all_tick', locale)} {_signed(gap)}{_paren(_n(n), locale)}"
        ticks.append(name)
    ax.set_yticks(range(len(dimensions)), labels=ticks, fontsize=8)
    ax.set_ylim(len(dimensions) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(_t("gap_axis", locale))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    suffix = {g: f"  {_n_range(table.loc[table['group'] == g, 'n'])}" for g in groups}
    handles = _group_handles(groups, locale, suffix)
    handles.append(Line2D([], [], color="black", linewidth=2.2, label=label("group", TOTAL, locale)))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, borderaxespad=0)
    return ax


@_styled
def gap_chart(service_gaps: pd.DataFrame, locale: str = "zh") -> Figure:
    """Draw the 服务差距 chart (perception - expectation per dimension and group) as a Figure.

    Parameters
    ----------
    service_gaps : DataFrame
        ``report["tables"]["service_gaps"]``.
    locale : {"zh", "en"}

    Returns
    -------
    Figure
        With ``officepulse_caption``.
    """
    _check_locale(locale)
    table = _check_table(service_gaps, _GAP_COLUMNS, "service_gaps")
    if _visible(table).empty:
        return _notice_figure("gap", locale)
    fig = _new_figure()
    _title(fig, "gap", locale)
    plot_gaps(table, fig.add_subplot(), locale)
    return _finish(fig, "gap", locale)


# ----------------------------------------------------------------------------- 2. self-view


_SELF_COLUMNS = ("dimension", "reference", "group", "n_reference", "n", "mean_reference", "mean", "gap",
                 "effect", "p_holm")


def _rating_limits(shown: pd.DataFrame) -> tuple[float, float]:
    values = pd.concat([shown["mean"], shown["mean_reference"]]).dropna()
    low = min(float(values.min()) - 0.3, 3.0) if len(values) else 1.0
    high = max(float(values.max()) + 0.3, 4.5) if len(values) else 5.0
    return max(1.0, low), min(5.0, high)


@_styled
def plot_self_view(table: pd.DataFrame, group: str, ax: Axes | None = None, locale: str = "zh",
                   dimensions: Sequence[str] | None = None, alpha: float = 0.05,
                   xlim: tuple[float, float] | None = None) -> Axes:
    """Draw one customer group's rating beside the office's self-rating, per dimension (a dumbbell).

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["self_view"]`` (gap = reference - group).
    group : str
        The customer group to draw.
    ax : Axes, optional
    locale : {"zh", "en"}
    dimensions : sequence of str, optional
        Row order (top first); default the table's dimensions.
    alpha : float
        A Holm-adjusted p below this gets a ``*``.
    xlim : (float, float), optional
        The rating axis' limits (the chart shares them across panels); default fitted to this group.

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(table, _SELF_COLUMNS, "self_view")
    ax = _axes(ax)
    rows = table.loc[table["group"] == group].set_index("dimension")
    dimensions = list(dimensions) if dimensions is not None else _dimension_order(rows.index)
    ax.set_xlim(xlim if xlim is not None else _rating_limits(rows.loc[~rows["suppressed"]]))
    reference = rows["reference"].dropna().iloc[0] if rows["reference"].notna().any() else "office"
    blended = ax.get_yaxis_transform()
    for i, dimension in enumerate(dimensions):
        if i % 2 == 0:
            ax.axhspan(i - 0.5, i + 0.5, facecolor="#F4F4F4", edgecolor="none", zorder=0)
        if dimension not in rows.index:
            continue
        row = rows.loc[dimension]
        if row["suppressed"] or pd.isna(row["mean"]) or pd.isna(row["mean_reference"]):
            _hatch_row(ax, i, 0.6, gid=f"cell:{dimension}:{group}")
            continue
        ax.plot([row["mean_reference"], row["mean"]], [i, i], color=_GREY, linewidth=1.5, zorder=2)
        ax.plot(row["mean_reference"], i, marker=group_marker(reference), color=group_colour(reference),
                markeredgecolor="black", markeredgewidth=0.6, markersize=8, linestyle="", zorder=3)
        ax.plot(row["mean"], i, marker=group_marker(group), color=group_colour(group), markeredgecolor="black",
                markeredgewidth=0.6, markersize=8, linestyle="", zorder=3)
        difference = -row["gap"]  # the customers' rating minus the office's self-rating
        star = "*" if row["p_holm"] is not None and not pd.isna(row["p_holm"]) and row["p_holm"] < alpha else ""
        effect = _EFFECT_SHORT.get(row["effect"], {}).get(locale, "")
        colour = _NEGATIVE_TEXT if difference < 0 else _POSITIVE_TEXT
        ax.text(1.02, i, f"{_signed(difference)}{star}\n{effect}", transform=blended, ha="left", va="center",
                fontsize=7, color=colour, linespacing=1.1, gid=f"cell:{dimension}:{group}")
    ax.set_ylim(len(dimensions) - 0.5, -0.5)
    ax.set_yticks(range(len(dimensions)), labels=[label("dimension", d, locale) for d in dimensions], fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{_t('vs', locale)}{label('group', group, locale)}{_paren(_n_range(rows['n']), locale)}", fontsize=9,
                 loc="left")
    return ax


@_styled
def self_view_chart(self_view: pd.DataFrame, locale: str = "zh") -> Figure:
    """Draw the 服务导向 chart: the office's self-rating beside each customer group's, one panel per group.

    Parameters
    ----------
    self_view : DataFrame
        ``report["tables"]["self_view"]``.
    locale : {"zh", "en"}

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    table = _check_table(self_view, _SELF_COLUMNS, "self_view")
    shown = _visible(table)
    if shown.empty:
        return _notice_figure("self-view", locale)
    every = _ordered_groups(table["group"], pool=False)
    # A group with nothing to show gets no panel, only a note (its panel would be all hatching).
    groups = [g for g in every if g in set(shown["group"])]
    hidden = [g for g in every if g not in groups]
    # Rows: the dimension where customers rate the office lowest against its self-view first.
    order = shown.groupby("dimension")["gap"].mean().sort_values(ascending=False).index.tolist()
    dimensions = order + [d for d in _dimension_order(table["dimension"]) if d not in order]
    fig = _new_figure()
    _title(fig, "self-view", locale)
    axes = fig.subplots(1, len(groups), sharey=True, squeeze=False)[0]
    for ax, group in zip(axes, groups, strict=True):
        plot_self_view(table, group, ax, locale, dimensions, xlim=_rating_limits(shown))
    for ax in axes[1:]:
        ax.tick_params(axis="y", labelleft=False)
    axes[len(axes) // 2].set_xlabel(_t("rating_axis", locale))
    reference = table["reference"].dropna().iloc[0] if table["reference"].notna().any() else "office"
    handles = _group_handles([reference], locale, marker=True)
    handles[0].set_label(_t("office_self", locale) + _paren(_n_range(table["n_reference"]), locale))
    handles += _group_handles(groups, locale, marker=True)
    if hidden:
        joiner = "、" if locale == "zh" else ", "
        note = f"{SUPPRESSED_LABEL}{_paren(_t('hidden_panel', locale), locale)}：" if locale == "zh" else \
            f"{SUPPRESSED_LABEL}{_paren(_t('hidden_panel', locale), locale)}: "
        handles.append(Patch(facecolor="white", edgecolor=_GREY, hatch=_HATCH, hatchcolor=_LIGHT, linewidth=0.6,
                             label=note + joiner.join(label("group", g, locale) for g in hidden)))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize=8)
    return _finish(fig, "self-view", locale)


# ----------------------------------------------------------------------------- 3. importance-performance


_IPA_COLUMNS = ("dimension", "item", "group", "importance", "performance", "importance_mean", "performance_mean")


_LABEL_OFFSETS = ((5, 5, "left"), (5, -6, "left"), (-5, 5, "right"), (-5, -6, "right"))


def _label_offset(px: float, py: float, placed: list[tuple[float, float]], points: list[tuple[float, float]],
                  span: tuple[float, float]) -> tuple[int, int, str]:
    """Pick the label position (of four around a point) farthest from the labels and points already there."""
    # Offsets in points -> rough data units of an ~6 x 4 inch axes, enough to compare crowding.
    scale = (span[0] / 430, span[1] / 290)

    def crowding(option: tuple[int, int, str]) -> float:
        dx, dy, ha = option
        cx = px + (dx + (9 if ha == "left" else -9)) * scale[0]
        cy = py + dy * scale[1]
        others = placed + [p for p in points if p != (px, py)]
        return min((((cx - ox) / span[0]) ** 2 + ((cy - oy) / span[1]) ** 2 for ox, oy in others), default=1.0)

    best = max(_LABEL_OFFSETS, key=crowding)
    placed.append((px + (best[0] + (9 if best[2] == "left" else -9)) * scale[0], py + best[1] * scale[1]))
    return best


@_styled
def plot_ipa(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh", group: str = TOTAL) -> Axes:
    """Draw the importance-performance matrix of one group's items, coloured and shaped by dimension.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["ipa"]``.
    ax : Axes, optional
    locale : {"zh", "en"}
    group : str
        Whose ratings (default the pool).

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(table, _IPA_COLUMNS, "ipa")
    ax = _axes(ax)
    rows = table.loc[table["group"] == group]
    shown = rows.loc[~rows["suppressed"] & rows["importance"].notna() & rows["performance"].notna()]
    if shown.empty:
        return _notice(ax, locale)
    x, y = shown["performance"].astype(float), shown["importance"].astype(float)
    points = list(zip(x, y, strict=True))
    x_mean, y_mean = float(shown["performance_mean"].iloc[0]), float(shown["importance_mean"].iloc[0])
    x_low, x_high = min(x.min(), x_mean) - 0.2, max(x.max(), x_mean) + 0.2
    y_low, y_high = min(y.min(), y_mean) - 0.15, max(y.max(), y_mean) + 0.15
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.add_patch(Rectangle((x_low, y_mean), x_mean - x_low, y_high - y_mean, facecolor=_NEGATIVE_TINT,
                           edgecolor="none", zorder=0))
    ax.axvline(x_mean, color=_GREY, linestyle="--", linewidth=0.9, zorder=1)
    ax.axhline(y_mean, color=_GREY, linestyle="--", linewidth=0.9, zorder=1)
    diagonal = np.array([max(x_low, y_low), min(x_high, y_high)])
    if diagonal[0] < diagonal[1]:
        ax.plot(diagonal, diagonal, color=_LIGHT, linewidth=0.9, zorder=1, label=_t("equal", locale))
    corners = {"concentrate_here": (0.01, 0.99, "left", "top"), "keep_up_the_good_work": (0.99, 0.99, "right", "top"),
               "low_priority": (0.01, 0.01, "left", "bottom"), "possible_overkill": (0.99, 0.01, "right", "bottom")}
    for quadrant, (qx, qy, ha, va) in corners.items():
        strong = quadrant == "concentrate_here"
        ax.text(qx, qy, label("quadrant", quadrant, locale), transform=ax.transAxes, ha=ha, va=va,
                fontsize=10 if strong else 8.5,
                color=_NEGATIVE_TEXT if strong else "#444444", zorder=2)
    dimensions = _dimension_order(rows["dimension"])
    handles = []
    placed: list[tuple[float, float]] = []
    for k, dimension in enumerate(dimensions):
        part = shown.loc[shown["dimension"] == dimension]
        colour, marker = _DIMENSION_COLOURS[k % 7], _DIMENSION_MARKERS[k % 7]
        handles.append(Line2D([], [], color=colour, marker=marker, linestyle="", markeredgecolor="black",
                              markeredgewidth=0.5, label=label("dimension", dimension, locale)))
        ax.scatter(part["performance"], part["importance"], s=42, color=colour, marker=marker, edgecolor="black",
                   linewidth=0.5, zorder=3)
        for item, px, py in zip(part["item"], part["performance"], part["importance"], strict=True):
            dx, dy, ha = _label_offset(px, py, placed, points, (x_high - x_low, y_high - y_low))
            ax.annotate(_item_code(item, locale), (px, py), xytext=(dx, dy), textcoords="offset points",
                        fontsize=7, ha=ha, va="center", zorder=4, gid=f"item:{item}")
    hidden = rows.loc[rows["suppressed"] | rows["importance"].isna() | rows["performance"].isna(), "item"]
    if len(hidden):
        names = "、".join(_item_code(i, locale) for i in hidden)
        ax.text(0.99, 0.08, _t("hidden_items", locale) + names, transform=ax.transAxes, ha="right", fontsize=7,
                gid="hidden-items")
    ax.set_xlabel(_t("performance", locale))
    ax.set_ylabel(_t("importance", locale))
    n_perf = pd.to_numeric(shown.get("n_performance", pd.Series(dtype=float)), errors="coerce")
    title = label("group", group, locale)
    if n_perf.notna().any():
        title += _paren(_n_range(n_perf), locale)
    ax.set_title(title, fontsize=9, loc="left")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, borderaxespad=0)
    return ax


@_styled
def ipa_chart(ipa: pd.DataFrame, locale: str = "zh", group: str = TOTAL) -> Figure:
    """Draw the 重要性-表现 matrix (IPA) of one group (default all respondents) as a Figure.

    Parameters
    ----------
    ipa : DataFrame
        ``report["tables"]["ipa"]``.
    locale : {"zh", "en"}
    group : str

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    table = _check_table(ipa, _IPA_COLUMNS, "ipa")
    rows = table.loc[(table["group"] == group) & ~table["suppressed"]]
    if rows[["importance", "performance"]].dropna().empty:
        return _notice_figure("ipa", locale)
    fig = _new_figure()
    _title(fig, "ipa", locale)
    plot_ipa(table, fig.add_subplot(), locale, group)
    return _finish(fig, "ipa", locale)


# ----------------------------------------------------------------------------- 4. Likert items


_LIKERT_COLUMNS = ("block", "question_id", "group", "n", "c1", "c2", "c3", "c4", "c5")


def likert_percentages(table: pd.DataFrame, block: str = "perception", group: str = TOTAL) -> pd.DataFrame:
    """Turn Likert counts into the segments of diverging bars, lowest % favourable first.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["likert_counts"]``.
    block : str
        Which block's items.
    group : str
        Whose ratings (default the pool).

    Returns
    -------
    DataFrame
        ``question_id, n, p1..p5 (percent of n), pct_favourable, left, suppressed`` where ``left`` is
        where the bar starts (minus the 1-2 shares and half the neutral one); suppressed rows keep no
        figures and come last.

    Examples
    --------
    >>> t = pd.DataFrame({"block": ["perception"], "question_id": ["goals_p1"], "group": ["all"], "n": [10],
    ...                   "c1": [1], "c2": [1], "c3": [2], "c4": [4], "c5": [2]})
    >>> likert_percentages(t)[["p3", "pct_favourable", "left"]].values.tolist()
    [[20.0, 60.0, -30.0]]
    """
    table = _check_table(table, _LIKERT_COLUMNS, "likert_counts")
    rows = table.loc[(table["block"] == block) & (table["group"] == group)].copy()
    columns = ["question_id", "n", "p1", "p2", "p3", "p4", "p5", "pct_favourable", "left", "suppressed"]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    n = pd.to_numeric(rows["n"], errors="coerce")
    valid = ~rows["suppressed"] & (n > 0)
    for v in range(1, 6):
        rows[f"p{v}"] = (pd.to_numeric(rows[f"c{v}"], errors="coerce") / n * 100).where(valid)
    rows["n"] = n.where(valid)
    rows["pct_favourable"] = rows["p4"] + rows["p5"]
    rows["left"] = -(rows["p1"] + rows["p2"] + rows["p3"] / 2)
    rows["suppressed"] = ~valid
    rows = rows.sort_values(["suppressed", "pct_favourable", "question_id"], kind="stable")
    return rows[columns].reset_index(drop=True)


@_styled
def plot_likert(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh", block: str = "perception",
                group: str = TOTAL, items: Mapping[str, str] | None = None, legend: int = 5) -> Axes:
    """Draw diverging stacked bars, one per item, the neutral share split across zero, n at the right.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["likert_counts"]``.
    ax : Axes, optional
    locale : {"zh", "en"}
    block : str
        Which block's items (perception, morale, cause, expectation).
    group : str
        Whose ratings (default the pool).
    items : mapping, optional
        question id -> statement (see `item_labels`); without it, short codes such as 服务2.
    legend : int
        Columns of the scale's legend above the bars (0: no legend).

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    ax = _axes(ax)
    rows = likert_percentages(table, block, group)
    if rows.empty or rows["suppressed"].all():
        return _notice(ax, locale)
    shown = rows.loc[~rows["suppressed"]]
    left_most = float((shown["left"]).min())
    right_most = float((shown["left"] + shown[["p1", "p2", "p3", "p4", "p5"]].sum(axis=1)).max())
    ax.set_xlim(min(-50.0, left_most - 3), max(50.0, right_most + 3))
    scale = _SCALES.get(block, _SCALES["perception"])[locale]
    for i, row in enumerate(rows.itertuples(index=False)):
        if row.suppressed:
            _hatch_row(ax, i, 0.7, gid=f"item:{row.question_id}")
            ax.text(1.01, i, SUPPRESSED_LABEL, transform=ax.get_yaxis_transform(), va="center", fontsize=7,
                    gid=f"item:{row.question_id}")
            continue
        start = row.left
        for v in range(1, 6):
            width = getattr(row, f"p{v}")
            ax.barh(i, width, left=start, height=0.7, color=_LIKERT_COLOURS[v - 1], edgecolor="white",
                    linewidth=0.5, zorder=3)
            if width >= 8:
                ax.text(start + width / 2, i, f"{width:.0f}", ha="center", va="center", fontsize=6.5,
                        color=_LIKERT_TEXT[v - 1], zorder=4)
            start += width
        ax.text(1.01, i, f"{int(row.n)} · {row.pct_favourable:.0f}%", transform=ax.get_yaxis_transform(),
                va="center", fontsize=7, gid=f"item:{row.question_id}")
    ax.text(1.01, -0.6, _t("n_fav", locale), transform=ax.get_yaxis_transform(), va="bottom", fontsize=7,
            color="#333333")
    ax.axvline(0, color="black", linewidth=0.8, zorder=5)
    ax.set_yticks(range(len(rows)), labels=[_item_label(q, items, locale) for q in rows["question_id"]],
                  fontsize=7.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ticks = [t for t in (-100, -75, -50, -25, 0, 25, 50, 75, 100) if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.set_xticks(ticks, labels=[f"{abs(t)}" for t in ticks])
    ax.set_xlabel(_t("percent_axis", locale), fontsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if legend:
        handles = [Patch(facecolor=c, edgecolor=_GREY, linewidth=0.4, label=f"{v} {name}")
                   for v, (c, name) in enumerate(zip(_LIKERT_COLOURS, scale, strict=True), start=1)]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=legend, fontsize=7,
                  handlelength=1.2, columnspacing=1.0, borderaxespad=0.3)
    return ax


@_styled
def likert_chart(likert_counts: pd.DataFrame, locale: str = "zh", block: str = "perception", group: str = TOTAL,
                 items: Mapping[str, str] | None = None) -> Figure:
    """Draw the diverging stacked bars of every item of a block (default: the perception items, all respondents).

    Parameters
    ----------
    likert_counts : DataFrame
        ``report["tables"]["likert_counts"]``.
    locale : {"zh", "en"}
    block, group : str
    items : mapping, optional
        question id -> statement.

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    rows = likert_percentages(likert_counts, block, group)
    if rows.empty or rows["suppressed"].all():
        return _notice_figure("likert", locale)
    height = min(7.5, max(FIGSIZE[1], 0.24 * len(rows) + 1.6))
    fig = _new_figure((FIGSIZE[0], height))
    n = _n_range(rows["n"])
    _title(fig, "likert", locale, _paren(label("group", group, locale) + ("，" if locale == "zh" else ", ") + n,
                                         locale))
    plot_likert(likert_counts, fig.add_subplot(), locale, block, group, items)
    return _finish(fig, "likert", locale)


# ----------------------------------------------------------------------------- 5. heatmap


_HEAT_COLUMNS = ("dimension", "group", "n", "pct_favourable")


@_styled
def plot_heatmap(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh", colorbar: bool = True) -> Axes:
    """Draw % favourable per dimension (rows) and group (columns); suppressed cells hatched, ``n<k``.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["favourable_dimensions"]``.
    ax : Axes, optional
    locale : {"zh", "en"}
    colorbar : bool

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(table, _HEAT_COLUMNS, "favourable_dimensions")
    ax = _axes(ax)
    if _visible(table).empty:
        return _notice(ax, locale)
    dimensions = _dimension_order(table["dimension"])
    groups = _ordered_groups(table["group"])
    grid = np.full((len(dimensions), len(groups)), np.nan)
    cells = table.set_index(["dimension", "group"])
    for i, dimension in enumerate(dimensions):
        for j, group in enumerate(groups):
            if (dimension, group) in cells.index:
                row = cells.loc[(dimension, group)]
                if not row["suppressed"] and not pd.isna(row["pct_favourable"]):
                    grid[i, j] = row["pct_favourable"]
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=_FAVOURABLE_CMAP, vmin=0, vmax=100, aspect="auto")
    for i, dimension in enumerate(dimensions):
        for j, group in enumerate(groups):
            gid = f"cell:{dimension}:{group}"
            if (dimension, group) not in cells.index:
                continue
            row = cells.loc[(dimension, group)]
            if np.isnan(grid[i, j]):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor=_GREY, hatch=_HATCH,
                                       hatchcolor=_LIGHT, linewidth=0.6, zorder=2))
                ax.text(j, i, SUPPRESSED_LABEL, ha="center", va="center", fontsize=9, zorder=3, gid=gid,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
            else:
                ax.text(j, i, f"{grid[i, j]:.0f}%\n{_n(row['n'])}", ha="center", va="center", fontsize=8.5,
                        linespacing=1.2, zorder=3, gid=gid, color=_ink(_FAVOURABLE_CMAP(grid[i, j] / 100)))
    if TOTAL in groups and len(groups) > 1:
        ax.axvline(groups.index(TOTAL) - 0.5, color="black", linewidth=1.5)
    ax.set_xticks(range(len(groups)), labels=[label("group", g, locale) for g in groups], fontsize=8)
    ax.set_yticks(range(len(dimensions)), labels=[label("dimension", d, locale) for d in dimensions], fontsize=8)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(len(groups) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(dimensions) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02)
        bar.set_label(_t("favourable", locale), fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return ax


@_styled
def heatmap_chart(favourable_dimensions: pd.DataFrame, locale: str = "zh") -> Figure:
    """Draw the dimension x group heatmap of % favourable as a Figure.

    Parameters
    ----------
    favourable_dimensions : DataFrame
        ``report["tables"]["favourable_dimensions"]``.
    locale : {"zh", "en"}

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    table = _check_table(favourable_dimensions, _HEAT_COLUMNS, "favourable_dimensions")
    if _visible(table).empty:
        return _notice_figure("heatmap", locale)
    fig = _new_figure()
    _title(fig, "heatmap", locale)
    plot_heatmap(table, fig.add_subplot(), locale)
    return _finish(fig, "heatmap", locale)


# ----------------------------------------------------------------------------- 6. morale


_ENPS_COLUMNS = ("group", "n", "enps", "ci_low", "ci_high")


def enps_by_wave(waves: Sequence[pd.DataFrame | Mapping[str, Any]]) -> pd.DataFrame:
    """Stack the eNPS tables of several waves (time order) into one, with a ``wave`` column from 1.

    Parameters
    ----------
    waves : sequence
        Each a report of `build_report` or its ``tables["enps"]``.

    Returns
    -------
    DataFrame
        The enps columns plus ``wave``.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["all"], "n": [12], "enps": [-20.0], "ci_low": [-50.0], "ci_high": [10.0]})
    >>> enps_by_wave([t, t])["wave"].tolist()
    [1, 2]
    """
    if isinstance(waves, pd.DataFrame | Mapping):
        raise AnalysisError("pass a sequence of reports or enps tables, one per wave, in time order")
    parts = []
    for wave, item in enumerate(waves, start=1):
        table = _table(item, "enps") if isinstance(item, Mapping) else item
        parts.append(_check_table(table, _ENPS_COLUMNS, "enps").assign(wave=wave))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*_ENPS_COLUMNS, "suppressed", "wave"]})
    return pd.concat(parts, ignore_index=True)


def _wave_name(wave: int, locale: str) -> str:
    return _t("wave", locale, n=int(wave))


def _enps_series(table: pd.DataFrame) -> list[str]:
    groups = _ordered_groups(table["group"], pool=False)
    shown = _ordered_groups(_visible(table)["group"], pool=False)
    # With one answering group the pool is that group: draw it once, under the group's name.
    return groups if len(groups) <= 1 or not shown else [*groups, TOTAL]


@_styled
def plot_enps(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh") -> Axes:
    """Draw eNPS with its 95% interval per wave (one series per answering group), -100 to 100.

    Parameters
    ----------
    table : DataFrame
        An eNPS table (``report["tables"]["enps"]``) or several waves of it (`enps_by_wave`).
    ax : Axes, optional
    locale : {"zh", "en"}

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(table, _ENPS_COLUMNS, "enps")
    if "wave" not in table.columns:
        table["wave"] = 1
    ax = _axes(ax)
    if _visible(table).empty:
        return _notice(ax, locale)
    waves = sorted(int(w) for w in table["wave"].unique())
    series = _enps_series(table)
    if not series:
        series = [TOTAL]
    single = len(series) == 1 and series[0] != TOTAL
    ax.set_ylim(-100, 100)
    ax.set_xlim(min(waves) - 0.6, max(waves) + 0.6)
    _sign_background(ax, locale, -100, 100, labels=False, vertical=True)
    width = 0.5 / max(1, len(series))
    for j, group in enumerate(series):
        source = TOTAL if single and (table["group"] == TOTAL).any() else group
        rows = table.loc[table["group"] == source].set_index("wave")
        offset = (j - (len(series) - 1) / 2) * width
        xs, ys = [], []
        for wave in waves:
            x = wave + offset
            if wave not in rows.index:
                continue
            row = rows.loc[wave]
            if row["suppressed"] or pd.isna(row["enps"]):
                ax.text(x, 0, SUPPRESSED_LABEL, ha="center", va="center", fontsize=8, gid=f"enps:{wave}:{group}",
                        bbox={"facecolor": "white", "edgecolor": _GREY, "hatch": _HATCH, "pad": 2}, zorder=5)
                continue
            xs.append(x)
            ys.append(row["enps"])
            ax.errorbar(x, row["enps"], yerr=[[row["enps"] - row["ci_low"]], [row["ci_high"] - row["enps"]]],
                        fmt=group_marker(group), color=group_colour(group), markeredgecolor="black",
                        ecolor="black", elinewidth=1, capsize=4, markersize=8, zorder=4)
            note = f"\n{_t('indicative', locale)}" if bool(row.get("indicative", False)) else ""
            ax.annotate(f"{_signed(row['enps'], 0)}\n{_n(row['n'])}{note}", (x, row["enps"]), xytext=(9, 0),
                        textcoords="offset points", va="center", fontsize=7.5, gid=f"enps:{wave}:{group}")
        if len(xs) > 1:
            ax.plot(xs, ys, color=group_colour(group), linewidth=1.2, zorder=3)
    ax.set_xticks(waves, labels=[_wave_name(w, locale) for w in waves])
    ax.set_ylabel(_t("enps_axis", locale))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(handles=_group_handles(series, locale, marker=True), loc="upper left", fontsize=7.5)
    return ax


@_styled
def morale_chart(enps: pd.DataFrame, likert_counts: pd.DataFrame, locale: str = "zh", group: str = TOTAL,
                 items: Mapping[str, str] | None = None) -> Figure:
    """Draw the 士气 panel: eNPS per wave with its interval, beside the morale items' diverging bars.

    Parameters
    ----------
    enps : DataFrame
        ``report["tables"]["enps"]`` or several waves of it (`enps_by_wave`).
    likert_counts : DataFrame
        ``report["tables"]["likert_counts"]`` (its ``morale`` block is drawn).
    locale : {"zh", "en"}
    group : str
        Whose morale ratings (default the pool: the morale part is asked of office staff only).
    items : mapping, optional
        question id -> statement.

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    scores = _check_table(enps, _ENPS_COLUMNS, "enps")
    morale = likert_percentages(likert_counts, "morale", group)
    has_enps = not _visible(scores).empty
    has_items = not (morale.empty or morale["suppressed"].all())
    if not has_enps and not has_items:
        return _notice_figure("morale", locale)
    fig = _new_figure()
    _title(fig, "morale", locale)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.7])
    plot_enps(scores, left, locale)
    left.set_title(_t("enps_axis", locale), fontsize=9, loc="left")
    if has_items:
        plot_likert(likert_counts, right, locale, "morale", group, items, legend=3)
        right.set_title(f"{_t('morale_items', locale)}{_paren(_n_range(morale['n']), locale)}", fontsize=9, loc="left",
                        pad=34)
    else:
        _notice(right, locale)
    return _finish(fig, "morale", locale)


# ----------------------------------------------------------------------------- 7. root causes


_CAUSE_COLUMNS = ("cause", "group", "n", "mean", "pct_severe")


@_styled
def plot_causes(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh") -> Axes:
    """Rank the root causes by the pool's mean severity (bars), each group's mean as a marker.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["causes"]``.
    ax : Axes, optional
    locale : {"zh", "en"}

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(table, _CAUSE_COLUMNS, "causes")
    ax = _axes(ax)
    if _visible(table).empty:
        return _notice(ax, locale)
    pool = table.loc[table["group"] == TOTAL].set_index("cause")
    shown = _visible(table)
    fallback = shown.groupby("cause")["mean"].mean()
    key = {c: -(pool["mean"].get(c) if c in pool.index and not pd.isna(pool["mean"].get(c))
                else fallback.get(c, -math.inf)) for c in table["cause"].unique()}
    causes = sorted(key, key=lambda c: (key[c], c))
    groups = _ordered_groups(table["group"], pool=False)
    ax.set_xlim(1, 5.0)
    for i, cause in enumerate(causes):
        if cause in pool.index:
            row = pool.loc[cause]
            if row["suppressed"] or pd.isna(row["mean"]):
                _hatch_row(ax, i, 0.6, gid=f"cause:{cause}:{TOTAL}")
            else:
                ax.barh(i, row["mean"] - 1, left=1, height=0.6, color="#D0D0D0", edgecolor="black", linewidth=0.5,
                        zorder=2)
                ax.text(1.01, i, f"{_number(row['mean'])} · {row['pct_severe']:.0f}% {_t('severe', locale)}",
                        transform=ax.get_yaxis_transform(), va="center", fontsize=7.5, gid=f"cause:{cause}:{TOTAL}")
        cells = table.loc[table["cause"] == cause].set_index("group")
        for j, group in enumerate(groups):
            if group not in cells.index or cells.loc[group, "suppressed"] or pd.isna(cells.loc[group, "mean"]):
                continue
            y = i + (j - (len(groups) - 1) / 2) * (0.5 / max(1, len(groups)))
            ax.plot(cells.loc[group, "mean"], y, marker=group_marker(group), color=group_colour(group),
                    markeredgecolor="black", markeredgewidth=0.5, markersize=6.5, linestyle="", zorder=4)
    ax.set_yticks(range(len(causes)), labels=[label("cause", c, locale) for c in causes], fontsize=8.5)
    ax.set_ylim(len(causes) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xticks([1, 2, 3, 4, 5])
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.set_xlabel(_t("severity_axis", locale))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    suffix = {}
    for group in groups:
        rows = table.loc[table["group"] == group]
        if rows["suppressed"].all():
            suffix[group] = _t("hidden_group", locale)
        else:
            suffix[group] = f"  {_n_range(rows['n'])}"
    handles = [Patch(facecolor="#D0D0D0", edgecolor="black", linewidth=0.5,
                     label=f"{label('group', TOTAL, locale)}  {_n_range(pool['n']) if len(pool) else ''}")]
    handles += _group_handles(groups, locale, suffix, marker=True)
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(5, len(handles)),
              fontsize=7.5, borderaxespad=0.3, columnspacing=1.0)
    return ax


@_styled
def causes_chart(causes: pd.DataFrame, locale: str = "zh") -> Figure:
    """Draw the 根源 ranking (Pareto style, split by group) as a Figure.

    Parameters
    ----------
    causes : DataFrame
        ``report["tables"]["causes"]``.
    locale : {"zh", "en"}

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    table = _check_table(causes, _CAUSE_COLUMNS, "causes")
    if _visible(table).empty:
        return _notice_figure("causes", locale)
    fig = _new_figure()
    _title(fig, "causes", locale)
    plot_causes(table, fig.add_subplot(), locale)
    return _finish(fig, "causes", locale)


# ----------------------------------------------------------------------------- 8. comment themes


_THEME_COLUMNS = ("theme", "raters", "n", "count", "pct")


def _theme_name(code: str, locale: str) -> str:
    theme = THEMES.get(code)
    return theme.get(locale, code) if theme else str(code)


@_styled
def plot_themes(table: pd.DataFrame, ax: Axes | None = None, locale: str = "zh",
                keywords: pd.DataFrame | None = None) -> Axes:
    """Draw the share of commenters mentioning each theme, with low and high overall raters as markers.

    Parameters
    ----------
    table : DataFrame
        ``report["tables"]["themes"]``.
    ax : Axes, optional
    locale : {"zh", "en"}
    keywords : DataFrame, optional
        ``report["keywords"]`` (keyword, weight); the top ones are written under the bars.

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(table, _THEME_COLUMNS, "themes")
    ax = _axes(ax)
    pooled = table.loc[table["raters"] == TOTAL].set_index("theme")
    if _visible(pooled.reset_index()).empty:
        return _notice(ax, locale, _t("no_comments", locale))
    order = pooled.assign(sort=pd.to_numeric(pooled["count"], errors="coerce").fillna(-1)).sort_values(
        "sort", ascending=False, kind="stable").index.tolist()
    high_x = max(10.0, float(pd.to_numeric(table["pct"], errors="coerce").max(skipna=True) or 0) * 1.1 + 6)
    ax.set_xlim(0, high_x)
    segments = {"low": ("v", NEGATIVE), "high": ("^", POSITIVE)}
    hidden_segments = set()
    for i, theme in enumerate(order):
        row = pooled.loc[theme]
        if row["suppressed"] or pd.isna(row["pct"]):
            _hatch_row(ax, i, 0.6, gid=f"theme:{theme}:{TOTAL}")
            continue
        ax.barh(i, row["pct"], height=0.6, color="#D0D0D0", edgecolor="black", linewidth=0.5, zorder=2)
        people = f"{int(row['count'])}{_t('people', locale)}"
        ax.text(row["pct"] + high_x * 0.01, i - 0.18, f"{row['pct']:.0f}%{_paren(people, locale)}", va="center",
                fontsize=7, zorder=5, gid=f"theme:{theme}:{TOTAL}")
        for segment, (marker, colour) in segments.items():
            part = table.loc[(table["theme"] == theme) & (table["raters"] == segment)]
            if part.empty:
                continue
            if part["suppressed"].iloc[0] or pd.isna(part["pct"].iloc[0]):
                hidden_segments.add(segment)
                continue
            ax.plot(part["pct"].iloc[0], i + 0.12, marker=marker, color=colour, markeredgecolor="black",
                    markeredgewidth=0.5, markersize=6.5, linestyle="", zorder=4)
    ax.set_yticks(range(len(order)), labels=[_theme_name(t, locale) for t in order], fontsize=8)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(_t("theme_axis", locale))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    def n_of(segment: str) -> str:
        rows = table.loc[table["raters"] == segment]
        return _n_range(rows["n"]) if not rows.empty else ""

    handles = [Patch(facecolor="#D0D0D0", edgecolor="black", linewidth=0.5,
                     label=f"{_t('all_commenters', locale)}  {n_of(TOTAL)}")]
    for segment, (marker, colour) in segments.items():
        if (table["raters"] == segment).any():
            suffix = _t("hidden_group", locale) if segment in hidden_segments else f"  {n_of(segment)}"
            handles.append(Line2D([], [], marker=marker, color=colour, markeredgecolor="black", linestyle="",
                                  label=_t(f"{segment}_raters", locale) + suffix))
    ax.legend(handles=handles, loc="lower right", fontsize=7.5)
    if keywords is not None and isinstance(keywords, pd.DataFrame) and "keyword" in keywords.columns:
        words = [str(w) for w in keywords["keyword"].head(10)]
        if words:
            joiner = "、" if locale == "zh" else ", "
            ax.text(0.0, -0.16, _t("keywords", locale) + joiner.join(words), transform=ax.transAxes, fontsize=7.5,
                    va="top", color="#333333")
    return ax


@_styled
def themes_chart(themes: pd.DataFrame, keywords: pd.DataFrame | None = None, locale: str = "zh") -> Figure:
    """Draw the 意见主题 chart as a Figure.

    Parameters
    ----------
    themes : DataFrame
        ``report["tables"]["themes"]``.
    keywords : DataFrame, optional
        ``report["keywords"]``.
    locale : {"zh", "en"}

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    table = _check_table(themes, _THEME_COLUMNS, "themes")
    if _visible(table.loc[table["raters"] == TOTAL]).empty:
        return _notice_figure("themes", locale, _t("no_comments", locale))
    fig = _new_figure()
    _title(fig, "themes", locale)
    plot_themes(table, fig.add_subplot(), locale, keywords)
    return _finish(fig, "themes", locale)


# ----------------------------------------------------------------------------- 9. summary cards


def _pooled_row(table: pd.DataFrame | None, columns: Sequence[str], what: str) -> pd.Series | None:
    if table is None:
        return None
    table = _check_table(table, columns, what)
    rows = table.loc[table["group"] == TOTAL]
    return rows.iloc[0] if len(rows) else None


def summary_values(satisfaction: pd.DataFrame, responses: pd.DataFrame, enps: pd.DataFrame | None = None,
                   locale: str = "zh") -> list[dict[str, Any]]:
    """Pick the pooled figures of the summary cards, formatted; a hidden figure reads ``n<k``.

    Parameters
    ----------
    satisfaction, responses, enps : DataFrame
        ``report["tables"]["satisfaction" | "responses" | "enps"]``.
    locale : {"zh", "en"}

    Returns
    -------
    list of dict
        One per card, in display order: ``key, label, value (str), note (str), suppressed (bool)``.

    Examples
    --------
    >>> s = pd.DataFrame({"group": ["all"], "n_answered": [20], "n": [18], "score": [72.5], "satisfied_pct": [80.0],
    ...                   "dissatisfied_pct": [20.0], "dont_know_pct": [10.0]})
    >>> r = pd.DataFrame({"group": ["all"], "n": [20]})
    >>> [card["value"] for card in summary_values(s, r)]
    ['72.5', '80.0%', '20.0%', '10.0%', '20', 'n<k']
    """
    _check_locale(locale)
    sat = _pooled_row(satisfaction, ("group", "n", "score", "satisfied_pct", "dissatisfied_pct", "dont_know_pct"),
                      "satisfaction")
    resp = _pooled_row(responses, ("group", "n"), "responses")
    net = _pooled_row(enps, _ENPS_COLUMNS, "enps") if enps is not None else None

    def hidden(row: pd.Series | None, column: str) -> bool:
        return row is None or bool(row["suppressed"]) or pd.isna(row[column])

    cards = []
    for key, column in (("score", "score"), ("satisfied", "satisfied_pct"), ("dissatisfied", "dissatisfied_pct"),
                        ("dont_know", "dont_know_pct")):
        if hidden(sat, column):
            cards.append({"key": key, "label": _t(key, locale), "value": SUPPRESSED_LABEL, "note": "",
                          "suppressed": True})
            continue
        value = _number(sat[column]) + ("" if key == "score" else "%")
        count = sat["n_answered"] if key == "dont_know" and "n_answered" in sat.index else sat["n"]
        note = _t("answered", locale, n=int(count)) if not pd.isna(count) else ""
        if key == "score":
            note = f"{_t('of_100', locale)} · {note}"
        cards.append({"key": key, "label": _t(key, locale), "value": value, "note": note, "suppressed": False})
    if hidden(resp, "n"):
        cards.append({"key": "responses", "label": _t("responses", locale), "value": SUPPRESSED_LABEL, "note": "",
                      "suppressed": True})
    else:
        parts = []
        table = _check_table(responses, ("group", "n"), "responses")
        for group in _ordered_groups(table["group"], pool=False):
            row = table.loc[table["group"] == group].iloc[0]
            count = SUPPRESSED_LABEL if row["suppressed"] or pd.isna(row["n"]) else str(int(row["n"]))
            parts.append(f"{label('group', group, locale)} {count}")
        cards.append({"key": "responses", "label": _t("responses", locale), "value": str(int(resp["n"])),
                      "note": "\n".join(parts), "suppressed": False})
    if hidden(net, "enps"):
        cards.append({"key": "enps", "label": _t("enps", locale), "value": SUPPRESSED_LABEL, "note": "",
                      "suppressed": True})
    else:
        note = _t("interval", locale, low=_signed(net["ci_low"], 0), high=_signed(net["ci_high"], 0))
        note += f" · {_n(net['n'])}"
        if bool(net.get("indicative", False)):
            note += f" · {_t('indicative', locale)}"
        cards.append({"key": "enps", "label": _t("enps", locale), "value": _signed(net["enps"], 0), "note": note,
                      "suppressed": False})
    return cards


@_styled
def plot_summary(cards: Sequence[Mapping[str, Any]], ax: Axes | None = None, ncols: int = 3) -> Axes:
    """Draw summary cards (from `summary_values`) in a grid; a hidden figure is a hatched ``n<k`` card.

    Parameters
    ----------
    cards : sequence of mappings
        ``label, value, note, suppressed`` each.
    ax : Axes, optional
    ncols : int
        Cards per row.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    ax.set_axis_off()
    nrows = max(1, math.ceil(len(cards) / ncols))
    ax.set_xlim(0, ncols)
    ax.set_ylim(0, nrows)
    for index, card in enumerate(cards):
        col, row = index % ncols, nrows - 1 - index // ncols
        x, y = col + 0.05, row + 0.07
        hidden = bool(card.get("suppressed"))
        ax.add_patch(FancyBboxPatch((x, y), 0.9, 0.86, boxstyle="round,pad=0,rounding_size=0.04",
                                    facecolor="white", edgecolor="#444444", linewidth=1.0,
                                    hatch=_HATCH if hidden else None, hatchcolor=_LIGHT))
        key = card.get("key", index)
        ax.text(x + 0.06, y + 0.78, str(card["label"]), ha="left", va="top", fontsize=10.5)
        ax.text(x + 0.45, y + 0.43, str(card["value"]), ha="center", va="center", fontsize=26 if not hidden else 18,
                gid=f"card:{key}", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1} if hidden else None)
        if card.get("note"):
            ax.text(x + 0.45, y + 0.1, str(card["note"]), ha="center", va="bottom", fontsize=7, color="#333333",
                    linespacing=1.2)
    return ax


@_styled
def summary_chart(satisfaction: pd.DataFrame, responses: pd.DataFrame, enps: pd.DataFrame | None = None,
                  locale: str = "zh") -> Figure:
    """Draw the summary cards: 满意度得分, 满意率, 差评率, 不了解率, responses and eNPS.

    Parameters
    ----------
    satisfaction, responses, enps : DataFrame
        ``report["tables"]["satisfaction" | "responses" | "enps"]``.
    locale : {"zh", "en"}

    Returns
    -------
    Figure
    """
    cards = summary_values(satisfaction, responses, enps, locale)
    if all(card["suppressed"] for card in cards):
        return _notice_figure("summary", locale)
    fig = _new_figure()
    _title(fig, "summary", locale)
    plot_summary(cards, fig.add_subplot())
    return _finish(fig, "summary", locale)


# ----------------------------------------------------------------------------- 10. trend


_TREND_COLUMNS = ("wave", "measure", "dimension", "group", "n", "value")


@_styled
def plot_trend(scores: pd.DataFrame, dimension: str, ax: Axes | None = None, locale: str = "zh",
               measure: str = "score", changes: pd.DataFrame | None = None) -> Axes:
    """Draw one dimension's score (or gap) per wave, one line per group, the pool in black.

    Parameters
    ----------
    scores : DataFrame
        ``build_wave_report(...)["scores"]``.
    dimension : str
    ax : Axes, optional
    locale : {"zh", "en"}
    measure : {"score", "gap"}
    changes : DataFrame, optional
        ``build_wave_report(...)["changes"]``: the pool's last change label goes into the title.

    Returns
    -------
    Axes
    """
    _check_locale(locale)
    table = _check_table(scores, _TREND_COLUMNS, "wave scores")
    ax = _axes(ax)
    rows = table.loc[(table["measure"] == measure) & (table["dimension"] == dimension)]
    if _visible(rows).empty:
        _notice(ax, locale)
        return ax
    waves = sorted(int(w) for w in table["wave"].unique())
    groups = _ordered_groups(rows["group"])
    hidden: dict[int, list[str]] = {}
    for group in groups:
        part = rows.loc[rows["group"] == group].sort_values("wave")
        visible = part.loc[~part["suppressed"] & part["value"].notna()]
        is_pool = group == TOTAL
        ax.plot(visible["wave"], visible["value"], color=group_colour(group), marker=group_marker(group),
                markeredgecolor="black", markeredgewidth=0.5, markersize=7 if is_pool else 5.5,
                linewidth=2.2 if is_pool else 1.2, zorder=4 if is_pool else 3)
        for wave in part.loc[part["suppressed"] | part["value"].isna(), "wave"]:
            hidden.setdefault(int(wave), []).append(group)
    for wave, names in hidden.items():
        ax.text(wave, 0.02, SUPPRESSED_LABEL + " " + "、".join(label("group", g, locale)[:2] for g in names),
                transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=6.5, gid=f"trend:{wave}")
    if measure == "gap":
        ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(waves, labels=[_wave_name(w, locale) for w in waves], fontsize=7.5)
    ax.set_xlim(min(waves) - 0.3, max(waves) + 0.3)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.5)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    title = label("dimension", dimension, locale)
    if changes is not None and isinstance(changes, pd.DataFrame) and "label" in changes.columns:
        change = _check_table(changes, ("measure", "dimension", "group", "label", "change"), "wave changes")
        pool = change.loc[(change["measure"] == measure) & (change["dimension"] == dimension)
                          & (change["group"] == TOTAL) & ~change["suppressed"]]
        if len(pool) and pool["label"].iloc[-1]:
            last = pool.iloc[-1]
            verdict = label("wave", last["label"], locale)
            title += f"\n{label('group', TOTAL, locale)} {_signed(last['change'], 2)}，{verdict}"
    ax.set_title(title, fontsize=8.5, loc="left")
    ax.tick_params(axis="y", labelsize=7.5)
    return ax


@_styled
def trend_chart(scores: pd.DataFrame, changes: pd.DataFrame | None = None, locale: str = "zh",
                measure: str = "score") -> Figure:
    """Draw the trend of every dimension across waves, one panel per dimension.

    Parameters
    ----------
    scores : DataFrame
        ``build_wave_report(...)["scores"]``.
    changes : DataFrame, optional
        ``build_wave_report(...)["changes"]``.
    locale : {"zh", "en"}
    measure : {"score", "gap"}

    Returns
    -------
    Figure
    """
    _check_locale(locale)
    if measure not in ("score", "gap"):
        raise AnalysisError(f"measure must be 'score' or 'gap', got {measure!r}")
    table = _check_table(scores, _TREND_COLUMNS, "wave scores")
    rows = table.loc[table["measure"] == measure]
    if _visible(rows).empty:
        return _notice_figure("trend", locale)
    dimensions = _dimension_order(_visible(rows)["dimension"])
    ncols = min(3, len(dimensions))
    nrows = math.ceil(len(dimensions) / ncols)
    fig = _new_figure()
    one = rows["wave"].nunique() < 2
    _title(fig, "trend", locale, _t("one_wave", locale) if one else "")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    for ax, dimension in zip(axes, dimensions, strict=False):
        plot_trend(table, dimension, ax, locale, measure, changes)
    for ax in axes[len(dimensions):]:
        ax.set_axis_off()
    axis_label = _t("score_axis" if measure == "score" else "gap_trend_axis", locale)
    for ax in axes[::ncols]:
        ax.set_ylabel(axis_label, fontsize=8)
    groups = _ordered_groups(rows["group"])
    suffix = {g: f" {_n_range(rows.loc[rows['group'] == g, 'n'])}" for g in groups}
    fig.legend(handles=_group_handles(groups, locale, suffix, marker=True), loc="outside lower center",
               ncol=len(groups), fontsize=7.5)
    return _finish(fig, "trend", locale)


# ----------------------------------------------------------------------------- the registry


ChartFunction = Callable[..., Figure]


def _summary(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
             items: Mapping[str, str] | None = None) -> Figure:
    return summary_chart(_table(report, "satisfaction"), _table(report, "responses"), _table(report, "enps"),
                         locale)


def _gap(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
         items: Mapping[str, str] | None = None) -> Figure:
    return gap_chart(_table(report, "service_gaps"), locale)


def _self_view(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
               items: Mapping[str, str] | None = None) -> Figure:
    return self_view_chart(_table(report, "self_view"), locale)


def _ipa(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
         items: Mapping[str, str] | None = None) -> Figure:
    return ipa_chart(_table(report, "ipa"), locale)


def _likert(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
            items: Mapping[str, str] | None = None) -> Figure:
    return likert_chart(_table(report, "likert_counts"), locale, items=items)


def _heatmap(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
             items: Mapping[str, str] | None = None) -> Figure:
    return heatmap_chart(_table(report, "favourable_dimensions"), locale)


def _morale(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
            items: Mapping[str, str] | None = None) -> Figure:
    enps = waves.get("enps") if waves is not None else None
    if enps is None:
        enps = _table(report, "enps")
    return morale_chart(enps, _table(report, "likert_counts"), locale, items=items)


def _causes(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
            items: Mapping[str, str] | None = None) -> Figure:
    return causes_chart(_table(report, "causes"), locale)


def _themes(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
            items: Mapping[str, str] | None = None) -> Figure:
    return themes_chart(_table(report, "themes"), report.get("keywords"), locale)


def _trend(report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
           items: Mapping[str, str] | None = None) -> Figure:
    _check_locale(locale)
    if waves is None or waves.get("scores") is None:
        return _notice_figure("trend", locale, _t("no_waves", locale))
    return trend_chart(waves["scores"], waves.get("changes"), locale)


#: The web layer's chart names -> ``function(report, locale="zh", *, waves=None, items=None) -> Figure``.
#: ``report`` is `build_report`'s result; ``waves`` is `build_wave_report`'s result (``scores``,
#: ``changes``), optionally with ``enps`` = `enps_by_wave` of the reports in time order (for the morale
#: panel); ``items`` maps question ids to statements (`item_labels`).
CHARTS: dict[str, ChartFunction] = {
    "summary": _summary,
    "gap": _gap,
    "self-view": _self_view,
    "ipa": _ipa,
    "likert": _likert,
    "heatmap": _heatmap,
    "morale": _morale,
    "causes": _causes,
    "themes": _themes,
    "trend": _trend,
}


def draw(name: str, report: Mapping[str, Any], locale: str = "zh", *, waves: Mapping[str, Any] | None = None,
         items: Mapping[str, str] | None = None) -> Figure:
    """Draw one of the ten charts by its web name from a report (and the wave tables).

    Parameters
    ----------
    name : str
        One of `CHARTS`: summary, gap, self-view, ipa, likert, heatmap, morale, causes, themes, trend.
    report : dict
        What `analysis.build_report` returns.
    locale : {"zh", "en"}
    waves : mapping, optional
        `analysis.build_wave_report`'s result, optionally with ``"enps"`` from `enps_by_wave`
        (used by ``trend`` and ``morale``).
    items : mapping, optional
        question id -> statement, for the Likert and morale charts (`item_labels`).

    Returns
    -------
    Figure
        With ``officepulse_caption`` (= ``CAPTIONS[name][locale]``) and ``officepulse_chart`` (= name).

    Raises
    ------
    AnalysisError
        Unknown name or locale, or a report without the needed table.

    Examples
    --------
    >>> from analysis import build_report, make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"overall": "satisfied"}}] * 3)
    >>> draw("summary", build_report(answers, n_boot=20)).officepulse_chart
    'summary'
    """
    if name not in CHARTS:
        raise AnalysisError(f"unknown chart {name!r}; expected one of {list(CHARTS)}")
    _check_locale(locale)
    return CHARTS[name](report, locale, waves=waves, items=items)
