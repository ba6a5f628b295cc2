"""Keeping the report cache (EventOutcome rows, EnrollmentWeek rows and one EnrollmentSummary per enrolment) in
step with the engine.

usecases.reevaluation.reevaluate_and_refresh calls `refresh_outcomes` after core.evaluation.reevaluate posts the
differences, with the evaluation it just computed, so every write that can change an outcome (a result, a late
entry, a correction, an excuse) brings the enrollment's rows up to date in the same transaction, writing only the
rows that differ; usecases.report_cache rebuilds every enrollment's. `outcome_rows`,
`week_rows`, `summary_of` and `ledger_totals` are shared with the bulk builder (tooling.scale), which has the same
facts in memory, so both write exactly the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from cm_tracker.engine.outcomes import ActivityStatus, AttendanceStatus, Outcome, SpecimenStatus
from cm_tracker.engine.program import ProgramEvaluation
from cm_tracker.engine.rules import ProgramRules, TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    ClinicClosure,
    Enrollment,
    EnrollmentSummary,
    EntryKind,
    EventOutcome,
    Excuse,
    GoalActivity,
    LedgerEntry,
    ScheduledVisit,
    Specimen,
    VisitKind,
)
from cm_tracker.models.reporting import EnrollmentWeek
from cm_tracker.services.core.clinic import clinic_today, start_of_day


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What reports count about an event besides its outcome."""

    is_submitted: bool = False
    is_excused: bool = False
    is_attended: bool = False


CAME_FOR_SPECIMEN = {SpecimenStatus.FINAL, SpecimenStatus.PENDING, SpecimenStatus.REFUSED}


def specimen_facts(status: str) -> EventFacts:
    """A specimen given (whatever its result) or refused means the patient came (docs/rules.md 8: retention)."""
    return EventFacts(is_submitted=status == SpecimenStatus.FINAL, is_excused=status == SpecimenStatus.EXCUSED,
                      is_attended=status in CAME_FOR_SPECIMEN)


def attendance_facts(status: str) -> EventFacts:
    return EventFacts(is_excused=status == AttendanceStatus.EXCUSED, is_attended=status == AttendanceStatus.ATTENDED)


def activity_facts(status: str) -> EventFacts:
    return EventFacts(is_attended=status == ActivityStatus.VERIFIED)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def primary_target(rules: ProgramRules) -> Hashable | None:
    """The first abstinence target, else the first target: the one percent negative and LDA are reported on."""
    for target in rules.targets:
        if target.kind == TargetKind.ABSTINENCE:
            return target.key
    return rules.targets[0].key if rules.targets else None


def outcome_rows(enrollment_id: int, patient_id: int, program_id: int, evaluation: ProgramEvaluation,
                 facts: Mapping[Hashable, EventFacts]) -> Iterator[dict[str, Any]]:
    """One row per (target, event) of the evaluation; `facts` maps an event key to its facts."""
    primary = primary_target(evaluation.rules)
    kinds = {t.key: t.kind for t in evaluation.rules.targets}
    none = EventFacts()
    for target, awards in evaluation.by_target.items():
        previous_run = 0
        for award in awards:
            event_type, event_id = award.key  # type: ignore[misc]
            fact = facts.get(award.key, none)
            yield {
                "enrollment_id": enrollment_id, "patient_id": patient_id, "program_id": program_id,
                "target_key": str(target), "target_kind": kinds[target], "is_primary": target == primary,
                "event_type": event_type, "event_id": event_id, "occurred_at": award.at,
                "occurred_on": award.on, "week_on": monday_of(award.on), "outcome": award.outcome,
                "is_submitted": fact.is_submitted, "is_excused": fact.is_excused, "is_attended": fact.is_attended,
                "points": award.points, "draws": award.draws, "value_cents": award.value_cents,
                "bonus_points": award.bonus_points, "bonus_draws": award.bonus_draws,
                "level": award.level, "run": award.run, "is_recovered": award.recovered,
                "is_reset": award.outcome == Outcome.FAILURE and previous_run > 0, "is_capped": award.capped,
            }  # fmt: skip
            previous_run = award.run


