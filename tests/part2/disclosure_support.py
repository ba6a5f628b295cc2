"""What the disclosure tests (test_disclosure_*.py) share: the personas' clinic on Tue 1 Dec 2026 (NOW), a November
of Pat's told through the API (`november_world`) with a consent to disclose it to Dr Ana Ruiz, the form as a
counselor fills it in, and what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from helpers import api_token, sign_in

# Tue 1 Dec 2026, 10:00 at the clinic (America/Los_Angeles).
NOW = "2026-12-01T18:00:00Z"
TODAY = date(2026, 12, 1)
RECIPIENT = "Dr Ana Ruiz, Riverside Clinic"
CONSENT = {"recipient": RECIPIENT, "purpose": "Coordinating my treatment",
           "information": "Urine test results and attendance, November 2026", "signed_on": "2026-11-20",
           "expires_on": "2027-06-30"}
NEG = {"cocaine": "negative", "methamphetamine": "negative"}


@dataclass
class November:
    consent: int
    specimens: list[int]  # collected on 2, 4 and 6 Nov, negative
    headers: dict[str, str]  # Cora's API token


def specimen_body(day: int, results: dict[str, str] = NEG, **extra: Any) -> dict[str, Any]:
    return {"collected_at": f"2026-11-{day:02d}T09:30:00-08:00", "status": "final", "results": results,
            "validity": "valid", "temperature_ok": True, "observed": False, "method": "poc", **extra}


def _visits(app: Flask, patient_id: int, days: tuple[int, ...]) -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, ScheduledVisit, VisitKind

    with app.app_context():
        enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == patient_id))
        db.session.add_all([ScheduledVisit(enrollment_id=enrollment.id, due_on=date(2026, 11, d), kind=VisitKind.TEST,
                                           target_key="stimulants") for d in days])
        db.session.commit()


def november_world(app: Flask, client: FlaskClient, personas: Any) -> November:
    """Pat's November through the API: test visits on 2, 4, 6, 9 and 11 Nov; negatives on 2, 4 and 6 (10, 15 and
    60 points: $2.50, $3.75, $15.00), 9 Nov excused ("Court date"), 11 Nov missed; a consent signed 20 Nov 2026 to
    disclose to Dr Ana Ruiz until 30 Jun 2027."""
    headers = api_token(client, "cora")
    _visits(app, personas.patient, (2, 4, 6, 9, 11))
    specimens = []
    for day in (2, 4, 6):
        response = client.post(f"/api/v1/patients/{personas.patient}/specimens", json=specimen_body(day),
                               headers=headers)
        assert response.status_code == 201, response.get_json()
        specimens.append(response.get_json()["id"])
    excused = client.post(f"/api/v1/patients/{personas.patient}/excuses", headers=headers,
                          json={"on": "2026-11-09", "reason": "Court date"})
    assert excused.status_code == 201, excused.get_json()
    missed = client.post(f"/api/v1/patients/{personas.patient}/specimens", headers=headers,
                         json={"collected_at": "2026-11-11T09:30:00-08:00", "status": "missed"})
    assert missed.status_code == 201, missed.get_json()
    consent = client.post(f"/api/v1/patients/{personas.patient}/consents", json=CONSENT, headers=headers)
    assert consent.status_code == 201, consent.get_json()
    return November(consent.get_json()["id"], specimens, headers)


def form_data(consent: int, **changes: Any) -> dict[str, Any]:
    """The disclosure form as a counselor fills it in: November's results and attendance, in English."""
    data = {"consent_id": str(consent), "key": "form-key-1", "recipient": RECIPIENT, "disclosed_on": "2026-12-01",
            "sent": "packet", "period_from": "2026-11-01", "period_to": "2026-11-30",
            "include": ["results", "attendance"], "language": "en", "description": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def new_page(patient_id: int, consent: int | None = None) -> str:
    return f"/staff/patients/{patient_id}/disclosures/new" + (f"?consent={consent}" if consent else "")


def signed_in(app: Flask, username: str = "cora") -> FlaskClient:
    client = app.test_client()
    sign_in(client, username)
    return client


def counts(app: Flask) -> tuple[int, int]:
    """How many disclosures and packets are stored."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Disclosure, DisclosurePacket

    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Disclosure)),
                db.session.scalar(select(func.count()).select_from(DisclosurePacket)))


def stored_packet(app: Flask) -> Any:
    """The one packet stored, detached, with its content read."""
    import json

    from cm_tracker.extensions import db
    from cm_tracker.models import DisclosurePacket

    with app.app_context():
        [packet] = db.session.scalars(select(DisclosurePacket)).all()
        db.session.expunge(packet)
        packet.records = json.loads(packet.content)
        return packet
