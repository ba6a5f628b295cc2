"""Who may do what (docs/api.md "Who may do what"), in one place for views, the API and templates.

Role predicates answer "may this kind of user do this at all"; `get_patient_for` answers "may this user reach this
patient" and turns every "no" into a 404, so that nobody learns which patient ids exist.
"""

from __future__ import annotations

from flask import abort

from cm_tracker.extensions import db
from cm_tracker.models import Patient, Role, User
from cm_tracker.services.core import audit
from cm_tracker.services.usecases.access_log import log_now

STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.COUNSELOR})
OVERSIGHT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
CASELOAD_ROLES = frozenset({Role.ADMIN, Role.COUNSELOR})


def is_patient(user: User) -> bool:
    """A patient account, which reaches only its own record through /me and the portal."""
    return user.role == Role.PATIENT and user.patient_id is not None


def is_staff(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_view_caseload(user: User) -> bool:
    """The caseload pages: a counselor sees their own patients, an admin sees every patient."""
    return user.role in CASELOAD_ROLES


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


def can_create_patients(user: User) -> bool:
    return user.role in STAFF_ROLES


def can_manage_closures(user: User) -> bool:
    """Recording a clinic closure excuses every patient's visits that day: admins only."""
    return user.role == Role.ADMIN


def can_change_caseload(user: User) -> bool:
    """Moving a patient to another counselor's caseload (usecases.patients.update_patient checks it too)."""
    return user.role in OVERSIGHT_ROLES


def can_reach_patient(user: User, patient: Patient) -> bool:
    """Admins and managers read every patient; a counselor reads their own caseload; patients use /me only."""
    if user.role in OVERSIGHT_ROLES:
        return True
    return user.role == Role.COUNSELOR and patient.counselor_id == user.id


def may_record_events(user: User) -> bool:
    """The roles that record results, redeem and draw at all; which patients is `can_record_events`."""
    return user.role in {Role.ADMIN, Role.COUNSELOR}


def can_record_events(user: User, patient: Patient) -> bool:
    """Recording results, redeeming and drawing: admins, and counselors for their own caseload."""
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COUNSELOR and patient.counselor_id == user.id


def get_patient_for(user: User, patient_id: int, *, write: bool = False) -> Patient:
    """The patient if `user` may reach it (and write to it, when asked), else 404; both outcomes are audited."""
    patient = db.session.get(Patient, patient_id)
    allowed = patient is not None and (
        can_record_events(user, patient) if write else can_reach_patient(user, patient)
    )
    action = "patient.write_access" if write else "patient.view"
    if not allowed or patient is None:
        log_now(action, user=user, outcome=audit.DENIED, patient_id=patient_id, object_type="patient")
        abort(404)
    if not write:
        log_now(action, user=user, patient_id=patient.id, object_type="patient", object_id=patient.id)
    return patient
