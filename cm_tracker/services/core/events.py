"""Stored rows -> engine events: the one translation of specimens, attendance and goal activities into what each
target of a programme saw (docs/rules.md 3), for one enrollment, for many at once, or for rows already in memory.

The evaluation, the streaks of a caseload and the bulk history of `demo scale` all read events through here, so an
event means the same thing (outcome, bonus and reason) wherever it is evaluated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from cm_tracker.engine.events import TargetEvent
from cm_tracker.engine.outcomes import (
    Outcome,
    SpecimenFacts,
    classify_activity,
    classify_attendance,
    classify_specimen,
    is_bonus_negative,
)
from cm_tracker.engine.rules import ProgramRules, TargetKind, TargetRules
from cm_tracker.engine.schedules import PrizeDrawSchedule, parse_schedule, schedule_in_force
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Enrollment,
    GoalActivity,
    Program,
    ProgramTarget,
    Specimen,
    SpecimenResult,
)
from cm_tracker.services.core.clinic import clinic_date, clinic_today, clinic_zone

Events = dict[Hashable, list[TargetEvent]]


class SpecimenRow(Protocol):
    """A specimen as stored, or as the scale builder holds it in memory (results: analyte and result pairs)."""

    id: int
    collected_at: datetime
    status: str
    results: Iterable[Any]
    validity: str | None
    temperature_ok: bool | None


class AttendanceRow(Protocol):
    id: int
    target_key: str
    occurred_at: datetime
    status: str


class ActivityRow(Protocol):
    id: int
    target_key: str
    occurred_at: datetime | None
    status: str
    description: str


def rules_for(program: Program, today: date | None = None) -> ProgramRules:
    """The engine's view of a programme: each target with every version of its schedule, so that each event is
    paid by the version in force on its date, and as its current schedule the one in force `today` (the clinic's
    date unless given), which the prize bowl and the maximum use."""
    today = today or clinic_today()
    targets = []
    for target in program.targets:
        rows = sorted(target.schedule_versions, key=lambda v: (v.effective_on, v.version))
        versions = tuple((v.effective_on, parse_schedule(v.schedule)) for v in rows)
        targets.append(TargetRules(target.key, TargetKind(target.kind), target.label, frozenset(target.analytes),
                                   schedule_in_force(versions, today), versions if len(versions) > 1 else ()))
    return ProgramRules(program.point_value_cents, program.cap_cents, program.cap_window, program.max_award_cents,
                        tuple(targets), program.dilute_policy)


def rules_by_program(program_ids: Iterable[int]) -> dict[int, ProgramRules]:
    """The rules of many programmes, their targets and schedule versions loaded by a fixed handful of queries."""
    programs = db.session.scalars(select(Program).where(Program.id.in_(list(program_ids))).options(
        selectinload(Program.targets).selectinload(ProgramTarget.schedule_versions)))
    return {p.id: rules_for(p) for p in programs}


def specimen_facts(specimen: SpecimenRow) -> SpecimenFacts:
    return SpecimenFacts(
        status=specimen.status,
        results={r.analyte: str(r.result) for r in specimen.results},
        validity=specimen.validity or "valid",
        temperature_ok=specimen.temperature_ok,
    )


def specimen_outcomes(rules: ProgramRules, specimen: SpecimenRow,
                      on: date | None = None) -> dict[str, tuple[Outcome, str, bool]]:
    """Per abstinence target: outcome, reason and whether the bonus analyte set (of the schedule version in force
    on the collection date, `on` when the caller has it already) was negative too."""
    facts = specimen_facts(specimen)
    on = clinic_date(specimen.collected_at) if on is None else on
    found: dict[str, tuple[Outcome, str, bool]] = {}
    for target in rules.targets:
        if target.kind != TargetKind.ABSTINENCE:
            continue
        verdict = classify_specimen(facts, target.analytes, rules.dilute_policy)
        schedule = target.schedule_on(on)
        bonus = isinstance(schedule, PrizeDrawSchedule) and verdict.outcome is Outcome.SUCCESS and \
            is_bonus_negative(facts, schedule.bonus_analytes, rules.dilute_policy)
        found[str(target.key)] = (verdict.outcome, verdict.reason, bonus)
    return found


def events_from(rules: ProgramRules, specimens: Iterable[SpecimenRow] = (), attendance: Iterable[AttendanceRow] = (),
                activities: Iterable[ActivityRow] = ()) -> Events:
    """The events of one enrollment's rows, already loaded (or built in memory), per target key.

    An attendance record or activity counts only for a target of its own kind; an activity not yet verified or
    rejected (no occurred_at) is not an event yet.
    """
    kinds = {str(t.key): TargetKind(t.kind) for t in rules.targets}
    events: Events = defaultdict(list)
    # clinic_date with the zone looked up once, not once per event (each lookup reads the current app's config): a
    # desk entry dates its whole history.
    zone = clinic_zone()
    for specimen in specimens:
        on = specimen.collected_at.astimezone(zone).date()
        for key, (outcome, reason, bonus) in specimen_outcomes(rules, specimen, on).items():
            events[key].append(TargetEvent(("specimen", specimen.id), specimen.collected_at, on, outcome, bonus,
                                           reason))
    for record in attendance:
        if kinds.get(record.target_key) == TargetKind.ATTENDANCE:
            verdict = classify_attendance(record.status)
            events[record.target_key].append(TargetEvent(("attendance", record.id), record.occurred_at,
                                                         record.occurred_at.astimezone(zone).date(),
                                                         verdict.outcome, False, verdict.reason))
    for activity in activities:
        if kinds.get(activity.target_key) == TargetKind.ACTIVITY and activity.occurred_at is not None:
            verdict = classify_activity(activity.status)
            events[activity.target_key].append(TargetEvent(("activity", activity.id), activity.occurred_at,
                                                           activity.occurred_at.astimezone(zone).date(),
                                                           verdict.outcome, False,
                                                           f"{activity.description}: {verdict.reason}"))
    return events


def events_for(enrollment: Enrollment, rules: ProgramRules) -> Events:
    """One enrollment's events, read from the database."""
    return events_for_many([enrollment], {enrollment.program_id: rules}).get(enrollment.id, defaultdict(list))


