"""Property-based fuzzing of the endpoints that take input: the survey form, the login, the survey upload.

Whatever arrives (missing, extra, oversized, wrong-type, control-character and emoji values, raw bodies that
are not even forms), the answer is a 2xx, 3xx or 4xx, never a 5xx, and nothing is stored from a submission
that is not valid.
"""

from __future__ import annotations

import gc
import io
import json
import random
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.services import accounts
from app.services.campaigns import get_campaign
from app.services.surveys import definition
from surveys import TEMPLATES_DIR
from surveys.answers import validate
from tests.conftest import csrf_token, hidden_fields
from tests.helpers import full_answers

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
TABLES = ("responses", "answers", "comments", "survey_versions", "surveys")
META_FIELDS = {"csrf_token", "sid", "started", "website", "code"}
TOO_BIG = 2 * 1024 * 1024 + 1
# A failing example with long values has a long repr; the warning about it would hide the failure itself.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
# Werkzeug leaves the temporary file of a multipart body cut off inside a file part to the garbage collector
# (seen with Werkzeug 3.1). That is its own matter and harmless; the test that sends such bodies lets only that
# warning through, and collects the garbage before it ends (see collect_garbage).
WERKZEUG_LEAK = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <function SpooledTemporaryFile.__del__:pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def collect_garbage():
    """Collect the garbage when the test ends, still under its warning filters (not in the next test)."""
    yield
    gc.collect()

controls = st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u200b\u200e\u202e\ufeff\u2028")
emoji = st.sampled_from(["😀", "👍🏽", "👨‍👩‍👧‍👦", "🀄\ufe0f", "🇨🇳", "\U0010fffd"])
any_char = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot be sent as UTF-8 at all
weird_text = st.lists(any_char | controls | emoji, max_size=60).map("".join)
form_values = st.one_of(
    weird_text,
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["", " ", "null", "None", "[]", "{}", "<script>alert(1)</script>", "=1+1", "%00", "\\x00", "\x00",
                     "admin\x00", "a\x00b"]),  # PostgreSQL can neither store nor compare a NUL
    st.text(alphabet="是否很好一般abc \n", min_size=1000, max_size=20_000),  # long, but under the body limit
)
field_names = st.lists(any_char | controls | emoji, min_size=1, max_size=12).map("".join)
content_types = st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
                                 "multipart/form-data", "application/json", "text/plain", "", "x/y; charset=gbk"])


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            name: db.session.execute(select(func.count()).select_from(db.metadata.tables[name])).scalar_one()
            for name in TABLES
        }


def a_file(data: bytes, name: str = "x.txt"):
    return (io.BytesIO(data), name)


def multipart(fields: dict) -> dict:
    """Return the keyword arguments that post ``fields`` as a multipart body built in memory.

    (The test client would spool a large body to a temporary file that it never closes when the app refuses
    the body unread.)
    """
    values = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            values.add(name, FileStorage(item[0], filename=item[1]) if isinstance(item, tuple) else item)
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


# -- the survey form --------------------------------------------------------------------------------------------


@st.composite
def mutations(draw, keys: tuple[str, ...]):
    """Return (fields to drop, fields to replace, extra fields) for a form with these keys."""
    dropped = draw(st.lists(st.sampled_from(keys), max_size=4, unique=True))
    replaced = draw(st.dictionaries(st.sampled_from(keys), st.lists(form_values | st.binary(max_size=300).map(
        a_file), max_size=3), max_size=4))
    extras = draw(st.dictionaries(field_names | st.sampled_from(sorted(META_FIELDS)), st.lists(
        form_values | st.binary(max_size=100).map(a_file), min_size=1, max_size=3), max_size=4))
    return dropped, replaced, extras


META_MUTATIONS = ["keep", "keep", "keep", "drop_csrf", "bad_csrf", "drop_sid", "bad_sid", "bad_started", "drop_all"]


