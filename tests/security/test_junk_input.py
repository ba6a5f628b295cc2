"""Bad input gets a clear answer, never a 500: every route of the access matrix, called by a role it allows, with
nonsense in every form field it shows and in the query parameters the pages read (numbers too large for the
database, negative and fractional counts, impossible dates, NUL bytes, very long text).

The PostgreSQL run matters most here: an integer beyond 32 or 64 bits, or a NUL byte in text, is an error raised by
the database there, where SQLite would store it silently.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from security.test_access_matrix import API, PAGES, Rule, _api_headers, _page_client

HUGE = "9" * 25
JUNK_VALUES = {
    "huge": HUGE, "negative": "-3", "fraction": "1.5", "word": "abc", "impossible_date": "2026-02-31",
    "nul": "a\x00b", "long": "x" * 5000, "empty": "",
}
# Parameters the pages read from the query string (filters, pages, periods, dates, search).
QUERY_NAMES = ("page", "per_page", "q", "date", "day", "from", "to", "start", "end", "program_id", "program",
               "counselor_id", "counselor", "patient", "patient_id", "user", "user_id", "period", "year", "month",
               "status", "kind", "target", "next", "lang", "sort")
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


def _with_query(path: str, value: str) -> str:
    """The path with every query parameter the pages read set to `value`, after any the path already has."""
    return path + ("&" if "?" in path else "?") + urlencode({name: value for name in QUERY_NAMES})


def _failure(response, kind: str) -> list[tuple[str, int, str]]:
    if response.status_code < 500:
        return []
    return [(kind, response.status_code, response.get_data(as_text=True)[:200])]


def _methods(app, endpoint: str) -> set[str]:
    return {m for rule in app.url_map.iter_rules() if rule.endpoint == endpoint for m in rule.methods or ()}


# One test a route, every kind of junk in it: the sweep is wide, and a test a (route, kind) pair would cost minutes of
# per-test set-up on PostgreSQL.
@pytest.mark.parametrize("endpoint", _page_cases())
def test_pages_answer_junk_with_a_message_never_a_500(app, matrix, endpoint):
    r = PAGES[endpoint]
    client = _page_client(app, _role(r))
    path = r.path.format(**matrix)
    posts = r.method == "POST" or "POST" in _methods(app, endpoint)
    names = _field_names(client.get(path).get_data(as_text=True)) if posts else set()
    failures = []
    for kind, value in JUNK_VALUES.items():
        failures += _failure(client.get(_with_query(path, value)), kind)
        if posts:
            failures += _failure(client.post(path, data={name: value for name in names}), kind)
    assert failures == []


@pytest.mark.parametrize("endpoint", _api_cases())
def test_the_api_answers_junk_with_its_error_body_never_a_500(app, matrix, endpoint):
    r = API[endpoint]
    client = app.test_client()
    headers = _api_headers(client, _role(r))
    path = f"/api/v1{r.path.format(**matrix)}"
    failures = []
    for kind, value in JUNK_VALUES.items():
        body = {name: value for name in FORM_NAMES} if r.method in ("POST", "PUT", "PATCH") else None
        response = client.open(_with_query(path, value), method=r.method, headers=headers, json=body)
        failures += _failure(response, kind)
        if 400 <= response.status_code < 500 and response.is_json:
            assert set(response.get_json()["error"]) >= {"code", "message"}, (kind, response.get_json())
    assert failures == []
