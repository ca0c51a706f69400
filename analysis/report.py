"""The one entry point for the web layer: every table of a campaign, merged, suppressed, with findings.

`build_report` applies the privacy rules in one place: the leaders group is merged unless it reaches
k; groups whose size must be hidden (small ones and their complements) are hidden in every table, so
two tables cannot be subtracted; each table then goes through `privacy.suppress`; comments and their
themes come only from groups of at least k_comments respondents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ._util import Prepared, order_rows, replace_values
from .findings import findings as write_findings
from .frames import group_sizes, validate_answers, validate_comments
from .gaps import add_quadrants, importance_performance, self_view_gaps, servqual_gaps
from .labels import DEFAULT_K, DEFAULT_K_COMMENTS, TOTAL
from .privacy import group_merges, hidden_groups, merge_groups, suppress, visible_comments
from .reliability import cronbach_alpha
from .scores import causes, dimension_scores, enps, favourable, item_scores, likert_counts, satisfaction
from .themes import comment_themes, top_keywords
from .waves import wave_changes, wave_scores

__all__ = ["build_report", "build_wave_report"]


def _in(table: pd.DataFrame, column: str, values: set[str]) -> pd.Series:
    return table[column].isin(values) if column in table.columns else pd.Series(False, index=table.index)


def build_report(
    answers: pd.DataFrame,
    comments: pd.DataFrame | None = None,
    *,
    k: int = DEFAULT_K,
    k_comments: int = DEFAULT_K_COMMENTS,
    weights: Mapping[str, float] | None = None,
    reference: str = "office",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compute every table of one campaign, apply the privacy guards, and write the findings.

    Parameters
    ----------
    answers, comments : DataFrame
        The tidy frames of one campaign (comments optional).
    k, k_comments : int
        Minimum group size for figures, and for comments.
    weights : mapping, optional
        Grade weights of the overall question.
    reference : str
        The group whose self-view is compared with the others'.
    n_boot, seed : int
        Bootstrap resamples and seed (the report is reproducible for a given seed).

    Returns
    -------
    dict
        ``k``, ``merged`` (e.g. {"leaders": "departments"}), ``tables`` (name -> suppressed DataFrame:
        responses, item_scores, likert_counts, favourable_items, favourable_dimensions, dimension_scores,
        satisfaction, service_gaps, service_gaps_items, self_view, ipa, causes, enps,
        reliability_dimensions, reliability_items, themes), ``comments`` (question_id, text; shuffled),
        ``keywords`` (keyword, weight) and ``findings`` (list of dicts).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> answers, _ = make_frames([{"group": "office", "answers": {"service_p1": 4}}] * 3
    ...                          + [{"group": "grassroots", "answers": {"service_p1": 2}}] * 6)
    >>> report = build_report(answers, k=5, n_boot=50)
    >>> report["tables"]["responses"][["group", "n", "suppressed"]].values.tolist()
    [['office', nan, True], ['grassroots', nan, True], ['all', 9.0, False]]
    """
    clean = validate_answers(answers)
    raw_sizes = group_sizes(clean)
    merged = group_merges(raw_sizes, k)
    if merged:
        clean = merge_groups(clean, k, raw_sizes)
    sizes = group_sizes(clean)
    data = Prepared(clean)  # validated once; tables shared by several figures are computed once
    hidden = hidden_groups(sizes, k)

    def safe(table: pd.DataFrame, n_cols: Sequence[str] = ("n",), **options: Any) -> pd.DataFrame:
        extra = options.pop("hide", None)
        mask = _in(table, "group", hidden) | _in(table, "reference", hidden)
        if extra is not None:
            mask = mask | extra
        return suppress(table, k, n_cols=n_cols, hide=mask.to_numpy(), **options)

    responses = pd.DataFrame({"group": [*sizes.index, TOTAL], "n": [*sizes.to_numpy(), int(sizes.sum())]})
    tables: dict[str, pd.DataFrame] = {
        "responses": safe(order_rows(responses, ["group"])),
        "item_scores": safe(item_scores(data)),
        "likert_counts": safe(likert_counts(data)),
        "favourable_items": safe(favourable(data, "item")),
        "favourable_dimensions": safe(favourable(data, "dimension")),
        "dimension_scores": safe(dimension_scores(data)),
        "satisfaction": safe(satisfaction(data, weights), ("n", "n_answered")),
        "service_gaps": safe(servqual_gaps(data, "dimension", n_boot, seed)),
        "service_gaps_items": safe(servqual_gaps(data, "item", n_boot, seed)),
        "causes": safe(causes(data)),
        "enps": safe(enps(data)),
    }
    dims = tables["dimension_scores"]
    hidden_cells = set(zip(dims.loc[dims["suppressed"], "dimension"], dims.loc[dims["suppressed"], "group"],
                           strict=True))
    views = self_view_gaps(data, reference, k=k, n_boot=n_boot, seed=seed)
    view_mask = pd.Series([(d, g) in hidden_cells or (d, reference) in hidden_cells
                           for d, g in zip(views["dimension"], views["group"], strict=True)],
                          index=views.index, dtype=bool)
    tables["self_view"] = safe(views, ("n_reference", "n"), complementary=False, hide=view_mask)
    tables["ipa"] = add_quadrants(safe(importance_performance(data, by_group=True),
                                       ("n_importance", "n_performance")))
    alpha_dims, alpha_items = cronbach_alpha(data)
    tables["reliability_dimensions"] = safe(alpha_dims)
    tables["reliability_items"] = safe(alpha_items)

    shown = pd.DataFrame(columns=["question_id", "text"])
    keywords = pd.DataFrame(columns=["keyword", "weight"])
    themes = comment_themes(pd.DataFrame(columns=["response_id", "group", "question_id", "text"]))
    if comments is not None:
        notes = merge_groups(validate_comments(comments), k, raw_sizes)
        eligible = notes.loc[notes["group"].isin([g for g, n in sizes.items() if n >= k_comments])]
        shown = visible_comments(eligible, sizes, k_comments, seed=seed)
        themes = comment_themes(eligible, data, weights)
        if not eligible.empty:
            keywords = top_keywords(eligible)
    tables["themes"] = suppress(themes, k, group_col="raters", by=("theme",))
    found = write_findings(self_view=tables["self_view"], service_gaps=tables["service_gaps"],
                           satisfaction=tables["satisfaction"], causes=tables["causes"], enps=tables["enps"])
    return {"k": k, "merged": merged, "tables": tables, "comments": shown, "keywords": keywords,
            "findings": found}


