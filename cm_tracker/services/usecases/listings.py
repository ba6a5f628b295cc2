"""Pages that list patients by name or record number (the caseload, roll call, close-day, the manual adjustments,
the admins' account list): each view is audited by one row naming every patient it showed (docs/security.md
"Audit"), written by one INSERT whatever the length of the list, and found by the audit search for any of them.

A list that shows nobody leaves no row: it read no patient's record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from cm_tracker.models import Patient, ScheduledVisit, User
from cm_tracker.services.queries import adjustments, dashboard, directory, rollcall, visits
from cm_tracker.services.usecases.access_log import log_now


def log_listed(action: str, patient_ids: Iterable[int], *, user: User, **detail: object) -> None:
    """One row for one view of a list: `action` by `user`, naming `patient_ids` (none: no row)."""
    ids = sorted(set(patient_ids))
    if ids:
        log_now(action, user=user, patient_ids=ids, object_type="patient", detail=detail or None)


def caseload(user: User, today: date) -> dashboard.Dashboard:
    """The caseload page (`/staff/`): its table, today's visits, the overdue and the alerts."""
    board = dashboard.dashboard_for(user, today)
    shown = [r.base.patient for r in board.rows] + [d.patient for d in board.due] + [
        o.patient for o in board.overdue] + [a.patient for a in board.alerts if a.patient is not None]
    log_listed("caseload.view", (p.id for p in shown), user=user)
    return board


def roll_call(user: User, session: rollcall.Session | None) -> list[Patient]:
    """The roster of a group session: the user's patients enrolled in its programme."""
    patients = rollcall.roster(user, session) if session else []
    log_listed("rollcall.view", (p.id for p in patients), user=user, session=session.key if session else None)
    return patients


def open_visits(user: User, day: date | None, counselor: User | None) -> list[ScheduledVisit]:
    """The close-day page's visits still open on `day`, with their patients."""
    found = visits.open_visits_on(day, counselor) if day else []
    log_listed("close_day.view", (v.enrollment.patient_id for v in found), user=user,
               day=day.isoformat() if day else None)
    return found


def recent_adjustments(user: User) -> list[adjustments.ManualRow]:
    """The managers' review of the latest manual adjustments, with the patient of each."""
    rows = adjustments.recent_adjustments()
    log_listed("adjustments.view", (r.patient.id for r in rows), user=user)
    return rows


def accounts(user: User) -> list[User]:
    """The admins' account list, where a patient's account shows the patient's record number."""
    users = directory.all_users()
    log_listed("accounts.view", (u.patient_id for u in users if u.patient_id is not None), user=user)
    return users


def account_candidates(user: User) -> list[Patient]:
    """The new-account form's patients without an account, listed by name and record number."""
    patients = list(directory.patients_without_account())
    log_listed("accounts.new_view", (p.id for p in patients), user=user)
    return patients
