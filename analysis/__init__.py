"""OfficePulse analysis: a pure library from tidy survey answers to tables, findings and (later) charts.

Tables are computed by `scores`, `gaps`, `reliability`, `themes` and `waves`; every table shown to
anyone passes through `privacy.suppress` (`build_report` does it all in one call); `findings` turns the
suppressed tables into sentences. Nothing here imports Flask or the web app.

Examples
--------
>>> from analysis import make_frames, dimension_scores
>>> answers, _ = make_frames([{"group": "office", "answers": {"goals_p1": 4, "goals_p2": 5}}])
>>> dimension_scores(answers)[["group", "n", "mean"]].values.tolist()
[['office', 1, 4.5], ['all', 1, 4.5]]
"""

from __future__ import annotations

from .errors import AnalysisError, FilterRefused
from .findings import findings
from .frames import (
    ANSWER_COLUMNS,
    COMMENT_COLUMNS,
    QuestionSpec,
    group_sizes,
    infer_question,
    make_frames,
    validate_answers,
    validate_comments,
)
from .gaps import (
    add_quadrants,
    importance_performance,
    respondent_dimension_gaps,
    self_view_gaps,
    servqual_gaps,
)
from .labels import (
    CAUSE_NAMES,
    DEFAULT_GRADE_WEIGHTS,
    DEFAULT_K,
    DEFAULT_K_COMMENTS,
    DIMENSION_NAMES,
    GROUP_NAMES,
    MERGED,
    QUADRANT_NAMES,
    TOTAL,
    label,
)
from .loading import load_responses, question_table
from .privacy import (
    KEY_COLUMNS,
    check_filter,
    group_merges,
    hidden_groups,
    merge_groups,
    reported_groups,
    suppress,
    visible_comments,
)
from .reliability import cronbach_alpha
from .report import build_report, build_wave_report
from .results import XLSX_SHEETS, results_json, write_xlsx
from .scores import (
    causes,
    dimension_scores,
    enps,
    favourable,
    item_scores,
    likert_counts,
    respondent_dimension_scores,
    satisfaction,
)
from .stats import cliffs_delta, effect_size_label, holm, mann_whitney, wilson_interval
from .themes import THEMES, comment_themes, top_keywords
from .waves import wave_changes, wave_scores

__all__ = [
    "load_responses",
    "XLSX_SHEETS",
    "results_json",
    "write_xlsx",
    "MERGED",
    "reported_groups",
    "question_table",
    "ANSWER_COLUMNS",
    "CAUSE_NAMES",
    "COMMENT_COLUMNS",
    "DEFAULT_GRADE_WEIGHTS",
    "DEFAULT_K",
    "DEFAULT_K_COMMENTS",
    "DIMENSION_NAMES",
    "GROUP_NAMES",
    "KEY_COLUMNS",
    "QUADRANT_NAMES",
    "THEMES",
    "TOTAL",
    "AnalysisError",
    "FilterRefused",
    "QuestionSpec",
    "add_quadrants",
    "build_report",
    "build_wave_report",
    "causes",
    "check_filter",
    "cliffs_delta",
    "comment_themes",
    "cronbach_alpha",
    "dimension_scores",
    "effect_size_label",
    "enps",
    "favourable",
    "findings",
    "group_merges",
    "group_sizes",
    "hidden_groups",
    "holm",
    "importance_performance",
    "infer_question",
    "item_scores",
    "label",
    "likert_counts",
    "make_frames",
    "mann_whitney",
    "merge_groups",
    "respondent_dimension_gaps",
    "respondent_dimension_scores",
    "satisfaction",
    "self_view_gaps",
    "servqual_gaps",
    "suppress",
    "top_keywords",
    "validate_answers",
    "validate_comments",
    "visible_comments",
    "wave_changes",
    "wave_scores",
    "wilson_interval",
]
