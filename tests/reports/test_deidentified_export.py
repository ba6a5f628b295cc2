"""The funders' export leaves the programme: aggregates only, years only, counts 1-10 as "<11" (docs/rules.md 8), and
no count that subtraction from the others would give away (complementary suppression, docs/reports.md)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from itertools import product

import pytest

from reports.report_helpers import csv_rows

from helpers import sign_in


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<11"), (10, "<11"), (11, 11), (250, 250)])
def test_counts_from_one_to_ten_are_suppressed(count, shown):
    from cm_tracker.services.queries.reports.disclosure import suppress

    assert suppress(count) == shown


def _measures(enrollments: int):
    from cm_tracker.services.queries.reports.measures import Measures

    return Measures(enrollments=enrollments, successes=40, submitted=50, itt_denominator=60, attended=50,
                    attendance_denominator=60, percent_negative_submitted=80.0, percent_negative_itt=66.7,
                    lda_samples_mean=5.5, lda_weeks_mean=2.0, retention_weeks_mean=8.0, attendance_rate=83.3,
                    abstinent_4_weeks=3, earned_cents=12345, redeemed_cents=10000, outstanding_cents=2345)


def test_a_small_group_shows_no_rate_or_money_that_could_point_at_someone():
    from cm_tracker.models import Program
    from cm_tracker.services.queries.reports.exports import FUNDER_HEADER, funder_row

    row = dict(zip(FUNDER_HEADER, funder_row(Program(name="P", funding_source="SOR"), 2026, _measures(7), 7,
                                             {"completed": 2}), strict=True))
    assert (row["enrollments"], row["completed"], row["discharged"], row["reaching_4_weeks_abstinence"]) == \
        ("<11", "<11", 0, "<11")
    assert row["percent_negative_itt"] == "suppressed" and row["earned_usd"] == "suppressed"


def test_a_large_group_shows_its_rates_and_money_but_still_suppresses_small_counts():
    from cm_tracker.models import Program
    from cm_tracker.services.queries.reports.exports import FUNDER_HEADER, funder_row

    row = dict(zip(FUNDER_HEADER, funder_row(Program(name="P", funding_source="SOR"), 2026, _measures(40), 12,
                                             {"completed": 15, "discharged": 4}), strict=True))
    assert (row["enrollments"], row["new_enrollments"], row["completed"], row["discharged"]) == (40, 12, 15, "<11")
    assert (row["percent_negative_itt"], row["earned_usd"], row["reaching_4_weeks_abstinence"]) == \
        (66.7, "123.45", "<11")


COUNTS = ("enrollments", "new_enrollments", "completed", "discharged", "reaching_4_weeks_abstinence")


@pytest.mark.parametrize(("counts", "withheld"), [
    ((16, 15, 0, 0, 0), {"new_enrollments"}),  # 16 - 15 new = 1 carried over
    ((16, 0, 15, 0, 0), {"completed"}),  # 1 not completed (and 1 still active): the zero would not hide it
    ((40, 12, 20, 15, 0), {"discharged"}),  # 40 - 20 - 15 = 5 still active; 40 - 20 and 40 - 15 are safe
    ((20, 0, 5, 12, 0), {"discharged"}),  # 20 - 12 = 8: the suppressed 5 completed added to the 3 still active
    ((25, 0, 0, 0, 20), {"reaching_4_weeks_abstinence"}),  # 5 who did not reach four weeks
    ((30, 15, 11, 11, 25), {"reaching_4_weeks_abstinence", "completed"}),  # 30 - 25 = 5; 30 - 11 - 11 = 8
    ((40, 12, 15, 4, 3), set()),  # every difference is 0 or over 10
    ((40, 29, 0, 0, 0), set()),  # 11 carried over may be shown
    ((40, 30, 0, 0, 0), {"new_enrollments"}),  # 10 may not
    ((7, 7, 2, 0, 5), set()),  # a small total is suppressed itself: nothing can be subtracted from it
])
def test_counts_that_subtraction_would_give_away_are_withheld_too(counts, withheld):
    from cm_tracker.services.queries.reports.disclosure import withheld as complementary
    from cm_tracker.services.queries.reports.exports import FUNDER_RELATIONS

    assert complementary(dict(zip(COUNTS, counts, strict=True)), FUNDER_RELATIONS) == withheld


def _differences(row: dict[str, object]) -> list[int]:
    """Every number a reader can work out by subtracting shown parts from the shown enrolments."""
    total = row["enrollments"]
    if not isinstance(total, int):
        return []
    found = []
    for group in (("new_enrollments",), ("reaching_4_weeks_abstinence",), ("completed",), ("discharged",),
                  ("completed", "discharged")):
        if all(isinstance(row[name], int) for name in group):
            found.append(total - sum(row[name] for name in group))  # type: ignore[misc]
    return found


def test_no_row_lets_a_count_from_one_to_ten_be_worked_out_by_subtraction():
    """Every row of enrolments 11-40 with splits into new, completed, discharged and abstinent in steps."""
    from cm_tracker.services.queries.reports.disclosure import shown
    from cm_tracker.services.queries.reports.exports import FUNDER_RELATIONS

    checked = 0
    for total in range(11, 41):
        steps = product(range(0, total + 1, 3), range(0, total + 1, 4), range(0, total + 1, 5))
        for new, completed, abstinent in steps:
            for discharged in range(0, total - completed + 1, 4):
                row = shown(dict(zip(COUNTS, (total, new, completed, discharged, abstinent), strict=True)),
                            FUNDER_RELATIONS)
                assert not [d for d in _differences(row) if 1 <= d <= 10], row
                assert row["enrollments"] == total  # the total is never withheld to protect its parts
                checked += 1
    assert checked > 10000


def test_the_sixteen_enrolments_with_fifteen_new_hide_the_new_ones():
    from cm_tracker.models import Program
    from cm_tracker.services.queries.reports.exports import FUNDER_HEADER, funder_row

    row = dict(zip(FUNDER_HEADER, funder_row(Program(name="P", funding_source="SOR"), 2026, _measures(16), 15,
                                             {"completed": 0}), strict=True))
    assert (row["enrollments"], row["new_enrollments"], row["completed"]) == (16, "suppressed", 0)
    assert row["percent_negative_itt"] == 66.7  # the group is large: its rates are shown


# The history lies in November 2026; later, the enrolment would also fall in the next year and add its row.
@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
def test_the_export_carries_no_names_record_numbers_or_dates(client, history):
    sign_in(client, "max")
    response = client.get("/reports/funders.csv")
    assert response.is_streamed
    text = csv_rows(response.get_data(as_text=True), notice=False)  # de-identified: no Part 2 notice
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["program"] for r in rows] == ["Stimulant vouchers"]
    assert rows[0]["year"] == "2026" and rows[0]["enrollments"] == "<11"
    for identifier in ("Pat Patient", "Olive Other", "MRN-001", "MRN-002", "patient_id"):
        assert identifier not in text
    assert not re.search(r"\d{4}-\d{2}", text), "no date finer than the year"
    assert "deidentified-2026.csv" in response.headers["Content-Disposition"]
