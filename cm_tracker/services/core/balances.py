"""What a patient holds, for one patient or many at once: points, draws, what was earned and redeemed, what the
points are worth, and the cap use of the current enrollment (docs/rules.md 2 and 5).

Balances are sums of ledger rows, computed in the database with grouped queries, so that a caseload costs the same
few queries for five patients or five hundred. Every page, the portal and the API read a balance and a cap use here,
so they cannot show two figures for one thing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import joinedload

from cm_tracker.engine.caps import window_start
from cm_tracker.engine.rules import CapWindow
from cm_tracker.extensions import db
from cm_tracker.models import Enrollment, EntryKind, LedgerEntry, Program
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.clinic import clinic_today, start_of_day
from cm_tracker.services.core.enrollments import current_of
from cm_tracker.services.core.ledger import EARNING_KINDS


@dataclass(frozen=True, slots=True)
class CapUse:
    """The cents counted against an enrollment's cap in the window ending today, and the programme's limits."""

    cap_cents: int
    used_cents: int
    window: CapWindow
    is_near: bool  # is_near_cap

    @property
    def remaining_cents(self) -> int:
        return max(0, self.cap_cents - self.used_cents)


@dataclass(frozen=True, slots=True)
class Balance:
    """Unspent points and draw credits, the points ever earned (engine and manual) and redeemed, what the points
    held are worth (each entry at the point value of the programme it was earned in) and the current enrollment's
    cap use (None without an enrollment)."""

    points: int = 0
    draws: int = 0
    earned_points: int = 0
    redeemed_points: int = 0
    value_cents: int = 0
    cap: CapUse | None = None


def is_near_cap(program: Program, used_cents: int) -> bool:
    """Near the cap: at least the programme's `near_cap_percent` of a cap above zero is used. The dashboard's alert
    and the budget report's list both ask here."""
    return program.cap_cents > 0 and used_cents * 100 >= program.cap_cents * program.near_cap_percent


def balance_of(patient_id: int, on: date | None = None) -> Balance:
    return balances_for([patient_id], on)[patient_id]


def balance_and_enrollment(patient_id: int, on: date | None = None) -> tuple[Balance, Enrollment | None]:
    """The balance and the current enrollment it took the cap use of (with its programme loaded), for a reader
    that needs both without loading the enrollments twice."""
    found, current = _balances([patient_id], on)
    return found[patient_id], current.get(patient_id)


def balances_for(patient_ids: Iterable[int], on: date | None = None) -> dict[int, Balance]:
    """Every patient's balance, with the cap use of the window ending `on` (the clinic's today unless given)."""
    return _balances(patient_ids, on)[0]


def _balances(patient_ids: Iterable[int], on: date | None) -> tuple[dict[int, Balance], dict[int, Enrollment]]:
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return {}, {}
    sums = _sums(ids)
    current = _current_enrollments(ids)
    used = cap_used_by_enrollment(current.values(), on or clinic_today())
    found = {}
    for pid in ids:
        enrollment = current.get(pid)
        cap = None
        if enrollment is not None:
            program, cents = enrollment.program, used.get(enrollment.id, 0)
            cap = CapUse(program.cap_cents, cents, CapWindow(program.cap_window), is_near_cap(program, cents))
        found[pid] = Balance(*sums.get(pid, (0, 0, 0, 0, 0)), cap=cap)
    return found, current


# The balance's statements are built once per process, each patient or enrollment list bound at execution: a
# balance is read on every desk page and API call, and building a statement and its cache key cost about as much as
# running it.
IDS = bindparam("ids", expanding=True)


