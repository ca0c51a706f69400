"""The report as plain data: the results JSON and the spreadsheet of key tables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import IO, Any

import pandas as pd

from .labels import TOTAL

__all__ = ["results_json", "write_xlsx", "XLSX_SHEETS"]

# Sheet name -> report table, in the order a reader wants them.
XLSX_SHEETS = {
    "responses": "responses",
    "satisfaction": "satisfaction",
    "service_gaps": "service_gaps",
    "self_view": "self_view",
    "dimensions": "dimension_scores",
    "favourable": "favourable_dimensions",
    "items": "item_scores",
    "ipa": "ipa",
    "causes": "causes",
    "enps": "enps",
    "reliability": "reliability_dimensions",
    "themes": "themes",
}


def _num(value: Any, digits: int = 3) -> float | int | None:
    """Return a JSON-safe number (None for NaN / None / suppressed)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool):
        return value
    if float(value).is_integer() and not isinstance(value, float):
        return int(value)
    return round(float(value), digits)


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return table.to_dict("records") if table is not None and len(table) else []


def _ci(row: Mapping[str, Any]) -> list[float | None] | None:
    low, high = _num(row.get("ci_low")), _num(row.get("ci_high"))
    return None if low is None or high is None else [low, high]


def results_json(report: Mapping[str, Any], *, campaign: str, survey: str, n_responses: int,
                 waves: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the results of a campaign as JSON-ready data; suppressed figures are null, never numbers.

    Parameters
    ----------
    report : mapping
        What :func:`analysis.build_report` returned.
    campaign, survey : str
        The campaign's slug and the survey's key.
    n_responses : int
        Number of stored responses.
    waves : mapping, optional
        What :func:`analysis.build_wave_report` returned for this campaign and the earlier ones: adds
        ``trend`` (score and gap per wave, dimension and group) and ``changes`` (wave to wave, with intervals).

    Examples
    --------
    >>> from analysis import build_report, make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"service_p1": 4, "service_e1": 5}}] * 6)
    >>> data = results_json(build_report(answers, k=5, n_boot=20), campaign="c", survey="s", n_responses=6)
    >>> data["dimensions"][0]["perception_mean"], data["dimensions"][0]["gap"]
    (4.0, -1.0)
    """
    tables = report["tables"]
    groups = [
        {"id": r["group"], "n": None if r["suppressed"] else _num(r["n"]), "suppressed": bool(r["suppressed"])}
        for r in _rows(tables["responses"]) if r["group"] != TOTAL
    ]

    favourable = tables["favourable_dimensions"].set_index(["block", "dimension", "group"])
    dimensions = []
    for row in _rows(tables["service_gaps"]):
        key = (row["dimension"], row["group"])
        fav = favourable.loc[("perception", *key)] if ("perception", *key) in favourable.index else None
        hidden = bool(row["suppressed"])
        dimensions.append({
            "id": row["dimension"],
            "group": row["group"],
            "n": None if hidden else _num(row["n"]),
            # both means over the respondents who rated both sides, so that gap = perception - expectation
            "perception_mean": None if hidden else _num(row["perception"]),
            "expectation_mean": None if hidden else _num(row["expectation"]),
            "gap": None if hidden else _num(row["gap"]),
            "gap_ci": None if hidden else _ci(row),
            "favourable_pct": None if hidden or fav is None or fav["suppressed"] else _num(fav["pct_favourable"], 1),
            "suppressed": hidden,
        })

    self_view = [
        {
            "dimension": r["dimension"],
            "customer_group": r["group"],
            "difference": None if r["suppressed"] else _num(r["gap"]),
            "cliffs_delta": None if r["suppressed"] else _num(r["cliffs_delta"]),
            "p_value": None if r["suppressed"] else _num(r["p"], 6),
            "p_adjusted": None if r["suppressed"] else _num(r["p_holm"], 6),
            "suppressed": bool(r["suppressed"]),
        }
        for r in _rows(tables["self_view"])
    ]
    causes = [
        {
            "id": r["cause"],
            "group": r["group"],
            "n": None if r["suppressed"] else _num(r["n"]),
            "mean": None if r["suppressed"] else _num(r["mean"]),
            "severe_pct": None if r["suppressed"] else _num(r["pct_severe"], 1),
            "suppressed": bool(r["suppressed"]),
        }
        for r in _rows(tables["causes"])
    ]
    enps_row = next((r for r in _rows(tables["enps"]) if r["group"] == TOTAL), None)
    if enps_row is None or enps_row["suppressed"]:
        enps = {"n": None, "score": None, "ci": None, "suppressed": True}
    else:
        enps = {"n": _num(enps_row["n"]), "score": _num(enps_row["enps"], 1), "ci": _ci(enps_row),
                "indicative": bool(enps_row["indicative"]), "suppressed": False}
    sat_row = next((r for r in _rows(tables["satisfaction"]) if r["group"] == TOTAL), None)
    sat_hidden = sat_row is None or bool(sat_row["suppressed"])
    satisfaction = {
        key: None if sat_hidden else _num(sat_row[column], 1)
        for key, column in (("n", "n"), ("score_100", "score"), ("satisfied_pct", "satisfied_pct"),
                            ("dissatisfied_pct", "dissatisfied_pct"), ("dont_know_pct", "dont_know_pct"))
    }
    satisfaction["suppressed"] = sat_hidden
    reliability = [
        {"dimension": r["dimension"], "alpha": None if r["suppressed"] else _num(r["alpha"]),
         "n": None if r["suppressed"] else _num(r["n"])}
        for r in _rows(tables["reliability_dimensions"])
    ]
    return {
        "campaign": campaign,
        "survey": survey,
        "n_responses": int(n_responses),
        "k": int(report["k"]),
        "merged": dict(report.get("merged", {})),
        "groups": groups,
        "dimensions": dimensions,
        "self_view_gaps": self_view,
        "causes": causes,
        "enps": enps,
        "satisfaction": satisfaction,
        "reliability": reliability,
        "findings": [{key: _clean(value) for key, value in f.items()} for f in report["findings"]],
        "trend": _records(waves["scores"]) if waves else [],
        "changes": _records(waves["changes"]) if waves else [],
    }


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Return table rows as JSON-ready dicts: numbers rounded, NaN as null, suppressed rows without figures."""
    out = []
    for row in _rows(table):
        hidden = bool(row.get("suppressed"))
        out.append({key: (None if hidden and key not in _KEYS else _clean(value) if not isinstance(value, str)
                          else value) for key, value in row.items()})
    return out


_KEYS = {"campaign_id", "campaign_from", "campaign_to", "wave", "measure", "dimension", "group", "suppressed"}


def _clean(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        return _num(value, 6)
    return value


def write_xlsx(report: Mapping[str, Any], target: str | IO[bytes]) -> None:
    """Write the key tables of ``report`` to an .xlsx file, one sheet each (suppressed cells left empty).

    Examples
    --------
    >>> import io
    >>> from analysis import build_report, make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"service_p1": 4, "service_e1": 5}}] * 6)
    >>> buffer = io.BytesIO()
    >>> write_xlsx(build_report(answers, k=5, n_boot=20), buffer)
    >>> buffer.getvalue()[:2]
    b'PK'
    """
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for sheet, name in XLSX_SHEETS.items():
            table = report["tables"][name]
            table.round(3).to_excel(writer, sheet_name=sheet, index=False)
        findings = pd.DataFrame([{"zh": f["zh"], "en": f["en"]} for f in report["findings"]], columns=["zh", "en"])
        findings.to_excel(writer, sheet_name="findings", index=False)
