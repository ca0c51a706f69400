"""The CJK font of the charts: Noto Sans SC from the ``pylopdf-fonts-zh-cn`` package, registered on demand.

Servers on an intranet often have no Chinese font installed, and matplotlib would then draw every
Chinese character as an empty box (with a "Glyph ... missing from font" warning). The charts therefore
use a font shipped as a Python package: `register_cjk_font` adds it to matplotlib's font manager once
per process, and `chart_rc` gives the rcParams that the chart functions apply with
`matplotlib.rc_context` while they build a figure. Global rcParams are never changed.

PDF output keeps matplotlib's default ``pdf.fonttype`` 3: the OpenType (CFF) font is subset into
Type 3 glyphs, so a PDF opens without the font. SVG output keeps the default ``svg.fonttype`` "path":
text becomes outlines, so a browser without a CJK font shows it too.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from .errors import AnalysisError

__all__ = ["FALLBACK_FAMILY", "chart_rc", "cjk_font_path", "font_properties", "register_cjk_font"]

#: Family tried after the CJK font for any glyph it lacks (bundled with matplotlib itself).
FALLBACK_FAMILY = "DejaVu Sans"
_MINUS = 0x2212


def cjk_font_path() -> Path:
    """Return the path of the bundled CJK font (Noto Sans SC Regular, OpenType).

    Raises
    ------
    AnalysisError
        When the ``pylopdf-fonts-zh-cn`` package is not installed or its font file is missing.

    Examples
    --------
    >>> cjk_font_path().suffix
    '.otf'
    """
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:  # pragma: no cover - a broken install
        raise AnalysisError("the charts need the pip package pylopdf-fonts-zh-cn (a CJK font)") from None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():  # pragma: no cover - a broken install
        raise AnalysisError(f"CJK font file not found: {path}")
    return path


@functools.cache
def register_cjk_font() -> str:
    """Add the bundled CJK font to matplotlib's font manager (once per process) and return its family.

    Examples
    --------
    >>> register_cjk_font()
    'Noto Sans SC'
    """
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


@functools.cache
def _has_minus() -> bool:
    return _MINUS in FT2Font(str(cjk_font_path())).get_charmap()


def chart_rc() -> dict[str, Any]:
    """Return the rcParams the charts are built with: the CJK family first, DejaVu Sans as fallback.

    Apply them with ``matplotlib.rc_context(chart_rc())`` while creating a figure; the Text objects
    keep their font afterwards, so the figure can be saved outside the context. ``axes.unicode_minus``
    is switched off only if the font lacks U+2212 (Noto Sans SC has it).

    Examples
    --------
    >>> rc = chart_rc()
    >>> rc["font.family"]
    ['Noto Sans SC', 'DejaVu Sans']
    >>> rc["axes.unicode_minus"]
    True
    """
    family = register_cjk_font()
    return {
        "font.family": [family, FALLBACK_FAMILY],
        "font.sans-serif": [family, FALLBACK_FAMILY],
        "axes.unicode_minus": _has_minus(),
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "text.color": "black",
        "axes.labelcolor": "black",
        "axes.edgecolor": "#333333",
        "xtick.color": "black",
        "ytick.color": "black",
        "font.size": 9,
        "axes.titlesize": 10,
        "figure.titlesize": 12,
        "legend.fontsize": 8,
        "legend.frameon": False,
        "hatch.linewidth": 0.6,
    }


def font_properties(size: float | None = None, weight: str = "normal") -> font_manager.FontProperties:
    """Return FontProperties of the CJK font, for Text drawn outside `chart_rc`.

    Examples
    --------
    >>> font_properties(12).get_family()
    ['Noto Sans SC', 'DejaVu Sans']
    """
    return font_manager.FontProperties(family=[register_cjk_font(), FALLBACK_FAMILY], size=size, weight=weight)
