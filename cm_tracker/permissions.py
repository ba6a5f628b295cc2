"""Who may do what (docs/api.md "Who may do what"), in one place for views, the API and templates.

Role predicates answer "may this kind of user do this at all"; `get_patient_for` answers "may this user reach this
patient" and turns every "no" into a 404, so that nobody learns which patient ids exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, request
from sqlalchemy import ColumnElement, bindparam, false, select, true
from sqlalchemy.orm.util import identity_key

from cm_tracker.extensions import db
from cm_tracker.models import Consent, LabResult, Patient, Role, User
from cm_tracker.services.core import audit
from cm_tracker.services.core.caseload import caseload_filter, on_caseload, sees_every_patient
from cm_tracker.services.queries import consents as consents_reads
from cm_tracker.services.queries import records
from cm_tracker.services.queries.records import PatientRecord
from cm_tracker.services.usecases.access_log import log_now

STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.COUNSELOR})
OVERSIGHT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
CASELOAD_ROLES = frozenset({Role.ADMIN, Role.COUNSELOR})
LAB_RESULT_SENDERS = frozenset({Role.ADMIN, Role.MANAGER, Role.LAB})


def is_patient(user: User) -> bool:
    """A patient account, which reaches only its own record through /me and the portal."""
    return user.role == Role.PATIENT and user.patient_id is not None


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_view_caseload(user: User) -> bool:
    """The caseload pages: a counselor sees their own patients, an admin sees every patient."""
    return user.role in CASELOAD_ROLES


def can_see_every_patient(user: User) -> bool:
    """Whether the user's caseload is the whole clinic (core.caseload); pages word their lists by it."""
    return sees_every_patient(user)


@dataclass(frozen=True)
class CaseloadWording:
    """How the pages name a user's caseload: its title, the line under it and what an empty one says."""

    title: str
    lead: str
    empty: str


EVERY_PATIENT = CaseloadWording(
    "All patients", "Every patient of the clinic, with their programme, balance and next visit.",
    "There are no patient records yet.")
OWN_CASELOAD = CaseloadWording(
    "Your caseload", "The patients assigned to you, with what they hold and when they are next due.",
    "No patients are assigned to you yet. When a patient is added to your caseload they appear here.")


def caseload_wording(user: User) -> CaseloadWording:
    return EVERY_PATIENT if sees_every_patient(user) else OWN_CASELOAD


def can_manage_users(user: User) -> bool:
    return user.role == Role.ADMIN


def can_manage_programs(user: User) -> bool:
    return user.role in OVERSIGHT_ROLES


