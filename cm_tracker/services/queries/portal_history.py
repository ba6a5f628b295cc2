"""The patient's history and weekly progress as structured facts, so the portal can say them in any language.

The ledger's stored `reason` is the English audit text; the portal never translates it. Instead each entry is paired
with what explains it: what its event earns now (outcome, streak, bonus, recovery, as the last evaluation left it in
the report cache), the cause of that outcome (which analytes were positive, a missed visit...), the amounts before and
after a correction, and the redemption or draw it belongs to. patient/wording.py turns these into sentences.

Only the lines shown are built (the home's latest few, or one page of the history): the page's entries are selected
by id, and then what they need in a fixed handful of queries (the earlier and later entries of their events, the
cached outcomes of those events, their causes, redemptions and draws), so a page costs the same for a history of
ten events as for one of a thousand, and no page replays the history through the engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from cm_tracker.engine.outcomes import DilutePolicy, Outcome, classify_specimen
from cm_tracker.engine.rules import TargetKind
from cm_tracker.extensions import db
from cm_tracker.models import (
    AttendanceRecord,
    Draw,
    Enrollment,
    EntryKind,
    EventOutcome,
    GoalActivity,
    LedgerEntry,
    Patient,
    ProgramTarget,
    Redemption,
    Specimen,
)
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.clinic import clinic_date
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.events import specimen_facts
from cm_tracker.services.core.ledger import EARNING_KINDS, ENGINE_KINDS
from cm_tracker.services.queries.correction_reasons import Why, correction_whys
from cm_tracker.services.queries.ledger_order import happened_newest_first

MAX_WEEKS = 26

EventKey = tuple[int | None, str, int | None, str | None]  # enrollment, event type, event id, target
Held = list[tuple[int, tuple[int, int]]]  # an event's engine entries for one target, oldest first: (id, amount)


@dataclass(frozen=True)
class Cause:
    """Why an event had its outcome, as a code a sentence can be chosen by ("positive", "missed", ...)."""

    code: str
    analytes: tuple[str, ...] = ()
    note: str = ""  # a goal activity's description, as staff wrote it


@dataclass(frozen=True)
class Standing:
    """What an event earns now for one target, as the last evaluation computed it (the report cache's row, with the
    bonus part of the amount told apart): the facts a history sentence says."""

    outcome: Outcome
    points: int
    draws: int
    run: int  # successes in a row after this event
    bonus_points: int  # included in `points`
    bonus_draws: int  # included in `draws`
    recovered: bool
    capped: bool


@dataclass(frozen=True)
class Line:
    """One ledger entry with everything needed to say it in plain words."""

    entry: LedgerEntry
    label: str
    target_kind: TargetKind | None
    award: Standing | None  # what the event earns now, when it is what this entry now stands for
    cause: Cause | None
    before: tuple[int, int] | None  # points and draws the event held before this correction
    after: tuple[int, int] | None
    superseded: bool  # a later correction changed what this event earns
    redemption: Redemption | None
    draw: Draw | None
    why: Why | None = None  # a correction's cause: the lab, staff with their reason, an excuse...

    @property
    def happened_at(self) -> datetime:
        """When the line happened for the patient: a correction when it was made, anything else when it occurred.
        The history is in this order (queries.ledger_order.HAPPENED_AT says the same in SQL)."""
        if self.entry.kind == EntryKind.ADJUSTMENT:
            return self.entry.created_at
        return self.entry.occurred_at or self.entry.created_at


@dataclass(frozen=True)
class HistoryPage:
    lines: list[Line]  # newest first
    page: int  # 1 first, within 1..pages
    pages: int  # at least 1, even for an empty history


@dataclass(frozen=True)
class Week:
    starts_on: date
    negative: int
    failed: int  # positive, missed, refused or invalid
    excused: int  # excused, pending or otherwise not counted
    points: int
    draws: int
    value_cents: int


def recent(patient: Patient, limit: int) -> list[Line]:
    """The patient's latest `limit` ledger entries, newest first, each with its explanation."""
    return _lines(patient, _newest(patient, 0, limit))


def history_page(patient: Patient, asked: int, per_page: int) -> HistoryPage:
    """One page of the patient's ledger, newest first; a page number out of range shows the nearest page."""
    total = db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.patient_id == patient.id)) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(asked, 1), pages)
    return HistoryPage(_lines(patient, _newest(patient, (number - 1) * per_page, per_page)), number, pages)


def _newest(patient: Patient, skip: int, limit: int) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.patient_id == patient.id).order_by(*happened_newest_first())
    return list(db.session.scalars(query.offset(skip).limit(limit)))


