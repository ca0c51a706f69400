"""Named exceptions of the analysis library."""

from __future__ import annotations

__all__ = ["AnalysisError", "FilterRefused"]


class AnalysisError(ValueError):
    """Bad input to an analysis function (missing column, unknown code, wrong level...)."""


class FilterRefused(AnalysisError):
    """A filter whose selection, or whose complement, has fewer than k respondents.

    The message never states the selection's size: it may be shown to the person who filtered.
    """
