"""The demo clinic's history, replayed in time order through the app's use cases, each under the clock set to the
moment it happened (timeutil.clock_at).

Each patient's episode is a story: a generator that yields the moment of its next step and, once resumed, takes that
step (a result typed at the desk, draws and hand-overs, a session marked, a goal activity verified) and yields the
next moment. replay() runs the steps of every story in the order of their moments, so rows get their ids in the
order things happened, every stamp (ledger, draws, hand-overs, redemptions, audit) says when, and each use case sees
the clinic's calendar of that day (cap windows, streaks, what is due).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from cm_tracker.extensions import db
from cm_tracker.models import (
    AnalyteResult,
    AttendanceStatus,
    Draw,
    Enrollment,
    GoalActivity,
    Patient,
    Program,
    Reward,
    ScheduledVisit,
    SpecimenStatus,
    TargetKind,
    User,
    Validity,
    VisitKind,
)
from cm_tracker.models import TestMethod as Method
from cm_tracker.services.core.balances import balance_of
from cm_tracker.services.core.clinic import clinic_zone, start_of_day
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.prizes import WAITING
from cm_tracker.services.core.stock import stock_levels
from cm_tracker.services.queries.activities import week_start
from cm_tracker.services.usecases import (
    accounts,
    activities,
    admission,
    attendance,
    catalog,
    draws,
    prizes,
    redemptions,
    specimens,
)
from cm_tracker.timeutil import clock_at, utcnow

Story = Iterator[datetime]

PANEL = ("amphetamine", "cocaine", "methamphetamine", "opiates", "alcohol")
# When each kind of session is held and how long after its start it is marked.
SESSIONS = {"counseling": (time(10, 15), 50), "group": (time(17, 30), 75), "workplace": (time(8, 30), 210)}
GOAL_ITEMS = (("Job interview at the grocery store", "Signed letter from the interviewer"),
              ("Primary-care appointment", "Appointment slip"), ("Two NA meetings", "Signed attendance sheet"),
              ("Apply for housing assistance", "Copy of the application"),
              ("Enrol in a GED class", "Enrolment receipt"))
# Now and then a lab result is typed the next afternoon: the fidelity report's immediacy shows a few late awards.
LATE_RESULT_SHARE = 0.05
COUNT_EVERY_DAYS = 14


@dataclass(frozen=True)
class Item:
    """A catalog or cabinet item as the stories need it (plain values: no query to read them after a commit)."""

    id: int
    cost_points: int = 0


@dataclass
class Clinic:
    """What every story shares: the day the history stops (the clinic's today), the staff, the catalog and cabinet."""

    today: date
    admin: User
    manager: User
    counselors: dict[str, User]
    vouchers: dict[int, list[Item]] = field(default_factory=dict)  # by programme id
    prizes: dict[tuple[int, str], list[Item]] = field(default_factory=dict)  # by programme id and tier


@dataclass(frozen=True)
class PatientPlan:
    name: str
    record_number: str
    program_id: int
    counselor: User
    start_on: date
    login: tuple[str, str] | None = None  # portal username and password


@dataclass
class _Chart:
    """One patient's episode as the story runs it. What the steps ask of the programme is read once, as plain
    values: every commit expires the ORM's objects, and reading one again costs a query."""

    patient: Patient
    patient_id: int
    program_id: int
    counselor: User
    rng: random.Random
    reliability: float
    has_bowl: bool
    goal_keys: list[str]
    tests_only: bool
    contracts: dict[date, GoalActivity] = field(default_factory=dict)  # by week


def _chart(patient: Patient, program: Program, counselor: User, rng: random.Random) -> _Chart:
    kinds = [t.kind for t in program.targets]
    has_bowl = rules_for(program).bowl is not None
    return _Chart(patient, patient.id, program.id, counselor, rng, rng.choice((0.9, 0.8, 0.65, 0.45)), has_bowl,
                  [t.key for t in program.targets if t.kind == TargetKind.ACTIVITY],
                  not has_bowl and all(k == TargetKind.ABSTINENCE for k in kinds))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone())


def replay(stories: Iterable[Story], *, until: date) -> None:
    """Run the stories' steps in the order of their moments, each under the clock set to its moment; every moment
    lies before the clinic day `until` begins. Ties go to the story listed first.

    A story yields the moment of its next step and takes that step when resumed; nothing may happen before its
    first yield (that part runs before any clock is set)."""
    end = start_of_day(until)
    queue: list[tuple[datetime, int, Story]] = []

    def take(n: int, story: Story, now: datetime | None) -> None:
        moment = next(story, None)
        if moment is None:
            return
        if moment >= end or (now is not None and moment < now):
            raise RuntimeError(f"story {n} asked for {moment.isoformat()}: steps run in order, before {until}")
        heapq.heappush(queue, (moment, n, story))

    for n, story in enumerate(stories):
        take(n, story, None)
    last = None
    while queue:
        moment, n, story = heapq.heappop(queue)
        # Steps of several stories at one moment (a group session's marks) follow each other: time never runs back.
        with clock_at(moment if last is None or moment > last else last):
            take(n, story, moment)
            last = utcnow()