@FUZZ
@given(data=st.data())
def test_survey_submit_never_fails_and_stores_only_valid_answers(app, client, campaign, data):
    with app.app_context():
        c = get_campaign(campaign)
        survey, groups = definition(c.survey_version), c.groups_offered
    group = data.draw(st.sampled_from([c.code for c in survey.groups]), label="group")
    form: dict[str, list] = {k: list(v) for k, v in full_answers(survey, group, data.draw(st.integers(0, 9))).items()}
    dropped, replaced, extras = data.draw(mutations(tuple(sorted(form))), label="mutations")
    for key in dropped:
        del form[key]
    form.update(replaced)
    form.update(extras)
    meta_touched = set(extras) & META_FIELDS
    hidden = hidden_fields(client.get(f"/s/{campaign}?again=1").get_data(as_text=True))
    mutation = data.draw(st.sampled_from(META_MUTATIONS))
    if mutation == "drop_all":
        hidden = {}
    elif mutation.startswith("drop_"):
        del hidden[{"csrf": "csrf_token"}.get(mutation[5:], mutation[5:])]
    elif mutation.startswith("bad_"):
        name = {"csrf": "csrf_token"}.get(mutation[4:], mutation[4:])
        hidden[name] = data.draw(form_values | st.just(hidden[name][:-2] + "xx"))
    body = {**form, **hidden} if not meta_touched else {**hidden, **form}
    # The test client writes a multipart field's name as it is: a CR, LF or quote in it (which browsers escape)
    # breaks the body's framing, so the fields after it may not arrive; such a form is not counted as valid.
    has_file = any(isinstance(item, tuple) for value in body.values() for item in value)
    framed = not has_file or not any(set(name) & set('\r\n"') for name in body)
    # A NUL in any value, even of a field the survey does not have, refuses the whole form (app.refuse_odd_requests).
    refused = any("\x00" in item for value in body.values() for item in value if isinstance(item, str))
    valid = (mutation == "keep" and not meta_touched and framed and not refused
             and validate(survey, body, groups=groups).ok)

    before = counts(app)
    resp = client.post(f"/s/{campaign}", data=body)
    after = counts(app)
    assert resp.status_code < 500
    stored = after["responses"] - before["responses"]
    if valid:
        assert resp.status_code == 303 and stored == 1
    else:
        assert resp.status_code < 500
        if mutation != "keep" or refused or not validate(survey, body, groups=groups).ok:
            assert stored == 0, (mutation, resp.status_code)
    if stored == 0:
        assert after == before
    assert after["survey_versions"] == before["survey_versions"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | weird_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(weird_text | st.sampled_from(
        ["username", "password", "csrf_token", "sid", "group", "file", "action"]), inner, max_size=4),
    max_leaves=8,
)


@st.composite
def raw_bodies(draw, token: str):
    """Return (body, content type): bytes, JSON, or a hand-made multipart body with odd part headers."""
    kind = draw(st.sampled_from(["bytes", "json", "multipart", "multipart"]))
    if kind == "bytes":
        return draw(st.binary(max_size=3000)), draw(content_types)
    if kind == "json":
        value = draw(json_values)
        if draw(st.booleans()):
            value = {"csrf_token": token, **(value if isinstance(value, dict) else {"username": value})}
        return json.dumps(value).encode(), "application/json"
    boundary, parts = "fuzzb0undary", []
    if draw(st.booleans()):
        parts.append(f'Content-Disposition: form-data; name="csrf_token"\r\n\r\n{token}'.encode())
    for _ in range(draw(st.integers(0, 5))):
        name = draw(field_names | st.sampled_from(["username", "password", "csrf_token", "sid", "group", "file"]))
        template = draw(st.sampled_from(['form-data; name="{n}"', 'form-data; name="{n}"; filename="{n}.yaml"',
                                         "form-data", "form-data; name={n}", 'form-data; filename="x"', ""]))
        header = "Content-Disposition: " + template.format(n=name)
        if draw(st.booleans()):
            header += "\r\nContent-Type: " + draw(st.sampled_from(["text/plain; charset=gbk", "application/json",
                                                                    "", "x"]))
        parts.append(header.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + draw(st.binary(max_size=300)))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    body += draw(st.sampled_from([b"--" + boundary.encode() + b"--\r\n", b"", b"--" + boundary.encode()]))
    return body, f"multipart/form-data; boundary={boundary}"


@WERKZEUG_LEAK
@pytest.mark.parametrize("endpoint", ["survey", "login", "upload"])
@FUZZ
@given(data=st.data())
def test_raw_bodies_never_fail(app, logged_in, campaign, endpoint, collect_garbage, data):
    url = {"survey": f"/s/{campaign}", "login": "/admin/login", "upload": "/admin/surveys"}[endpoint]
    token = csrf_token(logged_in.get(url).get_data(as_text=True))
    body, content_type = data.draw(raw_bodies(token))
    headers = {"X-CSRFToken": token} if data.draw(st.booleans()) else {}
    before = counts(app)
    resp = logged_in.post(url, data=body, content_type=content_type, headers=headers)
    assert resp.status_code < 500
    assert counts(app) == before