def can_read_programs(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_manage_catalog(user: User) -> bool:
    return user.role in OVERSIGHT_ROLES


def can_view_reports(user: User) -> bool:
    return user.role in OVERSIGHT_ROLES


def can_adjust_manually(user: User) -> bool:
    return user.role in OVERSIGHT_ROLES


def can_view_audit(user: User) -> bool:
    return user.role == Role.ADMIN


def is_lab(user: User) -> bool:
    """An integration account of a laboratory: it posts lab results and reaches nothing else, no page either."""
    return user.role == Role.LAB


def can_post_lab_results(user: User) -> bool:
    """POST /api/v1/lab-results: the lab's own account, and admins and managers (a file a lab sent by other means)."""
    return user.role in LAB_RESULT_SENDERS


def can_create_patients(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_manage_closures(user: User) -> bool:
    """Recording a clinic closure excuses every patient's visits that day: admins only."""
    return user.role == Role.ADMIN


def can_change_caseload(user: User) -> bool:
    """Moving a patient to another counselor's caseload (usecases.patients.update_patient checks it too)."""
    return user.role in OVERSIGHT_ROLES


def can_manage_consents(user: User) -> bool:
    """Part 2 consents and disclosures (docs/part2.md): admins, managers and counselors, each for the patients
    within their reach (`get_patient_for`), so a counselor only for their own caseload."""
    return user.role in STAFF_ROLES


def can_reach_patient(user: User, patient: Patient) -> bool:
    """Staff read the patients on their caseload (admins and managers: every patient); patients use /me only."""
    return is_staff(user) and on_caseload(user, patient)


def patient_scope(user: User) -> ColumnElement[bool]:
    """`can_reach_patient` as a condition on Patient, for the lists that show many patients' records (the Part 2
    overview and the caseload's line of revocation requests)."""
    return caseload_filter(user) if is_staff(user) else false()


def may_record_events(user: User) -> bool:
    """The roles that record results, redeem and draw at all; which patients is `can_record_events`."""
    return user.role in {Role.ADMIN, Role.COUNSELOR}


def can_record_events(user: User, patient: Patient) -> bool:
    """Recording results, redeeming and drawing: admins, and counselors for their own caseload."""
    return may_record_events(user) and on_caseload(user, patient)


def can_review_lab_results(user: User) -> bool:
    """The review queue of held lab results: every staff role, each within the reach of `lab_result_scope`."""
    return user.role in STAFF_ROLES


def can_read_lab_messages(user: User) -> bool:
    """The lab bodies as received: they name patients a counselor may not reach, so oversight only."""
    return user.role in OVERSIGHT_ROLES


def can_view_lab_codes(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_manage_lab_codes(user: User) -> bool:
    return user.role in OVERSIGHT_ROLES


def can_review_lab_result(user: User, result: LabResult) -> bool:
    """A held lab result: admins and managers review every one; a counselor only those already tied to a patient on
    their caseload (one whose record number is unknown names nobody they may see). `lab_result_scope` in SQL."""
    if sees_every_patient(user):
        return True
    patient = db.session.get(Patient, result.patient_id) if result.patient_id is not None else None
    return user.role == Role.COUNSELOR and patient is not None and on_caseload(user, patient)


def lab_result_scope(user: User) -> ColumnElement[bool]:
    """`can_review_lab_result` as a condition on LabResult, for the queue, its count and the recently resolved."""
    if sees_every_patient(user):
        return true()
    if user.role != Role.COUNSELOR:
        return false()
    return LabResult.patient_id.in_(select(Patient.id).where(caseload_filter(user)))


def get_lab_result_for(user: User, result_id: int) -> LabResult:
    """A lab result within the user's review reach, else 404 (audited as a denial, like a patient out of reach)."""
    result = db.session.get(LabResult, result_id)
    if result is None or not can_review_lab_result(user, result):
        log_now("lab_result.view", user=user, outcome=audit.DENIED, object_type="lab_result", object_id=result_id)
        abort(404)
    return result


# Built once: nearly every patient page and API call loads its patient through here, and `Session.get` builds its
# statement and that statement's cache key anew on every call, which costs about as much as running it.
_PATIENT = select(Patient).where(Patient.id == bindparam("patient_id"))


def _load_patient(patient_id: int) -> Patient | None:
    """`db.session.get(Patient, patient_id)`: a patient already in the session comes from `get` (no statement, or
    a refresh of an expired one); any other is read with the statement built once."""
    if identity_key(Patient, patient_id) in db.session.identity_map:
        return db.session.get(Patient, patient_id)
    return db.session.scalar(_PATIENT, {"patient_id": patient_id})


def get_patient_for(user: User, patient_id: int, *, write: bool = False) -> Patient:
    """The patient if `user` may reach it (and write to it, when asked), else 404; both outcomes are audited (a
    write's success by the use case that writes, unless the request only shows the record)."""
    patient = _load_patient(patient_id)
    allowed = patient is not None and (
        can_record_events(user, patient) if write else can_reach_patient(user, patient)
    )
    action = "patient.write_access" if write else "patient.view"
    if not allowed or patient is None:
        log_now(action, user=user, outcome=audit.DENIED, patient_id=patient_id, object_type="patient")
        abort(404)
    # A page that loads the record to change it shows it first (the form's GET): that is a read like any other.
    # The change itself is audited by its use case, in its transaction.
    if not write or request.method in ("GET", "HEAD"):
        log_now("patient.view", user=user, patient_id=patient.id, object_type="patient", object_id=patient.id)
    return patient


def get_consent_for(user: User, consent_id: int) -> tuple[Patient, Consent]:
    """A consent with its patient, through `get_patient_for` (404 outside the user's reach, audited); an unknown id
    gets the same 404."""
    patient = get_patient_for(user, consents_reads.consent_patient(consent_id))
    consent = consents_reads.get_consent(consent_id)
    if consent is None:  # cannot happen for an id that named a patient (no consent is removed); for the types
        abort(404)
    return patient, consent


def get_record_for(user: User, kind: type[PatientRecord], record_id: int, *, patient_id: int | None = None,
                   write: bool = False) -> tuple[Patient, PatientRecord]:
    """A patient's record (a specimen, a session mark, an activity, a redemption, a draw) with its patient, through
    `get_patient_for` (404 outside the user's reach, audited). Under a patient's URL (`patient_id`), another
    patient's record is 404 too, even one the user may see; a URL naming the record alone reaches the record's own
    patient, and an unknown id gets the same 404 as one outside the user's reach."""
    owner = records.patient_of(kind, record_id) if patient_id is None else patient_id
    patient = get_patient_for(user, owner, write=write)
    return patient, records.record_of(kind, patient.id, record_id)
