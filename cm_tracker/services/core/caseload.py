"""Whose patients a user works with: "on my caseload", in one place for permissions, queries and pages.

Admins and managers oversee every patient of the clinic; a counselor's caseload is the patients assigned to them
(`Patient.counselor_id`); a patient account has no caseload (it reaches its own record through /me only). What a
user may do with a patient on their caseload (read, record) is permissions.py's to say.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from cm_tracker.models import Patient, Role, User

EVERY_PATIENT_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def sees_every_patient(user: User) -> bool:
    return user.role in EVERY_PATIENT_ROLES


def on_caseload(user: User, patient: Patient) -> bool:
    return sees_every_patient(user) or (user.role == Role.COUNSELOR and patient.counselor_id == user.id)


def caseload_filter(user: User) -> ColumnElement[bool]:
    """`on_caseload` as a condition on Patient, for queries of many patients."""
    if sees_every_patient(user):
        return true()
    if user.role == Role.COUNSELOR:
        return assigned_to(user.id)
    return false()


def assigned_to(counselor_id: int) -> ColumnElement[bool]:
    """The patients of one counselor's caseload (the reports' counselor filter, a counselor's own caseload)."""
    return Patient.counselor_id == counselor_id

