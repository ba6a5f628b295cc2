"""The rule of core.consents as a table: a consent's status on a day, and whether it covers a recipient; and the
rows themselves, which are never changed or removed."""

from __future__ import annotations

from datetime import date

import pytest

SIGNED, EXPIRES, REVOKED = date(2027, 1, 4), date(2027, 6, 30), date(2027, 3, 1)


def _consent(kind: str = "named", expires_on: date | None = EXPIRES):
    from cm_tracker.models import Consent, RecipientKind

    return Consent(patient_id=1, discloser="p", information="results", recipient_kind=RecipientKind(kind),
                   recipient="Dr Ana Ruiz", purpose="care", signed_on=SIGNED, expires_on=expires_on,
                   expiry_event=None if expires_on else "end of treatment")


@pytest.mark.parametrize(("day", "revoked_on", "status"), [
    (date(2027, 1, 3), None, "not_yet_signed"),
    (SIGNED, None, "active"),
    (EXPIRES, None, "active"),
    (date(2027, 7, 1), None, "expired"),
    (date(2027, 2, 28), REVOKED, "active"),
    (REVOKED, REVOKED, "revoked"),
    (date(2027, 7, 1), REVOKED, "revoked"),  # a revocation wins over the expiry after it
])
def test_a_consents_status_on_a_day(day, revoked_on, status):
    from cm_tracker.services.core.consents import status_on

    assert status_on(_consent(), revoked_on, day) == status


def test_a_consent_that_expires_by_an_event_holds_until_revoked():
    from cm_tracker.services.core.consents import status_on

    assert status_on(_consent(expires_on=None), None, date(2040, 1, 1)) == "active"


@pytest.mark.parametrize(("kind", "recipient", "covered"), [
    ("named", "Dr Ana Ruiz", True),
    ("named", "  DR ANA   ruiz ", True),
    ("named", "Dr Ana Ruiz-Lopez", False),
    ("tpo_class", "Anyone the staff attest is in the class", True),
    ("tpo_class", "   ", False),
])
def test_which_recipients_a_consent_covers(kind, recipient, covered):
    from cm_tracker.services.core.consents import why_not_covered

    assert (why_not_covered(_consent(kind), None, recipient, SIGNED) is None) == covered


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_models_refuse_to_change_or_remove_a_consent(app, ctx, personas, change):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import Consent
    from cm_tracker.models.types import AppendOnlyError

    consent = _consent()
    consent.patient_id = personas.patient
    db.session.add(consent)
    db.session.commit()
    if change == "update":
        consent.recipient = "Someone else"
    else:
        db.session.delete(consent)
    with pytest.raises(AppendOnlyError, match="Consent rows are append-only"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(Consent.recipient)).all() == ["Dr Ana Ruiz"]
