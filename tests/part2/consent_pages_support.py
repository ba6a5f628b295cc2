"""What the consent pages' tests share: the day they run on (tests/consents' TODAY), consents written through the use
case, a patient's revocation request written as the portal writes it, and the form's fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from consents.conftest import NOW, TODAY
from flask import Flask

__all__ = ["FORM", "NOW", "TODAY", "add_consent", "add_disclosure", "add_request", "add_revocation"]

# What a counselor types on the new-consent form (the field names of staff.consent_forms.ConsentForm).
FORM = {"recipient_kind": "named", "recipient": "Dr Ana Ruiz, Riverside Clinic",
        "information": "Urine test results and attendance, January to March 2027",
        "purpose": "Coordinating my treatment", "expires_on": "2027-12-31", "expiry_event": "",
        "signed_on": "2027-03-10", "discloser": "Riverside CM programme"}


def add_consent(app: Flask, patient_id: int, actor_id: int, **changes: Any) -> int:
    """A consent recorded through usecases.consents (signed 4 Jan 2027, expiring 31 Dec 2027 unless changed)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Patient, User
    from cm_tracker.services.usecases.consents import ConsentInput, record_consent

    values = {"information": "Urine test results", "recipient": "Dr Ana Ruiz", "purpose": "Coordinating my care",
              "signed_on": date(2027, 1, 4), "expires_on": date(2027, 12, 31), **changes}
    with app.test_request_context():
        view = record_consent(db.session.get(Patient, patient_id), ConsentInput(**values),
                              actor=db.session.get(User, actor_id))
        return view.consent.id


def add_revocation(app: Flask, consent_id: int, actor_id: int, revoked_on: date, note: str = "") -> None:
    from cm_tracker.extensions import db
    from cm_tracker.models import User
    from cm_tracker.services.queries.consents import get_consent
    from cm_tracker.services.usecases.consents import revoke_consent

    with app.test_request_context():
        revoke_consent(get_consent(consent_id), revoked_on, note=note, actor=db.session.get(User, actor_id))


def add_request(app: Flask, consent_id: int, patient_id: int, requested_on: date, note: str = "") -> None:
    """The patient's request to revoke, as a row (the portal's own tests cover how the portal writes it)."""
    from cm_tracker.extensions import db
    from cm_tracker.models import ConsentRevocationRequest

    with app.app_context():
        db.session.add(ConsentRevocationRequest(consent_id=consent_id, patient_id=patient_id,
                                                requested_on=requested_on, note=note))
        db.session.commit()


def add_disclosure(app: Flask, patient_id: int, consent_id: int, disclosed_on: date, *,
                   recipient: str = "Dr Ana Ruiz", description: str = "Results of February 2027") -> None:
    """A disclosure as a row: these tests read disclosures, the disclosure pages' own tests record them."""
    from cm_tracker.extensions import db
    from cm_tracker.models import Disclosure

    with app.app_context():
        db.session.add(Disclosure(patient_id=patient_id, consent_id=consent_id, recipient=recipient,
                                  description=description, disclosed_on=disclosed_on))
        db.session.commit()