def _in_order(story: Story) -> Story:
    """A step planned before the previous one ended (a session at 10:15 after a long desk visit) waits for it."""
    last: datetime | None = None
    for moment in story:
        last = moment if last is None or moment > last else last + timedelta(minutes=1)
        yield last


def patient_story(clinic: Clinic, plan: PatientPlan, rng: random.Random) -> Story:
    return _in_order(_episode(clinic, plan, rng))


def _episode(clinic: Clinic, plan: PatientPlan, rng: random.Random) -> Story:
    yield at(plan.start_on, 8, 30)
    patient = admission.admit_patient(display_name=plan.name, record_number=plan.record_number,
                                      program_id=plan.program_id, start_on=plan.start_on,
                                      counselor_id=plan.counselor.id, actor=clinic.admin)
    account = None
    if plan.login:
        yield at(plan.start_on, 8, 40)
        account = accounts.create_user(username=plan.login[0], password=plan.login[1], role="patient",
                                       display_name=plan.name.split()[0], patient_id=patient.id, actor=clinic.admin)
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == patient.id))
    chart = _chart(patient, enrollment.program, plan.counselor, rng)
    # Plain rows: ORM objects would be read again after every commit of every story.
    visits = db.session.execute(select(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.target_key)
                                .where(ScheduledVisit.enrollment_id == enrollment.id)
                                .order_by(ScheduledVisit.due_on, ScheduledVisit.id)).all()
    test_days = sorted({due for due, kind, _ in visits if kind == VisitKind.TEST})
    for day in sorted({due for due, _, _ in visits if due < clinic.today}):
        if day in test_days:
            yield from _test_visit(clinic, chart, day)
        if chart.goal_keys:
            yield from _contract(clinic, chart, day, [d for d in test_days if week_start(d) == week_start(day)])
        for due, kind, target_key in visits:
            if due == day and kind == VisitKind.SESSION and target_key:
                yield from _session(clinic, chart, target_key, day)
    if account is not None and chart.program_id in clinic.vouchers:
        yield from _portal_request(clinic, chart, account)


def _test_visit(clinic: Clinic, chart: _Chart, day: date) -> Story:
    rng = chart.rng
    collected = at(day, 9, rng.randint(0, 40))
    typed = collected + timedelta(minutes=rng.randint(4, 12))
    if chart.tests_only and day + timedelta(days=1) < clinic.today and rng.random() < LATE_RESULT_SHARE:
        typed = at(day + timedelta(days=1), 14, rng.randint(0, 59))
    yield typed
    specimens.record_specimen(chart.patient, _specimen(collected, rng, chart.reliability), actor=chart.counselor)
    if chart.has_bowl:
        yield from _draws(clinic, chart, typed)
    elif rng.random() < 0.3:
        yield typed + timedelta(minutes=3)
        _redeem(clinic, chart)


def _specimen(moment: datetime, rng: random.Random, reliability: float) -> specimens.SpecimenInput:
    roll = rng.random()
    if roll > 0.97:
        return specimens.SpecimenInput(collected_at=moment, status=SpecimenStatus.EXCUSED, note="Excused: court date")
    if roll > reliability + 0.08:
        return specimens.SpecimenInput(collected_at=moment, status=SpecimenStatus.MISSED)
    results = {a: AnalyteResult.NEGATIVE for a in PANEL}
    if roll > reliability:
        results[rng.choice(("cocaine", "methamphetamine"))] = AnalyteResult.POSITIVE
    if rng.random() < 0.1:
        results["alcohol"] = AnalyteResult.POSITIVE
    return specimens.SpecimenInput(collected_at=moment, status=SpecimenStatus.FINAL, results=results,
                                   validity=Validity.VALID, temperature_ok=True, observed=rng.random() < 0.3,
                                   method=Method.POC)


