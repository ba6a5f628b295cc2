"""A patient asks, from the portal or /me, to revoke (withdraw) one of their own Part 2 consents (42 CFR 2.31(a)(6);
docs/part2.md "What the patient sees").

The request is a row of its own (append-only, one per consent): staff record the revocation itself, but from the
day of the request no disclosure under that consent is accepted (core.consents.why_not_covered). Another patient's
consent and an id that does not exist get the same "not found", so nobody learns which consents exist.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from cm_tracker.extensions import db
from cm_tracker.models import ConsentRevocationRequest, Patient, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.consents import ConsentStatus
from cm_tracker.services.core.errors import Conflict, NotFound, ValidationFailed
from cm_tracker.services.queries import consents as reads
from cm_tracker.services.queries.consents import ConsentView
from cm_tracker.services.usecases.access_log import log_now

MAX_NOTE = 1000
ACTION = "consent.revocation_request"
# Codes of the refusals, which the portal words in the patient's language (patient/wording.py).
ALREADY_REVOKED, ALREADY_REQUESTED, NOT_IN_EFFECT = "already_revoked", "already_requested", "not_in_effect"


def _note(note: str) -> str:
    """The patient's own words: line breaks are theirs to keep, other control characters (NUL) cannot be stored."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed("The request was not sent.", fields={"note": f"Must be at most {MAX_NOTE} characters."})
    if any((ord(ch) < 32 and ch not in "\n\r\t") or ord(ch) == 127 for ch in note):
        raise ValidationFailed("The request was not sent.", fields={"note": "Must not contain control characters."})
    return note


def own_consent(patient: Patient, consent_id: int, *, user: User, action: str) -> ConsentView:
    """One of the patient's own consents with its state today; any other id is not found, and the try is audited
    (as `action`, refused)."""
    consent = reads.get_consent(consent_id)
    if consent is None or consent.patient_id != patient.id:
        log_now(action, user=user, outcome=audit.DENIED, patient_id=patient.id, object_type="consent",
                object_id=consent_id)
        raise NotFound("You have no consent with this id.")
    return reads.consent_view(consent, clinic_today())


def refusal(view: ConsentView) -> Conflict | None:
    """Why the consent cannot be asked to end (409 with the reason's code), or None while it is in effect and nobody
    has asked yet."""
    if view.revocation is not None:
        return Conflict(f"This consent was already revoked on {view.revocation.revoked_on:%Y-%m-%d}.",
                        code=ALREADY_REVOKED)
    if view.revocation_request is not None:
        return Conflict(f"You already asked on {view.revocation_request.requested_on:%Y-%m-%d} to revoke this "
                        "consent; the clinic will record it.", code=ALREADY_REQUESTED)
    if view.status != ConsentStatus.ACTIVE:
        return Conflict("This consent is no longer in effect: there is nothing to revoke.", code=NOT_IN_EFFECT)
    return None


def consent_to_withdraw(patient: Patient, consent_id: int, *, user: User) -> ConsentView:
    """The consent the portal's confirmation page shows, read (and audited) as one of the patient's consents."""
    view = own_consent(patient, consent_id, user=user, action="consents.view")
    log_now("consents.view", user=user, patient_id=patient.id, object_type="consent", object_id=consent_id,
            detail={"via": "portal/withdraw"})
    return view


def request_revocation(patient: Patient, consent_id: int, note: str, *, actor: User) -> ConsentView:
    """Record the patient's request to revoke their consent from today (the clinic's date), with their note."""
    note = _note(note)
    view = own_consent(patient, consent_id, user=actor, action=ACTION)
    refused = refusal(view)
    if refused is not None:
        raise refused
    today = clinic_today()
    db.session.add(ConsentRevocationRequest(consent_id=consent_id, patient_id=patient.id, requested_on=today,
                                            note=note, requested_by_id=actor.id))
    audit.record(ACTION, user=actor, patient_id=patient.id, object_type="consent", object_id=consent_id,
                 detail={"requested_on": today.isoformat()})
    try:
        db.session.commit()
    except IntegrityError:  # asked from a second tab, or a double click, between our check and our commit
        db.session.rollback()
        raise Conflict("You already asked to revoke this consent; the clinic will record it.",
                       code=ALREADY_REQUESTED) from None
    return reads.consent_view(view.consent, today)
