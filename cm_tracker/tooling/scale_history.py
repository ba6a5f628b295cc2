"""One synthetic patient's episode for `demo scale`: visits, specimens, sessions, draws, redemptions, and the
ledger, report and target-state rows the services would have written for them.

Awards are computed exactly as core.evaluation computes them: the rows built in memory become events through
core.events.events_from, the translation every evaluation uses, and Snapshot.evaluate pays them, so re-evaluating
any enrolment afterwards posts nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cm_tracker.engine.bowl import draw_slip
from cm_tracker.engine.caps import cap_prize_tier
from cm_tracker.engine.events import TargetEvent
from cm_tracker.engine.outcomes import AttendanceStatus, SpecimenStatus, Validity
from cm_tracker.engine.program import CapSpend
from cm_tracker.engine.rules import ProgramRules
from cm_tracker.models import EnrollmentStatus, EntryKind, EventType, RedemptionStatus, VisitKind
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.evaluation import Snapshot
from cm_tracker.services.core.events import events_from
from cm_tracker.services.core.target_states import state_rows
from cm_tracker.services.queries.reports import summaries
from cm_tracker.services.usecases.draws import _reason as draw_reason
from cm_tracker.timeutil import utcnow


@dataclass(frozen=True)
class ProgramPlan:
    """What the builder needs of a programme, read once."""

    id: int
    rules: ProgramRules
    weeks: int
    dates: Callable[[date], list[date]]
    analytes: tuple[str, ...]
    session_target: str | None
    voucher: tuple[int, int] | None  # (reward id, cost in points) for redemptions
    manager_id: int


@dataclass(frozen=True, slots=True)
class BulkResult:
    analyte: str
    result: str


@dataclass(frozen=True, slots=True)
class BulkSpecimen:
    """A specimen row in memory, as core.events reads it (core.events.SpecimenRow); `id` is set when recorded."""

    collected_at: datetime
    status: SpecimenStatus
    results: tuple[BulkResult, ...]
    validity: Validity | None
    temperature_ok: bool | None
    id: int = 0


@dataclass(frozen=True, slots=True)
class BulkAttendance:
    """An attendance row in memory, as core.events reads it (core.events.AttendanceRow)."""

    id: int
    target_key: str
    occurred_at: datetime
    status: AttendanceStatus


@dataclass
class Recorded:
    """The event rows of one episode, turned into engine events once the episode is built."""

    specimens: list[BulkSpecimen] = field(default_factory=list)
    attendance: list[BulkAttendance] = field(default_factory=list)
    facts: dict[Hashable, summaries.EventFacts] = field(default_factory=dict)


@dataclass
class Ids:
    """The next id of each table whose ids other rows refer to (assigned here, so events can be evaluated before
    anything is inserted)."""

    patient: int
    enrollment: int
    visit: int
    specimen: int
    attendance: int
    draw: int
    redemption: int
    ledger: int

    def take(self, name: str) -> int:
        value = getattr(self, name)
        setattr(self, name, value + 1)
        return int(value)


@dataclass
class Rows:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(row)

    def count(self, table: str) -> int:
        return len(self.tables.get(table, ()))


PROFILES = (0.92, 0.8, 0.62, 0.4)


def _specimen(at: datetime, rng: random.Random, reliability: float, analytes: tuple[str, ...]) -> BulkSpecimen:
    roll = rng.random()
    if roll > 0.975:
        return BulkSpecimen(at, SpecimenStatus.EXCUSED, (), None, None)
    if roll > 0.965:
        return BulkSpecimen(at, SpecimenStatus.REFUSED, (), None, None)
    if roll > reliability + 0.04:
        return BulkSpecimen(at, SpecimenStatus.MISSED, (), None, None)
    positive = rng.choice(analytes[:2]) if roll > reliability - 0.14 else None
    results = tuple(BulkResult(a, "positive" if a == positive or (a == "alcohol" and rng.random() < 0.1)
                               else "negative") for a in analytes)
    return BulkSpecimen(at, SpecimenStatus.FINAL, results, Validity.VALID, True)


def _moment(on: date, rng: random.Random, zone: Any) -> datetime:
    local = datetime.combine(on, time(8 + rng.randrange(9), rng.randrange(60)), tzinfo=zone)
    return local.astimezone(UTC)


def _award_delay(rng: random.Random) -> timedelta:
    """Most awards are entered at the visit; some wait for a lab result or late typing."""
    roll = rng.random()
    if roll < 0.85:
        return timedelta(minutes=rng.randrange(2, 50))
    if roll < 0.96:
        return timedelta(hours=rng.randrange(2, 20))
    return timedelta(days=rng.randrange(1, 6), hours=rng.randrange(24))


def build_patient(plan: ProgramPlan, ids: Ids, rows: Rows, rng: random.Random, *, name: str, record: str,
                  counselor_id: int, start: date, today: date, zone: Any, day_of: Callable[[datetime], date]) -> None:
    """Every row of one patient's episode, appended to `rows`."""
    reliability = rng.choice(PROFILES)
    patient_id, enrollment_id = ids.take("patient"), ids.take("enrollment")
    first_entry = rows.count("ledger_entries")
    dates = plan.dates(start)
    drop_at = rng.randrange(3, len(dates)) if rng.random() < 0.22 else None
    status, end_on = EnrollmentStatus.ACTIVE, None
    if drop_at is not None and drop_at + 3 < len(dates) and dates[drop_at + 3] < today:
        dates, status, end_on = dates[:drop_at + 3], EnrollmentStatus.DISCHARGED, dates[drop_at + 2]
    elif start + timedelta(weeks=plan.weeks) <= today:
        status, end_on = EnrollmentStatus.COMPLETED, start + timedelta(weeks=plan.weeks) - timedelta(days=1)
    created = _moment(start, rng, zone) - timedelta(hours=2)
    rows.add("patients", {"id": patient_id, "display_name": name, "record_number": record,
                          "counselor_id": counselor_id, "created_at": created, "version": 1})
    rows.add("enrollments", {"id": enrollment_id, "patient_id": patient_id, "program_id": plan.id, "start_on": start,
                             "end_on": end_on, "status": status, "end_reason": "Stopped coming" if
                             status == EnrollmentStatus.DISCHARGED else None,
                             "visit_days": [], "created_at": created, "version": 1})
    recorded = Recorded()
    for index, on in enumerate(dates):
        # Each visit's specimen and session mark name it, as the desk's do (core.visit_links): a visit without one
        # is unrecorded, overdue on the caseload and in the fidelity report.
        test_visit = ids.take("visit")
        rows.add("scheduled_visits", {"id": test_visit, "enrollment_id": enrollment_id, "due_on": on,
                                      "kind": VisitKind.TEST, "target_key": None})
        session_visit = None
        if plan.session_target:
            session_visit = ids.take("visit")
            rows.add("scheduled_visits", {"id": session_visit, "enrollment_id": enrollment_id, "due_on": on,
                                          "kind": VisitKind.SESSION, "target_key": plan.session_target})
        if on >= today:
            continue
        gone = drop_at is not None and index >= drop_at
        at = _moment(on, rng, zone)
        _record_specimen(ids, rows, rng, recorded, patient_id, enrollment_id, counselor_id, at,
                         BulkSpecimen(at, SpecimenStatus.MISSED, (), None, None) if gone else
                         _specimen(at, rng, reliability, plan.analytes), test_visit)
        if plan.session_target:
            came = not gone and rng.random() < reliability + 0.05
            _record_session(ids, rows, recorded, patient_id, enrollment_id, counselor_id, plan.session_target,
                            at + timedelta(hours=1), AttendanceStatus.ATTENDED if came else AttendanceStatus.UNEXCUSED,
                            session_visit)
    events = events_from(plan.rules, recorded.specimens, recorded.attendance)
    spends = _manual(plan, rows, rng, patient_id, enrollment_id, events, day_of)
    evaluation = Snapshot(plan.rules, events, spends).evaluate()
    if plan.rules.bowl is not None:
        spends += _draws(plan, ids, rows, rng, evaluation, patient_id, enrollment_id, counselor_id, day_of)
        evaluation = Snapshot(plan.rules, events, spends).evaluate()
    for (target, key), award in evaluation.awards.items():
        event_type, event_id = key  # type: ignore[misc]
        rows.add("ledger_entries", {
            "patient_id": patient_id, "enrollment_id": enrollment_id, "created_at": award.at + _award_delay(rng),
            "kind": EntryKind.AWARD, "target_key": str(target), "points": award.points, "draws": award.draws,
            "value_cents": award.value_cents, "reason": award.explanation, "event_type": EventType(event_type),
            "event_id": event_id, "occurred_at": award.at, "redemption_id": None, "draw_id": None,
            "created_by_id": counselor_id})
    if plan.voucher is not None:
        _redemptions(plan, ids, rows, rng, evaluation, patient_id, enrollment_id, counselor_id)
    ledger = _number_entries(ids, rows.tables.get("ledger_entries", [])[first_entry:], today, zone)
    outcome_rows = list(summaries.outcome_rows(enrollment_id, patient_id, plan.id, evaluation, recorded.facts))
    for row in outcome_rows:
        rows.add("event_outcomes", row)
    past = [d for d in dates if d < today]
    for row in summaries.week_rows(enrollment_id, plan.id, outcome_rows, past):
        rows.add("enrollment_weeks", row)
    rows.add("enrollment_summaries", summaries.summary_of(
        enrollment_id, patient_id, plan.id, outcome_rows, past, set(), today, len(set(past)), ledger))
    for row in state_rows(enrollment_id, patient_id, plan.rules, evaluation, events, today):
        rows.add("target_states", row)


