"""Part 2 fixtures: every consent test runs on the personas' clinic on a fixed day (TODAY), with helpers that post
a consent or a disclosure through the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.testing import FlaskClient

# Mon 15 Mar 2027, 11:00 at the clinic (America/Los_Angeles): the clinic's date is TODAY all day.
NOW = "2027-03-15T18:00:00Z"
TODAY = date(2027, 3, 15)

CONSENT = {"recipient": "Dr Ana Ruiz, Riverside Clinic", "purpose": "Coordinating my treatment",
           "information": "Urine test results and attendance", "signed_on": "2027-01-04", "expires_on": "2027-12-31"}


def post_consent(client: FlaskClient, headers: dict[str, str], patient_id: int, **changes: Any) -> Any:
    """POST a consent: CONSENT with `changes` (a value of None leaves the field out)."""
    body = {k: v for k, v in {**CONSENT, **changes}.items() if v is not None}
    return client.post(f"/api/v1/patients/{patient_id}/consents", json=body, headers=headers)


def consent_id(client: FlaskClient, headers: dict[str, str], patient_id: int, **changes: Any) -> int:
    response = post_consent(client, headers, patient_id, **changes)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def post_disclosure(client: FlaskClient, headers: dict[str, str], patient_id: int, consent: int,
                    **changes: Any) -> Any:
    body = {"consent_id": consent, "recipient": CONSENT["recipient"], "description": "Results of February 2027",
            "disclosed_on": "2027-03-01", **changes}
    return client.post(f"/api/v1/patients/{patient_id}/disclosures", json=body, headers=headers)
