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
from typing import Any, cast

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from cm_tracker.engine.caps import window_start
from cm_tracker.engine.rules import CapWindow
from cm_tracker.extensions import db
from cm_tracker.models import Draw, Enrollment, EntryKind, LedgerEntry, Program, TargetState
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.clinic import clinic_today, start_of_day
from cm_tracker.services.core.enrollments import current_of
from cm_tracker.services.core.id_lists import InIds
from cm_tracker.services.core.ledger import EARNING_KINDS
from cm_tracker.services.core.prizes import PrizesOwed, owed_by_enrollment_query
from cm_tracker.services.core.target_states import READ_COLUMNS, StoredRow


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


NO_PRIZES = PrizesOwed()


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
    prizes: PrizesOwed = NO_PRIZES  # won in draws and not handed over yet (core.prizes)


def is_near_cap(program: Program, used_cents: int) -> bool:
    """Near the cap: at least the programme's `near_cap_percent` of a cap above zero is used. The dashboard's alert
    and the budget report's list both ask here."""
    return program.cap_cents > 0 and used_cents * 100 >= program.cap_cents * program.near_cap_percent


def balance_of(patient_id: int, on: date | None = None) -> Balance:
    return balances_for([patient_id], on)[patient_id]


def balances_for(patient_ids: Iterable[int], on: date | None = None) -> dict[int, Balance]:
    """Every patient's balance, with the cap use of the window ending `on` (the clinic's today unless given)."""
    return {pid: s.balance for pid, s in standings(patient_ids, on, with_states=False).items()}


@dataclass(frozen=True, slots=True)
class Standing:
    """One patient's balance, current enrollment (its programme loaded) and that enrollment's stored target rows
    (empty unless asked for)."""

    balance: Balance
    enrollment: Enrollment | None
    states: list[StoredRow]


def standing_of(patient_id: int, on: date | None = None) -> Standing:
    """The balance, the current enrollment and its stored target states in one statement, for the readers of a
    single patient on every request (the balance API, the desk result, the portal)."""
    return standings([patient_id], on)[patient_id]


def standings(patient_ids: Iterable[int], on: date | None = None, *, with_states: bool = True) -> dict[int, Standing]:
    """Each patient's standing in one statement (two for many patients: their programmes apart, _standing_query
    says why): per enrollment its programme and its ledger sums, with the cap use of every kind of window summed
    beside them (`_CAP_SUMS`), and its stored target states when asked.

    Points are valued per enrollment at its programme's point value (money.points_value_cents). The cap use is the
    current enrollment's window: an episode counts that enrollment; a calendar-year or rolling window counts the
    patient's entries in the same programme, whichever enrollment they belong to (as `cap_used_by_enrollment`)."""
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return {}
    on = on or clinic_today()
    single = len(ids) == 1  # one patient's statement binds one integer (core.id_lists.InIds says why)
    rows = db.session.execute(_standing_query(with_states, single), {
        "ids": ids[0] if single else ids, "year_start": start_of_day(window_start(CapWindow.CALENDAR_YEAR, on)),
        "rolling_start": start_of_day(window_start(CapWindow.ROLLING_365, on))})
    episodes: dict[int, dict[int, Enrollment]] = defaultdict(dict)
    sums: dict[int, tuple[int, ...]] = {}
    states: dict[int, list[StoredRow]] = defaultdict(list)
    width = len(_SUMS) + 2  # the ledger sums, then the prizes' count and value
    for row in rows:
        enrollment = row[0]
        if enrollment.id not in sums:  # a row per stored target: its enrolment's sums repeat on each
            episodes[enrollment.patient_id][enrollment.id] = enrollment
            sums[enrollment.id] = tuple([int(v or 0) for v in row[-width:]])
        if with_states and row[2] is not None:  # its target key: None where the enrollment has no stored state
            states[enrollment.id].append(StoredRow(*row[1:1 + len(READ_COLUMNS)]))
    found = {}
    for pid in ids:
        mine = episodes.get(pid)
        if not mine:
            found[pid] = Standing(Balance(), None, [])
            continue
        own = [(e, sums[e.id]) for e in mine.values()]
        # One enrolment is the current one; among several, current_of chooses (never None: there is one at least).
        current = own[0][0] if len(own) == 1 else cast(Enrollment, current_of(mine.values()))
        # Each sum over the patient's enrolments, column by column (most patients have one enrolment).
        totals = own[0][1] if len(own) == 1 else [sum(column) for column in zip(*(s for _, s in own), strict=True)]
        balance = Balance(
            *totals[:4],
            value_cents=sum(points_value_cents(s[0], e.program.point_value_cents) for e, s in own),
            cap=_cap_use(current, own), prizes=PrizesOwed(totals[-2], totals[-1]))
        found[pid] = Standing(balance, current, states.get(current.id, []))
    return found