def _number_entries(ids: Ids, entries: list[dict[str, Any]], today: date, zone: Any) -> dict[str, int]:
    """Give the episode's ledger entries their ids in the order they were made (the ledger export's order), and
    total them for the summary as queries.reports.summaries does from the stored rows."""
    for entry in entries:
        entry["id"] = ids.take("ledger")
    if not entries:
        return summaries.ledger_totals([], 0, datetime.min.replace(tzinfo=UTC))
    before = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return summaries.ledger_totals(
        [(e["id"], e["kind"], e["occurred_at"] or e["created_at"], e["points"], e["value_cents"])
         for e in entries if e["kind"] in summaries.OTHER_KINDS], entries[-1]["id"], before)


def _record_specimen(ids: Ids, rows: Rows, rng: random.Random, recorded: Recorded, patient_id: int,
                     enrollment_id: int, counselor_id: int, at: datetime, specimen: BulkSpecimen,
                     visit_id: int) -> None:
    sid = ids.take("specimen")
    entered = at + timedelta(minutes=rng.randrange(1, 30))
    rows.add("specimens", {"id": sid, "patient_id": patient_id, "enrollment_id": enrollment_id, "visit_id": visit_id,
                           "collected_at": at, "status": specimen.status, "validity": specimen.validity,
                           "temperature_ok": specimen.temperature_ok, "is_observed": None,
                           "method": "poc" if specimen.results else None, "note": "", "version": 1,
                           "recorded_by_id": counselor_id, "created_at": entered, "updated_at": entered})
    for result in specimen.results:
        rows.add("specimen_results", {"specimen_id": sid, "analyte": result.analyte, "result": result.result})
    recorded.specimens.append(replace(specimen, id=sid))
    recorded.facts[("specimen", sid)] = summaries.specimen_facts(specimen.status)


