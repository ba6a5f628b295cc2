"""What the patient portal reads: the home summary, the rewards shelf and receipts.

Every function takes the signed-in patient's own record and reads nothing else, so no portal page can reach another
patient's data: there is no id to tamper with except a redemption's, and that is looked up within the patient
(usecases.portal.own_redemption).
Each page's read is audited as a view of the patient's record (usecases.portal.view).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from cm_tracker.engine.rules import TargetKind
from cm_tracker.engine.schedules import FixedSchedule
from cm_tracker.extensions import db
from cm_tracker.models import (
    Draw,
    Enrollment,
    EnrollmentStatus,
    Patient,
    Program,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardKind,
    ScheduledVisit,
)
from cm_tracker.money import points_value_cents
from cm_tracker.services.core.balances import CapUse, balance_of
from cm_tracker.services.core.enrollments import current_enrollment
from cm_tracker.services.core.errors import Conflict
from cm_tracker.services.core.events import rules_for
from cm_tracker.services.core.spending import free_points, most_of, pending_points
from cm_tracker.services.queries.catalog import CatalogItem, catalog
from cm_tracker.services.queries.prizes import waiting_prizes
from cm_tracker.services.queries.statements import Statement, statement_for


@dataclass(frozen=True)
class Streak:
    """One target's current run of successes and what comes next, for the home page."""

    key: str
    label: str
    kind: TargetKind
    run: int
    next_points: int
    next_draws: int
    next_value_cents: int
    reset_points: int
    reset_draws: int
    resets: bool  # False for a fixed schedule: a failure changes nothing


@dataclass(frozen=True)
class Home:
    statement: Statement
    streaks: list[Streak]
    visits: list[ScheduledVisit]
    labels: dict[str, str]
    prizes_waiting: list[Draw]
    requests: list[Redemption]
    enrolled: bool
    in_draws: bool = False  # a prize programme holding no points: the page speaks in draws and prizes

    @property
    def cap(self) -> CapUse | None:
        return self.statement.cap

    @property
    def prizes_cents(self) -> int:
        return sum(d.value_cents for d in self.prizes_waiting)


@dataclass(frozen=True)
class Offer:
    """A catalog voucher as this patient sees it: can they afford it now, and how many at most."""

    reward: Reward
    stock: int | None  # None when the item is not counted (a service voucher)
    affordable: bool
    most: int  # the largest quantity balance and stock allow today
    short_by: int  # points still missing when not affordable


@dataclass(frozen=True)
class Shelf:
    points: int  # the balance
    set_aside: int  # points of requests waiting at the desk (not debited until handed over)
    available: int  # what new requests may still use
    offers: list[Offer]
    prizes_waiting: list[Draw]
    requests: list[Redemption]
    draws: int = 0  # draw credits waiting at the desk
    in_draws: bool = False  # see in_draws: the page speaks in draws and prizes


@dataclass(frozen=True)
class Receipts:
    redemptions: list[Redemption]
    prizes: list[Draw]


def home(patient: Patient, today: date) -> Home:
    statement = statement_for(patient)
    enrollment = current_enrollment(patient)
    labels = target_labels(enrollment)
    streaks = _streaks(enrollment, statement, today) if enrollment else []
    return Home(statement, streaks, upcoming_visits(patient, today), labels, prizes_waiting(patient),
                open_requests(patient), enrollment is not None, in_draws(enrollment, statement.balance.points))


def in_draws(enrollment: Enrollment | None, points: int) -> bool:
    """A fishbowl patient (docs/rules.md 4.2) earns draws, not points: their pages say what draws and prizes
    wait for them instead of "0 points worth $0.00"; points still show the moment there are any."""
    return enrollment is not None and rules_for(enrollment.program).bowl is not None and points == 0


def target_labels(enrollment: Enrollment | None) -> dict[str, str]:
    return {t.key: t.label for t in enrollment.program.targets} if enrollment else {}


