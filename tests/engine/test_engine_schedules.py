"""Schedule and program-rule validation (docs/rules.md 4 and 5): nonsense is refused at the right field."""

from typing import Any

import pytest

from cm_tracker.engine import (
    BowlTier,
    CapWindow,
    EscalatePer,
    EscalatingSchedule,
    FixedSchedule,
    PrizeDrawSchedule,
    ScheduleError,
    parse_program_rules,
    parse_schedule,
    schedule_to_dict,
)

BOWL = [{"tier": "good_job", "slips": 250, "value_cents": 0}, {"tier": "small", "slips": 209, "value_cents": 100}]
ESCALATING = {"kind": "escalating", "start": 10, "step": 5}
PRIZES = {"kind": "prize_draws", "start_draws": 1, "step_draws": 1, "bowl": BOWL}


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(data)
    return caught.value.fields


def test_it_reads_an_escalating_schedule_with_its_defaults() -> None:
    assert parse_schedule({"kind": "escalating", "start": 10}) == EscalatingSchedule(start=10)


def test_it_reads_a_prize_draw_schedule() -> None:
    schedule = parse_schedule({**PRIZES, "max_draws": 12, "escalate_per": "week", "bonus_draws": 2,
                               "bonus_analytes": ["opiates"]})  # fmt: skip

    assert schedule == PrizeDrawSchedule(
        start_draws=1, step_draws=1, max_draws=12, escalate_per=EscalatePer.WEEK, bonus_draws=2,
        bonus_analytes=frozenset({"opiates"}), bowl=(BowlTier("good_job", 250, 0), BowlTier("small", 209, 100)),
    )  # fmt: skip


@pytest.mark.parametrize(
    "schedule",
    [
        EscalatingSchedule(start=10, step=5, bonus_every=3, bonus=40, recovery_after=5),
        EscalatingSchedule(start=40, step=6, max=106, escalate_per=EscalatePer.WEEK),
        PrizeDrawSchedule(start_draws=1, bowl=(BowlTier("good_job", 1, 0),), bonus_draws=2,
                          bonus_analytes=frozenset({"alcohol", "opiates"}), max_draws=12),
        FixedSchedule(points=20),
        FixedSchedule(draws=1),
    ],
)  # fmt: skip
def test_it_round_trips_a_schedule_through_its_json(schedule: Any) -> None:
    assert parse_schedule(schedule_to_dict(schedule)) == schedule


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "lottery"}, "kind", "one of: escalating, prize_draws, fixed"),
        ({"start": 10}, "kind", "one of"),
        ({"kind": "escalating"}, "start", "Required"),
        ({"kind": "escalating", "start": 0}, "start", "1 or more"),
        ({"kind": "escalating", "start": -5}, "start", "1 or more"),
        ({"kind": "escalating", "start": 10.0}, "start", "whole number"),
        ({"kind": "escalating", "start": True}, "start", "whole number"),
        ({"kind": "escalating", "start": "10"}, "start", "whole number"),
        ({**ESCALATING, "step": -1}, "step", "0 or more"),
        ({**ESCALATING, "step": 2.5}, "step", "whole number"),
        ({**ESCALATING, "max": 5}, "max", "at least the starting value (10)"),
        ({**ESCALATING, "bonus_every": 3}, "bonus", "Required when “Bonus on every … success in a row” is set"),
        ({**ESCALATING, "bonus": 40}, "bonus_every", "Required when “Bonus points” is set"),
        ({**ESCALATING, "bonus_every": 0, "bonus": 40}, "bonus_every", "1 or more"),
        ({**ESCALATING, "recovery_after": -1}, "recovery_after", "0 or more"),
        ({**ESCALATING, "escalate_per": "month"}, "escalate_per", "one of: sample, week"),
        ({**ESCALATING, "bowl": BOWL}, "bowl", "Unknown field"),
        ({**ESCALATING, "start_draws": 1}, "start_draws", "Unknown field"),
        ({**ESCALATING, "start": 10**12}, "start", "at most"),
        ({"kind": "prize_draws", "start_draws": 1}, "bowl", "Required"),
        ({**PRIZES, "bowl": []}, "bowl", "Required"),
        ({**PRIZES, "bowl": [{"tier": "good_job", "slips": 0, "value_cents": 0}]}, "bowl", "at least one slip"),
        ({**PRIZES, "bowl": [*BOWL, {"tier": "small", "slips": 1, "value_cents": 100}]}, "bowl.2.tier",
         "appears twice"),
        ({**PRIZES, "bowl": [{"tier": "large", "slips": 40, "value_cents": -2000}]}, "bowl.0.value_cents",
         "0 or more"),
        ({**PRIZES, "bowl": [{"tier": "large", "value_cents": 2000}]}, "bowl.0.slips", "Required"),
        ({**PRIZES, "bowl": [{"slips": 4, "value_cents": 2000}]}, "bowl.0.tier", "Required"),
        ({**PRIZES, "bowl": [{"tier": "large", "slips": 4, "value_cents": 2000, "colour": "red"}]}, "bowl.0.colour",
         "Unknown field"),
        ({**PRIZES, "bowl": ["good_job"]}, "bowl.0", "JSON object"),
        ({**PRIZES, "bonus_draws": 2}, "bonus_analytes", "Required when “Bonus draws” is set"),
        ({**PRIZES, "bonus_analytes": ["opiates"]}, "bonus_draws", "Required when “Bonus analytes” is set"),
        ({**PRIZES, "bonus_draws": 2, "bonus_analytes": "opiates"}, "bonus_analytes", "list"),
        ({**PRIZES, "max_draws": 0}, "max_draws", "1 or more"),
        ({**PRIZES, "bonus_every": 3, "bonus": 1}, "bonus_every", "Unknown field"),
        ({"kind": "fixed"}, "points", "Required"),
        ({"kind": "fixed", "points": 5, "draws": 1}, "draws", "not both"),
        ({"kind": "fixed", "points": 0}, "points", "1 or more"),
        ({"kind": "fixed", "points": 5, "step": 1}, "step", "Unknown field"),
    ],
)  # fmt: skip
def test_it_refuses_nonsense_with_a_sentence_at_the_field(data: dict[str, Any], field: str, words: str) -> None:
    errors = errors_of(data)

    assert field in errors, errors
    assert words in errors[field]
    assert errors[field].endswith(".")


