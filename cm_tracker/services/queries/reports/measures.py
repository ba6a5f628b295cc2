"""The outcome measures of docs/rules.md 8 for one enrollment and pooled over many, from raw counts.

Counts come from grouped SQL (queries.reports.outcomes); this module only turns them into measures, so the page,
the API, the CSV exports and the de-identified export cannot disagree.

Rules where docs/rules.md leaves a choice (also in docs/reports.md):
- percent negative and LDA are reported on the programme's first abstinence target (its primary outcome);
- intent to treat divides by the scheduled test visits whose day is over, less the excused ones; a specimen given
  outside the schedule still counts, so the denominator is never below the successes and failures recorded;
- attendance counts visit days: a day with a specimen given or refused, or a session attended, is attended;
- a calendar week is abstinent when it had at least one success, no failure, and every non-excused scheduled test
  of the week was a success; a week with nothing to count (all excused, or no visit) neither breaks nor extends a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

FOUR_WEEKS = 4


@dataclass(frozen=True, slots=True)
class Counts:
    """What happened in one enrolment over the period, as counted in the database."""

    successes: int = 0
    failures: int = 0
    submitted: int = 0
    scheduled_tests: int = 0
    excused_tests: int = 0
    scheduled_days: int = 0
    excused_days: int = 0
    attended_days: int = 0
    lda_samples: int = 0
    lda_weeks: int = 0
    last_attended_on: date | None = None
    start_on: date | None = None
    earned_cents: int = 0
    redeemed_cents: int = 0
    outstanding_cents: int = 0

    @property
    def itt_denominator(self) -> int:
        return max(self.scheduled_tests - self.excused_tests, self.successes + self.failures)

    @property
    def attendance_denominator(self) -> int:
        return max(self.scheduled_days - self.excused_days, self.attended_days)

    @property
    def retention_weeks(self) -> int:
        """Whole weeks from the start to the last attended visit, plus one; 0 when the patient never came."""
        if self.last_attended_on is None or self.start_on is None:
            return 0
        return max(0, (self.last_attended_on - self.start_on).days // 7 + 1)


@dataclass(frozen=True, slots=True)
class Measures:
    """Pooled measures (docs/rules.md 8): percentages over all events, weeks and LDA as means, money summed."""

    enrollments: int
    successes: int
    submitted: int
    itt_denominator: int
    attended: int
    attendance_denominator: int
    percent_negative_submitted: float | None
    percent_negative_itt: float | None
    lda_samples_mean: float | None
    lda_weeks_mean: float | None
    retention_weeks_mean: float | None
    attendance_rate: float | None
    abstinent_4_weeks: int
    earned_cents: int
    redeemed_cents: int
    outstanding_cents: int


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def measures_of(c: Counts) -> Measures:
    """One enrolment's measures: the same as pool([c]), without the generator passes (thousands per report)."""
    itt, attendance, retention = c.itt_denominator, c.attendance_denominator, c.retention_weeks
    return Measures(
        1, c.successes, c.submitted, itt, c.attended_days, attendance, percent(c.successes, c.submitted),
        percent(c.successes, itt), float(c.lda_samples), float(c.lda_weeks), float(retention),
        percent(c.attended_days, attendance), int(c.lda_weeks >= FOUR_WEEKS), c.earned_cents, c.redeemed_cents,
        c.outstanding_cents,
    )  # fmt: skip


def pool(counts: Iterable[Counts]) -> Measures:
    rows = list(counts)
    if len(rows) == 1:
        return measures_of(rows[0])
    successes = sum(c.successes for c in rows)
    submitted = sum(c.submitted for c in rows)
    itt = sum(c.itt_denominator for c in rows)
    attended = sum(c.attended_days for c in rows)
    attendance = sum(c.attendance_denominator for c in rows)
    return Measures(
        enrollments=len(rows), successes=successes, submitted=submitted, itt_denominator=itt, attended=attended,
        attendance_denominator=attendance,
        percent_negative_submitted=percent(successes, submitted), percent_negative_itt=percent(successes, itt),
        lda_samples_mean=mean([c.lda_samples for c in rows]), lda_weeks_mean=mean([c.lda_weeks for c in rows]),
        retention_weeks_mean=mean([c.retention_weeks for c in rows]),
        attendance_rate=percent(attended, attendance),
        abstinent_4_weeks=sum(1 for c in rows if c.lda_weeks >= FOUR_WEEKS),
        earned_cents=sum(c.earned_cents for c in rows), redeemed_cents=sum(c.redeemed_cents for c in rows),
        outstanding_cents=sum(c.outstanding_cents for c in rows),
    )


API_FIELDS = (
    "enrollments", "percent_negative_submitted", "percent_negative_itt", "lda_samples_mean", "lda_weeks_mean",
    "retention_weeks_mean", "attendance_rate", "earned_cents", "redeemed_cents", "outstanding_cents",
)  # fmt: skip


def as_api(measures: Measures) -> dict[str, object]:
    """The fields of docs/api.md GET /reports/outcomes, in its order."""
    return {name: getattr(measures, name) for name in API_FIELDS}
