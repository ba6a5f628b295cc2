"""Bad input gets a clear answer, never a 500: every route of the access matrix, called by a role it allows, with
nonsense in every form field it shows and in the query parameters the pages read (numbers too large for the
database, negative and fractional counts, impossible dates, digits that are not ASCII, NUL bytes, very long text),
ids beyond the database's integers in every id position of its URL, the ends of the calendar in every date and time
field of a form that is otherwise as the page shows it, and, for every API write, null in each field and a lone
UTF-16 surrogate in each string of a body that is otherwise valid (tests/security/junk_support.py).

The PostgreSQL run matters most here: an integer beyond 32 or 64 bits, or a NUL byte in text, is an error raised by
the database there, where SQLite would store it silently.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from security.junk_support import (
    EDGE_DATES,
    EDGE_MOMENTS,
    HUGE_ID,
    SWEEP_AT,
    api_bodies,
    date_fields,
    form_variants,
    page_forms,
    request_schemas,
)
from security.test_access_matrix import API, PAGES, Rule, _api_headers, _page_client

HUGE = "9" * 25
JUNK_VALUES = {
    "huge": HUGE, "negative": "-3", "fraction": "1.5", "word": "abc", "impossible_date": "2026-02-31",
    "nul": "a\x00b", "long": "x" * 5000, "empty": "", "beyond_int": "2147483648", "digit_like": "\u00b2",
}
# Only in the query string: the form fields get the ends of the calendar in forms that are otherwise valid.
QUERY_JUNK = {"early": EDGE_DATES[0], "late": EDGE_DATES[1]}
# In one kind of field at a time of a form otherwise as the page shows it.
FORM_JUNK = (JUNK_VALUES["digit_like"], JUNK_VALUES["beyond_int"], HUGE)
# Parameters the pages read from the query string (filters, pages, periods, dates, search).
QUERY_NAMES = ("page", "per_page", "cursor", "limit", "q", "date", "day", "from", "to", "start", "end", "program_id",
               "program", "counselor_id", "counselor", "patient", "patient_id", "user", "user_id", "period", "year",
               "month", "status", "kind", "target", "next", "lang", "sort")
# Fields posted to routes with no form of their own to read the names from.
FORM_NAMES = ("version", "quantity", "count", "reward_id", "reason", "note", "points", "draws", "confirmer_username",
              "confirmer_password", "status", "tier", "counted", "expected", "closed_on", "from_on", "date")
PREFERRED = ("admin", "counselor", "manager", "patient", "other_counselor")


def _role(r: Rule) -> str | None:
    return next((role for role in PREFERRED if role in r.allowed), None)


def _field_names(html: str) -> set[str]:
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))
    return {n for n in names if n != "csrf_token"} | set(FORM_NAMES)


def _page_cases() -> list[str]:
    return [endpoint for endpoint, r in sorted(PAGES.items()) if _role(r) and endpoint != "static"]


def _api_cases() -> list[str]:
    return [endpoint for endpoint, r in sorted(API.items()) if _role(r)]


def _with_query(path: str, value: str, names: set[str] = frozenset()) -> str:
    """The path with every query parameter the pages read (and `names`) set to `value`, after any it already has."""
    return path + ("&" if "?" in path else "?") + urlencode({name: value for name in sorted({*QUERY_NAMES, *names})})


def _failure(response, kind: str) -> list[tuple[str, int, str]]:
    if response.status_code < 500:
        return []
    return [(kind, response.status_code, response.get_data(as_text=True)[:200])]


def _methods(app, endpoint: str) -> set[str]:
    return {m for rule in app.url_map.iter_rules() if rule.endpoint == endpoint for m in rule.methods or ()}


def _huge_id_paths(path: str) -> list[str]:
    """The path once for each id in it, that id replaced by one beyond the database's integers."""
    return [path[:m.start()] + HUGE_ID + path[m.end():] for m in re.finditer(r"(?<=/)\d+(?=/|\?|$)", path)]


def _get_form_names(html: str) -> set[str]:
    """The fields of the page's GET forms (filters), which arrive in the query string."""
    return set(re.findall(r'<(?:input|select)[^>]*\bname="([^"]+)"', "".join(
        re.findall(r'<form(?![^>]*method="post")[^>]*>.*?</form>', html, flags=re.S | re.I))))


