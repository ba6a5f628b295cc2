"""A patient reaches their own record and nothing else, through pages and the API (issue 5.7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpers import api_token, sign_in

STAFF_PREFIXES = ("/staff", "/admin", "/reports", "/catalog", "/programmes")
PORTAL_PAGES = ("/portal/", "/portal/progress", "/portal/history", "/portal/rewards", "/portal/receipts")


def _concrete(rule) -> str:
    """A rule's path with every variable filled with 1 (an id that exists: the first patient, user, item...)."""
    return re.sub(r"<[^>]+>", "1", rule.rule)


def _routes(app, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefixes):
            method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            found.append((method, _concrete(rule)))
    return sorted(set(found))


def test_every_staff_admin_report_catalog_and_programme_page_is_not_found_for_a_patient(app, client, story):
    sign_in(client, "pat")
    routes = _routes(app, STAFF_PREFIXES)
    assert len(routes) > 5
    answers = {(m, p): client.open(p, method=m).status_code for m, p in routes}
    assert {k: v for k, v in answers.items() if v != 404} == {}


def test_every_patient_path_of_the_api_is_not_found_for_a_patient(app, client, story):
    headers = api_token(client, "pat")
    routes = _routes(app, ("/api/v1/patients/",))
    assert len(routes) > 3
    answers = {(m, p): client.open(p, method=m, headers=headers, json={} if m != "GET" else None).status_code
               for m, p in routes}
    assert {k: v for k, v in answers.items() if v != 404} == {}


def test_my_balance_is_the_patients_own(client, story):
    body = client.get("/api/v1/me/balance", headers=api_token(client, "pat")).get_json()
    assert (body["points"], body["value_cents"], body["cap"]["remaining_cents"]) == (155, 3875, 95375)
    assert [(n["target"], n["points"], n["reset_points"]) for n in body["next"]] == [("stimulants", 60, 10)]


def test_my_ledger_holds_only_the_patients_own_entries(app, client, personas, story):
    from cm_tracker.extensions import db
    from cm_tracker.models import LedgerEntry

    body = client.get("/api/v1/me/ledger", headers=api_token(client, "pat")).get_json()
    with app.app_context():
        own = db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.patient_id == personas.patient)
                                 .order_by(LedgerEntry.id)).all()
        others = db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.patient_id != personas.patient)).all()
    assert [e["id"] for e in body["entries"]] == own and others


@pytest.mark.parametrize("path", PORTAL_PAGES)
def test_portal_pages_carry_no_patient_id_and_nothing_of_another_patient(client, personas, story, path):
    sign_in(client, "pat")
    html = client.get(path).get_data(as_text=True)
    targets = re.findall(r'(?:href|action)="([^"]+)"', html)
    assert targets and not [t for t in targets if "patient" in t.lower()]
    assert "Olive" not in html and "MRN-" not in html


def test_a_portal_session_ends_after_the_idle_timeout(app, client, story):
    from cm_tracker.extensions import db
    from cm_tracker.models import UserSession
    from cm_tracker.timeutil import utcnow

    sign_in(client, "pat")
    with app.app_context():
        db.session.scalars(select(UserSession)).one().last_seen_at = utcnow() - timedelta(minutes=16)
        db.session.commit()
    response = client.get("/portal/history")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_pages_are_plain_forms_that_work_without_javascript(client, story):
    sign_in(client, "pat")
    for path in PORTAL_PAGES:
        html = client.get(path).get_data(as_text=True)
        body = html[html.index("<main"):html.index("</main>")]
        assert "<script" not in body and "onclick" not in body and "javascript:" not in body
        assert all(form.startswith('<form') and 'method="post"' in form
                   for form in re.findall(r"<form[^>]*>", body))
