"""Reports that do not mislead (issue 12, item 10): weeks still in progress, the sign of money taken back, chart
axes that hold every value and the budget, labels inside the chart, and CSV requests with bad filters."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from reports.report_helpers import csv_rows

from helpers import sign_in

# Wednesday 18 November 2026, in the afternoon at the clinic: the enrolments began on Monday 2 November, so two
# programme weeks (and two ISO weeks) are over and the third is in progress.
pytestmark = pytest.mark.time_machine(datetime(2026, 11, 18, 20, 0, tzinfo=UTC))


@pytest.fixture
def world(app, personas):
    """Pat: N, N, N on 2, 4 and 6 November and N on Monday 16 November (this week) through the real service, and an
    engine correction of -70 points (-$17.50) on 10 November; the programme's budget is $500."""
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import (
        AnalyteResult,
        Enrollment,
        EntryKind,
        LedgerEntry,
        Patient,
        Program,
        SpecimenStatus,
        User,
        Validity,
    )
    from cm_tracker.services.usecases.specimens import SpecimenInput, record_specimen

    with app.app_context():
        patient, cora = db.session.get(Patient, personas.patient), db.session.get(User, personas.counselor)
        for day in (2, 4, 6, 16):
            record_specimen(patient, SpecimenInput(
                collected_at=datetime(2026, 11, day, 17, tzinfo=UTC), status=SpecimenStatus.FINAL,
                results={"cocaine": AnalyteResult.NEGATIVE, "methamphetamine": AnalyteResult.NEGATIVE},
                validity=Validity.VALID, temperature_ok=True), actor=cora)
        enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == personas.patient))
        db.session.add(LedgerEntry(patient_id=personas.patient, enrollment_id=enrollment.id,
                                   kind=EntryKind.ADJUSTMENT, target_key="stimulants", points=-70,
                                   value_cents=-1750, reason="Correction: the 4 Nov result was positive",
                                   occurred_at=datetime(2026, 11, 10, 17, tzinfo=UTC)))
        db.session.get(Program, personas.program).budget_cents = 50000
        db.session.commit()
    return personas


def _csv(client, path: str) -> list[list[str]]:
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/csv", response.get_data(as_text=True)[:300]
    # Both tables it reads are aggregates: no patient in them, so no Part 2 notice above the header.
    return list(csv.reader(io.StringIO(csv_rows(response.get_data(as_text=True), notice=False))))


def _svg(html: str, chart_id: str) -> str:
    return re.search(rf'<figure class="chart" aria-labelledby="{chart_id}-caption">(.*?)</figure>', html, re.S)[1]


def test_the_retention_curve_counts_only_programme_weeks_that_are_over(client, world):
    sign_in(client, "max")
    rows = _csv(client, f"/reports/outcomes/retention.csv?program_id={world.program}")
    # Pat last came on 16 November (week 3), Olive never: weeks 1 and 2 are over; week 3 is in progress, so no
    # enrolment is counted in it yet (not Pat as still coming, nor Olive as gone).
    assert rows[1:4] == [["1", "1", "2", "50.0"], ["2", "1", "2", "50.0"], ["3", "0", "0", ""]]


def test_the_weekly_chart_stops_at_the_last_complete_week_and_the_table_marks_the_current_one(client, world):
    sign_in(client, "max")
    html = client.get(f"/reports/outcomes?program_id={world.program}").get_data(as_text=True)
    chart = _svg(html, "chart-weekly")
    assert ">02 Nov 26</text>" in chart and "16 Nov 26" not in chart
    assert '16 Nov 2026 <span class="badge badge-warn">in progress</span>' in html
    assert "The week of " in html and "is still in progress" in html


def test_an_engine_correction_keeps_its_minus_sign_on_the_page_and_in_the_csv(client, world):
    sign_in(client, "max")
    html = client.get(f"/reports/fidelity?program_id={world.program}").get_data(as_text=True)
    assert ('<tr><th scope="row">Engine corrections</th><td class="num">1</td><td class="num">20.0%</td>'
            '<td class="num">-$17.50</td></tr>') in html
    rows = _csv(client, f"/reports/fidelity/awards.csv?program_id={world.program}")
    assert rows[2] == ["Engine corrections", "1", "-17.50", "20.0"]


def test_the_spend_axis_holds_a_negative_month_and_the_budget_in_round_dollars(client, app, world):
    from sqlalchemy import select

    from cm_tracker.extensions import db
    from cm_tracker.models import Enrollment, EntryKind, LedgerEntry

    with app.app_context():  # a manual take-back larger than November's awards: the month's spend is -$40.00
        enrollment = db.session.scalar(select(Enrollment).where(Enrollment.patient_id == world.patient))
        db.session.add(LedgerEntry(patient_id=world.patient, enrollment_id=enrollment.id, kind=EntryKind.MANUAL,
                                   points=-200, value_cents=-5000, reason="Taken back: awarded twice",
                                   occurred_at=datetime(2026, 11, 12, 17, tzinfo=UTC)))
        db.session.commit()
    sign_in(client, "max")
    html = client.get(f"/reports/budget?program_id={world.program}").get_data(as_text=True)
    chart = _svg(html, "chart-spend")
    ticks = re.findall(r'class="chart-y">([^<]*)</text>', chart)
    assert ">-$40.00</td>" in html
    assert ticks == ["-$200", "$0", "$200", "$400", "$600"]  # from below -$40 to above the $500 budget
    plot_top, plot_bottom = 16, 240
    for cy in re.findall(r'<circle cx="[0-9.]+" cy="(-?[0-9.]+)"', chart):
        assert plot_top <= float(cy) <= plot_bottom


def test_the_first_and_last_axis_labels_align_inward_so_the_chart_does_not_cut_them(client, world):
    sign_in(client, "max")
    html = client.get(f"/reports/outcomes?program_id={world.program}").get_data(as_text=True)
    labels = re.findall(r'<text x="([0-9.]+)" y="[0-9.]+" class="chart-x" text-anchor="(\w+)">',
                        _svg(html, "chart-retention"))
    assert labels[0] == ("64.0", "start") and labels[-1][1] in ("middle", "end")
    assert all(anchor == "middle" for _, anchor in labels[1:-1])
    assert ("704.0", "end") in labels or float(labels[-1][0]) < 704


@pytest.mark.parametrize(("query", "field", "message"), [
    ("date_from=2026-02-31", "date_from", "Not a valid date value."),
    ("date_from=2026-11-10&date_to=2026-11-05", "date_to", "The end must be on or after the start."),
])
def test_a_csv_with_bad_dates_answers_422_in_plain_text_naming_the_field(client, world, query, field, message):
    sign_in(client, "max")
    response = client.get(f"/reports/outcomes/patients.csv?program_id={world.program}&{query}")
    assert response.status_code == 422 and response.mimetype == "text/plain"
    assert f"{field}: {message}" in response.get_data(as_text=True).splitlines()
    assert "Content-Disposition" not in response.headers

