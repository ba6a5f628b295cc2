"""The funders' export leaves the programme: aggregates only, years only, counts 1-10 as "<11" (docs/rules.md 8)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from reports.report_helpers import csv_rows

from helpers import sign_in


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<11"), (10, "<11"), (11, 11), (250, 250)])
def test_counts_from_one_to_ten_are_suppressed(count, shown):
    from cm_tracker.services.queries.reports.exports import suppress

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


# The history lies in November 2026; later, the enrolment would also fall in the next year and add its row.
@pytest.mark.time_machine(datetime(2026, 11, 20, 20, 0, tzinfo=UTC))
def test_the_export_carries_no_names_record_numbers_or_dates(client, history):
    sign_in(client, "max")
    response = client.get("/reports/funders.csv")
    assert response.is_streamed
    text = csv_rows(response.get_data(as_text=True))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["program"] for r in rows] == ["Stimulant vouchers"]
    assert rows[0]["year"] == "2026" and rows[0]["enrollments"] == "<11"
    for identifier in ("Pat Patient", "Olive Other", "MRN-001", "MRN-002", "patient_id"):
        assert identifier not in text
    assert not re.search(r"\d{4}-\d{2}", text), "no date finer than the year"
    assert "deidentified-2026.csv" in response.headers["Content-Disposition"]
