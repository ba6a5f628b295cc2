"""Each outcome measure of docs/rules.md 8 on hand-built histories recorded through the real services."""

from __future__ import annotations

from datetime import date

import pytest

from reports.report_helpers import report

from factories import at
from worlds.clinic import another_patient, excuse, record, schedule

# (history of (day, code), scheduled test days, excused-in-advance days) -> expected figures.
# Codes: N negative, P positive, M missed, E excused, R refused, D dilute (a failure by default).
CASES = {
    "a positive breaks the run": (
        [(0, "N"), (3, "N"), (7, "P"), (10, "N"), (14, "N"), (17, "N"), (21, "N")], [0, 3, 7, 10, 14, 17, 21], [],
        {"successes": 6, "submitted": 7, "percent_negative_submitted": 85.7, "percent_negative_itt": 85.7,
         "lda_samples_mean": 4.0, "lda_weeks_mean": 2.0, "retention_weeks_mean": 4.0, "attendance_rate": 100.0}),
    "misses, refusals, excuses and an unrecorded visit": (
        [(0, "N"), (3, "M"), (7, "E"), (10, "N"), (14, "R"), (17, "N")], [0, 3, 7, 10, 14, 17, 21, 24], [24],
        {"successes": 3, "submitted": 3, "percent_negative_submitted": 100.0, "percent_negative_itt": 50.0,
         "lda_samples_mean": 1.0, "lda_weeks_mean": 1.0, "retention_weeks_mean": 3.0, "attendance_rate": 66.7}),
    "a dilute sample counts as submitted and failed": (
        [(0, "N"), (3, "D"), (7, "N"), (10, "N")], [0, 3, 7, 10], [],
        {"successes": 3, "submitted": 4, "percent_negative_submitted": 75.0, "percent_negative_itt": 75.0,
         "lda_samples_mean": 2.0, "lda_weeks_mean": 1.0, "retention_weeks_mean": 2.0, "attendance_rate": 100.0}),
    "an excused sample neither breaks nor extends a run": (
        [(0, "N"), (3, "E"), (7, "N"), (10, "N")], [0, 3, 7, 10], [],
        {"successes": 3, "submitted": 3, "percent_negative_submitted": 100.0, "percent_negative_itt": 100.0,
         "lda_samples_mean": 3.0, "lda_weeks_mean": 2.0, "retention_weeks_mean": 2.0, "attendance_rate": 100.0}),
    "a patient who never came": (
        [(0, "M"), (3, "M")], [0, 3, 7], [],
        {"successes": 0, "submitted": 0, "percent_negative_submitted": None, "percent_negative_itt": 0.0,
         "lda_samples_mean": 0.0, "lda_weeks_mean": 0.0, "retention_weeks_mean": 0.0, "attendance_rate": 0.0}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_measure_matches_the_hand_count(make_clinic, name):
    history, scheduled, excused, expected = CASES[name]
    clinic = make_clinic()
    schedule(clinic.enrollment_id, scheduled)
    for day in excused:
        excuse(clinic.enrollment_id, day)
    record(clinic, history)
    whole = report(clinic).totals  # the whole episode: one summary row per enrolment
    period = report(clinic, start=date(2026, 1, 1)).totals  # a period: grouped SQL over the events
    assert {key: getattr(whole, key) for key in expected} == expected
    assert {key: getattr(period, key) for key in expected} == expected


def test_eight_clean_weeks_count_as_four_plus_weeks_of_abstinence(make_clinic):
    clinic = make_clinic()
    days = [d for week in range(8) for d in (7 * week, 7 * week + 3)]
    schedule(clinic.enrollment_id, days)
    record(clinic, [(d, "N") for d in days])
    totals = report(clinic).totals
    assert (totals.lda_weeks_mean, totals.abstinent_4_weeks) == (8.0, 1)


def test_three_clean_weeks_do_not_count_as_four(make_clinic):
    clinic = make_clinic()
    days = [0, 3, 7, 10, 14, 17, 21]
    schedule(clinic.enrollment_id, days)
    record(clinic, [(d, "N") for d in days[:6]] + [(21, "P")])
    assert report(clinic).totals.abstinent_4_weeks == 0


def test_percentages_are_pooled_over_events_and_weeks_are_means_over_enrolments(make_clinic):
    clinic = make_clinic()
    second, second_enrollment = another_patient(clinic)
    schedule(clinic.enrollment_id, [0, 3, 7, 10])
    schedule(second_enrollment, [0, 3])
    record(clinic, [(0, "N"), (3, "N"), (7, "N"), (10, "N")])
    record(clinic, [(0, "P"), (3, "N")], patient_id=second)
    totals = report(clinic).totals
    # 5 negatives of 6 samples pooled (83.3), not the mean of 100 and 50; LDA samples (4 + 1) / 2.
    assert (totals.enrollments, totals.percent_negative_submitted, totals.lda_samples_mean) == (2, 83.3, 2.5)
    assert [p.measures.percent_negative_submitted for p in report(clinic).patients] == [100.0, 50.0]


def test_a_period_counts_only_its_events_but_retention_runs_from_the_start(make_clinic):
    clinic = make_clinic()
    schedule(clinic.enrollment_id, [0, 3, 7, 10, 14])
    record(clinic, [(0, "P"), (3, "P"), (7, "N"), (10, "N"), (14, "N")])
    totals = report(clinic, start=date(2026, 1, 12), end=date(2026, 1, 15)).totals
    assert (totals.successes, totals.submitted, totals.percent_negative_itt) == (2, 2, 100.0)
    assert totals.retention_weeks_mean == 2.0  # start 5 Jan, last visit in the period 15 Jan


def test_a_counselor_filter_keeps_only_their_caseload(make_clinic):
    clinic = make_clinic()
    record(clinic, [(0, "N")])
    assert report(clinic, counselor_id=clinic.counselor_id).totals.enrollments == 1
    from cm_tracker.extensions import db
    from cm_tracker.models import Role, User

    other = User(username="other-c", display_name="Other", role=Role.COUNSELOR, password_hash="x")
    db.session.add(other)
    db.session.commit()
    assert report(clinic, counselor_id=other.id).totals.enrollments == 0


def test_money_is_earned_redeemed_and_outstanding_at_the_point_value(make_clinic):
    from cm_tracker.extensions import db
    from cm_tracker.models import EntryKind, LedgerEntry

    clinic = make_clinic()
    record(clinic, [(0, "N"), (3, "N"), (7, "N")])  # 10 + 15 + 60 = 85 points
    common = {"patient_id": clinic.patient_id, "enrollment_id": clinic.enrollment_id, "occurred_at": at(8)}
    db.session.add_all([
        LedgerEntry(kind=EntryKind.REDEMPTION, points=-40, reason="Redeemed a gift card", **common),
        LedgerEntry(kind=EntryKind.MANUAL, points=20, value_cents=500, reason="Goodwill", **common),
    ])
    db.session.commit()
    totals = report(clinic).totals
    assert (totals.earned_cents, totals.redeemed_cents, totals.outstanding_cents) == (2625, 1000, 1625)


def test_a_patient_with_nothing_recorded_still_counts_their_scheduled_visits(make_clinic):
    clinic = make_clinic()
    _second, second_enrollment = another_patient(clinic)
    schedule(second_enrollment, [0, 3, 7])
    record(clinic, [(0, "N")])
    whole, period = report(clinic).totals, report(clinic, start=date(2026, 1, 1)).totals
    assert (whole.itt_denominator, whole.percent_negative_itt) == (4, 25.0)
    assert (period.itt_denominator, period.percent_negative_itt) == (4, 25.0)
