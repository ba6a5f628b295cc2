"""The chart geometry and the cause of each outcome, as numbers and codes (no browser, no pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cm_tracker.engine.outcomes import Outcome, SpecimenFacts, SpecimenStatus, Validity, classify_specimen
from cm_tracker.patient.charts import BOTTOM, HEIGHT, TOP, earnings_chart, nice_ceiling, results_chart
from cm_tracker.services.queries.portal_history import Week, specimen_cause

BOTTOM_Y = HEIGHT - BOTTOM


def _week(day: int, negative: int = 0, failed: int = 0, excused: int = 0, cents: int = 0) -> Week:
    return Week(date(2026, 11, day), negative, failed, excused, cents // 25, 0, cents)


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (6, 10), (11, 20), (2125, 5000)])
def test_the_axis_ends_at_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_results_stack_negative_then_failed_then_excused_from_the_bottom():
    chart = results_chart([_week(2, negative=3), _week(9, negative=2, failed=1)])
    first, second = chart.columns
    assert [(s.series, s.value) for s in second.segments] == [("negative", 2), ("failed", 1)]
    assert second.segments[0].y + second.segments[0].height == pytest.approx(BOTTOM_Y, abs=0.02)
    assert second.segments[1].y + second.segments[1].height == pytest.approx(second.segments[0].y, abs=0.02)
    assert first.segments[0].y == pytest.approx(BOTTOM_Y - (BOTTOM_Y - TOP) * 3 / 5)
    assert [g.value for g in chart.gridlines] == [0, 5]


def test_earnings_bars_are_proportional_to_cents_and_an_empty_week_has_no_bar():
    chart = earnings_chart([_week(2, cents=2125), _week(9), _week(16, cents=875)], in_draws=False)
    assert [len(c.segments) for c in chart.columns] == [1, 0, 1]
    assert chart.columns[0].segments[0].height == pytest.approx((BOTTOM_Y - TOP) * 2125 / 5000, abs=0.01)
    assert chart.peak == 2125 and chart.height == HEIGHT


def test_a_chart_without_data_says_it_is_empty():
    assert results_chart([_week(2)]).is_empty


class _Result:
    def __init__(self, analyte: str, result: str) -> None:
        self.analyte, self.result = analyte, result


class _Specimen:
    def __init__(self, status: str, results: dict[str, str], validity: str | None = "valid",
                 temperature_ok: bool | None = True) -> None:
        self.status, self.validity, self.temperature_ok = SpecimenStatus(status), validity, temperature_ok
        self.results = [_Result(a, r) for a, r in results.items()]
        self.collected_at = datetime(2026, 11, 2, tzinfo=UTC)


STIMULANTS = frozenset({"cocaine", "methamphetamine"})
CASES = [
    (_Specimen("final", {"cocaine": "negative", "methamphetamine": "negative"}), "negative"),
    (_Specimen("final", {"cocaine": "positive", "methamphetamine": "negative", "opiates": "positive"}), "positive"),
    (_Specimen("final", {"cocaine": "negative"}), "untested"),
    (_Specimen("missed", {}), "missed"),
    (_Specimen("excused", {}), "excused"),
    (_Specimen("pending", {}), "pending"),
    (_Specimen("refused", {}), "refused"),
    (_Specimen("final", {"cocaine": "negative", "methamphetamine": "negative"}, validity="dilute"), "dilute"),
    (_Specimen("final", {"cocaine": "positive"}, validity="adulterated"), "adulterated"),
    (_Specimen("final", {"cocaine": "negative", "methamphetamine": "negative"}, temperature_ok=False),
     "temperature"),
]


@pytest.mark.parametrize(("specimen", "code"), CASES, ids=[c[1] for c in CASES])
def test_the_cause_names_the_rule_that_decided_and_agrees_with_the_engine(specimen, code):
    cause = specimen_cause(specimen, STIMULANTS, "failure")
    facts = SpecimenFacts(specimen.status, {r.analyte: r.result for r in specimen.results},
                          Validity(specimen.validity or "valid"), specimen.temperature_ok)
    outcome = classify_specimen(facts, STIMULANTS).outcome
    assert cause.code == code
    assert (outcome == Outcome.SUCCESS) == (code == "negative")
    if code == "positive":
        assert cause.analytes == ("cocaine",)  # opiates are outside the target's set