def _record_session(ids: Ids, rows: Rows, recorded: Recorded, patient_id: int, enrollment_id: int,
                    counselor_id: int, target_key: str, at: datetime, status: AttendanceStatus,
                    visit_id: int | None) -> None:
    aid = ids.take("attendance")
    rows.add("attendance_records", {"id": aid, "patient_id": patient_id, "enrollment_id": enrollment_id,
                                    "visit_id": visit_id, "target_key": target_key, "occurred_at": at,
                                    "status": status, "note": "", "version": 1, "recorded_by_id": counselor_id,
                                    "created_at": at})
    recorded.attendance.append(BulkAttendance(aid, target_key, at, status))
    recorded.facts[("attendance", aid)] = summaries.attendance_facts(status)


def _manual(plan: ProgramPlan, rows: Rows, rng: random.Random, patient_id: int, enrollment_id: int,
            events: dict[Hashable, list[TargetEvent]], day_of: Callable[[datetime], date]) -> list[CapSpend]:
    """Now and then a manager grants points by hand (reported apart in fidelity); they count against the cap."""
    moments = [e.at for target in events.values() for e in target]
    if not moments or rng.random() > 0.02 or plan.rules.bowl is not None:
        return []
    at = rng.choice(moments) + timedelta(hours=2)
    points = rng.choice((10, 20, -10))
    value = points_value_cents(points, plan.rules.point_value_cents)
    rows.add("ledger_entries", {
        "patient_id": patient_id, "enrollment_id": enrollment_id, "created_at": at, "kind": EntryKind.MANUAL,
        "target_key": None, "points": points, "draws": 0, "value_cents": value,
        "reason": "Manual adjustment: " + ("goodwill for a lab delay" if points > 0 else "entered twice by mistake"),
        "event_type": None, "event_id": None, "occurred_at": at, "redemption_id": None, "draw_id": None,
        "created_by_id": plan.manager_id})
    return [CapSpend(at, day_of(at), value)]