def test_it_refuses_a_schedule_that_is_not_an_object() -> None:
    assert errors_of(["escalating"]) == {"schedule": "Must be a JSON object."}


def test_it_reports_every_bad_field_at_once() -> None:
    errors = errors_of({"kind": "escalating", "start": -1, "step": -1, "colour": "red"})

    assert set(errors) == {"start", "step", "colour"}


def test_it_prefixes_field_paths_when_asked() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule({"kind": "escalating"}, prefix="targets.0.schedule.")

    assert set(caught.value.fields) == {"targets.0.schedule.start"}


PROGRAM = {
    "name": "Stimulant CM",
    "point_value_cents": 25,
    "weeks": 12,
    "visit_days": ["mon", "thu"],
    "cap_cents": 59900,
    "cap_window": "calendar_year",
    "targets": [{"key": "stimulants", "kind": "abstinence", "analytes": ["cocaine"], "schedule": ESCALATING}],
}


def program_errors(**changes: Any) -> dict[str, str]:
    with pytest.raises(ScheduleError) as caught:
        parse_program_rules({**PROGRAM, **changes})
    return caught.value.fields


def test_it_reads_a_programs_rules_and_ignores_fields_the_services_own() -> None:
    rules = parse_program_rules(PROGRAM)

    assert (rules.point_value_cents, rules.cap_cents, rules.cap_window) == (25, 59900, CapWindow.CALENDAR_YEAR)
    assert rules.targets[0].analytes == frozenset({"cocaine"})
    assert rules.targets[0].label == "stimulants"
    assert rules.max_award_cents is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"targets": []}, "targets", "non-empty list"),
        ({"point_value_cents": 0}, "point_value_cents", "1 or more"),
        ({"cap_cents": -1}, "cap_cents", "0 or more"),
        ({"cap_window": "month"}, "cap_window", "calendar_year, rolling_365, episode"),
        ({"max_award_cents": 0}, "max_award_cents", "1 or more"),
        ({"dilute_policy": "ignore"}, "dilute_policy", "failure, neutral"),
        ({"targets": [{"key": "a", "kind": "abstinence", "schedule": ESCALATING}]}, "targets.0.analytes", "non-empty"),
        ({"targets": [{"key": "a", "kind": "abstinence", "analytes": [], "schedule": ESCALATING}]},
         "targets.0.analytes", "non-empty"),
        ({"targets": [{"key": "a", "kind": "abstinence", "analytes": ["cocaine", "cocaine"], "schedule": ESCALATING}]},
         "targets.0.analytes", "only once"),
        ({"targets": [{"key": "a", "kind": "sleep", "schedule": ESCALATING}]}, "targets.0.kind",
         "abstinence, attendance, activity"),
        ({"targets": [{"key": "a", "kind": "attendance", "analytes": ["cocaine"], "schedule": ESCALATING}]},
         "targets.0.analytes", "Only abstinence"),
        ({"targets": [{"kind": "attendance", "schedule": ESCALATING}]}, "targets.0.key", "Required"),
        ({"targets": [{"key": "a", "kind": "attendance", "schedule": ESCALATING},
                      {"key": "a", "kind": "activity", "schedule": ESCALATING}]}, "targets.1.key", "another target"),
        ({"targets": [{"key": "a", "kind": "attendance", "schedule": {"kind": "escalating"}}]},
         "targets.0.schedule.start", "Required"),
        ({"targets": [{"key": "a", "kind": "attendance", "schedule": {**PRIZES, "bonus_draws": 2,
                                                                      "bonus_analytes": ["opiates"]}}]},
         "targets.0.schedule.bonus_analytes", "Only abstinence"),
        ({"targets": [{"key": "a", "kind": "attendance", "schedule": {"kind": "fixed", "draws": 1}}]},
         "targets.0.schedule.draws", "prize bowl"),
        ({"targets": [{"key": "a", "kind": "attendance", "schedule": PRIZES},
                      {"key": "b", "kind": "activity", "schedule": {**PRIZES, "bowl": BOWL[:1]}}]},
         "targets.1.schedule.bowl", "same bowl"),
    ],
)  # fmt: skip
def test_it_refuses_nonsense_program_rules_at_the_field(changes: dict[str, Any], field: str, words: str) -> None:
    errors = program_errors(**changes)

    assert field in errors, errors
    assert words in errors[field]
