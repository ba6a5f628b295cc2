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

from sqlalchemy import String, bindparam, func, literal, literal_column, null, select, type_coerce, union_all
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
    ActivityStatus,
    AnalyteResult,
    AttendanceRecord,
    AttendanceStatus,
    Enrollment,
    GoalActivity,
    Program,
    ProgramTarget,
    Specimen,
    SpecimenResult,
    SpecimenStatus,
    Validity,
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
    # An episode's specimens share a handful of kinds of facts (most are the same negative panel): each kind is
    # classified once, and once a day where a target's schedule has versions (the bonus set is the version's).
    # What specimen_outcomes reads of a specimen is all in the key; results compare by value as plain rows (an ORM
    # row's results by identity, so those are classified one by one, as before).
    dated = any(t.versions for t in rules.targets)
    classified: dict[tuple[Any, ...], dict[str, tuple[Outcome, str, bool]]] = {}
    for specimen in specimens:
        on = specimen.collected_at.astimezone(zone).date()
        facts = (specimen.status, specimen.validity, specimen.temperature_ok, tuple(specimen.results),
                 on if dated else None)
        outcomes = classified.get(facts)
        if outcomes is None:
            outcomes = classified[facts] = specimen_outcomes(rules, specimen, on)
        for key, (outcome, reason, bonus) in outcomes.items():
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
    results: tuple[_Result, ...]  # shared by the specimens of the same results: never changed
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
    """Each enrollment's events, keyed by enrollment id, with one query whatever the number of enrollments."""
    program_of = {e.id: e.program_id for e in enrollments}
    rows = history_rows(list(program_of))
    return {eid: events_of(rules_by_program[pid], rows[eid]) for eid, pid in program_of.items()}


def events_of(rules: ProgramRules, rows: HistoryRows) -> Events:
    return events_from(rules, rows.specimens, rows.attendance, rows.activities)


# Built once, each list of enrollments bound at execution: a history is read on every desk entry, and building a
# statement and its cache key cost about as much as running it. On the tables' columns, not the ORM entities', so
# executing it skips the ORM's compile and result layers and its autoflush, which history_rows does itself, so a row
# added but not yet flushed is still in the history. The three kinds of row come in one statement (UNION ALL, each
# row tagged with its kind in `part`): a statement's own cost in SQLAlchemy and the round trip were more than
# reading its rows. A specimen's results come in its own row, as one string of analyte-result pairs (the separators
# control characters no analyte key holds): a row per result cost more in processing its columns than splitting.
# Enums are read as the strings stored, in the columns every kind shares, and made members again by a dictionary
# (what the enum type's result processor does), so each row is what its own statement gave.
_IDS = bindparam("ids", expanding=True)
_s, _r, _a, _g = (model.__table__.c for model in (Specimen, SpecimenResult, AttendanceRecord, GoalActivity))
_PAIR, _NEXT = "\x1f", "\x1e"  # between an analyte and its result; between two results
_RESULTS_OF = select(func.aggregate_strings(_r.analyte + literal(_PAIR, String) + type_coerce(_r.result, String),
                                            _NEXT)).where(_r.specimen_id == _s.id).scalar_subquery()
_HISTORY = union_all(
    # part, id, enrollment_id, at, status, name (validity, target key), text (results, description), temperature_ok
    select(literal_column("'s'").label("part"), _s.id, _s.enrollment_id, _s.collected_at.label("at"),
           type_coerce(_s.status, String).label("status"), type_coerce(_s.validity, String).label("name"),
           _RESULTS_OF.label("text"), _s.temperature_ok).where(_s.enrollment_id.in_(_IDS)),
    select(literal_column("'a'"), _a.id, _a.enrollment_id, _a.occurred_at, type_coerce(_a.status, String),
           _a.target_key, null(), null()).where(_a.enrollment_id.in_(_IDS)),
    select(literal_column("'g'"), _g.id, _g.enrollment_id, _g.occurred_at, type_coerce(_g.status, String),
           _g.target_key, _g.description, null()).where(_g.enrollment_id.in_(_IDS), _g.occurred_at.is_not(None)),
)
# The same with each enrollment's write version (`enrollments.version`) as a row of its own, `part` "v":
# a write reads the version no later than the history it computes from (docs/architecture.md, "Writes: compute,
# then lock"), and in the one statement both are of the same moment.
_e = Enrollment.__table__.c
_HISTORY_AND_VERSIONS = union_all(*_HISTORY.selects, select(
    literal_column("'v'"), _e.version, _e.id, null(), null(), null(), null(), null()).where(_e.id.in_(_IDS)))
_STATUS = {member.value: member for member in SpecimenStatus}
_VALIDITY: dict[str | None, Validity | None] = {None: None, **{member.value: member for member in Validity}}
_RESULTS = {member.value: member for member in AnalyteResult}
_ATTENDED = {member.value: member for member in AttendanceStatus}
_ACTIVITY_STATUS = {member.value: member for member in ActivityStatus}


def history_rows(enrollment_ids: Sequence[int]) -> dict[int, HistoryRows]:
    """Each enrollment's rows that make events, in one query whatever the number of enrollments. Plain rows, not
    ORM objects: a history is read on every desk entry and building objects cost more than the query (the
    evaluation, and the report cache's facts, need only these columns)."""
    return _read_history(_HISTORY, enrollment_ids)[0]


def history_and_versions(enrollment_ids: Sequence[int]) -> tuple[dict[int, HistoryRows], dict[int, int]]:
    """history_rows and each enrollment's write version as committed now (0 for none), in the same one query."""
    return _read_history(_HISTORY_AND_VERSIONS, enrollment_ids)


def _read_history(statement: Any, enrollment_ids: Sequence[int]) -> tuple[dict[int, HistoryRows], dict[int, int]]:
    found: dict[int, HistoryRows] = {eid: HistoryRows([], [], []) for eid in enrollment_ids}
    versions: dict[int, int] = dict.fromkeys(found, 0)
    if not found:
        return found, versions
    db.session.flush()  # what the ORM's autoflush did before this statement on the tables' columns (see above)
    panels: dict[str | None, tuple[_Result, ...]] = {None: ()}  # each string of results read once (most repeat)
    for part, rid, eid, at, status, name, text, flag in db.session.execute(statement, {"ids": list(found)}):
        if part == "s":
            results = panels.get(text)
            if results is None:
                results = panels[text] = tuple(_Result(analyte, _RESULTS[result]) for analyte, _, result in
                                               (pair.partition(_PAIR) for pair in text.split(_NEXT)))
            found[eid].specimens.append(_Specimen(rid, at, _STATUS[status], results, _VALIDITY[name], flag))
        elif part == "a":
            found[eid].attendance.append(_Attendance(rid, name, at, _ATTENDED[status]))
        elif part == "g":
            found[eid].activities.append(_Activity(rid, name, at, _ACTIVITY_STATUS[status], text))
        else:  # "v": the version is in the id's column
            versions[eid] = int(rid or 0)
    return found, versions