@pytest.mark.parametrize("how", ["urlencoded", "multipart field", "multipart file", "no length"])
def test_oversized_bodies_are_refused(app, client, campaign, how):
    with app.app_context():
        survey = definition(get_campaign(campaign).survey_version)
    form = {**full_answers(survey, "office"), **hidden_fields(client.get(f"/s/{campaign}").get_data(as_text=True))}
    text_question = next(q.id for q in survey.questions if q.type == "text")
    before = counts(app)
    if how == "urlencoded":
        resp = client.post(f"/s/{campaign}", data={**form, text_question: "好" * (TOO_BIG // 3 + 1)})
    elif how == "multipart field":
        resp = client.post(f"/s/{campaign}", **multipart({**form, text_question: "x" * TOO_BIG, "f": a_file(b"")}))
    elif how == "multipart file":
        resp = client.post(f"/s/{campaign}", **multipart({**form, "f": a_file(b"\0" * TOO_BIG)}))
    else:  # a chunked body of unknown length is cut at the limit too
        resp = client.post(f"/s/{campaign}", input_stream=io.BytesIO(b"a=" + b"x" * TOO_BIG),
                           content_type="application/x-www-form-urlencoded",
                           environ_overrides={"wsgi.input_terminated": True})
    assert resp.status_code == 413
    assert "提交的内容过大" in resp.get_data(as_text=True)
    assert counts(app) == before


# -- the login --------------------------------------------------------------------------------------------------

login_values = st.one_of(st.none(), form_values, st.lists(form_values, min_size=2, max_size=3),
                         st.binary(max_size=200).map(a_file))


@FUZZ
@given(username=login_values, password=login_values, extras=st.dictionaries(field_names, form_values, max_size=3),
       token=st.sampled_from(["good", "good", "none", "bad"]), address=st.ip_addresses().map(str))
def test_login_never_fails(app, client, admin, monkeypatch, username, password, extras, token, address):
    checked = []
    # Fast and never right: the fuzz is about the input handling, not the speed of scrypt.
    monkeypatch.setattr(accounts, "check_password_hash", lambda pwhash, pw: checked.append(pw) or False)
    client.environ_base["REMOTE_ADDR"] = address  # a fresh client, so that the throttle does not hide the rest
    good = csrf_token(client.get("/admin/login").get_data(as_text=True))
    body = {**extras, "csrf_token": {"good": good, "none": None, "bad": good[:-3] + "abc"}[token],
            "username": username, "password": password}
    body = {k: v for k, v in body.items() if v is not None}
    before = counts(app)
    resp = client.post("/admin/login", data=body)
    assert resp.status_code in (400, 401, 429), resp.status_code
    assert counts(app) == before
    assert all(isinstance(pw, str) for pw in checked)
    assert client.get("/admin/").status_code == 302  # still not logged in


# -- the survey upload ------------------------------------------------------------------------------------------

OSQ_TEXT = (TEMPLATES_DIR / "office-service-quality.yaml").read_text(encoding="utf-8")
PULSE_TEXT = (TEMPLATES_DIR / "monthly-pulse.yaml").read_text(encoding="utf-8")


@st.composite
def mutated_yaml(draw):
    """A bundled survey with a few lines deleted, duplicated or overwritten with odd text."""
    lines = draw(st.sampled_from([OSQ_TEXT, PULSE_TEXT])).splitlines()
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "append", "indent"]))
        if action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
        else:
            head = lines[i].split(":")[0] + ": " if action == "replace" and ":" in lines[i] else ""
            lines[i] = head + draw(weird_text | form_values)
    return "\n".join(lines)


@st.composite
def xlsx_files(draw):
    """A workbook with a survey sheet of odd cells, a zip that is not a workbook, or bytes."""
    kind = draw(st.sampled_from(["workbook", "zip", "bytes"]))
    out = io.BytesIO()
    if kind == "workbook":
        book = Workbook()
        sheet = book.active
        sheet.title = draw(st.sampled_from(["survey", "Survey", "choices", "x"]))
        header = ["type", "name", "label::Chinese (zh)", "required", "relevant", "choice_filter"]
        rows = [header] + draw(st.lists(st.lists(st.one_of(st.none(), st.integers(), st.sampled_from(
            ["select_one five", "text", "integer", "begin group", "end group", "note", "yes", "${q1} = 1"]),
            weird_text.map(lambda s: "".join(c for c in s if c >= " ")[:50])), min_size=1, max_size=6),
            max_size=6))
        for row in rows:
            sheet.append(row)
        if draw(st.booleans()):
            book.create_sheet("choices").append(["list_name", "name", "label::Chinese (zh)"])
        book.save(out)
    elif kind == "zip":
        with zipfile.ZipFile(out, "w") as z:
            z.writestr(draw(st.sampled_from(["xl/workbook.xml", "[Content_Types].xml", "a"])), draw(st.binary()))
    else:
        out.write(draw(st.binary(max_size=2000)))
    return out.getvalue()


uploads = st.one_of(
    st.tuples(mutated_yaml().map(lambda s: s.encode("utf-8")), st.sampled_from([".yaml", ".yml", ".YAML"])),
    st.tuples(st.binary(max_size=3000), st.sampled_from([".yaml", ".yml", ".xlsx", ".txt", ""])),
    st.tuples(weird_text.map(lambda s: s.encode("utf-8")), st.sampled_from([".yaml", ".txt"])),
    st.tuples(xlsx_files(), st.just(".xlsx")),
    st.tuples(st.sampled_from([b"!!python/object/apply:os.system ['echo x']", b"a: &a [*a]", b"- " * 5000,
                               b"key: " + b"[" * 2000, b"\xef\xbb\xbf" + OSQ_TEXT.encode("utf-8")]),
              st.just(".yaml")),
)


