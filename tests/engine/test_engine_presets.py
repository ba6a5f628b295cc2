"""Presets (docs/rules.md 1): each names its source, passes validation, and earns what it says."""

from datetime import date

import pytest

from cm_tracker.engine import PRESETS, max_earnable, parse_program_rules, parse_schedule
from cm_tracker.engine.presets import VisitBlock, visit_dates

START = date(2025, 1, 6)  # a Monday


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_passes_validation(name: str) -> None:
    preset = PRESETS[name]

    rules = parse_program_rules(preset.program_data())
    for target in preset.targets:
        parse_schedule(target.schedule)
    assert [t.key for t in rules.targets] == [t.key for t in preset.targets]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_names_its_source_and_caveat(name: str) -> None:
    preset = PRESETS[name]

    assert preset.name == name
    assert preset.source and preset.caveat and preset.description


@pytest.mark.parametrize(
    ("name", "visits", "points", "cents", "draws", "fits_cap"),
    [
        ("higgins_vouchers", 36, 3990, 99750, 0, True),
        ("california_rip", 36, 3024, 75600, 0, False),
        ("petry_prize_draws", 24, 0, 0, 228, True),
        ("silverman_attendance", 60, 16545, 165450, 0, True),
        ("fixed_attendance", 12, 240, 6000, 0, True),
    ],
)
def test_it_computes_the_most_each_preset_can_earn(name, visits, points, cents, draws, fits_cap) -> None:
    preset = PRESETS[name]
    dates = preset.visit_dates(START)
    rules = preset.rules()

    most = max_earnable(rules, {t.key: dates for t in rules.targets})

    assert len(dates) == visits
    assert (most.points, most.cents, most.draws, most.fits_cap) == (points, cents, draws, fits_cap)


def test_the_california_like_preset_tests_twice_a_week_then_weekly() -> None:
    dates = PRESETS["california_rip"].visit_dates(START)

    assert dates[:4] == [date(2025, 1, 6), date(2025, 1, 9), date(2025, 1, 13), date(2025, 1, 16)]
    assert dates[24:26] == [date(2025, 3, 31), date(2025, 4, 7)]


def test_the_california_like_preset_pays_10_dollars_rising_to_26_50() -> None:
    schedule = parse_schedule(PRESETS["california_rip"].targets[0].schedule)

    assert (schedule.start * 25, schedule.max * 25) == (1000, 2650)


def test_it_spaces_visits_from_a_mid_week_start() -> None:
    dates = visit_dates(date(2025, 1, 8), ("mon", "thu"), (VisitBlock(1, 1, 2),))

    assert dates == [date(2025, 1, 9), date(2025, 1, 13)]


def test_it_refuses_a_visit_count_for_a_schedule_that_escalates_by_week() -> None:
    rules = PRESETS["california_rip"].rules()

    with pytest.raises(ValueError, match="visit dates"):
        max_earnable(rules, {"stimulants": 36})


def test_it_accepts_a_visit_count_for_a_schedule_that_escalates_by_sample() -> None:
    rules = PRESETS["higgins_vouchers"].rules()

    assert max_earnable(rules, {"cocaine": 36}).points == 3990


def test_it_respects_the_per_award_ceiling_in_the_maximum() -> None:
    data = PRESETS["higgins_vouchers"].program_data() | {"max_award_cents": 1000}

    assert max_earnable(parse_program_rules(data), {"cocaine": 3}).points == 10 + 15 + 40


def test_preset_data_can_be_edited_without_changing_the_preset() -> None:
    data = PRESETS["petry_prize_draws"].program_data()
    data["targets"][0]["schedule"]["bowl"][0]["slips"] = 0

    assert PRESETS["petry_prize_draws"].program_data()["targets"][0]["schedule"]["bowl"][0]["slips"] == 250
