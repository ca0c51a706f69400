"""Charts: the ten registry names draw from a realistic report and from empty / suppressed ones, in PNG, SVG
and PDF, with Chinese glyphs present, suppressed cells shown only as "n<k", and no pyplot anywhere."""

from __future__ import annotations

import io
import re
import sys
import warnings
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis import build_report, build_wave_report, enps, make_frames, suppress
from analysis.charts import (
    CAPTIONS,
    CHARTS,
    GROUP_COLOURS,
    SUPPRESSED_LABEL,
    TITLES,
    draw,
    enps_by_wave,
    gap_chart,
    group_colour,
    item_labels,
    likert_percentages,
    plot_heatmap,
    summary_values,
)
from analysis.errors import AnalysisError
from analysis.fonts import chart_rc, register_cjk_font
from surveys import TEMPLATES_DIR, load
from surveys.synthetic import synthetic_answers

PYPLOT_BEFORE = "matplotlib.pyplot" in sys.modules
NAMES = ("summary", "gap", "self-view", "ipa", "likert", "heatmap", "morale", "causes", "themes", "trend")
ROOT = Path(__file__).resolve().parents[2]
N_BOOT = 20


@pytest.fixture(scope="module")
def survey():
    return load(TEMPLATES_DIR / "office-service-quality.yaml")


def synthetic_frames(survey, n, seed, campaign_id, keep=None):
    """Answers and comments frames from the survey's synthetic form submissions."""
    responses = []
    for form in synthetic_answers(survey, n, seed):
        response = {"group": form[survey.group_question][0], "answers": {}, "comments": {}}
        for qid, values in form.items():
            if qid == survey.group_question:
                continue
            question = survey.question(qid)
            if question.type == "text":
                response["comments"][qid] = values[0]
            else:
                response["answers"][qid] = list(values) if question.type == "multi" else values[0]
        responses.append(response)
    if keep is not None:
        responses = keep(responses)
    return make_frames(responses, campaign_id=campaign_id)


@pytest.fixture(scope="module")
def waves_frames(survey):
    return synthetic_frames(survey, 240, 11, 1), synthetic_frames(survey, 300, 12, 2)