def _lines(patient: Patient, entries: Sequence[LedgerEntry]) -> list[Line]:
    """The lines of these entries (newest first), from what their events hold and earn now."""
    enrollments = {e.id: e for e in patient.enrollments}
    events = [e for e in entries if e.kind in ENGINE_KINDS and e.event_type]
    amounts = _event_amounts(patient, events)
    standings = _standings(events, enrollments)
    facts = {e.id: _event_facts(e, amounts.get(_event_key(e), []), standings.get(_event_key(e))) for e in events}
    causes = _causes([e for e in events if facts[e.id].standing], enrollments)
    redemptions = _redemptions({e.redemption_id for e in entries if e.redemption_id})
    draws = _by_id(Draw, {e.draw_id for e in entries if e.draw_id})
    whys = correction_whys(patient, [e for e in entries if e.kind == EntryKind.ADJUSTMENT])
    lines = []
    for entry in entries:
        target = _target(enrollments.get(entry.enrollment_id), entry.target_key)
        label, kind = (target.label, target.kind) if target else (entry.target_key or "", None)
        fact = facts.get(entry.id, _NOT_AN_EVENT)
        correction = entry.kind == EntryKind.ADJUSTMENT
        lines.append(Line(entry, label, kind, fact.standing,
                          causes.get(_cause_key(entry)) if fact.standing else None,
                          fact.before if correction else None, fact.after if correction else None,
                          fact.superseded, redemptions.get(entry.redemption_id), draws.get(entry.draw_id),
                          whys.get(entry.id)))
    return lines


@dataclass(frozen=True)
class _EventFacts:
    before: tuple[int, int]
    after: tuple[int, int]
    superseded: bool
    standing: Standing | None


_NOT_AN_EVENT = _EventFacts((0, 0), (0, 0), False, None)


def _event_facts(entry: LedgerEntry, held: Held, current: Standing | None) -> _EventFacts:
    """What the event held before this entry and after it, whether a later entry changed it, and what it earns now
    when that is what this entry stands for (the last entry of its event, with the same amount)."""
    before = _sum(amount for entry_id, amount in held if entry_id < entry.id)
    after = (before[0] + entry.points, before[1] + entry.draws)
    superseded = bool(held) and held[-1][0] != entry.id
    stands = current is not None and not superseded and (current.points, current.draws) == after
    return _EventFacts(before, after, superseded, current if stands else None)


def _event_key(entry: LedgerEntry) -> EventKey:
    return (entry.enrollment_id, str(entry.event_type), entry.event_id, entry.target_key)


def _cause_key(entry: LedgerEntry) -> tuple[object, ...]:
    return (entry.enrollment_id, entry.target_key, str(entry.event_type), entry.event_id)


def _sum(amounts: Iterable[tuple[int, int]]) -> tuple[int, int]:
    points = draws = 0
    for p, d in amounts:
        points, draws = points + p, draws + d
    return points, draws


def _event_amounts(patient: Patient, events: Sequence[LedgerEntry]) -> dict[EventKey, Held]:
    """Every engine entry of these entries' events and targets, oldest first: (id, (points, draws)), for what an event
    held before a correction and whether a later one changed it."""
    found: dict[EventKey, Held] = defaultdict(list)
    if not events:
        return found
    wanted = {_event_key(e) for e in events}
    rows = db.session.execute(
        select(LedgerEntry.id, LedgerEntry.enrollment_id, LedgerEntry.event_type, LedgerEntry.event_id,
               LedgerEntry.target_key, LedgerEntry.points, LedgerEntry.draws)
        .where(LedgerEntry.patient_id == patient.id, LedgerEntry.kind.in_(ENGINE_KINDS),
               LedgerEntry.event_id.in_({e.event_id for e in events}))
        .order_by(LedgerEntry.id)
    )
    for entry_id, enrollment_id, event_type, event_id, target_key, points, draws in rows:
        key = (enrollment_id, str(event_type), event_id, target_key)
        if key in wanted:
            found[key].append((entry_id, (points, draws)))
    return found


def _standings(events: Sequence[LedgerEntry], enrollments: dict[int, Enrollment]) -> dict[EventKey, Standing]:
    """What each of these events earns now for its target: the report cache's row (event_outcomes), which every
    re-evaluation rewrites with the ledger (usecases.reevaluation)."""
    ids = {e.enrollment_id for e in events if e.enrollment_id in enrollments}
    if not ids:
        return {}
    wanted = {_event_key(e) for e in events}
    rows = [r for r in db.session.scalars(select(EventOutcome).where(
        EventOutcome.enrollment_id.in_(ids), EventOutcome.event_id.in_({e.event_id for e in events})))
        if (r.enrollment_id, str(r.event_type), r.event_id, r.target_key) in wanted]
    return {(r.enrollment_id, str(r.event_type), r.event_id, r.target_key): _standing(r) for r in rows}


def _standing(row: EventOutcome) -> Standing:
    return Standing(Outcome(row.outcome), row.points, row.draws, row.run, row.bonus_points, row.bonus_draws,
                    row.is_recovered, row.is_capped)


def _target(enrollment: Enrollment | None, key: str | None) -> ProgramTarget | None:
    if enrollment is None or key is None:
        return None
    return next((t for t in enrollment.program.targets if t.key == key), None)