def _streaks(enrollment: Enrollment, statement: Statement, today: date) -> list[Streak]:
    """Each target's run and what comes next, from the statement (the stored state, core.target_states, already
    fitted to the programme's limits): no replay of the history."""
    upcoming = {n.target: n for n in statement.next}
    if not upcoming:  # an episode that is over earns nothing next, so it shows no streak
        return []
    rules = rules_for(enrollment.program, today)
    point_value = enrollment.program.point_value_cents
    streaks = []
    for target in rules.targets:
        nxt = upcoming.get(str(target.key))
        if nxt is None:
            continue
        streaks.append(Streak(str(target.key), target.label, target.kind, nxt.run,
                              nxt.points, nxt.draws, points_value_cents(nxt.points, point_value), nxt.reset_points,
                              nxt.reset_draws, not isinstance(target.schedule, FixedSchedule)))
    return streaks


def upcoming_visits(patient: Patient, today: date, limit: int = 6) -> list[ScheduledVisit]:
    """Scheduled visits from today on, within an active episode and never past the episode's end date."""
    query = (
        select(ScheduledVisit)
        .join(Enrollment, ScheduledVisit.enrollment_id == Enrollment.id)
        .where(Enrollment.patient_id == patient.id, Enrollment.status == EnrollmentStatus.ACTIVE,
               ScheduledVisit.due_on >= today,
               Enrollment.end_on.is_(None) | (ScheduledVisit.due_on <= Enrollment.end_on))
        .order_by(ScheduledVisit.due_on, ScheduledVisit.kind, ScheduledVisit.id)
    )
    return list(db.session.scalars(query.limit(limit)))


def prizes_waiting(patient: Patient) -> list[Draw]:
    """Winning draws whose prize has not been handed over yet (a "good job" slip wins nothing to collect)."""
    return waiting_prizes(patient.id)


def open_requests(patient: Patient) -> list[Redemption]:
    query = select(Redemption).where(Redemption.patient_id == patient.id,
                                     Redemption.status == RedemptionStatus.REQUESTED)
    return list(db.session.scalars(query.order_by(Redemption.requested_at, Redemption.id)))


def shelf(patient: Patient) -> Shelf:
    """The voucher catalog of the patient's programme, each item with what the points available afford today."""
    balance = balance_of(patient.id)
    points, enrollment = balance.points, current_enrollment(patient)
    set_aside = pending_points(patient.id)
    available = free_points(points, set_aside)
    offers = [_offer(item.reward, item.stock, points, set_aside) for item in _catalog(enrollment)]
    return Shelf(points, set_aside, available, offers, prizes_waiting(patient), open_requests(patient),
                 balance.draws, in_draws(enrollment, points))


def _catalog(enrollment: Enrollment | None) -> list[CatalogItem]:
    if enrollment is None:
        return []
    items = catalog(program_id=enrollment.program_id, kind=RewardKind.VOUCHER, active_only=True)
    return [item for item in items if item.reward.cost_points]


def _offer(reward: Reward, stock: int | None, points: int, set_aside: int) -> Offer:
    most = most_of(reward.cost_points, points, set_aside, stock)
    return Offer(reward, stock, most.items > 0, most.items, most.short_by)


def offer_for(patient: Patient, reward_id: int) -> Reward:
    """A voucher the patient may ask for: active, in their programme's catalog; anything else is not found."""
    for item in _catalog(current_enrollment(patient)):
        if item.reward.id == reward_id:
            return item.reward
    raise Conflict("That item is not offered in your catalog.", code="not_offered")


def receipts(patient: Patient) -> Receipts:
    """What the patient has received: fulfilled voucher requests and prizes handed over, newest first."""
    redemptions = db.session.scalars(
        select(Redemption).where(Redemption.patient_id == patient.id,
                                 Redemption.status == RedemptionStatus.FULFILLED)
        .order_by(Redemption.fulfilled_at.desc(), Redemption.id.desc())
    ).all()
    prizes = db.session.scalars(
        select(Draw).where(Draw.patient_id == patient.id, Draw.handed_over_at.is_not(None))
        .order_by(Draw.handed_over_at.desc(), Draw.id.desc())
    ).all()
    return Receipts(list(redemptions), list(prizes))


def program_of(patient: Patient) -> Program | None:
    enrollment = current_enrollment(patient)
    return enrollment.program if enrollment else None