@cache
def _sums_query() -> Select[Any]:
    """Per patient: points, draws, earned points, redeemed points and value; the one place points are valued for
    a balance: each entry at the point value of its programme, by money.points_value_cents."""
    earned = case((LedgerEntry.kind.in_(EARNING_KINDS), LedgerEntry.points), else_=0)
    redeemed = case((LedgerEntry.kind == EntryKind.REDEMPTION, -LedgerEntry.points), else_=0)
    return (
        select(LedgerEntry.patient_id, *(func.coalesce(func.sum(column), 0) for column in (
            LedgerEntry.points, LedgerEntry.draws, earned, redeemed,
            points_value_cents(LedgerEntry.points, Program.point_value_cents))))
        .join(Enrollment, LedgerEntry.enrollment_id == Enrollment.id)
        .join(Program, Enrollment.program_id == Program.id)
        .where(LedgerEntry.patient_id.in_(IDS))
        .group_by(LedgerEntry.patient_id)
    )


@cache
def _enrollments_query() -> Select[Any]:
    return select(Enrollment).where(Enrollment.patient_id.in_(IDS)).options(joinedload(Enrollment.program))


@cache
def _episode_cap_query() -> Select[Any]:
    return (select(LedgerEntry.enrollment_id, func.sum(LedgerEntry.value_cents))
            .where(LedgerEntry.kind != EntryKind.REDEMPTION, LedgerEntry.enrollment_id.in_(IDS))
            .group_by(LedgerEntry.enrollment_id))


def _sums(ids: list[int]) -> dict[int, tuple[int, ...]]:
    return {pid: tuple(int(value) for value in values)
            for pid, *values in db.session.execute(_sums_query(), {"ids": ids})}


def _current_enrollments(ids: list[int]) -> dict[int, Enrollment]:
    episodes: dict[int, list[Enrollment]] = defaultdict(list)
    for e in db.session.scalars(_enrollments_query(), {"ids": ids}):
        episodes[e.patient_id].append(e)
    return {pid: e for pid, found in episodes.items() if (e := current_of(found)) is not None}


def cap_used_cents(enrollment: Enrollment, window: CapWindow, on: date) -> int:
    """Cents counted against the cap in the window ending on `on` (see cap_used_by_enrollment)."""
    return _cap_used(window, [enrollment], on).get(enrollment.id, 0)


def cap_used_by_enrollment(enrollments: Iterable[Enrollment], on: date) -> dict[int, int]:
    """Cents counted against each enrollment's cap in the window ending on `on`: every valued entry but
    redemptions. One grouped query per kind of cap window among the enrollments (at most three); an enrollment
    with no entry in its window is left out.

    An episode cap counts this enrollment only; a calendar-year or rolling cap counts the patient's entries in the
    same programme, whichever enrollment they belong to.
    """
    by_window: dict[CapWindow, list[Enrollment]] = defaultdict(list)
    for e in enrollments:
        by_window[CapWindow(e.program.cap_window)].append(e)
    used: dict[int, int] = {}
    for window, group in by_window.items():
        used.update(_cap_used(window, group, on))
    return used


def _cap_used(window: CapWindow, enrollments: list[Enrollment], on: date) -> dict[int, int]:
    if window == CapWindow.EPISODE:
        rows = db.session.execute(_episode_cap_query(), {"ids": [e.id for e in enrollments]})
        return {eid: int(cents or 0) for eid, cents in rows}
    valued = LedgerEntry.kind != EntryKind.REDEMPTION
    total = func.sum(LedgerEntry.value_cents)
    patients: dict[int, set[int]] = defaultdict(set)
    for e in enrollments:
        patients[e.program_id].add(e.patient_id)
    query = (select(Enrollment.patient_id, Enrollment.program_id, total)
             .join(Enrollment, LedgerEntry.enrollment_id == Enrollment.id)
             .where(valued, LedgerEntry.occurred_at >= start_of_day(window_start(window, on)),
                    or_(*[and_(Enrollment.program_id == prog, Enrollment.patient_id.in_(sorted(pids)))
                          for prog, pids in patients.items()]))
             .group_by(Enrollment.patient_id, Enrollment.program_id))
    totals = {(pid, prog): int(cents or 0) for pid, prog, cents in db.session.execute(query)}
    return {e.id: totals[(e.patient_id, e.program_id)] for e in enrollments if (e.patient_id, e.program_id) in totals}
