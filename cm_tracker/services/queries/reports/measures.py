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
from datetime import date
from operator import attrgetter
from typing import NamedTuple

FOUR_WEEKS = 4


class Counts(NamedTuple):
    """What happened in one enrolment over the period, as counted in the database.

    A named tuple rather than a frozen dataclass, immutable all the same: a report builds one per enrolment, ten
    thousand at a time, and a frozen dataclass's __init__ (a call per field) costs several times a tuple's."""

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


class Measures(NamedTuple):
    """Pooled measures (docs/rules.md 8): percentages over all events, weeks and LDA as means, money summed. A
    named tuple, as Counts: a report builds one per patient."""

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


def mean(total: int, count: int) -> float | None:
    """The mean of `count` values adding up to `total`, to one decimal."""
    return round(total / count, 1) if count else None


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
    # One pass, each derived figure read once: reports pool ten thousand enrolments at a time.
    successes = submitted = itt = attended = attendance = samples = weeks = retention = abstinent = 0
    earned = redeemed = outstanding = 0
    for c in rows:
        successes += c.successes
        submitted += c.submitted
        itt += c.itt_denominator
        attended += c.attended_days
        attendance += c.attendance_denominator
        samples += c.lda_samples
        weeks += c.lda_weeks
        retention += c.retention_weeks
        abstinent += c.lda_weeks >= FOUR_WEEKS
        earned += c.earned_cents
        redeemed += c.redeemed_cents
        outstanding += c.outstanding_cents
    n = len(rows)
    return Measures(
        enrollments=n, successes=successes, submitted=submitted, itt_denominator=itt, attended=attended,
        attendance_denominator=attendance,
        percent_negative_submitted=percent(successes, submitted), percent_negative_itt=percent(successes, itt),
        lda_samples_mean=mean(samples, n), lda_weeks_mean=mean(weeks, n), retention_weeks_mean=mean(retention, n),
        attendance_rate=percent(attended, attendance), abstinent_4_weeks=abstinent,
        earned_cents=earned, redeemed_cents=redeemed, outstanding_cents=outstanding,
    )


API_FIELDS = (
    "enrollments", "percent_negative_submitted", "percent_negative_itt", "lda_samples_mean", "lda_weeks_mean",
    "retention_weeks_mean", "attendance_rate", "earned_cents", "redeemed_cents", "outstanding_cents",
)  # fmt: skip


_api_values = attrgetter(*API_FIELDS)


def as_api(measures: Measures) -> dict[str, object]:
    """The fields of docs/api.md GET /reports/outcomes, in its order."""
    return dict(zip(API_FIELDS, _api_values(measures), strict=True))