def _by_id(model: type, ids: set[int]) -> dict[int, object]:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _redemptions(ids: set[int]) -> dict[int, Redemption]:
    """The redemptions of these ids with their reward, which the sentence names."""
    if not ids:
        return {}
    query = select(Redemption).where(Redemption.id.in_(ids)).options(joinedload(Redemption.reward))
    return {row.id: row for row in db.session.scalars(query)}


def _causes(entries: Iterable[LedgerEntry], enrollments: dict[int, Enrollment]) -> dict[tuple[object, ...], Cause]:
    """The cause of each engine entry's event outcome, per (enrollment, target, event type, event id)."""
    wanted = {_cause_key(e) for e in entries if e.kind in ENGINE_KINDS and e.event_type and e.event_id}
    ids: dict[str, set[int]] = defaultdict(set)
    for _, _, event_type, event_id in wanted:
        ids[str(event_type)].add(int(event_id))  # type: ignore[call-overload]
    specimens = {s.id: s for s in db.session.scalars(
        select(Specimen).where(Specimen.id.in_(ids["specimen"])).options(selectinload(Specimen.results)))
    } if ids["specimen"] else {}
    attendance = _by_id(AttendanceRecord, ids["attendance"])
    activities = _by_id(GoalActivity, ids["activity"])
    found: dict[tuple[object, ...], Cause] = {}
    for enrollment_id, target_key, event_type, event_id in wanted:
        target = _target(enrollments.get(int(enrollment_id)), target_key)  # type: ignore[call-overload, arg-type]
        if event_type == "specimen" and event_id in specimens and target is not None:
            program = enrollments[int(enrollment_id)].program  # type: ignore[call-overload]
            cause = specimen_cause(specimens[event_id], frozenset(target.analytes), str(program.dilute_policy))
        elif event_type == "attendance" and event_id in attendance:
            cause = Cause(f"attendance_{attendance[event_id].status}")  # type: ignore[attr-defined]
        elif event_type == "activity" and event_id in activities:
            activity = activities[event_id]
            cause = Cause(f"activity_{activity.status}", note=activity.description)  # type: ignore[attr-defined]
        else:
            continue
        found[(enrollment_id, target_key, event_type, event_id)] = cause
    return found


def specimen_cause(specimen: Specimen, analytes: frozenset[str], dilute_policy: str) -> Cause:
    """Which rule of docs/rules.md 3 decided a specimen, as the engine itself reports it."""
    verdict = classify_specimen(specimen_facts(specimen), analytes, DilutePolicy(dilute_policy))
    code = "dilute_neutral" if verdict.code == "dilute" and verdict.outcome is Outcome.NEUTRAL else verdict.code
    return Cause(code, verdict.analytes)


def weeks(patient: Patient, today: date) -> list[Week]:
    """Week by week (Monday first) of the current episode: test results of the main target and what was earned."""
    enrollment = current_enrollment(patient)
    if enrollment is None:
        return []
    first = _monday(enrollment.start_on)
    last = _monday(min(today, enrollment.end_on or today))
    if last < first:
        return []
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    results = _weekly_results(enrollment)
    earned = _weekly_earnings(enrollment)
    pv = enrollment.program.point_value_cents
    out = []
    day = first
    while day <= last:
        negative, failed, excused = results.get(day, (0, 0, 0))
        points, draws = earned.get(day, (0, 0))
        out.append(Week(day, negative, failed, excused, points, draws, points_value_cents(points, pv)))
        day += timedelta(weeks=1)
    return out


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekly_results(enrollment: Enrollment) -> dict[date, tuple[int, int, int]]:
    """Outcomes of the main target per week, counted from the report cache (one grouped query, no evaluation)."""
    rows = db.session.execute(
        select(EventOutcome.week_on, EventOutcome.outcome, func.count())
        .where(EventOutcome.enrollment_id == enrollment.id, EventOutcome.is_primary.is_(True))
        .group_by(EventOutcome.week_on, EventOutcome.outcome)
    ).all()
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    slot = {Outcome.SUCCESS: 0, Outcome.FAILURE: 1, Outcome.NEUTRAL: 2}
    for week_on, outcome, n in rows:
        counts[week_on][slot[Outcome(outcome)]] += int(n)
    return {day: (c[0], c[1], c[2]) for day, c in counts.items()}


def _weekly_earnings(enrollment: Enrollment) -> dict[date, tuple[int, int]]:
    rows = db.session.execute(
        select(LedgerEntry.occurred_at, LedgerEntry.created_at, LedgerEntry.points, LedgerEntry.draws)
        .where(LedgerEntry.enrollment_id == enrollment.id, LedgerEntry.kind.in_(EARNING_KINDS))
    ).all()
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for occurred, created, points, draws in rows:
        week = _monday(clinic_date(occurred or created))
        sums[week][0] += points
        sums[week][1] += draws
    return {day: (s[0], s[1]) for day, s in sums.items()}
