"""Never a 500 for what a client sends (issue 11, item 8): each class of input that answered 500, answered as
docs/api.md says instead, with nothing written. The junk sweep (test_junk_input.py) sends the same classes to every
route; these pin each fix on the route where it was found."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from cm_tracker.validation import CALENDAR_MESSAGE, MAX_ROW_ID
from security.junk_support import EDGE_MOMENTS, page_forms, with_edges
from security.test_rate_limits import REDIS, limited_app  # noqa: F401 (a fixture)

from helpers import api_token, sign_in

HUGE = "99999999999"


def _count(app, model) -> int:
    from cm_tracker.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("path", ["/programmes/999999", "/programmes/999999/edit", "/programmes/new/preset/x",
                                  "/programmes/{program}/targets/nothing/schedule"])
def test_a_programme_page_for_an_unknown_programme_preset_or_target_is_a_404(app, matrix, path):
    client = app.test_client()
    sign_in(client, "max")
    assert client.get(path.format(**matrix)).status_code == 404


@pytest.mark.parametrize(("user", "method", "path"), [
    ("cora", "GET", f"/staff/patients/{HUGE}"), ("cora", "GET", f"/staff/redemptions/{HUGE}/receipt"),
    ("cora", "GET", f"/staff/draws/{HUGE}/receipt"), ("max", "GET", f"/catalog/rewards/{HUGE}"),
    ("pat", "GET", f"/portal/receipts/{HUGE}"), ("pat", "POST", f"/portal/requests/{HUGE}/cancel")])
def test_a_page_id_beyond_the_databases_integers_is_a_404(app, matrix, user, method, path):
    client = app.test_client()
    sign_in(client, user)
    assert client.open(path, method=method).status_code == 404


def test_every_integer_in_every_route_is_a_row_id_from_1_to_2_31_minus_1(app):
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import IntegerConverter, ValidationError

    ids = [conv for rule in app.url_map.iter_rules() for conv in (rule._converters or {}).values()
           if isinstance(conv, IntegerConverter)]
    assert len(ids) > 50
    for conv in ids:
        assert conv.to_python(str(MAX_ROW_ID)) == MAX_ROW_ID
        for outside in ("0", str(MAX_ROW_ID + 1)):
            with pytest.raises((ValidationError, NotFound)):
                conv.to_python(outside)


def test_a_programme_filter_beyond_the_databases_integers_is_a_field_error(app, matrix):
    client = app.test_client()
    response = client.get("/api/v1/rewards?program_id=2147483648", headers=api_token(client, "max"))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"program_id"}


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
def test_a_specimen_at_the_edge_of_the_calendar_is_a_field_error(app, matrix, moment):
    from cm_tracker.models import Specimen

    client, before = app.test_client(), _count(app, Specimen)
    response = client.post(f"/api/v1/patients/{matrix['patient']}/specimens", headers=api_token(client, "cora"),
                           json={"collected_at": moment, "status": "missed"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"collected_at": CALENDAR_MESSAGE}
    assert _count(app, Specimen) == before


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
def test_attendance_at_the_edge_of_the_calendar_is_a_field_error(app, matrix, moment):
    client = app.test_client()
    response = client.post(f"/api/v1/patients/{matrix['patient']}/attendance", headers=api_token(client, "cora"),
                           json={"occurred_at": moment, "target": "groups", "status": "attended"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"occurred_at": CALENDAR_MESSAGE}


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_an_excuse_at_the_edge_of_the_calendar_is_a_field_error(app, matrix, day):
    client = app.test_client()
    response = client.post(f"/api/v1/patients/{matrix['patient']}/excuses", headers=api_token(client, "cora"),
                           json={"on": day, "reason": "Court"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"on": CALENDAR_MESSAGE}


@pytest.mark.parametrize("page", ["/staff/patients/{patient}/specimens/new", "/staff/patients/{patient}/excuses/new",
                                  "/staff/closures", "/staff/patients/{patient}/visits/{visit}/record"])
@pytest.mark.parametrize("end", [0, 1])
def test_a_desk_form_at_the_edge_of_the_calendar_shows_the_field_error(app, matrix, page, end):
    client = app.test_client()
    sign_in(client, "ada")
    path = page.format(**matrix)
    form = next(f for f in page_forms(client.get(path).get_data(as_text=True), path) if f["method"] == "post")
    response = client.post(path, data=with_edges(form, end))
    assert response.status_code in (200, 422)
    assert CALENDAR_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("field", ["status", "collected_at"])
def test_a_specimen_correction_with_a_null_field_is_a_field_error_and_changes_nothing(app, matrix, field):
    client = app.test_client()
    headers = api_token(client, "cora")
    response = client.patch(f"/api/v1/specimens/{matrix['specimen']}", headers=headers,
                            json={"version": 1, "reason": "Typo", field: None})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {field}
    again = client.patch(f"/api/v1/specimens/{matrix['specimen']}", headers=headers,
                         json={"version": 1, "reason": "Typo", "note": "still version 1"})
    assert again.status_code == 200, again.get_json()


def test_a_correction_at_the_largest_version_is_stale_not_an_overflow(app, matrix):
    """The claim writes version + 1: at the INTEGER column's largest value that would overflow on PostgreSQL."""
    client = app.test_client()
    headers = api_token(client, "cora")

    def patch(version: int):
        return client.patch(f"/api/v1/specimens/{matrix['specimen']}", headers=headers,
                            json={"version": version, "reason": "Typo", "note": "too new"})

    largest = patch(MAX_ROW_ID)
    assert (largest.status_code, largest.get_json()["error"]["code"]) == (409, "stale_version")
    beyond = patch(MAX_ROW_ID + 1)
    assert beyond.status_code == 422 and set(beyond.get_json()["error"]["fields"]) == {"version"}


def test_a_lone_surrogate_in_a_json_string_is_malformed_json_and_writes_nothing(app, matrix):
    from cm_tracker.models import Specimen

    client, before = app.test_client(), _count(app, Specimen)
    body = json.dumps({"collected_at": "2026-11-04T09:00:00+00:00", "status": "missed", "note": "\udc00"})
    response = client.post(f"/api/v1/patients/{matrix['patient']}/specimens", data=body,
                           content_type="application/json", headers=api_token(client, "cora"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    assert _count(app, Specimen) == before


@pytest.mark.parametrize("limited_app", [{"storage": REDIS}], indirect=True)
def test_a_lone_surrogate_in_a_token_requests_username_is_malformed_json_with_limits_in_redis(limited_app):  # noqa: F811
    from redis import Redis

    Redis.from_url(REDIS).flushdb()
    response = limited_app.test_client().post("/api/v1/auth/tokens", content_type="application/json",
                                              data=json.dumps({"username": "\udc00", "password": "x"}))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_nul_in_the_api_search_is_a_400_with_the_error_body(app, matrix):
    client = app.test_client()
    response = client.get("/api/v1/patients?q=Pat%00", headers=api_token(client, "cora"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_nul_in_a_pages_query_string_or_form_is_a_400(app, matrix):
    client = app.test_client()
    sign_in(client, "cora")
    assert client.get("/staff/?q=Pat%00").status_code == 400
    assert client.post(f"/staff/patients/{matrix['patient']}/excuses/new",
                       data={"on": "2026-11-04", "reason": "a\x00b"}).status_code == 400
