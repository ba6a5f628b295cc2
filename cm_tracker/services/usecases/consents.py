"""42 CFR Part 2 (docs/part2.md): recording a patient's consent (2.31) and its revocation, recording a disclosure
made under a consent, and reading both (the accounting of disclosures, 2.25), every one audited.

Nothing here changes or removes a row: the tables are append-only and kept at least six years, so there is no
delete path. A disclosure is refused (409 `no_consent`) unless the consent it names is the patient's own, holds on
the day disclosed and covers the recipient (core.consents); an unknown consent id gets the same answer as another
patient's, so nobody learns which consents exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from cm_tracker.extensions import db
from cm_tracker.models import Consent, ConsentRevocation, Disclosure, Patient, RecipientKind, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.clinic import clinic_today
from cm_tracker.services.core.consents import revocation_requests_of, revocations_of, why_not_covered
from cm_tracker.services.core.context import clinic_settings
from cm_tracker.services.core.errors import Conflict, ValidationFailed
from cm_tracker.services.queries import consents as reads
from cm_tracker.services.queries.consents import EARLIEST, ConsentView, DisclosureView, Window
from cm_tracker.services.usecases.access_log import log_now
from cm_tracker.services.usecases.disclosure_packets import PacketChoice, check_choice, describe, packet_row

# How far ahead a consent's expiry date may lie: ten years (a longer one is a typing error: 2062 for 2026).
EXPIRY_YEARS_AHEAD = 10
MAX_NAME, MAX_EVENT, MAX_PURPOSE, MAX_TEXT, MAX_NOTE = 200, 500, 1000, 2000, 1000
MAX_KEY = 64  # a page form's one-time key (record_disclosure_once)


@dataclass(frozen=True)
class ConsentInput:
    information: str
    recipient: str
    purpose: str
    signed_on: date
    recipient_kind: str = RecipientKind.NAMED.value
    expires_on: date | None = None
    expiry_event: str = ""
    discloser: str = ""  # blank: the clinic's name (CLINIC_NAME)


@dataclass(frozen=True)
class DisclosureInput:
    consent_id: int
    recipient: str
    description: str
    disclosed_on: date


def _text(fields: dict[str, str], name: str, value: str, limit: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        fields[name] = "Required."
    elif len(value) > limit:
        fields[name] = f"Must be at most {limit} characters."
    return value


def _day(fields: dict[str, str], name: str, value: date | None, latest: date, *, earliest: date = EARLIEST,
         too_late: str = "Must not be after today.") -> None:
    if value is None:
        return
    if value < earliest:
        fields[name] = f"Must be on or after {earliest:%Y-%m-%d}."
    elif value > latest:
        fields[name] = too_late


def _kind(fields: dict[str, str], raw: str) -> RecipientKind:
    try:
        return RecipientKind(raw)
    except ValueError:
        fields["recipient_kind"] = "Must be named or tpo_class."
        return RecipientKind.NAMED


def _consent_row(values: ConsentInput, today: date) -> Consent:
    fields: dict[str, str] = {}
    row = Consent(
        discloser=_text(fields, "discloser", values.discloser, MAX_NAME, required=False) or clinic_settings().name,
        information=_text(fields, "information", values.information, MAX_TEXT),
        recipient_kind=_kind(fields, values.recipient_kind),
        recipient=_text(fields, "recipient", values.recipient, MAX_NAME),
        purpose=_text(fields, "purpose", values.purpose, MAX_PURPOSE),
        signed_on=values.signed_on, expires_on=values.expires_on,
        expiry_event=_text(fields, "expiry_event", values.expiry_event, MAX_EVENT, required=False) or None)
    _day(fields, "signed_on", values.signed_on, today, too_late="A consent is recorded once signed: not after today.")
    latest = reads.years_after(today, EXPIRY_YEARS_AHEAD)
    _day(fields, "expires_on", values.expires_on, latest,
         too_late=f"Must be at most {EXPIRY_YEARS_AHEAD} years ahead, on or before {latest:%Y-%m-%d}.")
    if values.expires_on is not None and EARLIEST <= values.expires_on < values.signed_on:
        fields["expires_on"] = "Must not be before the day the consent was signed (signed_on)."
    if values.expires_on is None and row.expiry_event is None:
        fields["expires_on"] = "Give the day the consent expires, or the event on which it does (expiry_event)."
    if fields:
        raise ValidationFailed("The consent was not recorded.", fields=fields)
    return row


def record_consent(patient: Patient, values: ConsentInput, *, actor: User) -> ConsentView:
    """Record a consent the patient signed (on paper, or on the printed form)."""
    today = clinic_today()
    consent = _consent_row(values, today)
    consent.patient_id, consent.recorded_by_id = patient.id, actor.id
    db.session.add(consent)
    db.session.flush()
    audit.record("consent.create", user=actor, patient_id=patient.id, object_type="consent", object_id=consent.id,
                 detail={"recipient_kind": str(consent.recipient_kind), "signed_on": consent.signed_on.isoformat()})
    db.session.commit()
    return reads.consent_view(consent, today)


@dataclass(frozen=True)
class Recorded:
    view: ConsentView
    replayed: bool  # the same consent was already recorded (a form sent twice): nothing was written


def record_consent_once(patient: Patient, values: ConsentInput, *, actor: User) -> Recorded:
    """record_consent for a page's form, which a double click, Back and send again or a second tab may send twice:
    a consent identical in every field to one of the patient's (the same signature day too) is that signed document
    again, never a second consent, so it is answered with the first and nothing is written. The patient is locked
    before the look, so two sends at the same moment cannot both find nothing."""
    today = clinic_today()
    row = _consent_row(values, today)
    _lock_patient(patient.id)
    found = reads.same_consent(patient.id, row)
    if found is None:
        return Recorded(record_consent(patient, values, actor=actor), replayed=False)
    db.session.commit()  # ends the lock (and keeps the request's audit rows); nothing of the consent is written
    return Recorded(reads.consent_view(found, today), replayed=True)


def _lock_patient(patient_id: int) -> None:
    """A write that changes nothing: it holds the patient's row lock (PostgreSQL) or the write lock (SQLite) until
    commit, as core.ledger.lock_enrollment does for an enrolment."""
    db.session.execute(update(Patient).where(Patient.id == patient_id).values(version=Patient.version),
                       execution_options={"synchronize_session": False})


def revoke_consent(consent: Consent, revoked_on: date, *, note: str = "", actor: User) -> ConsentView:
    """Record that the patient revoked the consent from `revoked_on`: disclosures from that day on are refused;
    those before it stay in the accounting."""
    today = clinic_today()
    fields: dict[str, str] = {}
    note = _text(fields, "note", note, MAX_NOTE, required=False)
    _day(fields, "revoked_on", revoked_on, today)
    if EARLIEST <= revoked_on < consent.signed_on:
        fields["revoked_on"] = f"Must not be before the day the consent was signed ({consent.signed_on:%Y-%m-%d})."
    if fields:
        raise ValidationFailed("The revocation was not recorded.", fields=fields)
    if revocations_of([consent.id]):
        raise Conflict("This consent is already revoked.", code="already_revoked")
    db.session.add(ConsentRevocation(consent_id=consent.id, revoked_on=revoked_on, note=note,
                                     revoked_by_id=actor.id))
    audit.record("consent.revoke", user=actor, patient_id=consent.patient_id, object_type="consent",
                 object_id=consent.id, detail={"revoked_on": revoked_on.isoformat()})
    try:
        db.session.commit()
    except IntegrityError:  # revoked by someone else between our check and our commit
        db.session.rollback()
        raise Conflict("This consent is already revoked.", code="already_revoked") from None
    return reads.consent_view(consent, today)


def record_disclosure(patient: Patient, values: DisclosureInput, *, actor: User,
                      packet: PacketChoice | None = None) -> DisclosureView:
    """Record a disclosure of the patient's records made under one of their consents, with the packet of records
    it carried when cm-tracker printed them (`packet`), or refuse it (409 `no_consent`) when that consent does not
    permit it: then nothing is written. The disclosure and its packet are written in one transaction."""
    return _disclose(patient, values, actor, packet, None).view


@dataclass(frozen=True)
class Disclosed:
    view: DisclosureView
    replayed: bool  # the form was sent before (a double click, Back and send again): nothing was written


def record_disclosure_once(patient: Patient, values: DisclosureInput, *, actor: User, packet: PacketChoice | None,
                           form_key: str) -> Disclosed:
    """record_disclosure for a page's form, which carries a fresh key each time it is shown: the key is kept in the
    disclosure's audit row, and the same key again is answered with that disclosure. The patient is locked before
    the second look, so two sends at the same moment cannot both find nothing."""
    return _disclose(patient, values, actor, packet, form_key.strip()[:MAX_KEY] or None)


def _disclose(patient: Patient, values: DisclosureInput, actor: User, packet: PacketChoice | None,
              key: str | None) -> Disclosed:
    recipient, description = _checked_disclosure(values, packet)
    if key and (done := reads.disclosure_with_key(patient.id, actor.id, key)):
        return Disclosed(reads.disclosure_view(done), replayed=True)
    consent = _permitting(patient, values, recipient, actor)
    if key:
        _lock_patient(patient.id)
        if done := reads.disclosure_with_key(patient.id, actor.id, key):
            db.session.commit()  # ends the lock; nothing of the disclosure is written
            return Disclosed(reads.disclosure_view(done), replayed=True)
    disclosure = Disclosure(patient_id=patient.id, consent_id=consent.id, recipient=recipient,
                            description=description, disclosed_on=values.disclosed_on, recorded_by_id=actor.id)
    db.session.add(disclosure)
    db.session.flush()
    detail: dict[str, object] = {"consent_id": consent.id, "disclosed_on": values.disclosed_on.isoformat()}
    if packet is not None:
        row = packet_row(patient, packet)
        row.disclosure_id = disclosure.id
        db.session.add(row)
        detail["packet"] = {"sections": row.sections, "language": row.language, "digest": row.content_digest}
    if key:
        detail["form_key"] = key
    audit.record("disclosure.create", user=actor, patient_id=patient.id, object_type="disclosure",
                 object_id=disclosure.id, detail=detail)
    db.session.commit()
    return Disclosed(reads.disclosure_view(disclosure), replayed=False)


def _checked_disclosure(values: DisclosureInput, packet: PacketChoice | None) -> tuple[str, str]:
    """The recipient and description, or ValidationFailed naming every field at fault (the packet's as `records.*`).
    A blank description is the packet's own ("Test results and attendance, 1 November to 30 November 2026")."""
    fields: dict[str, str] = {}
    recipient = _text(fields, "recipient", values.recipient, MAX_NAME)
    description = _text(fields, "description", values.description, MAX_TEXT, required=False)
    if packet is None and not description:  # a rule, not the shape: with a packet the description is optional
        fields["description"] = "Say what was disclosed: required for records sent outside cm-tracker."
    _day(fields, "disclosed_on", values.disclosed_on, clinic_today(),
         too_late="Record a disclosure once made: not after today.")
    if packet is not None:
        check_choice(packet, values.disclosed_on, fields)
    if fields:
        raise ValidationFailed("The disclosure was not recorded.", fields=fields)
    return recipient, description or describe(packet)  # type: ignore[arg-type]


def _permitting(patient: Patient, values: DisclosureInput, recipient: str, actor: User) -> Consent:
    """The consent named, when it permits this disclosure; else the refusal (409 no_consent, audited)."""
    consent = reads.get_consent(values.consent_id)
    if consent is None or consent.patient_id != patient.id:
        _refuse(patient, values, "This patient has no consent with this id.", actor)
    revocation = revocations_of([consent.id]).get(consent.id)
    request = revocation_requests_of([consent.id]).get(consent.id)
    reason = why_not_covered(consent, revocation.revoked_on if revocation else None, recipient, values.disclosed_on,
                             request.requested_on if request and revocation is None else None)
    if reason is not None:
        _refuse(patient, values, reason, actor)
    return consent


def _refuse(patient: Patient, values: DisclosureInput, reason: str, actor: User) -> NoReturn:
    """A refused disclosure is on record too (someone tried to disclose without consent), then answered 409."""
    log_now("disclosure.create", user=actor, outcome=audit.DENIED, patient_id=patient.id, object_type="consent",
            object_id=values.consent_id, detail={"reason": "no_consent"})
    raise Conflict(f"No consent permits this disclosure: {reason}", code="no_consent")


def read_consents(patient: Patient, *, user: User, via: str) -> list[ConsentView]:
    """A patient's consents as staff or the patient read them (audited)."""
    found = reads.consents_of(patient.id, clinic_today())
    log_now("consents.view", user=user, patient_id=patient.id, object_type="patient", object_id=patient.id,
            detail={"via": via})
    return found


def read_disclosures(patient: Patient, *, user: User, via: str, start: date | None = None,
                     end: date | None = None) -> tuple[Window, list[DisclosureView]]:
    """The accounting of disclosures of a patient, by default of the past three years (audited, with its window)."""
    window = reads.accounting_window(clinic_today(), start, end)
    found = reads.disclosures_of(patient.id, window)
    log_now("disclosures.view", user=user, patient_id=patient.id, object_type="patient", object_id=patient.id,
            detail={"via": via, "from": window.start.isoformat(), "to": window.end.isoformat()})
    return window, found
