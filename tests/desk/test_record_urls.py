"""A desk URL names a patient and one of their records: another patient's record under it is 404, even for an admin
who may see both patients, and a URL naming the record alone reaches only its own patient's desk
(permissions.get_record_for)."""

from __future__ import annotations

import pytest

from helpers import sign_in
from worlds.records import Records, records_world


@pytest.fixture
def olives(app, personas) -> Records:
    """The records world for Olive, on Otto's caseload: a specimen, a session mark, an activity, a redemption and a
    draw of hers."""
    return records_world(app, personas.other_patient)


PAGES = [
    ("get", "/staff/patients/{patient}/specimens/{specimen}"),
    ("get", "/staff/patients/{patient}/specimens/{specimen}/correct"),
    ("get", "/staff/patients/{patient}/attendance/{attendance}/correct"),
    ("post", "/staff/patients/{patient}/activities/{activity}/verify"),
]


@pytest.mark.parametrize(("method", "url"), PAGES, ids=[url for _, url in PAGES])
def test_another_patients_record_under_a_patients_url_is_not_found(client, personas, olives, method, url):
    sign_in(client, "ada")
    response = getattr(client, method)(url.format(patient=personas.patient, **vars(olives)))
    assert response.status_code == 404


@pytest.mark.parametrize(("method", "url"), PAGES, ids=[url for _, url in PAGES])
def test_the_record_under_its_own_patients_url_is_reached(client, personas, olives, method, url):
    sign_in(client, "ada")
    response = getattr(client, method)(url.format(patient=personas.other_patient, **vars(olives)))
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("url", ["/staff/redemptions/{redemption}/fulfil", "/staff/draws/{draw}/handover"])
def test_a_record_of_another_caseload_named_alone_is_not_found(client, olives, url):
    sign_in(client, "cora")
    assert client.post(url.format(**vars(olives))).status_code == 404