def build_wave_report(
    frames: Sequence[pd.DataFrame], *, k: int = DEFAULT_K, n_boot: int = 1000, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Compare campaigns in time order, with the privacy guards of `build_report` applied per wave.

    The leaders group is merged in every wave when it falls short of k in any wave, so that groups
    mean the same thing across waves.

    Returns
    -------
    dict
        ``scores`` (`waves.wave_scores`, suppressed per wave) and ``changes`` (`waves.wave_changes`,
        suppressed when either wave's count is below k).

    Examples
    --------
    >>> from analysis.frames import make_frames
    >>> w1, _ = make_frames([{"group": "office", "answers": {"goals_p1": 2}}] * 6, campaign_id=1)
    >>> w2, _ = make_frames([{"group": "office", "answers": {"goals_p1": 4}}] * 6, campaign_id=2)
    >>> build_wave_report([w1, w2], n_boot=50)["changes"]["label"].tolist()
    ['improved', 'improved']
    """
    cleaned = [validate_answers(frame) for frame in frames]
    merges: dict[str, str] = {}
    for frame in cleaned:
        merges |= group_merges(group_sizes(frame), k)
    merged = [frame.assign(group=replace_values(frame["group"], merges)) if merges else frame for frame in cleaned]
    hidden_by_wave = {
        int(f["campaign_id"].iloc[0]): hidden_groups(group_sizes(f), k) for f in merged if len(f)
    }
    merged = [Prepared(frame) for frame in merged]  # validated; shared by the scores and the changes
    scores = wave_scores(merged)
    changes = wave_changes(merged, n_boot=n_boot, seed=seed)
    score_mask = [g in hidden_by_wave.get(c, set()) for c, g in zip(scores["campaign_id"], scores["group"],
                                                                      strict=True)]
    change_mask = [g in hidden_by_wave.get(a, set()) or g in hidden_by_wave.get(b, set())
                   for a, b, g in zip(changes["campaign_from"], changes["campaign_to"], changes["group"],
                                      strict=True)]
    return {
        "scores": suppress(scores, k, by=("campaign_id", "measure", "dimension"), hide=score_mask),
        "changes": suppress(changes, k, n_cols=("n_from", "n_to"), by=("campaign_to", "measure", "dimension"),
                            hide=change_mask),
    }
