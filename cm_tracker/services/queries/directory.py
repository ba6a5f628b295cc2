"""Reads for the admin pages: the accounts, the patient records still without one, and the clinic's today."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cm_tracker.extensions import db
from cm_tracker.models import Patient, User
from cm_tracker.services.core.errors import NotFound


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return user


def all_users() -> list[User]:
    """Enabled accounts first, then by role and username, so the list reads like a staff roster."""
    query = select(User).options(selectinload(User.patient))
    return list(db.session.scalars(query.order_by(User.is_disabled, User.role, User.username)))


def patients_without_account() -> list[Patient]:
    """Patient records that a new patient account may belong to (a record has at most one account)."""
    taken = select(User.patient_id).where(User.patient_id.is_not(None))
    query = select(Patient).where(Patient.id.not_in(taken)).order_by(Patient.display_name, Patient.record_number)
    return list(db.session.scalars(query))
