"""Disclosures for the accounting tests (tests/part2/test_accounting_*.py), recorded through the API on the personas'
clinic on the consent tests' fixed day (consents.conftest.TODAY, Mon 15 Mar 2027)."""

from __future__ import annotations

from dataclasses import dataclass

from consents.conftest import consent_id, post_disclosure
from flask import Flask
from flask.testing import FlaskClient

from helpers import api_token

RECIPIENT = "Dr Ana Ruiz, Riverside Clinic"
TPO_CLASS = "My treating providers at Riverside Health"


@dataclass(frozen=True)
class Accounting:
    consent: int  # a named consent, signed 1 Jun 2023
    tpo_consent: int  # a class consent, signed 1 Jun 2023
    ids: dict[str, int]  # disclosure ids by the day disclosed


def record(client: FlaskClient, patient: int, consent: int, day: str, **changes: str) -> int:
    response = post_disclosure(client, api_token(client, "cora"), patient, consent, disclosed_on=day, **changes)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def accounting_world(client: FlaskClient, patient: int) -> Accounting:
    """Pat's disclosures on the edges of the three years before TODAY: 14 Mar 2024 (one day too early), 15 Mar 2024
    (exactly three years), 1 Jul 2026 to a member of a class consent, 15 Mar 2027 (today)."""
    headers = api_token(client, "cora")
    named = consent_id(client, headers, patient, signed_on="2023-06-01", expires_on="2028-06-01")
    tpo = consent_id(client, headers, patient, signed_on="2023-06-01", expires_on="2028-06-01",
                     recipient_kind="tpo_class", recipient=TPO_CLASS, purpose="Treatment and payment")
    ids = {day: record(client, patient, named, day, description=f"Results up to {day}")
           for day in ("2024-03-14", "2024-03-15", "2027-03-15")}
    ids["2026-07-01"] = record(client, patient, tpo, "2026-07-01", recipient="Dr Lee, Riverside cardiology",
                               description="Attendance of June 2026")
    return Accounting(named, tpo, ids)


def add_packet(app: Flask, disclosure_id: int) -> None:
    """The packet that left with a disclosure, as a row (its own use case belongs to the disclosure pages)."""
    from datetime import date

    from cm_tracker.extensions import db
    from cm_tracker.models import DisclosurePacket

    with app.app_context():
        db.session.add(DisclosurePacket(disclosure_id=disclosure_id, period_start=date(2026, 6, 1),
                                        period_end=date(2026, 6, 30), sections="attendance", language="en",
                                        content="{}", content_digest="0" * 64))
        db.session.commit()