def _page_sweep(client, path: str, posts: bool) -> list[tuple[str, int, str]]:
    html = client.get(path).get_data(as_text=True)
    names, query_names = (_field_names(html) if posts else set()), _get_form_names(html)
    failures = []
    for kind, value in {**JUNK_VALUES, **QUERY_JUNK}.items():
        failures += _failure(client.get(_with_query(path, value, query_names)), kind)
        if posts and kind in JUNK_VALUES:
            failures += _failure(client.post(path, data={name: value for name in names}), kind)
    for form in page_forms(html, path):
        for kind, values in form_variants(form, FORM_JUNK).items():
            if form["method"] == "post":
                response = client.post(path, data=values)
            else:
                response = client.get(path.split("?")[0], query_string=values)
            failures += _failure(response, f"{form['method']} form {kind}")
    return failures


# One test a route, every kind of junk in it: the sweep is wide, and a test a (route, kind) pair would cost minutes of
# per-test set-up on PostgreSQL.
@pytest.mark.parametrize("endpoint", _page_cases())
def test_pages_answer_junk_with_a_message_never_a_500(app, matrix, endpoint):
    r = PAGES[endpoint]
    client = _page_client(app, _role(r))
    path = r.path.format(**matrix)
    posts = r.method == "POST" or "POST" in _methods(app, endpoint)
    failures = _page_sweep(client, path, posts)
    for huge in _huge_id_paths(path):
        status = client.open(huge, method=r.method).status_code
        if status != 404:
            failures.append(("huge id", status, huge))
    assert failures == []


def _json_failures(response, kind: str) -> list[tuple[str, int, str]]:
    if 400 <= response.status_code < 500 and response.is_json:
        assert set(response.get_json()["error"]) >= {"code", "message"}, (kind, response.get_json())
    return _failure(response, kind)


def _body_sweep(client, path: str, method: str, headers, base: dict, schema: dict) -> list[tuple[str, int, str]]:
    """Null in each field, a lone surrogate in each string and in a key, and both ends of the calendar in every date
    and time, each inside the otherwise valid `base`."""
    def send(kind: str, body: dict) -> list[tuple[str, int, str]]:
        raw = json.dumps(body)  # ensure_ascii writes a lone surrogate as the escape \udc00
        return _json_failures(client.open(path, method=method, headers=headers, data=raw,
                                          content_type="application/json"), kind)

    failures = []
    for name in sorted(set(base) | set(schema)):
        failures += send(f"null {name}", {**base, name: None})
        if isinstance(base.get(name), str) or schema.get(name, {}).get("type") == "string":
            failures += send(f"surrogate {name}", {**base, name: "\udc00"})
    failures += send("surrogate key", {**base, "\udc00": 1})
    dates, moments = date_fields(base, schema)
    for end in (0, 1):
        failures += send(f"calendar end {end}", {**base, **{n: EDGE_DATES[end] for n in dates},
                                                 **{n: EDGE_MOMENTS[end] for n in moments}})
    return failures


@pytest.mark.parametrize("endpoint", _api_cases())
@pytest.mark.time_machine(SWEEP_AT, tick=False)
def test_the_api_answers_junk_with_its_error_body_never_a_500(app, matrix, endpoint):
    r = API[endpoint]
    client = app.test_client()
    headers = _api_headers(client, _role(r))
    path = f"/api/v1{r.path.format(**matrix)}"
    writes = r.method in ("POST", "PUT", "PATCH")
    failures = []
    for kind, value in {**JUNK_VALUES, **QUERY_JUNK}.items():
        body = {name: value for name in FORM_NAMES} if writes else None
        failures += _json_failures(client.open(_with_query(path, value), method=r.method, headers=headers,
                                               json=body), kind)
    for huge in _huge_id_paths(path):
        response = client.open(huge, method=r.method, headers=headers, json={} if writes else None)
        if response.status_code != 404 or response.get_json()["error"]["code"] != "not_found":
            failures.append(("huge id", response.status_code, huge))
    if endpoint in BODIES:
        schema = _schemas(client).get((r.method, _template(app, endpoint)), {})
        failures += _body_sweep(client, path, r.method, headers, api_bodies(matrix)[endpoint], schema)
    assert failures == []


BODIES = set(api_bodies({name: 1 for name in ("program", "user", "reward")}))
NO_BODY = {"api.revoke_token", "api.disable_user", "api.enable_user", "api.fulfil_redemption",
           "api.cancel_redemption", "api.enrol_mfa", "api.reset_mfa"}


def _schemas(client) -> dict:
    return request_schemas(client.get("/api/v1/openapi.json").get_json())


def _template(app, endpoint: str) -> str:
    """The route's path as the OpenAPI document writes it: /specimens/{specimen_id}."""
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule).removeprefix("/api/v1")


def test_every_api_write_has_a_body_for_the_sweep():
    writes = {endpoint for endpoint, r in API.items() if r.method in ("POST", "PUT", "PATCH", "DELETE")}
    assert writes - NO_BODY == BODIES