class _Result(NamedTuple):
    analyte: str
    result: str


class _Specimen(NamedTuple):
    id: int
    collected_at: datetime
    status: str
    results: list[_Result]
    validity: str | None
    temperature_ok: bool | None


class _Attendance(NamedTuple):
    id: int
    target_key: str
    occurred_at: datetime
    status: str


class _Activity(NamedTuple):
    id: int
    target_key: str
    occurred_at: datetime | None
    status: str
    description: str


class HistoryRows(NamedTuple):
    """One enrollment's specimens (with results), attendance and dated activities, as plain rows."""

    specimens: list[_Specimen]
    attendance: list[_Attendance]
    activities: list[_Activity]


def events_for_many(enrollments: Iterable[Enrollment],
                    rules_by_program: Mapping[int, ProgramRules]) -> dict[int, Events]:
    """Each enrollment's events, keyed by enrollment id, with four queries whatever the number of enrollments."""
    program_of = {e.id: e.program_id for e in enrollments}
    rows = history_rows(list(program_of))
    return {eid: events_of(rules_by_program[pid], rows[eid]) for eid, pid in program_of.items()}


def events_of(rules: ProgramRules, rows: HistoryRows) -> Events:
    return events_from(rules, rows.specimens, rows.attendance, rows.activities)


# Built once, each list of enrollments bound at execution: a history is read on every desk entry, and building a
# statement and its cache key cost about as much as running it. On the tables' columns, not the ORM entities', so
# executing them skips the ORM's compile and result layers (the same columns, types and values) and its autoflush,
# which history_rows does itself, so a row added but not yet flushed is still in the history.
_IDS = bindparam("ids", expanding=True)
_s, _r, _a, _g = (model.__table__.c for model in (Specimen, SpecimenResult, AttendanceRecord, GoalActivity))
_RESULTS = (select(_r.specimen_id, _r.analyte, _r.result)
            .join(Specimen.__table__, _r.specimen_id == _s.id).where(_s.enrollment_id.in_(_IDS)))
_SPECIMENS = select(_s.id, _s.enrollment_id, _s.collected_at, _s.status, _s.validity, _s.temperature_ok).where(
    _s.enrollment_id.in_(_IDS))
_ATTENDANCE = select(_a.id, _a.enrollment_id, _a.target_key, _a.occurred_at, _a.status).where(
    _a.enrollment_id.in_(_IDS))
_ACTIVITIES = select(_g.id, _g.enrollment_id, _g.target_key, _g.occurred_at, _g.status, _g.description).where(
    _g.enrollment_id.in_(_IDS), _g.occurred_at.is_not(None))


def history_rows(enrollment_ids: Sequence[int]) -> dict[int, HistoryRows]:
    """Each enrollment's rows that make events, in four queries whatever the number of enrollments. Plain rows,
    not ORM objects: a history is read on every desk entry and building objects cost more than the queries (the
    evaluation, and the report cache's facts, need only these columns)."""
    found: dict[int, HistoryRows] = {eid: HistoryRows([], [], []) for eid in enrollment_ids}
    if not found:
        return found
    bound = {"ids": list(found)}
    db.session.flush()  # what the ORM's autoflush did before these statements on the tables' columns (see above)
    results: dict[int, list[_Result]] = defaultdict(list)
    for specimen_id, analyte, result in db.session.execute(_RESULTS, bound).all():
        results[specimen_id].append(_Result(analyte, result))
    for sid, eid, at, status, validity, temperature_ok in db.session.execute(_SPECIMENS, bound).all():
        found[eid].specimens.append(_Specimen(sid, at, status, results.get(sid, []), validity, temperature_ok))
    for rid, eid, key, at, status in db.session.execute(_ATTENDANCE, bound).all():
        found[eid].attendance.append(_Attendance(rid, key, at, status))
    for gid, eid, key, at, status, description in db.session.execute(_ACTIVITIES, bound).all():
        found[eid].activities.append(_Activity(gid, key, at, status, description))
    return found
