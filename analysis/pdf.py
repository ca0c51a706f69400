"""The printable report: cover, findings, every chart, the key tables and a method note, as one A4 PDF."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from datetime import date
from typing import IO, Any

import matplotlib
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.image import imread

from .charts import CHARTS, draw
from .fonts import chart_rc
from .labels import TOTAL, label

__all__ = ["write_report_pdf", "A4"]

A4 = (8.27, 11.69)  # inches, portrait
_MARGIN = 0.07
_TEXT = {
    "zh": {
        "subtitle": "办公室工作质效测评报告",
        "responses": "有效答卷 {n} 份；最小分组人数 k = {k}（少于 k 人的数字不予显示，标为 n<k）",
        "date": "生成日期：{d}",
        "findings": "主要发现",
        "no_findings": "暂无发现：答卷太少，或没有明显差距。",
        "tables": "关键数据表",
        "dimensions": "各维度：实际表现、期望与差距（全体）",
        "causes": "问题根源（全体）",
        "method": "方法说明",
        "cols_dim": ["维度", "人数", "实际表现", "期望", "差距", "95% 区间"],
        "cols_cause": ["原因", "人数", "平均制约程度", "严重制约占比"],
        "method_text": [
            "评分：1–5 分，“不了解”不计入平均；维度得分要求该维度至少一半题目有有效回答。",
            "服务差距：同一受访者对同一陈述的实际表现减期望（SERVQUAL），按维度、按人员类别平均，"
            "95% 区间为按受访者重抽样的 bootstrap 区间。",
            "服务导向：办公室工作人员自评减去各服务对象的评价；检验用 Mann-Whitney U，效应量为 Cliff's delta，"
            "多重比较用 Holm 校正；只在两组都不少于 k 人时检验。",
            "满意度百分制：非常满意 100、满意 80、基本满意 60、不满意 30、非常不满意 0 的加权平均；"
            "满意率为前三档占比，差评率为后两档占比，不了解率单列。",
            "eNPS：推荐者（9–10 分）占比减贬损者（0–6 分）占比，附 95% 区间；不足 10 人仅供参考。",
            "匿名保护：不记录姓名、IP、设备或提交时刻；任何少于 k 人的数字都不显示；只有一个类别不足 k 人时，"
            "次小的类别也一并隐藏；局领导人数不足 k 时并入机关其他科室。",
        ],
    },
    "en": {
        "subtitle": "Office service quality survey report",
        "responses": "{n} responses; minimum group size k = {k} (figures about fewer than k people are hidden: n<k)",
        "date": "Generated on {d}",
        "findings": "Key findings",
        "no_findings": "No finding yet: too few responses, or no clear gap.",
        "tables": "Key tables",
        "dimensions": "Dimensions: performance, expectation and gap (all respondents)",
        "causes": "Root causes (all respondents)",
        "method": "Method",
        "cols_dim": ["Dimension", "n", "Performance", "Expectation", "Gap", "95% interval"],
        "cols_cause": ["Cause", "n", "Mean severity", "% severe"],
        "method_text": [
            "Ratings 1-5; 'don't know' is left out of means; a dimension score needs at least half its items.",
            "Service gap: performance minus expectation per respondent and statement (SERVQUAL), averaged per "
            "dimension and group, with a 95% bootstrap interval over respondents.",
            "Service orientation: the office's self-rating minus each customer group's rating; Mann-Whitney U, "
            "Cliff's delta, Holm correction; tested only when both groups have at least k people.",
            "100-point satisfaction: weights 100/80/60/30/0 for the five grades; satisfied = top three grades, "
            "dissatisfied = bottom two; 'don't know' reported apart.",
            "eNPS: % promoters (9-10) minus % detractors (0-6), with a 95% interval; indicative below 10 people.",
            "Anonymity: no name, IP, device or time of day is stored; no figure about fewer than k people is "
            "shown; when one group is below k, the next smallest is hidden too; leaders merge into departments.",
        ],
    },
}


def _page() -> Figure:
    return Figure(figsize=A4, facecolor="white")


def _wrap(text: str, locale: str, width_en: int = 95) -> str:
    # CJK characters are about twice as wide as Latin ones.
    return "\n".join(textwrap.wrap(text, width=width_en // 2 if locale == "zh" else width_en)) or text


def _lines(fig: Figure, heading: str, paragraphs: Sequence[str], locale: str, top: float = 0.93) -> None:
    fig.text(_MARGIN, top, heading, fontsize=16, va="top")
    y = top - 0.05
    for i, paragraph in enumerate(paragraphs, 1):
        text = _wrap(paragraph, locale)
        fig.text(_MARGIN, y, f"{i}. {text}" if len(paragraphs) > 1 else text, fontsize=10.5, va="top",
                 linespacing=1.5)
        y -= 0.025 * (text.count("\n") + 1) + 0.018
        if y < 0.08:
            break


def _fmt(value: Any, digits: int = 1) -> str:
    return "n<k" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _table_rows(report: Mapping[str, Any], locale: str) -> tuple[list[list[str]], list[list[str]]]:
    gaps = report["tables"]["service_gaps"]
    dims = []
    for row in gaps[gaps["group"] == TOTAL].itertuples():
        hidden = bool(row.suppressed)
        dims.append([
            label("dimension", row.dimension, locale),
            "n<k" if hidden else str(int(row.n)),
            "n<k" if hidden else _fmt(row.perception),
            "n<k" if hidden else _fmt(row.expectation),
            "n<k" if hidden else _fmt(row.gap),
            "n<k" if hidden else f"{_fmt(row.ci_low)} ~ {_fmt(row.ci_high)}",
        ])
    causes = report["tables"]["causes"]
    pooled = causes[causes["group"] == TOTAL].sort_values("mean", ascending=False, na_position="last")
    cause_rows = [
        [label("cause", row.cause, locale),
         "n<k" if row.suppressed else str(int(row.n)),
         "n<k" if row.suppressed else _fmt(row.mean),
         "n<k" if row.suppressed else _fmt(row.pct_severe) + "%"]
        for row in pooled.itertuples()
    ]
    return dims, cause_rows


def _table(fig: Figure, rect: Sequence[float], title: str, columns: list[str], rows: list[list[str]]) -> None:
    ax = fig.add_axes(rect)
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=12)
    if not rows:
        ax.text(0, 0.9, "—", fontsize=10)
        return
    table = ax.table(cellText=rows, colLabels=columns, loc="upper left", cellLoc="right", colLoc="right")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.4)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#999999")
        if c == 0:
            cell.set_text_props(ha="left")
        if r == 0:
            cell.set_facecolor("#eeeeee")


def write_report_pdf(
    report: Mapping[str, Any],
    target: str | IO[bytes],
    *,
    title: str,
    campaign: str,
    n_responses: int,
    locale: str = "zh",
    waves: Mapping[str, Any] | None = None,
    items: Mapping[str, str] | None = None,
    charts: Sequence[str] | None = None,
    today: date | None = None,
) -> int:
    """Write the campaign report as an A4 PDF; return the number of pages.

    Parameters
    ----------
    report : mapping
        What `analysis.build_report` returned (already suppressed).
    target : path or binary file
    title, campaign : str
        The survey's title and the campaign's name, for the cover.
    n_responses : int
    locale : {"zh", "en"}
    waves, items : optional
        As for `analysis.charts.draw`.
    charts : sequence of str, optional
        Which charts, in order (default: all ten).

    Examples
    --------
    >>> import io
    >>> from analysis import build_report, make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"service_p1": 4, "service_e1": 5}}] * 6)
    >>> buffer = io.BytesIO()
    >>> write_report_pdf(build_report(answers, n_boot=20), buffer, title="测评", campaign="第一轮",
    ...                  n_responses=6, charts=["gap"])
    5
    >>> buffer.getvalue()[:5]
    b'%PDF-'
    """
    text = _TEXT[locale]
    names = list(charts) if charts is not None else list(CHARTS)
    metadata = {"Title": f"{title} · {campaign}", "Creator": "OfficePulse"}
    pages = 0
    with matplotlib.rc_context(chart_rc()), PdfPages(target, metadata=metadata) as pdf:
        cover = _page()
        cover.text(_MARGIN, 0.80, title, fontsize=24, va="top")
        cover.text(_MARGIN, 0.74, text["subtitle"], fontsize=14, va="top")
        cover.text(_MARGIN, 0.66, campaign, fontsize=16, va="top")
        cover.text(_MARGIN, 0.60, _wrap(text["responses"].format(n=n_responses, k=report["k"]), locale),
                   fontsize=11, va="top")
        cover.text(_MARGIN, 0.54, text["date"].format(d=(today or date.today()).isoformat()), fontsize=11,
                   va="top")
        pdf.savefig(cover)
        found = [f[locale] for f in report["findings"][:12]] or [text["no_findings"]]
        findings = _page()
        _lines(findings, text["findings"], found, locale)
        pdf.savefig(findings)
        pages += 2
        for name in names:
            chart = draw(name, report, locale, waves=waves, items=items)
            page = _page()  # the chart carries its own title
            image = page.add_axes((_MARGIN, 0.40, 1 - 2 * _MARGIN, 0.55))
            image.set_axis_off()
            image.imshow(_render(chart), interpolation="lanczos")
            page.text(_MARGIN, 0.37, _wrap(chart.officepulse_caption, locale), fontsize=10, va="top",
                      linespacing=1.5)
            pdf.savefig(page)
            pages += 1
        dims, causes = _table_rows(report, locale)
        tables = _page()
        tables.text(_MARGIN, 0.95, text["tables"], fontsize=16, va="top")
        _table(tables, (_MARGIN, 0.55, 1 - 2 * _MARGIN, 0.33), text["dimensions"], text["cols_dim"], dims)
        _table(tables, (_MARGIN, 0.10, 1 - 2 * _MARGIN, 0.38), text["causes"], text["cols_cause"], causes)
        pdf.savefig(tables)
        method = _page()
        _lines(method, text["method"], text["method_text"], locale)
        pdf.savefig(method)
        pages += 2
    return pages


def _render(fig: Figure):
    """Return the chart as an RGBA array (charts keep their own layout; the page scales the picture)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200)
    buffer.seek(0)
    return imread(buffer, format="png")