def _longest(flags: list[bool | None]) -> int:
    """The longest run of True; None (neutral) neither breaks nor extends a run."""
    best = run = 0
    for flag in flags:
        if flag is None:
            continue
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def summary_of(enrollment_id: int, patient_id: int, program_id: int, rows: list[dict[str, Any]],
               scheduled: list[date], excused_visits: set[date], computed_on: date,
               scheduled_days: int, ledger: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The whole-episode counts of queries.reports.counting, for one enrolment, from its outcome rows, its test
    visits due before `computed_on`, the visit dates excused by an excuse or a closure, and its ledger totals
    (`ledger_totals`; None: through entry 0, so reports count every entry live)."""
    primary = sorted((r for r in rows if r["is_primary"]),
                     key=lambda r: (r["occurred_at"], str(r["event_type"]), r["event_id"]))
    recorded_days = {r["occurred_on"] for r in primary}
    excused_unrecorded = sorted({d for d in scheduled if d in excused_visits and d not in recorded_days})
    attended = [r["occurred_on"] for r in rows if r["is_attended"]]
    weeks: dict[date, list[int]] = {}
    for r in primary:
        week = weeks.setdefault(r["week_on"], [0, 0, 0, 0])
        week[0] += r["outcome"] == Outcome.SUCCESS
        week[1] += r["outcome"] == Outcome.FAILURE
        week[2] += bool(r["is_excused"])
    for day in scheduled:
        weeks.setdefault(monday_of(day), [0, 0, 0, 0])[3] += 1
    for day in excused_unrecorded:
        weeks.setdefault(monday_of(day), [0, 0, 0, 0])[2] += 1
    week_flags = [(s > 0 and f == 0 and s + x >= n) if (f > 0 or s > 0 or x < n) else None
                  for s, f, x, n in (weeks[w] for w in sorted(weeks))]
    return {
        "enrollment_id": enrollment_id, "program_id": program_id, "patient_id": patient_id,
        "successes": sum(r["outcome"] == Outcome.SUCCESS for r in primary),
        "failures": sum(r["outcome"] == Outcome.FAILURE for r in primary),
        "submitted": sum(bool(r["is_submitted"]) for r in primary),
        "excused_tests": sum(bool(r["is_excused"]) for r in primary) + len(excused_unrecorded),
        "attended_days": len(set(attended)),
        "excused_days": len({r["occurred_on"] for r in rows if r["is_excused"]}) + len(excused_unrecorded),
        "last_attended_on": max(attended, default=None),
        "lda_samples": _longest([r["outcome"] == Outcome.SUCCESS if r["outcome"] != Outcome.NEUTRAL else None
                                 for r in primary]),
        "lda_weeks": _longest(week_flags),
        "engine_points": sum(r["points"] for r in rows), "engine_cents": sum(r["value_cents"] for r in rows),
        "scheduled_tests": len(scheduled), "scheduled_days": scheduled_days, "computed_on": computed_on,
        **(ledger or NO_LEDGER),
    }  # fmt: skip


def week_rows(enrollment_id: int, program_id: int, rows: list[dict[str, Any]],
              scheduled: list[date]) -> list[dict[str, Any]]:
    """Per ISO week: the primary target's successes, specimens with a final result, failures and excused events,
    and the test visits due before the summary's day, as queries.reports.counting.weekly_negative counts them."""
    weeks: dict[date, list[int]] = {}
    for r in rows:
        if r["is_primary"]:
            week = weeks.setdefault(r["week_on"], [0, 0, 0, 0, 0])
            week[0] += r["outcome"] == Outcome.SUCCESS
            week[1] += bool(r["is_submitted"])
            week[2] += r["outcome"] == Outcome.FAILURE
            week[3] += bool(r["is_excused"])
    for day in scheduled:
        weeks.setdefault(monday_of(day), [0, 0, 0, 0, 0])[4] += 1
    return [{"enrollment_id": enrollment_id, "week_on": week, "program_id": program_id, "successes": s,
             "submitted": sub, "failures": f, "excused": x, "scheduled_tests": n}
            for week, (s, sub, f, x, n) in sorted(weeks.items())]


NO_LEDGER = {"ledger_through_id": 0, "manual_cents": 0, "manual_points": 0, "redeemed_points": 0, "prize_cents": 0}
# The ledger's kinds reports count apart from the engine's (queries.reports.counting.ledger_counts).
OTHER_KINDS = (EntryKind.MANUAL, EntryKind.REDEMPTION, EntryKind.DRAW)


def ledger_totals(entries: Iterable[tuple[int, str, datetime, int, int]], last_id: int,
                  before: datetime) -> dict[str, int]:
    """The non-engine totals through the enrolment's last entry `last_id`, from its (id, kind, moment, points,
    value_cents) entries of OTHER_KINDS. An entry dated from `before` on (the end of the summary's day) stops the
    totals just before it, so every entry a summary counts is one a whole-episode report on any later day counts;
    reports add the entries after `ledger_through_id` live (queries.reports.whole_episode)."""
    found = sorted(entries)
    through = last_id
    for entry_id, _, moment, _, _ in found:
        if moment >= before:
            through = min(through, entry_id - 1)
    totals = dict(NO_LEDGER, ledger_through_id=through)
    for entry_id, kind, _, points, cents in found:
        if entry_id > through:
            break
        if kind == EntryKind.MANUAL:
            totals["manual_cents"] += cents
            totals["manual_points"] += points
        elif kind == EntryKind.REDEMPTION:
            totals["redeemed_points"] += points
        else:
            totals["prize_cents"] += cents
    return totals


def _visits_of(enrollment_id: int, before: date) -> tuple[list[date], set[date], int]:
    """Test visit dates and the number of visit days due before `before`, and the dates excused."""
    visits = db.session.execute(select(ScheduledVisit.due_on, ScheduledVisit.kind).where(
        ScheduledVisit.enrollment_id == enrollment_id, ScheduledVisit.due_on < before)).all()
    scheduled = [due for due, kind in visits if kind == VisitKind.TEST]
    days = len({due for due, _ in visits})
    if not scheduled:
        return scheduled, set(), days
    excused = set(db.session.scalars(select(Excuse.excused_on).where(
        Excuse.enrollment_id == enrollment_id, Excuse.revoked_at.is_(None))))
    excused |= set(db.session.scalars(select(ClinicClosure.closed_on).where(
        ClinicClosure.closed_on.in_(scheduled))))
    return scheduled, excused, days


def _facts_of(enrollment_id: int) -> dict[Hashable, EventFacts]:
    facts: dict[Hashable, EventFacts] = {}
    for sid, status in db.session.execute(
            select(Specimen.id, Specimen.status).where(Specimen.enrollment_id == enrollment_id)):
        facts[("specimen", sid)] = specimen_facts(status)
    attendance = select(AttendanceRecord.id, AttendanceRecord.status)
    for aid, status in db.session.execute(attendance.where(AttendanceRecord.enrollment_id == enrollment_id)):
        facts[("attendance", aid)] = attendance_facts(status)
    for gid, status in db.session.execute(
            select(GoalActivity.id, GoalActivity.status).where(GoalActivity.enrollment_id == enrollment_id)):
        facts[("activity", gid)] = activity_facts(status)
    return facts


# Rows are written by difference: a desk entry re-evaluates the whole episode yet changes one or two of its ~40
# outcome rows, so deleting and re-inserting them all wrote (and re-indexed) a page of rows per entry.

def _differs(stored: Any, row: dict[str, Any]) -> bool:
    """Stored enums are StrEnum members and compare equal to their values; booleans, dates and aware times compare
    as they are."""
    return any(getattr(stored, name) != value for name, value in row.items())


def _apply(model: Any, rows: Sequence[dict[str, Any]], stored: dict[Hashable, Any],
           key: Callable[[dict[str, Any]], Hashable], identity: Callable[[Any], dict[str, Any]],
           remove: Callable[[list[Any]], Any]) -> None:
    """Insert the new keys, update the changed rows by primary key, delete the keys no longer there."""
    inserts, updates = [], []
    for row in rows:
        old = stored.pop(key(row), None)
        if old is None:
            inserts.append(row)
        elif _differs(old, row):
            updates.append({**row, **identity(old)})
    if stored:
        db.session.execute(remove(list(stored.values())))
    if updates:
        db.session.execute(update(model), updates)
    if inserts:
        db.session.execute(insert(model), inserts)


def _stored(columns: Sequence[Any], *where: Any) -> list[Any]:
    return list(db.session.execute(select(*columns).where(*where)))


def _sync_outcomes(enrollment_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """The enrolment's EventOutcome rows, keyed by target and event (the table's unique key)."""
    t = EventOutcome.__table__
    held = {(r.target_key, str(r.event_type), r.event_id): r
            for r in _stored(list(t.c), t.c.enrollment_id == enrollment_id)}
    _apply(EventOutcome, rows, held, lambda r: (r["target_key"], str(r["event_type"]), r["event_id"]),
           lambda old: {"id": old.id}, lambda gone: delete(EventOutcome).where(EventOutcome.id.in_(
               [g.id for g in gone])))


def _sync_weeks(enrollment_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """The enrolment's EnrollmentWeek rows, keyed by week."""
    t = EnrollmentWeek.__table__
    held = {r.week_on: r for r in _stored(list(t.c), t.c.enrollment_id == enrollment_id)}
    _apply(EnrollmentWeek, rows, held, lambda r: r["week_on"], lambda old: {},
           lambda gone: delete(EnrollmentWeek).where(EnrollmentWeek.enrollment_id == enrollment_id,
                                                     EnrollmentWeek.week_on.in_([g.week_on for g in gone])))


def _sync_summary(row: dict[str, Any]) -> None:
    """The enrolment's EnrollmentSummary, written only when a figure (or its day) differs."""
    t = EnrollmentSummary.__table__
    held = {r.enrollment_id: r for r in _stored(list(t.c), t.c.enrollment_id == row["enrollment_id"])}
    _apply(EnrollmentSummary, [row], held, lambda r: r["enrollment_id"], lambda old: {},
           lambda gone: delete(EnrollmentSummary).where(EnrollmentSummary.enrollment_id.in_(
               [g.enrollment_id for g in gone])))


def _ledger_of(enrollment_id: int, today: date) -> dict[str, int]:
    last = db.session.scalar(select(func.max(LedgerEntry.id)).where(LedgerEntry.enrollment_id == enrollment_id))
    if last is None:
        return dict(NO_LEDGER)
    entries = db.session.execute(select(
        LedgerEntry.id, LedgerEntry.kind, LedgerEntry.occurred_at, LedgerEntry.created_at, LedgerEntry.points,
        LedgerEntry.value_cents).where(LedgerEntry.enrollment_id == enrollment_id,
                                       LedgerEntry.kind.in_(OTHER_KINDS)))
    return ledger_totals([(i, k, o or c, p, v) for i, k, o, c, p, v in entries], last,
                         start_of_day(today + timedelta(days=1)))


def refresh_outcomes(enrollment: Enrollment, evaluation: ProgramEvaluation) -> None:
    """Bring the enrollment's cached outcomes, weeks and summary to this evaluation's, writing only the rows that
    differ (a desk entry changes one or two of an episode's rows); the caller's transaction commits them."""
    db.session.flush()
    rows = list(outcome_rows(enrollment.id, enrollment.patient_id, enrollment.program_id, evaluation,
                             _facts_of(enrollment.id)))
    today = clinic_today()
    scheduled, excused, days = _visits_of(enrollment.id, today)
    summary = summary_of(enrollment.id, enrollment.patient_id, enrollment.program_id, rows, scheduled, excused,
                         today, days, _ledger_of(enrollment.id, today))
    _sync_outcomes(enrollment.id, rows)
    _sync_weeks(enrollment.id, week_rows(enrollment.id, enrollment.program_id, rows, scheduled))
    _sync_summary(summary)
