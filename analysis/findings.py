"""Key findings: short Chinese and English sentences generated from the (suppressed) tables.

Gaps come first: self-view gaps (office vs a customer group) and SERVQUAL gaps (perception vs
expectation), the certain ones (Holm-adjusted p < 0.05; an interval that excludes zero) before the
uncertain ones, each tier by the size of the gap. Then the office's visibility (don't-know shares),
the most blamed root cause and eNPS. Suppressed or blank rows never produce a sentence.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .labels import EFFECT_NAMES, TOTAL, label

__all__ = ["findings"]

ALPHA = 0.05
_GAP_KINDS = ("self_view", "service_gap")


def _shown(table: pd.DataFrame | None, needed: list[str]) -> list[dict]:
    """Rows of a table that are not suppressed and have every needed figure."""
    if table is None or table.empty:
        return []
    rows = []
    for row in table.to_dict("records"):
        if row.get("suppressed") is True:
            continue
        if any(row.get(c) is None or (isinstance(row.get(c), float) and math.isnan(row[c])) for c in needed):
            continue
        rows.append(row)
    return rows


def _finding(kind: str, zh: str, en: str, **fields: Any) -> dict:
    base = {"kind": kind, "dimension": None, "group": None, "reference": None, "size": None,
            "ci_low": None, "ci_high": None, "p": None, "effect": None, "certain": None, "cause": None}
    return {**base, **fields, "zh": zh, "en": en}


def _self_view(row: dict) -> dict:
    dim_zh, dim_en = label("dimension", row["dimension"]), label("dimension", row["dimension"], "en")
    grp_zh, grp_en = label("group", row["group"]), label("group", row["group"], "en")
    size = float(row["gap"])
    lower = size > 0
    p = row.get("p_holm")
    p = None if p is None or (isinstance(p, float) and math.isnan(p)) else float(p)
    if p is None:
        sure_zh, sure_en = "样本较小，未作检验", "too few respondents to test"
    elif p < ALPHA:
        sure_zh, sure_en = "差异显著", f"significant (Holm-adjusted p = {p:.3f})"
    else:
        sure_zh, sure_en = "差异不显著", f"not significant (Holm-adjusted p = {p:.3f})"
    effect = row.get("effect")
    zh = (f"{dim_zh}：{grp_zh}评价{'低于' if lower else '高于'}办公室自评 {abs(size):.1f} 分，{sure_zh}"
          + (f"，{EFFECT_NAMES[effect]['zh']}" if effect in EFFECT_NAMES else ""))
    en = (f"{dim_en}: {grp_en} rate the office {abs(size):.1f} points {'lower' if lower else 'higher'} than "
          f"the office rates itself; {sure_en}" + (f", {EFFECT_NAMES[effect]['en']}" if effect in EFFECT_NAMES
                                                    else "") + ".")
    return _finding("self_view", zh, en, dimension=row["dimension"], group=row["group"],
                    reference=row.get("reference"), size=size, ci_low=row.get("ci_low"),
                    ci_high=row.get("ci_high"), p=p, effect=effect, certain=p is not None and p < ALPHA)


def _service_gap(row: dict) -> dict:
    dim_zh, dim_en = label("dimension", row["dimension"]), label("dimension", row["dimension"], "en")
    grp_zh, grp_en = label("group", row["group"]), label("group", row["group"], "en")
    size, low, high = float(row["gap"]), float(row["ci_low"]), float(row["ci_high"])
    below = size < 0
    certain = low > 0 or high < 0
    zh = (f"{dim_zh}：{grp_zh}认为实际表现{'低于' if below else '高于'}期望 {abs(size):.1f} 分"
          f"（95% 区间 {low:.1f} 至 {high:.1f}），{'差距明确' if certain else '差距尚不确定'}")
    en = (f"{dim_en}: {grp_en} rate performance {abs(size):.1f} points {'below' if below else 'above'} "
          f"their expectation (95% CI {low:.1f} to {high:.1f}); "
          f"{'the gap is clear' if certain else 'the gap is uncertain'}.")
    return _finding("service_gap", zh, en, dimension=row["dimension"], group=row["group"], size=size,
                    ci_low=low, ci_high=high, certain=certain)


def _invisible(row: dict) -> dict:
    pct = float(row["dont_know_pct"])
    grp_zh, grp_en = label("group", row["group"]), label("group", row["group"], "en")
    zh = f"{grp_zh}中有 {pct:.0f}% 表示不了解办公室的总体工作"
    en = f"{pct:.0f}% of {grp_en} say they do not know the office's work well enough to rate it."
    return _finding("invisible", zh, en, group=row["group"], size=pct)


def _cause(row: dict) -> dict:
    zh_name, en_name = label("cause", row["cause"]), label("cause", row["cause"], "en")
    mean, pct = float(row["mean"]), float(row["pct_severe"])
    zh = f"最受指认的制约因素：{zh_name}（平均 {mean:.1f} 分，{pct:.0f}% 评为 4-5 分）"
    en = f"The cause most blamed: {en_name} (mean severity {mean:.1f} of 5; {pct:.0f}% rate it 4-5)."
    return _finding("cause", zh, en, group=row["group"], size=mean, cause=row["cause"])


def _enps(row: dict) -> dict:
    value, low, high = float(row["enps"]), float(row["ci_low"]), float(row["ci_high"])
    grp_zh, grp_en = label("group", row["group"]), label("group", row["group"], "en")
    note_zh = "，样本较少，仅供参考" if row.get("indicative") else ""
    note_en = "; few answers, indicative only" if row.get("indicative") else ""
    zh = f"{grp_zh}的推荐值 eNPS 为 {value:+.0f}（95% 区间 {low:+.0f} 至 {high:+.0f}）{note_zh}"
    en = f"eNPS of {grp_en}: {value:+.0f} (95% CI {low:+.0f} to {high:+.0f}){note_en}."
    return _finding("enps", zh, en, group=row["group"], size=value, ci_low=low, ci_high=high)


def findings(
    self_view: pd.DataFrame | None = None,
    service_gaps: pd.DataFrame | None = None,
    satisfaction: pd.DataFrame | None = None,
    causes: pd.DataFrame | None = None,
    enps: pd.DataFrame | None = None,
    *,
    min_gap: float = 0.2,
    dont_know_alert: float = 30.0,
    limit: int | None = None,
) -> list[dict]:
    """Write the key findings as short sentences, largest and most certain gaps first.

    Parameters
    ----------
    self_view : DataFrame, optional
        `gaps.self_view_gaps` output (after `privacy.suppress`).
    service_gaps : DataFrame, optional
        `gaps.servqual_gaps` output at dimension level.
    satisfaction, causes, enps : DataFrame, optional
        Outputs of the `scores` functions of those names.
    min_gap : float
        Gaps smaller than this (in points) are left out unless certain.
    dont_know_alert : float
        A group whose don't-know share of the overall question reaches this percentage gets a finding.
    limit : int, optional
        Keep at most this many findings.

    Returns
    -------
    list of dict
        Each with ``zh``, ``en``, ``kind`` (self_view, service_gap, invisible, cause, enps),
        ``dimension``, ``group``, ``reference``, ``size`` (signed gap in points; % or score otherwise),
        ``ci_low``, ``ci_high``, ``p`` (Holm-adjusted), ``effect``, ``certain`` and ``cause``.

    Examples
    --------
    >>> sv = pd.DataFrame([{"dimension": "service", "reference": "office", "group": "grassroots",
    ...                     "gap": 0.94, "ci_low": 0.4, "ci_high": 1.5, "effect": "large", "p_holm": 0.004}])
    >>> findings(self_view=sv)[0]["zh"]
    '服务意识与对象：基层分局、所评价低于办公室自评 0.9 分，差异显著，效应量大'
    """
    gaps = [_self_view(r) for r in _shown(self_view, ["dimension", "group", "gap"])]
    needed = ["dimension", "group", "gap", "ci_low", "ci_high"]
    gaps += [_service_gap(r) for r in _shown(service_gaps, needed)]
    gaps = [f for f in gaps if f["certain"] or abs(f["size"]) >= min_gap]
    gaps.sort(key=lambda f: (not f["certain"], -abs(f["size"]), f["kind"]))
    others = [_invisible(r) for r in _shown(satisfaction, ["group", "dont_know_pct"])
              if r["dont_know_pct"] >= dont_know_alert]
    others.sort(key=lambda f: -f["size"])
    top = [r for r in _shown(causes, ["cause", "group", "mean", "pct_severe", "rank"]) if r["group"] == TOTAL]
    if top:
        others.append(_cause(min(top, key=lambda r: (r["rank"], -r["pct_severe"]))))
    others += [_enps(r) for r in _shown(enps, ["group", "enps", "ci_low", "ci_high"]) if r["group"] != TOTAL]
    result = gaps + others
    return result[:limit] if limit is not None else result
