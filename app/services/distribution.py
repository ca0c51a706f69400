"""Build what carries a survey link to people: QR codes, the A4 poster as a PDF, one-time code slips.

Nothing here stores a code: `issue_codes` creates them through `app.services.codes` (which keeps only an
HMAC) and returns them once, for the slips page. A slip's QR code travels inside that page as a data URI,
never as a URL of its own, so a code never reaches an access log.
"""

from __future__ import annotations

import base64
import io
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np
import segno

from app.models import Campaign
from app.services import audit
from app.services.campaigns import public_url
from app.services.codes import generate_codes, pretty

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Error correction of every QR code: Q restores up to 25% damage (a fold, a smudge, a staple).
ERROR = "q"
#: Quiet zone around a QR code, in modules (the standard asks for 4).
BORDER = 4
#: Pixels per module of the PNG: a 41-module code becomes a 490-pixel image, sharp when printed.
PNG_SCALE = 10
#: Most slips one page may carry: ten per A4 sheet, 50 sheets; each QR code costs ~15 ms to build.
MAX_SLIPS = 500

A4_INCHES = (8.27, 11.69)
MONO_FAMILY = "DejaVu Sans Mono"  # bundled with matplotlib; tells 0 from O and 1 from l

#: What the poster promises, in Chinese always and in English when the page is English. %(k)s: min group size.
PRIVACY = {
    "zh": "本调查匿名：不记录姓名、IP 或提交时间；结果仅以 %(k)s 人以上的汇总形式呈现，任何人都看不到个人答卷。",
    "en": "This survey is anonymous: we do not record names, IP addresses or the time of answering; results are "
          "only shown as totals of groups of at least %(k)s people, and no one can see an individual's answers.",
}
CODES_PRIVACY = {
    "zh": "参与码不记名发放，也不与答卷关联。",
    "en": "Participation codes are handed out without names and are not linked to the answers.",
}

#: The short version printed on each code slip.
SLIP_PRIVACY = {
    "zh": "匿名：参与码不记名发放，也不与答卷关联；任何人都看不到个人答卷。",
    "en": "Anonymous: codes are handed out without names and are not linked to answers; "
          "no one sees individual answers.",
}


def slip_privacy(english: bool = False) -> list[str]:
    """Return the privacy line of a code slip: Chinese, then English if ``english``."""
    return [SLIP_PRIVACY[lang] for lang in (("zh", "en") if english else ("zh",))]


def privacy_statement(campaign: Campaign, english: bool = False) -> list[str]:
    """Return the privacy paragraphs of a poster or slip: Chinese first, then English if ``english``."""
    langs = ("zh", "en") if english else ("zh",)
    paragraphs = []
    for lang in langs:
        text = PRIVACY[lang] % {"k": campaign.min_group_size}
        if campaign.collection_mode == "codes":
            text += (" " if lang == "en" else "") + CODES_PRIVACY[lang]
        paragraphs.append(text)
    return paragraphs


# --- QR codes -----------------------------------------------------------------------------------------


def qr(content: str) -> segno.QRCode:
    """Return the QR code of ``content`` (a full-size code, error correction Q or higher)."""
    return segno.make(content, error=ERROR, micro=False)


def qr_png(content: str, scale: int = PNG_SCALE) -> bytes:
    """Return ``content`` as a black-on-white PNG QR code with a 4-module quiet zone."""
    buffer = io.BytesIO()
    qr(content).save(buffer, kind="png", scale=scale, border=BORDER, dark="black", light="white")
    return buffer.getvalue()


def qr_svg(content: str) -> bytes:
    """Return ``content`` as an SVG QR code: 1 mm per module, with a viewBox so that it scales."""
    buffer = io.BytesIO()
    qr(content).save(buffer, kind="svg", scale=1, unit="mm", border=BORDER, dark="black", light="white",
                     xmldecl=False, nl=False)
    return buffer.getvalue()


def qr_svg_data_uri(content: str) -> str:
    """Return the SVG QR code of ``content`` as a ``data:`` URI for an ``<img>`` (CSP: img-src data:)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(content)).decode("ascii")


def qr_matrix(content: str) -> np.ndarray:
    """Return the modules of the QR code of ``content``, quiet zone included, as a 0/1 array (1 = dark)."""
    return np.array(list(qr(content).matrix_iter(scale=1, border=BORDER)), dtype=np.uint8)


def code_url(url: str, code: str) -> str:
    """Return the survey link ``url`` with ``code`` filled in (the form reads ?code=)."""
    return f"{url}?code={quote(code, safe='-')}"


# --- one-time code slips ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slip:
    code: str  # as printed: two groups of five
    url: str  # the survey link with the code filled in
    qr: str  # data: URI of the QR code of url


def issue_codes(campaign: Campaign, count: int) -> list[Slip]:
    """Create ``count`` one-time codes for ``campaign``, log it, and return their slips (shown only once)."""
    if not 1 <= count <= MAX_SLIPS:
        raise ValueError(f"the number of slips must be from 1 to {MAX_SLIPS}")
    codes = generate_codes(campaign, count)
    audit.record("codes.generate", campaign.slug, f"count={count}")
    base = public_url(campaign)
    slips = []
    for code in codes:
        printed = pretty(code)
        link = code_url(base, printed)
        slips.append(Slip(printed, link, qr_svg_data_uri(link)))
    return slips


# --- the poster as a PDF ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Poster:
    """Every text of the poster, already in the page's language (the web layer translates)."""

    title: str
    campaign: str
    url: str
    scan: str  # "scan to answer"
    or_open: str  # "or open this address"
    closes: str | None  # "closes on ...", or None
    privacy: list[str]