def _cap_use(current: Enrollment, own: list[tuple[Enrollment, tuple[int, ...]]]) -> CapUse:
    program = current.program
    window = CapWindow(program.cap_window)
    index = _CAP_INDEX[window]
    if window == CapWindow.EPISODE:
        used = next(s[index] for e, s in own if e is current)
    else:
        used = sum(s[index] for e, s in own if e.program_id == current.program_id)
    return CapUse(program.cap_cents, used, window, is_near_cap(program, used))


# The balance's statements are built once per process, each patient or enrollment list bound at execution: a
# balance is read on every desk page and API call, and building a statement and its cache key cost about as much as
# running it.
IDS = bindparam("ids", expanding=True)
# What counts against a cap: every valued entry but redemptions (docs/rules.md 5).
_VALUED = LedgerEntry.kind != EntryKind.REDEMPTION


def _valued_since(name: str) -> Any:
    return case((and_(_VALUED, LedgerEntry.occurred_at >= bindparam(name)), LedgerEntry.value_cents))


# Per enrollment: points, draws, earned points, redeemed points, then the cap use of each kind of window. A CASE
# leaves out the rows it does not count (NULL, which SUM skips; a sum of none is read as 0) rather than adding a
# bound 0, which a prepared statement's generic plan casts anew on every ledger row.
_CAP_SUMS = {CapWindow.EPISODE: lambda: case((_VALUED, LedgerEntry.value_cents)),
             CapWindow.CALENDAR_YEAR: lambda: _valued_since("year_start"),
             CapWindow.ROLLING_365: lambda: _valued_since("rolling_start")}
_SUMS = (lambda: LedgerEntry.points, lambda: LedgerEntry.draws,
         lambda: case((LedgerEntry.kind.in_(EARNING_KINDS), LedgerEntry.points)),
         lambda: case((LedgerEntry.kind == EntryKind.REDEMPTION, -LedgerEntry.points)),
         *_CAP_SUMS.values())
# Where each kind of window's cap use sits in an enrolment's sums (the prizes' two come after them).
_CAP_INDEX = {window: len(_SUMS) - len(_CAP_SUMS) + n for n, window in enumerate(_CAP_SUMS)}


@cache
def _standing_query(with_states: bool, single: bool = False) -> Select[Any]:
    """Per enrollment of the patients (its programme eagerly loaded), its ledger sums from a grouped subquery, and
    one row per stored target state when asked, so the ledger is read once whatever the number of targets."""
    sums = (select(LedgerEntry.enrollment_id, *(func.sum(c()).label(f"s{i}") for i, c in enumerate(_SUMS)))
            .where(InIds(LedgerEntry.patient_id, "ids", single))
            .group_by(LedgerEntry.enrollment_id).subquery())
    # The prizes waiting per enrolment (core.prizes), summed like the points: the balance API reads them too.
    owed = owed_by_enrollment_query().where(InIds(Draw.patient_id, "ids", single)).subquery()
    query = select(Enrollment, *(READ_COLUMNS if with_states else ()), *(sums.c[f"s{i}"] for i in range(len(_SUMS))),
                   owed.c.waiting, owed.c.value_cents)
    # One patient's programme is joined into the row (one statement for a balance read). A caseload's enrolments
    # share a programme or two: joined, its columns would come again on each of 150 rows and its JSON be decoded
    # each time, so their programmes come by one more statement instead.
    if single:
        query = query.join(Enrollment.program).options(contains_eager(Enrollment.program))
    else:
        query = query.options(selectinload(Enrollment.program))
    query = (query.outerjoin(sums, sums.c.enrollment_id == Enrollment.id)
             .outerjoin(owed, owed.c.enrollment_id == Enrollment.id))
    if with_states:
        query = query.outerjoin(TargetState, TargetState.enrollment_id == Enrollment.id)
    return query.where(InIds(Enrollment.patient_id, "ids", single))


@cache
def _episode_cap_query() -> Select[Any]:
    return (select(LedgerEntry.enrollment_id, func.sum(LedgerEntry.value_cents))
            .where(_VALUED, LedgerEntry.enrollment_id.in_(IDS))
            .group_by(LedgerEntry.enrollment_id))


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
    total = func.sum(LedgerEntry.value_cents)
    patients: dict[int, set[int]] = defaultdict(set)
    for e in enrollments:
        patients[e.program_id].add(e.patient_id)
    query = (select(Enrollment.patient_id, Enrollment.program_id, total)
             .join(Enrollment, LedgerEntry.enrollment_id == Enrollment.id)
             .where(_VALUED, LedgerEntry.occurred_at >= start_of_day(window_start(window, on)),
                    or_(*[and_(Enrollment.program_id == prog, Enrollment.patient_id.in_(sorted(pids)))
                          for prog, pids in patients.items()]))
             .group_by(Enrollment.patient_id, Enrollment.program_id))
    totals = {(pid, prog): int(cents or 0) for pid, prog, cents in db.session.execute(query)}
    return {e.id: totals[(e.patient_id, e.program_id)] for e in enrollments if (e.patient_id, e.program_id) in totals}
