"""The records a packet carries (services/queries/disclosure_records.py): each kind of record of the period, oldest
first, as codes and values a packet words in its language, in statements that do not grow with the history; the
description built from a choice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from part2.disclosure_support import NOW

from helpers import statements

pytestmark = pytest.mark.time_machine(NOW)


def _at(day: int, hour: int = 17) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def _rows(personas, weeks: int = 1, first: int = 0) -> None:
    """Pat's weeks from 9 Nov (`first` weeks later): a test visit on the Friday the clinic closed, a group attended
    on the Monday, a verified goal activity on the Wednesday and a planned one, a bus pass and a manual adjustment on
    the Thursday."""
    from cm_tracker.engine.outcomes import ActivityStatus, AttendanceStatus
    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AttendanceRecord,
        ClinicClosure,
        Enrollment,
        EntryKind,
        GoalActivity,
        LedgerEntry,
        Redemption,
        RedemptionStatus,
        Reward,
        RewardKind,
        ScheduledVisit,
        VisitKind,
    )

    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.patient))
    reward = Reward(kind=RewardKind.VOUCHER, name="Bus pass", cost_points=20, value_cents=500)
    db.session.add(reward)
    db.session.flush()
    for week in range(first, first + weeks):
        monday = 9 + 7 * week
        session = ScheduledVisit(enrollment_id=enrollment.id, due_on=date(2026, 11, monday),
                                 kind=VisitKind.SESSION, target_key="stimulants")
        db.session.add_all([session, ClinicClosure(closed_on=date(2026, 11, monday + 4), reason="Staff training"),
                            ScheduledVisit(enrollment_id=enrollment.id, due_on=date(2026, 11, monday + 4),
                                           kind=VisitKind.TEST, target_key="stimulants")])
        db.session.flush()
        db.session.add(AttendanceRecord(patient_id=personas.patient, enrollment_id=enrollment.id, visit_id=session.id,
                                        target_key="stimulants", occurred_at=_at(monday),
                                        status=AttendanceStatus.ATTENDED))
        db.session.add_all([
            GoalActivity(patient_id=personas.patient, enrollment_id=enrollment.id, target_key="stimulants",
                         week_of=date(2026, 11, monday), description="Job interview", verification="Letter",
                         status=ActivityStatus.VERIFIED, occurred_at=_at(monday + 2)),
            GoalActivity(patient_id=personas.patient, enrollment_id=enrollment.id, target_key="stimulants",
                         week_of=date(2026, 11, monday), description="Library card", verification="Card",
                         status=ActivityStatus.PROPOSED)])
        redemption = Redemption(patient_id=personas.patient, enrollment_id=enrollment.id, reward_id=reward.id,
                                quantity=1, points=20, status=RedemptionStatus.FULFILLED)
        db.session.add(redemption)
        db.session.flush()
        db.session.add_all([
            LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment.id, kind=EntryKind.REDEMPTION,
                        points=-20, value_cents=0, reason="Redeemed a bus pass", redemption_id=redemption.id,
                        occurred_at=_at(monday + 3)),
            LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment.id, kind=EntryKind.MANUAL,
                        points=5, value_cents=125, reason="Helped at the open day", occurred_at=_at(monday + 3, 18))])
    db.session.commit()


ALL = ("results", "attendance", "rewards", "activities")


def test_each_kind_of_record_is_copied_as_codes_and_values(ctx, personas):
    from cm_tracker.services.queries.disclosure_records import records_for

    _rows(personas)
    found = records_for(personas.patient, date(2026, 11, 9), date(2026, 11, 15), ALL)
    assert found["sections"] == list(ALL) and found["results"] == []
    assert [(v["on"], v["kind"], v["state"], v["reason"], v["closed"]) for v in found["attendance"]] == [
        ("2026-11-09", "session", "attended", None, False), ("2026-11-13", "test", "excused", "Staff training", True)]
    assert [(e["on"], e["kind"], e["label"], e["points"], e["value_cents"], e["note"]) for e in found["rewards"]] == [
        ("2026-11-12", "redemption", "Bus pass", -20, 0, None),
        ("2026-11-12", "manual", None, 5, 125, "Helped at the open day")]
    assert [(a["on"], a["activity"], a["status"], a["verified"]) for a in found["activities"]] == [
        ("2026-11-09", "Library card", "proposed", False), ("2026-11-11", "Job interview", "verified", True)]


def test_only_the_kinds_chosen_are_copied_in_the_packets_order(ctx, personas):
    from cm_tracker.services.queries.disclosure_records import records_for

    _rows(personas)
    found = records_for(personas.patient, date(2026, 11, 9), date(2026, 11, 15), ["activities", "attendance"])
    assert found["sections"] == ["attendance", "activities"]
    assert "rewards" not in found and "results" not in found


def test_records_outside_the_period_are_left_out(ctx, personas):
    from cm_tracker.services.queries.disclosure_records import records_for

    _rows(personas)
    found = records_for(personas.patient, date(2026, 11, 10), date(2026, 11, 11), ALL)
    assert (found["attendance"], found["rewards"]) == ([], [])
    assert [a["activity"] for a in found["activities"]] == ["Job interview"]


def test_the_statements_do_not_grow_with_the_history(app, ctx, personas):
    from cm_tracker.extensions import db
    from cm_tracker.services.queries.disclosure_records import records_for

    _rows(personas, weeks=1)
    db.session.expunge_all()
    with statements(app) as one_week:
        records_for(personas.patient, date(2026, 11, 1), date(2026, 11, 30), ALL)
    db.session.expunge_all()
    _rows(personas, weeks=2, first=1)  # three weeks of records now
    db.session.expunge_all()
    with statements(app) as three_weeks:
        found = records_for(personas.patient, date(2026, 11, 1), date(2026, 11, 30), ALL)
    assert len(found["activities"]) == 6
    assert len(three_weeks) == len(one_week) <= 14, three_weeks


@pytest.mark.parametrize(("start", "end", "sections", "words"), [
    (date(2026, 11, 1), date(2026, 11, 30), ("attendance", "results"),
     "Test results and attendance, 1 November to 30 November 2026"),
    (date(2026, 12, 15), date(2027, 1, 10), ("rewards",),
     "Rewards earned and spent, 15 December 2026 to 10 January 2027"),
    (date(2026, 11, 4), date(2026, 11, 4), ("results", "attendance", "activities"),
     "Test results, attendance and goal activities, 4 November 2026"),
])
def test_a_choice_describes_itself(start, end, sections, words):
    from cm_tracker.services.usecases.disclosure_packets import PacketChoice, describe

    assert describe(PacketChoice(start, end, sections)) == words