def _width(text: str) -> int:
    """Return the display width of ``text``: 2 for a CJK (wide) character, 1 otherwise."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Return ``text`` in lines of at most ``width`` columns, breaking between CJK characters or at spaces."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if line and _width(line + token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


#: Punctuation that must not start a line (it stays with the character before it).
NO_LINE_START = set("，。、；：！？）」』】》〉…,.;:!?)]}%")


def _tokens(text: str) -> list[str]:
    """Split ``text`` into units that stay together: a wide (CJK) character, or a word with its leading space."""
    tokens: list[str] = []
    for ch in text:
        narrow_word = ch != " " and _width(ch) == 1 and tokens and _width(tokens[-1][-1]) == 1
        if tokens and (narrow_word or ch in NO_LINE_START):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


PAGE_PT = (A4_INCHES[0] * 72, A4_INCHES[1] * 72)
MARGIN = 0.09  # of the page width, left and right


def poster_figure(poster: Poster) -> Figure:
    """Return the A4 poster as a Figure: black on white, the QR code drawn module by module."""
    import matplotlib  # imported when first needed (it takes a second to import)
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D

    from analysis.fonts import chart_rc, font_properties

    text_pt = PAGE_PT[0] * (1 - 2 * MARGIN)

    def columns(size: float) -> int:
        return int(text_pt / (size * 0.52))  # a column is half a CJK character, about one Latin letter

    with matplotlib.rc_context(chart_rc()):
        fig = Figure(figsize=A4_INCHES)

        def lines(texts: list[str], size: float, top: float, x: float = 0.5, gap: float = 1.45,
                  font: FontProperties | None = None) -> float:
            """Draw ``texts`` one under another from ``top``; return the y below the last one."""
            for text in texts:
                fig.text(x, top, text, ha="center" if x == 0.5 else "left", va="top",
                         fontproperties=font or font_properties(size))
                top -= size * gap / PAGE_PT[1]
            return top

        privacy = [wrap(paragraph, columns(11.5)) for paragraph in poster.privacy]
        privacy_top = 0.05 + sum(len(p) * 11.5 * 1.6 / PAGE_PT[1] + 0.008 for p in privacy)
        url_size = min(22.0, text_pt / (0.6 * max(len(poster.url), 1)))  # DejaVu Sans Mono: 0.6 em a letter

        y = lines(wrap(poster.title, columns(28))[:3], 28, 0.94, gap=1.35)
        y = lines(wrap(poster.campaign, columns(17))[:2], 17, y - 0.004)
        y = lines([poster.scan], 20, y - 0.018)

        below = 0.02 + (13 + url_size + (16 if poster.closes else 0)) * 1.45 / PAGE_PT[1] + 0.012
        room = y - 0.005 - below - (privacy_top + 0.035)
        side = min(0.58, room * A4_INCHES[1] / A4_INCHES[0])  # of the page width: up to 120 mm
        height = side * A4_INCHES[0] / A4_INCHES[1]
        ax = fig.add_axes((0.5 - side / 2, y - 0.005 - height, side, height))
        ax.imshow(qr_matrix(poster.url), cmap="binary", vmin=0, vmax=1, interpolation="none")
        ax.set_axis_off()
        y -= height + 0.02

        y = lines([poster.or_open], 13, y)
        y = lines([poster.url], url_size, y, font=FontProperties(family=MONO_FAMILY, size=url_size)) - 0.012
        if poster.closes:
            lines([poster.closes], 16, y)

        y = privacy_top
        fig.add_artist(Line2D([MARGIN, 1 - MARGIN], [y + 0.014, y + 0.014], color="black", linewidth=0.8))
        for paragraph in privacy:
            y = lines(paragraph, 11.5, y, x=MARGIN, gap=1.6) - 0.008
    return fig


def poster_pdf(poster: Poster) -> bytes:
    """Return the poster as a one-page A4 PDF (fonts subset into the file, nothing external needed)."""
    buffer = io.BytesIO()
    poster_figure(poster).savefig(buffer, format="pdf", metadata={"Title": poster.title, "Creator": "OfficePulse"})
    return buffer.getvalue()