def _draws(clinic: Clinic, chart: _Chart, after: datetime) -> Story:
    """Draws at the desk right after the result, as the protocol asks, and the prizes handed over from the cabinet;
    now and then a patient leaves before drawing, or before choosing a prize, and it waits for the next visit."""
    rng = chart.rng
    waiting = min(balance_of(chart.patient_id).draws, draws.MAX_DRAWS_AT_ONCE)
    if waiting > 0 and rng.random() < 0.85:
        yield after + timedelta(minutes=2)
        draws.perform_draws(chart.patient, waiting, actor=chart.counselor, rng=rng)
    owed = list(db.session.scalars(select(Draw).where(Draw.patient_id == chart.patient_id, WAITING)
                                   .order_by(Draw.id)))
    if not owed:
        return
    yield after + timedelta(minutes=4)
    for draw in owed:
        shelf = _in_stock(clinic.prizes.get((chart.program_id, draw.tier), []))
        if shelf and rng.random() < 0.85:
            prizes.hand_over_prize(draw, db.session.get_one(Reward, rng.choice(shelf).id), chart.counselor)


def _in_stock(items: list[Item]) -> list[Item]:
    levels = stock_levels(i.id for i in items)
    return [i for i in items if levels[i.id] > 0]


def _redeem(clinic: Clinic, chart: _Chart) -> None:
    """The dearest voucher the balance buys, handed over at the desk."""
    points = balance_of(chart.patient_id).points
    affordable = [i for i in _in_stock(clinic.vouchers.get(chart.program_id, [])) if i.cost_points <= points]
    if affordable:
        item = max(affordable, key=lambda i: i.cost_points)
        redemptions.redeem(chart.patient, db.session.get_one(Reward, item.id), 1, actor=chart.counselor)


def _session(clinic: Clinic, chart: _Chart, target_key: str, day: date) -> Story:
    start, marked_after = SESSIONS.get(target_key, (time(11, 0), 60))
    held = datetime.combine(day, start, tzinfo=clinic_zone())
    yield held + timedelta(minutes=marked_after)
    roll = chart.rng.random()
    status = (AttendanceStatus.EXCUSED if roll > 0.97 else AttendanceStatus.ATTENDED
              if roll < chart.reliability + 0.05 else AttendanceStatus.UNEXCUSED)
    attendance.record_attendance(chart.patient, occurred_at=held, target_key=target_key, status=status,
                                 actor=chart.counselor,
                                 note="Excused: medical appointment" if status == AttendanceStatus.EXCUSED else "")
    if status == AttendanceStatus.ATTENDED and chart.program_id in clinic.vouchers and chart.rng.random() < 0.15:
        yield held + timedelta(minutes=marked_after + 2)
        _redeem(clinic, chart)


def _contract(clinic: Clinic, chart: _Chart, day: date, week_days: list[date]) -> Story:
    """A goal activity a week: agreed at the week's first test visit, judged at its last from the evidence brought.
    This week's stays open, for the desk to verify."""
    if len(week_days) < 2 or day not in (week_days[0], week_days[-1]):
        return
    rng, week = chart.rng, week_start(day)
    if day == week_days[0] and rng.random() < 0.8:
        yield at(day, 10, 0)
        description, verification = rng.choice(GOAL_ITEMS)
        chart.contracts[week] = activities.propose_activity(
            chart.patient, target_key=chart.goal_keys[0], week_of=day, description=description,
            verification=verification, actor=chart.counselor)
    activity = chart.contracts.get(week)
    if day != week_days[-1] or activity is None:
        return
    yield at(day, 10, 5)
    if rng.random() < 0.75:
        activity = activities.submit_evidence(activity, version=activity.version, evidence_note=activity.verification,
                                              actor=chart.counselor)
        activities.verify_activity(activity, version=activity.version, occurred_at=at(day - timedelta(days=1), 15),
                                   note="", actor=chart.counselor)
    else:
        activities.reject_activity(activity, version=activity.version, reason="No evidence brought this week.",
                                   actor=chart.counselor)


def _portal_request(clinic: Clinic, chart: _Chart, account: User) -> Story:
    """Last evening the patient asked in the portal for a voucher, to collect at the next visit."""
    yield at(clinic.today - timedelta(days=1), 19, 30)
    points = balance_of(chart.patient_id).points
    affordable = [i for i in _in_stock(clinic.vouchers[chart.program_id]) if i.cost_points <= points]
    if affordable:
        item = min(affordable, key=lambda i: i.cost_points)
        redemptions.request_redemption(chart.patient, db.session.get_one(Reward, item.id), 1, actor=account)


def cabinet_story(clinic: Clinic, opening: date) -> Story:
    """The manager counts the prize cabinet every two weeks (the fidelity report shows the latest counts)."""
    day = opening + timedelta(days=COUNT_EVERY_DAYS)
    while day < clinic.today:
        yield at(day, 16, 30)
        items = [i for shelf in clinic.prizes.values() for i in shelf]
        levels = stock_levels(i.id for i in items)
        for item in items:
            catalog.record_count(db.session.get_one(Reward, item.id), levels[item.id], "Cabinet count",
                                 actor=clinic.manager)
        day += timedelta(days=COUNT_EVERY_DAYS)