def _draws(plan: ProgramPlan, ids: Ids, rows: Rows, rng: random.Random, evaluation: Any, patient_id: int,
           enrollment_id: int, counselor_id: int, day_of: Callable[[datetime], date]) -> list[CapSpend]:
    """Draws at the desk right after each visit's awards (most of the time), within the cap left."""
    bowl = plan.rules.bowl or ()
    earned = sorted((a.at, a.draws) for a in evaluation.awards.values() if a.draws)
    credits, used, spends = 0, 0, []
    for at, draws in earned:
        credits += draws
        if rng.random() > 0.85:
            continue
        when = at + timedelta(minutes=rng.randrange(5, 40))
        for _ in range(min(credits, 50)):
            slip = draw_slip(bowl, rng)
            tier = cap_prize_tier(bowl, slip, plan.rules.cap_cents - used, plan.rules.max_award_cents)
            used += tier.value_cents
            did = ids.take("draw")
            rows.add("draws", {"id": did, "patient_id": patient_id, "enrollment_id": enrollment_id,
                               "target_key": None, "drawn_at": when, "drawn_tier": slip.tier, "tier": tier.tier,
                               "value_cents": tier.value_cents, "reward_id": None,
                               "handed_over_at": when if tier.value_cents else None,
                               "handed_over_by_id": counselor_id if tier.value_cents else None,
                               "confirmed_by_id": None, "drawn_by_id": counselor_id})
            rows.add("ledger_entries", {
                "patient_id": patient_id, "enrollment_id": enrollment_id, "created_at": when, "kind": EntryKind.DRAW,
                "target_key": None, "points": 0, "draws": -1, "value_cents": tier.value_cents,
                "reason": draw_reason(slip.tier, tier.tier, tier.value_cents), "event_type": None,
                "event_id": None, "occurred_at": when, "redemption_id": None, "draw_id": did,
                "created_by_id": counselor_id})
            if tier.value_cents:
                spends.append(CapSpend(when, day_of(when), tier.value_cents))
        credits -= min(credits, 50)
    return spends


def _redemptions(plan: ProgramPlan, ids: Ids, rows: Rows, rng: random.Random, evaluation: Any, patient_id: int,
                 enrollment_id: int, counselor_id: int) -> None:
    """Patients spend points on the catalog's gift card when they have enough, usually at the desk at once."""
    reward_id, cost = plan.voucher or (0, 0)
    balance = 0
    for award in sorted(evaluation.awards.values(), key=lambda a: a.at):
        balance += award.points
        if balance < cost or rng.random() > 0.5:
            continue
        requested = award.at + timedelta(minutes=rng.randrange(10, 60))
        recent = requested > utcnow() - timedelta(days=9)
        wait = timedelta(minutes=rng.randrange(1, 15)) if recent or rng.random() < 0.8 else \
            timedelta(days=rng.randrange(1, 8))
        rid = ids.take("redemption")
        rows.add("redemptions", {"id": rid, "patient_id": patient_id, "enrollment_id": enrollment_id,
                                 "reward_id": reward_id, "quantity": 1, "points": cost,
                                 "status": RedemptionStatus.FULFILLED, "requested_at": requested,
                                 "fulfilled_at": requested + wait, "fulfilled_by_id": counselor_id,
                                 "confirmed_by_id": None, "idempotency_key": None, "request_hash": None,
                                 "response": None})
        rows.add("ledger_entries", {
            "patient_id": patient_id, "enrollment_id": enrollment_id, "created_at": requested + wait,
            "kind": EntryKind.REDEMPTION, "target_key": None, "points": -cost, "draws": 0, "value_cents": 0,
            "reason": f"Redeemed a gift card: {cost} points", "event_type": None, "event_id": None,
            "occurred_at": requested + wait, "redemption_id": rid, "draw_id": None, "created_by_id": counselor_id})
        balance -= cost