@FUZZ
@given(upload=uploads, stem=field_names | st.sampled_from(["survey", "survey\x00"]),
       action=st.sampled_from(["preview", "import", None, "x"]),
       with_file=st.sampled_from([True, True, True, False]), extras=st.dictionaries(
           st.sampled_from(["csrf_token", "action", "file", "x"]), form_values | st.binary(max_size=50).map(a_file),
           max_size=2))
def test_survey_upload_never_fails(app, logged_in, upload, stem, action, with_file, extras):
    content, suffix = upload
    token = csrf_token(logged_in.get("/admin/surveys").get_data(as_text=True))
    body = {"csrf_token": token}
    if action is not None:
        body["action"] = action
    if with_file:
        body["file"] = a_file(content, stem + suffix)
    body.update(extras)  # odd values, and files where text is expected (the CSRF token, the action)
    before = counts(app)
    resp = logged_in.post("/admin/surveys", data=body, content_type="multipart/form-data")
    after = counts(app)
    assert resp.status_code < 500
    if resp.status_code != 303:  # only a successful import stores anything, and then one version at most
        assert after == before
    else:
        assert body.get("action") == "import" and 0 <= after["survey_versions"] - before["survey_versions"] <= 1
    assert (after["responses"], after["answers"]) == (before["responses"], before["answers"])


def test_oversized_upload_is_refused(app, logged_in):
    token = csrf_token(logged_in.get("/admin/surveys").get_data(as_text=True))
    before = counts(app)
    big = OSQ_TEXT.encode("utf-8") + b"\n# " + bytes(random.Random(0).choices(b"abc ", k=TOO_BIG))
    resp = logged_in.post("/admin/surveys", **multipart({"csrf_token": token, "action": "import",
                                                         "file": a_file(big, "big.yaml")}))
    assert resp.status_code == 413
    assert counts(app) == before


# -- NUL characters, case by case (PostgreSQL refuses them in text, SQLite does not: run with TEST_DATABASE_URL) --

NUL_CASES = ["survey path", "thanks path", "query", "survey answers", "unknown field", "login name",
             "login password", "upload file name", "campaign name"]


@pytest.mark.parametrize("case", NUL_CASES)
def test_nul_characters_never_fail(app, logged_in, campaign, case):
    with app.app_context():
        survey = definition(get_campaign(campaign).survey_version)
    pulse = (TEMPLATES_DIR / "monthly-pulse.yaml").read_bytes()
    before = counts(app)
    if case in ("survey path", "thanks path", "query"):
        url = {"survey path": "/s/a%00b", "thanks path": f"/s/{campaign}%00/thanks", "query": "/admin/?group=%00"}
        resp = logged_in.get(url[case])
    elif case in ("survey answers", "unknown field"):
        form = full_answers(survey, "office")
        if case == "survey answers":
            text_question = next(q.id for q in survey.questions if q.type == "text")
            form = {**form, text_question: ["意见\x00"], "group": ["office\x00"]}
        else:  # every answer valid, and a field the survey does not have
            form = {**form, "0": ["\x00"]}
        page = logged_in.get(f"/s/{campaign}?again=1").get_data(as_text=True)
        resp = logged_in.post(f"/s/{campaign}", data={**form, **hidden_fields(page)})
        if case == "unknown field":
            assert resp.status_code == 400  # refused whole, although the survey would ignore the field
    elif case.startswith("login"):
        token = csrf_token(logged_in.get("/admin/login").get_data(as_text=True))
        name, password = ("ad\x00min", "x") if case == "login name" else ("admin", "wrong\x00")
        resp = logged_in.post("/admin/login", data={"csrf_token": token, "username": name, "password": password})
    elif case == "upload file name":
        token = csrf_token(logged_in.get("/admin/surveys").get_data(as_text=True))
        resp = logged_in.post("/admin/surveys", data={"csrf_token": token, "action": "import",
                                                      "file": a_file(pulse, "pulse\x00.yaml")})
    else:
        token = csrf_token(logged_in.get("/admin/campaigns/new").get_data(as_text=True))
        resp = logged_in.post("/admin/campaigns/new", data={
            "csrf_token": token, "survey": "office-service-quality", "name": "名称\x00", "opens_on": "2026-11-26",
            "min_group_size": "5", "mode": "open"})
    assert resp.status_code < 500, (case, resp.status_code)
    if resp.status_code != 303:
        assert counts(app) == before
