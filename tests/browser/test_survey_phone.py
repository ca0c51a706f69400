"""The survey on a phone, as a respondent meets it: opened from the QR code, answered by touch, with and without
JavaScript; an expired form keeps every answer; a missing answer is scrolled to; the keyboard alone suffices;
English via the language switch; the page weight. axe-core checks every page it sees."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from surveys.answers import visible
from tests.browser.conftest import SCREENSHOT_DIR, assert_accessible, assert_controls_labelled, axe, screenshot
from tests.helpers import full_answers

pytestmark = pytest.mark.slow

# The parts of the form that are not answers: CSRF token, submission id, signed render time, honeypot.
META_FIELDS = {"csrf_token", "sid", "started", "website", "code"}


def visible_questions(survey, group: str) -> list[str]:
    codes = {survey.group_question: frozenset([group])}
    return [q.id for q in survey.questions if visible(q, codes)]


def progress_text(done: int, total: int, lang: str = "zh") -> str:
    return f"{done} of {total} answered" if lang == "en" else f"已回答 {done} / {total} 题"


def form_state(page) -> dict[str, list[str]]:
    """Every answer the form holds now (checked options, non-empty text), by question id."""
    state = page.evaluate(
        """() => {
            const out = {};
            for (const [name, value] of new FormData(document.querySelector('form.survey-form'))) {
                if (value !== '') (out[name] = out[name] || []).push(value);
            }
            return out;
        }"""
    )
    return {k: sorted(v) for k, v in state.items() if k not in META_FIELDS}


def choose(page, qid: str, code: str, *, touch: bool = True, check: bool = True) -> None:
    option = page.locator(f'input[name="{qid}"][value="{code}"]')
    option.tap() if touch else option.click()
    if check:
        expect(option).to_be_checked()


def answer(page, survey, answers: dict[str, list[str]], *, touch: bool = True, skip=()) -> None:
    """Answer in the order of the form: a tap on each chosen option, text typed into the boxes.

    The callers compare the whole form with ``answers`` afterwards (form_state), rather than each tap."""
    for q in survey.questions:
        if q.id not in answers or q.id in skip or q.id == survey.group_question:
            continue
        if q.type == "text":
            box = page.locator(f'textarea[name="{q.id}"]')
            box.fill(answers[q.id][0])
            box.blur()  # progress counts a text answer on "change", when the person leaves the box
        else:
            for code in answers[q.id]:
                choose(page, q.id, code, touch=touch, check=False)


def submit(page, *, touch: bool = True) -> None:
    button = page.get_by_role("button", name=re.compile("^(提交|Submit)$"))
    button.tap() if touch else button.click()


def expect_thanks(page, slug: str) -> None:
    expect(page).to_have_url(re.compile(rf"/s/{slug}/thanks$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("感谢您的参与，答卷已提交成功。")
    expect(page.locator("#receipt")).to_have_text(re.compile(r"\S{6,}"))


# ----------------------------------------------------------------------------------------------- tests


def test_phone_with_javascript_answers_every_section(phone, survey_url, survey, server, tmp_path):
    page = phone.new_page()
    page.goto(survey_url)
    expect(page).to_have_title(re.compile("办公室工作质效测评"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    morale = page.locator("#s-morale")
    office, others = visible_questions(survey, "office"), visible_questions(survey, "departments")
    assert len(office) > len(others)
    # Before a group is chosen the office-only part is hidden and not counted.
    expect(morale).to_be_hidden()
    expect(page.locator("#progress-text")).to_have_text(progress_text(0, len(others)))

    choose(page, "group", "departments")
    expect(morale).to_be_hidden()
    expect(page.locator("#progress-text")).to_have_text(progress_text(1, len(others)))
    choose(page, "group", "office")  # the conditional part appears for the office staff
    expect(morale).to_be_visible()
    expect(morale.locator("input[name=enps]").first).to_be_enabled()
    expect(page.locator("#progress-text")).to_have_text(progress_text(1, len(office)))
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "phone-start.png", tmp_path)

    answers = full_answers(survey, "office", seed=1)
    assert sorted(answers) == sorted(office)
    done = 1
    for section in survey.sections:
        ids = [q.id for q in section.questions if q.id in answers and q.id != "group"]
        answer(page, survey, {qid: answers[qid] for qid in ids})
        done += len(ids)
        expect(page.locator("#progress-text")).to_have_text(progress_text(done, len(office)))
    expect(page.locator("#progress-bar")).to_have_attribute("style", "width: 100%;")
    assert form_state(page) == {k: sorted(v) for k, v in answers.items()}

    assert_controls_labelled(page)
    assert_accessible(page, "survey form (phone, office group, all answered)")

    page.evaluate("document.getElementById('s-goals').scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -60)")  # leave room for the sticky progress bar
    screenshot(page, "phone-form.png", tmp_path)

    submit(page)
    expect_thanks(page, server.slug)
    assert_accessible(page, "thank-you page")
    screenshot(page, "phone-thanks.png", tmp_path)
    # The receipt link confirms that the answers were stored.
    receipt = page.locator("#receipt").inner_text()
    page.locator(f'main a[href$="/r/{receipt}"]').tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("您的答卷已计入。")
    expect(page.locator("main")).to_contain_text(receipt)


def test_phone_without_javascript_answers_every_section(phone_nojs, survey_url, survey, server):
    page = phone_nojs.new_page()
    page.goto(survey_url)
    # No script: no live progress bar, but every part says where it stands, and every part is shown,
    # the office-only one saying whom it is for.
    expect(page.locator("#progress")).to_be_hidden()
    steps = page.locator(".step")
    expect(steps).to_have_count(len(survey.sections))
    expect(steps.first).to_have_text(f"第 1 / {len(survey.sections)} 部分")
    expect(steps.last).to_have_text(f"第 {len(survey.sections)} / {len(survey.sections)} 部分")
    morale = page.locator("#s-morale")
    expect(morale).to_be_visible()
    expect(morale.locator(".only-for")).to_contain_text("办公室工作人员")

    answers = full_answers(survey, "office", seed=2)
    choose(page, "group", "office")
    answer(page, survey, answers)
    assert form_state(page) == {k: sorted(v) for k, v in answers.items()}
    submit(page)
    expect_thanks(page, server.slug)


def filled_form(phone, survey_url, survey, group: str, seed: int, skip=()):
    """A new phone page of the survey with every question of ``group`` answered but ``skip``; return the page,
    the answers and what its form holds, checked against them."""
    page = phone.new_page()
    page.goto(survey_url)
    answers = full_answers(survey, group, seed=seed)
    choose(page, "group", group)
    answer(page, survey, answers, skip=skip)
    before = form_state(page)
    assert before == {k: sorted(v) for k, v in answers.items() if k not in skip}
    return page, answers, before


def test_expired_form_keeps_every_answer(phone, survey_url, survey, server):
    page, _, before = filled_form(phone, survey_url, survey, "grassroots", seed=3)

    # The session (which holds the CSRF token) is gone, as after hours in a messaging app's browser.
    phone.clear_cookies(name="session")
    submit(page)
    notice = page.locator("#notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("您填写的答案都已保留")
    expect(notice).to_be_focused()
    expect(page).to_have_url(re.compile(rf"/s/{server.slug}$"))
    assert form_state(page) == before
    assert_accessible(page, "survey form after an expired token")

    submit(page)
    expect_thanks(page, server.slug)


def test_validation_error_scrolls_to_the_first_missing_answer(phone, survey_url, survey, server):
    missing = ["service_p3", "cause_pay"]
    page, answers, before = filled_form(phone, survey_url, survey, "departments", seed=4, skip=missing)
    submit(page)

    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(len(missing))
    first = page.locator(f"input[name={missing[0]}]").first
    expect(first).to_be_focused()
    expect(page.locator(f"#q-{missing[0]}")).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 800  # scrolled down to it, past the summary at the top
    expect(page.locator(".has-error")).to_have_count(len(missing))
    assert form_state(page) == before  # nothing entered disappears
    assert_accessible(page, "survey form with validation errors")

    answer(page, survey, {qid: answers[qid] for qid in missing})
    assert form_state(page) == {k: sorted(v) for k, v in answers.items()}
    submit(page)
    expect_thanks(page, server.slug)


# What has the keyboard focus, and how its focus ring shows (for a radio: on the segment drawn after it).
FOCUSED = """() => {
    const el = document.activeElement;
    const ring = el.type === 'radio' || el.type === 'checkbox' ? el.nextElementSibling : el;
    const style = getComputedStyle(ring);
    const luminance = css => {
        const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(v => {
            const c = Number(v) / 255;
            return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    let background = 'rgb(255, 255, 255)';
    for (let e = ring.parentElement; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { background = c; break; }
    }
    const [hi, lo] = [luminance(style.outlineColor), luminance(background)].sort((a, b) => b - a);
    return {tag: el.tagName, type: el.type || '', name: el.name || '', inForm: !!el.closest('form.survey-form'),
            ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
            ringContrast: style.outlineStyle === 'solid' ? (hi + 0.05) / (lo + 0.05) : null,
            outline: style.outlineColor, background: background};
}"""


def test_keyboard_alone_completes_the_form(browser, server, survey_url, survey):
    """Tab through the form; Space picks an option, arrows change it, text is typed, Enter submits."""
    context = browser.new_context(base_url=server.base, viewport={"width": 1024, "height": 768}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(survey_url)
        expected = set(visible_questions(survey, "office"))
        answered: set[str] = set()
        for _ in range(400):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if not focused["inForm"]:
                continue
            assert focused["ring"], f"no visible focus on {focused}"
            # WCAG 1.4.11: a focus ring of the page's own colour contrasts 3:1 with what it is drawn on
            # (Chromium's own "auto" ring is two-tone and always does).
            assert focused["ringContrast"] is None or focused["ringContrast"] >= 3, focused
            if focused["type"] == "radio":
                assert focused["name"] not in answered, "Tab stops once per question"
                page.keyboard.press("Space")  # the group's first option: "office" for the group question
                if focused["name"].endswith("_e1"):
                    page.keyboard.press("ArrowRight")  # arrows move the choice within the question
                answered.add(focused["name"])
            elif focused["tag"] == "TEXTAREA":
                page.keyboard.type("键盘输入的意见")
                answered.add(focused["name"])
            elif focused["tag"] == "BUTTON":
                break
        else:
            pytest.fail("Tab never reached the submit button")
        assert answered == expected
        state = form_state(page)
        assert state["group"] == ["office"] and state["goals_e1"] == ["2"]
        page.keyboard.press("Enter")
        expect_thanks(page, server.slug)
    finally:
        context.close()


def test_language_switch_to_english(phone, survey_url, survey):
    page = phone.new_page()
    page.goto(survey_url)
    page.get_by_role("navigation", name="语言").get_by_role("link", name="English").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(survey.title["en"])
    expect(page.locator(".step").first).to_have_text(f"Part 1 of {len(survey.sections)}")
    expect(page.locator("#progress-text")).to_have_text(progress_text(0, len(visible_questions(survey, "x")), "en"))
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    expect(page.get_by_label("Office staff")).to_be_attached()
    assert_accessible(page, "survey form in English")
    # The choice is remembered: the next visit without ?lang= stays in English.
    page.goto(survey_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")


PAGE_BUDGET = 100_000  # bytes on the wire, before images
MAX_STATIC_FILES = 3


def test_page_weight(browser, server, survey_url, survey):
    """One HTML document plus a few small static files of the app's own host, under 100 KB before images."""
    from tests.browser.conftest import PHONE

    context = browser.new_context(base_url=server.base, **PHONE)  # an empty cache
    try:
        page = context.new_page()
        loaded = []
        page.on("requestfinished", lambda request: loaded.append(request))
        page.goto(survey_url, wait_until="load")
        page.wait_for_load_state("networkidle")
        rows = []
        for request in loaded:
            sizes = request.sizes()
            response = request.response()
            rows.append({
                "url": request.url, "type": request.resource_type, "status": response.status,
                "encoding": response.headers.get("content-encoding", "identity"),
                "body": sizes["responseBodySize"], "headers": sizes["responseHeadersSize"],
            })
        hosts = {urlsplit(r["url"]).netloc for r in rows}
        assert hosts == {urlsplit(server.base).netloc}, f"third-party or other hosts: {hosts}"
        documents = [r for r in rows if r["type"] == "document"]
        assert len(documents) == 1 and documents[0]["status"] == 200  # one round trip: no redirect
        statics = [r for r in rows if r["type"] != "document"]
        assert all(urlsplit(r["url"]).path.startswith("/static/") for r in statics), statics
        assert len(statics) <= MAX_STATIC_FILES, statics
        before_images = [r for r in rows if r["type"] != "image"]
        total = sum(r["body"] + r["headers"] for r in before_images)
        assert total < PAGE_BUDGET, rows
        # The browser's own view of the same load agrees (Resource Timing: bytes over the wire).
        timing = page.evaluate(
            """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                     .map(e => ({name: e.name, transfer: e.transferSize, body: e.encodedBodySize}))"""
        )
        assert {t["name"] for t in timing} == {r["url"] for r in rows}
        assert sum(t["transfer"] for t in timing) < PAGE_BUDGET
        if os.environ.get("SCREENSHOTS") == "1":
            write_page_weight(rows, timing, total, survey)
    finally:
        context.close()


def write_page_weight(rows, timing, total, survey) -> None:
    path = SCREENSHOT_DIR.parent / "page-weight.md"
    transfer = {t["name"]: t["transfer"] for t in timing}
    lines = [
        "# Page weight of the survey page",
        "",
        "The survey page is opened on phones over slow or intranet links, so it must stay light: one round trip",
        "for the HTML, then a few small static files of the app's own host (no CDN, no web font, no third-party",
        "script), **under 100 KB before images**. `tests/browser/test_survey_phone.py::test_page_weight` holds",
        "the page to that budget on every `make test`; `make screenshots` measures it again and rewrites this",
        "file.",
        "",
        "How it is measured: Debian's Chromium (through Playwright) opens the bundled questionnaire",
        f"(`{survey.key}`, {len(survey.sections)} parts, {len(survey.questions)} questions) served by gunicorn on",
        "127.0.0.1, as a phone (390x844, zh-CN) with an empty cache, and waits until the network is idle.",
        "Every request the page made",
        "is listed with the bytes of its response as they came over the wire (body as sent, plus headers),",
        "from Playwright's `Request.sizes()`. The browser's own Resource Timing `transferSize` is also checked",
        "against the budget (it counts a flat 300 bytes for the headers of each response). The server sends",
        "no compression (gunicorn serves directly); behind a proxy that compresses, the page is smaller still.",
        "",
        "| request | type | body bytes | header bytes | transfer size (Resource Timing) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        path_only = urlsplit(r["url"]).path
        shown = "/s/<slug>" if r["type"] == "document" else path_only
        lines.append(f"| `{shown}` | {r['type']} | {r['body']:,} | {r['headers']:,} | {transfer.get(r['url'], 0):,} |")
    lines += [
        f"| **total** | {len(rows)} requests | | | **{total:,} bytes ({total / 1024:.1f} KiB)** |",
        "",
        "No image is loaded by the survey page. Budget: 100,000 bytes; at most three static files.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def test_axe_finds_what_it_should(browser):
    """The accessibility harness itself: a control without a label and grey-on-white text are reported."""
    page = browser.new_page()
    try:
        page.set_content('<!doctype html><html lang="en"><title>t</title><main><h1>t</h1>'
                         '<p style="color:#aaa;background:#fff">low contrast</p><input type="text"></main></html>')
        found = {v["id"]: v["impact"] for v in axe(page)}
        assert found.get("label") == "critical" and found.get("color-contrast") == "serious", found
        with pytest.raises(AssertionError, match="color-contrast"):
            assert_accessible(page, "a bad page")
    finally:
        page.close()