@pytest.fixture(scope="module")
def report(waves_frames):
    answers, comments = waves_frames[1]
    return build_report(answers, comments, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def waves(waves_frames, report):
    (first, _), (second, _) = waves_frames
    tables = build_wave_report([first, second], n_boot=N_BOOT)
    first_enps = suppress(enps(first))  # only the office answers eNPS: no other group to hide
    tables["enps"] = enps_by_wave([first_enps, report])
    return tables


@pytest.fixture(scope="module")
def items(survey):
    return item_labels(survey, "zh")


@pytest.fixture(scope="module")
def small_report(survey):
    """A campaign where grassroots units answered 3 times: they and the next smallest group (leaders) are hidden."""

    def keep(responses):
        seen = 0
        out = []
        for response in responses:
            if response["group"] == "grassroots":
                seen += 1
                if seen > 3:
                    continue
            out.append(response)
        return out

    answers, comments = synthetic_frames(survey, 150, 5, 3, keep)
    return build_report(answers, comments, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def empty_report():
    answers, comments = make_frames([])
    return build_report(answers, comments, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def tiny_report(survey):
    """Three respondents in all: every table is fully suppressed."""
    answers, comments = synthetic_frames(survey, 3, 7, 4)
    return build_report(answers, comments, n_boot=N_BOOT)


def save(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=30 if fmt == "png" else None)
    # The constrained layout is done; later saves of this figure reuse it (keeps the tests fast).
    fig.set_layout_engine("none")
    return buffer.getvalue()


def texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def notices(fig: Figure) -> list[str]:
    return [t.get_text() for t in texts(fig) if t.get_gid() == "notice"]


# ----------------------------------------------------------------------------- the registry


def test_registry_has_exactly_the_ten_names():
    assert tuple(CHARTS) == NAMES
    assert set(CAPTIONS) == set(NAMES) == set(TITLES)
    for name in NAMES:
        for locale in ("zh", "en"):
            assert CAPTIONS[name][locale] and "\n" not in CAPTIONS[name][locale]


def test_draw_refuses_unknown_names_locales_and_reports(report):
    with pytest.raises(AnalysisError, match="unknown chart"):
        draw("pie", report)
    with pytest.raises(AnalysisError, match="locale"):
        draw("gap", report, "fr")
    with pytest.raises(AnalysisError, match="build_report"):
        draw("gap", {"service_gaps": pd.DataFrame()})
    with pytest.raises(AnalysisError, match="lacks the columns"):
        gap_chart(pd.DataFrame({"dimension": ["goals"]}))


# ----------------------------------------------------------------------------- every chart, every format


def glyph_problems(caught) -> list[str]:
    messages = [str(w.message) for w in caught]
    return [m for m in messages if "missing" in m.lower() or "glyph" in m.lower()]


@pytest.mark.parametrize("name", NAMES)
def test_chart_from_realistic_report(name, report, waves, items):
    fig = draw(name, report, waves=waves, items=items)
    assert isinstance(fig, Figure)
    assert fig.officepulse_chart == name
    assert fig.officepulse_caption == CAPTIONS[name]["zh"]
    assert not notices(fig), f"{name} drew a notice instead of data"
    width, height = fig.get_size_inches()
    assert width == 8 and 5 <= height <= 7.5
    # pytest turns warnings into errors already; recording them here makes the glyph check explicit.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png, svg, pdf = save(fig, "png"), save(fig, "svg"), save(fig, "pdf")
    assert not glyph_problems(caught), glyph_problems(caught)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    assert svg.lstrip().startswith(b"<?xml") and len(svg) > 40_000
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert b"NotoSansSC" in pdf  # the CJK font is embedded (subset, Type 3)


@pytest.mark.parametrize("which", ["empty_report", "tiny_report"])
@pytest.mark.parametrize("name", NAMES)
def test_chart_from_empty_or_suppressed_report_says_so(name, which, request):
    fig = draw(name, request.getfixturevalue(which))
    assert fig.officepulse_caption == CAPTIONS[name]["zh"]
    assert notices(fig), f"{name} should say there is nothing to show"
    assert all(len(save(fig, fmt)) > 1_000 for fmt in ("png", "svg", "pdf"))


def test_english_labels(report, waves):
    fig = draw("heatmap", report, "en", waves=waves)
    shown = {t.get_text() for t in texts(fig)}
    assert TITLES["heatmap"]["en"] in shown
    assert "office staff" in shown and "Service orientation" in shown
    assert fig.officepulse_caption == CAPTIONS["heatmap"]["en"]


# ----------------------------------------------------------------------------- fonts and glyphs


def test_no_missing_glyphs_in_english_charts(small_report, waves):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in NAMES:
            fig = draw(name, small_report, "en", waves=waves)
            assert fig.officepulse_caption == CAPTIONS[name]["en"]
            fig.set_layout_engine("none")  # only the glyphs matter here, not the layout
            fig.savefig(io.BytesIO(), format="png", dpi=20)
    assert not glyph_problems(caught), glyph_problems(caught)


def test_missing_glyph_detector_works():
    """The check above would see a missing glyph: a character in neither font does warn."""
    with matplotlib.rc_context(chart_rc()):
        fig = Figure()
        fig.text(0.5, 0.5, "办公室 \U0001fae0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save(fig, "png")
    assert glyph_problems(caught)


def test_font_registration_is_local_and_once(empty_report):
    before = list(matplotlib.rcParams["font.family"])
    assert register_cjk_font() == "Noto Sans SC"
    assert register_cjk_font() is register_cjk_font()
    rc = chart_rc()
    assert rc["font.family"][0] == "Noto Sans SC"
    assert rc["axes.unicode_minus"] is True  # Noto Sans SC has U+2212
    fig = draw("summary", empty_report)
    assert matplotlib.rcParams["font.family"] == before
    title = fig.texts[0]
    assert title.get_fontfamily()[0] == "Noto Sans SC"


# ----------------------------------------------------------------------------- privacy in the pictures


def test_suppressed_heatmap_cells_show_nk_and_no_number(small_report):
    table = small_report["tables"]["favourable_dimensions"]
    assert table["suppressed"].any() and (~table["suppressed"]).any()
    fig = draw("heatmap", small_report)
    by_gid = {t.get_gid(): t.get_text() for t in texts(fig) if t.get_gid()}
    for row in table.itertuples():
        text = by_gid[f"cell:{row.dimension}:{row.group}"]
        if row.suppressed:
            assert text == SUPPRESSED_LABEL
            assert not re.search(r"\d", text)
        else:
            assert text == f"{row.pct_favourable:.0f}%\nn={int(row.n)}"
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == int(table["suppressed"].sum())


def test_suppressed_gap_bars_show_nk_and_no_number(small_report):
    table = small_report["tables"]["service_gaps"]
    hidden = table.loc[table["suppressed"] & (table["group"] != "all")]
    assert len(hidden)
    fig = draw("gap", small_report)
    cells = {}
    for t in texts(fig):
        if t.get_gid():
            cells.setdefault(t.get_gid(), []).append(t.get_text())
    for row in hidden.itertuples():
        assert cells[f"cell:{row.dimension}:{row.group}"] == [SUPPRESSED_LABEL]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for group in hidden["group"].unique():
        entry = next(e for e in legend if e.startswith(_group_name(group)))
        assert entry.endswith(SUPPRESSED_LABEL) and not re.search(r"\d", entry)


def test_self_view_names_hidden_groups_without_numbers(small_report):
    table = small_report["tables"]["self_view"]
    hidden = set(table["group"]) - set(table.loc[~table["suppressed"], "group"])
    assert hidden
    fig = draw("self-view", small_report)
    assert len(fig.axes) == len(set(table["group"]) - hidden)
    note = next(t.get_text() for t in fig.legends[0].get_texts() if t.get_text().startswith(SUPPRESSED_LABEL))
    assert all(_group_name(g) in note for g in hidden)
    assert not re.search(r"\d", note)


def _group_name(group):
    from analysis.labels import label

    return label("group", group)


def test_summary_hides_small_groups_counts(small_report):
    cards = {c["key"]: c for c in summary_values(small_report["tables"]["satisfaction"],
                                                  small_report["tables"]["responses"],
                                                  small_report["tables"]["enps"])}
    responses = small_report["tables"]["responses"]
    for row in responses.loc[responses["suppressed"] & (responses["group"] != "all")].itertuples():
        assert f"{_group_name(row.group)} {SUPPRESSED_LABEL}" in cards["responses"]["note"]


def test_plot_heatmap_on_given_axes_marks_hidden_cells():
    table = pd.DataFrame({
        "dimension": ["service"] * 3, "group": ["office", "grassroots", "all"], "n": [8, None, 11],
        "pct_favourable": [75.0, None, 60.0], "suppressed": [False, True, False]})
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_heatmap(table, ax, colorbar=False) is ax
    labels = {t.get_gid(): t.get_text() for t in ax.texts}
    assert labels == {"cell:service:office": "75%\nn=8", "cell:service:grassroots": SUPPRESSED_LABEL,
                      "cell:service:all": "60%\nn=11"}


# ----------------------------------------------------------------------------- colours and tables


def legend_colours(fig: Figure) -> dict[str, str]:
    legend = fig.axes[0].get_legend()
    colours = {}
    for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True):
        colour = handle.get_facecolor() if hasattr(handle, "get_facecolor") else handle.get_markerfacecolor()
        colours[text.get_text().split("  ")[0]] = matplotlib.colors.to_hex(colour)
    return colours


def test_group_colours_are_the_same_in_every_chart(report):
    gap, causes = legend_colours(draw("gap", report)), legend_colours(draw("causes", report))
    for group, colour in GROUP_COLOURS.items():
        if group != "all":
            assert gap[_group_name(group)] == causes[_group_name(group)] == colour.lower()
    assert group_colour("interns") == group_colour("interns")


def test_likert_percentages_and_enps_by_wave():
    counts = pd.DataFrame({
        "block": ["perception"] * 3, "question_id": ["goals_p1", "goals_p2", "goals_p3"], "group": ["all"] * 3,
        "n": [10, 4, None], "c1": [0, 1, None], "c2": [2, 1, None], "c3": [2, 1, None], "c4": [4, 1, None],
        "c5": [2, 0, None], "suppressed": [False, False, True]})
    out = likert_percentages(counts)
    assert out["question_id"].tolist() == ["goals_p2", "goals_p1", "goals_p3"]
    assert out.loc[1, ["pct_favourable", "left"]].tolist() == [60.0, -30.0]
    assert out["suppressed"].tolist() == [False, False, True]
    assert pd.isna(out.loc[2, "p1"])
    enps = pd.DataFrame({"group": ["all"], "n": [9], "enps": [10.0], "ci_low": [-30.0], "ci_high": [50.0]})
    assert enps_by_wave([enps, enps])["wave"].tolist() == [1, 2]
    with pytest.raises(AnalysisError):
        enps_by_wave(enps)


# ----------------------------------------------------------------------------- no pyplot


def test_analysis_never_imports_pyplot(report):
    for path in (ROOT / "analysis").glob("*.py"):
        assert not re.search(r"matplotlib\.pyplot|from matplotlib import .*pyplot", path.read_text("utf-8")), path
    if PYPLOT_BEFORE:
        pytest.skip("another module of this session imported pyplot; the source check above still ran")
    draw("gap", report).savefig(io.BytesIO(), format="svg")
    assert "matplotlib.pyplot" not in sys.modules
