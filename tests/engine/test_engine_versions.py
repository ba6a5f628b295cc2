"""A live program's schedule changes from a date (issue 4): each event is paid by the version in force on its
date, the streak carries across the change, and awards before the change stand."""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cm_tracker.engine import (
    CapWindow,
    EscalatePer,
    EscalatingSchedule,
    FixedSchedule,
    Outcome,
    ProgramRules,
    TargetEvent,
    TargetKind,
    TargetRules,
    evaluate_program,
    evaluate_target,
    evaluate_versions,
    preview_next,
    preview_program,
    schedule_in_force,
)
from cm_tracker.engine.events import in_order
from engine.engine_helpers import MONDAY, VOUCHERS, daily, points, weekly
from engine.test_engine_properties import FIRST_DAY, histories, schedules, windows

RICHER = EscalatingSchedule(start=20, step=10)
DAY_3 = MONDAY + timedelta(days=3)


def _program(target: TargetRules, cap: int = 10_000_000) -> ProgramRules:
    return ProgramRules(25, cap, CapWindow.EPISODE, None, (target,))


def _target(schedule, versions=()) -> TargetRules:
    return TargetRules("cocaine", TargetKind.ABSTINENCE, "cocaine", frozenset({"cocaine"}), schedule, versions)


def test_each_event_is_paid_by_the_version_in_force_on_its_date() -> None:
    versions = ((MONDAY, VOUCHERS), (DAY_3, RICHER))

    awards = evaluate_versions(versions, in_order(daily("NNNNN")), "cocaine", 25)

    # 10, 15, 20 + 40 under the first; the run of three goes on: 20 + 3 x 10 and 20 + 4 x 10 under the second.
    assert points(awards) == [10, 15, 60, 50, 60]


def test_the_run_bonus_counts_the_whole_run_across_the_change() -> None:
    versions = ((MONDAY, VOUCHERS), (DAY_3, EscalatingSchedule(start=10, step=5, bonus_every=3, bonus=100)))

    awards = evaluate_versions(versions, in_order(daily("NNNNNN")), "cocaine", 25)

    assert points(awards) == [10, 15, 60, 25, 30, 135]


def test_a_level_saved_before_the_change_is_restored_after_it() -> None:
    recovering = EscalatingSchedule(start=10, step=5, recovery_after=2)
    versions = ((MONDAY, EscalatingSchedule(start=10, step=5)), (MONDAY + timedelta(days=5), recovering))

    awards = evaluate_versions(versions, in_order(daily("NNNNP NN")), "cocaine", 25)

    # Level 4 was lost on day 4; the second success after it, under the new version, restores it: 10 + 4 x 5.
    assert points(awards) == [10, 15, 20, 25, 0, 10, 30]
    assert awards[-1].recovered


def test_events_before_the_first_version_are_paid_by_the_first() -> None:
    versions = ((MONDAY + timedelta(days=30), VOUCHERS), (MONDAY + timedelta(days=60), RICHER))

    assert points(evaluate_versions(versions, in_order(daily("NN")), "cocaine", 25)) == [10, 15]


def test_of_two_versions_on_one_date_the_later_one_applies() -> None:
    versions = ((MONDAY, VOUCHERS), (DAY_3, EscalatingSchedule(start=99)), (DAY_3, RICHER))

    assert schedule_in_force(versions, DAY_3) == RICHER
    assert points(evaluate_versions(versions, in_order(daily("NNNN")), "cocaine", 25))[-1] == 50


def test_a_fixed_version_neither_resets_nor_extends_the_streak() -> None:
    versions = ((MONDAY, VOUCHERS), (MONDAY + timedelta(days=2), FixedSchedule(points=7)),
                (MONDAY + timedelta(days=4), VOUCHERS))  # fmt: skip

    awards = evaluate_versions(versions, in_order(daily("NNPNN")), "cocaine", 25)

    # The run of two waits through the fixed version; the next success is the third in a row: 20 + 40 bonus.
    assert points(awards) == [10, 15, 0, 7, 60]


def test_a_week_mode_version_after_a_sample_mode_one_counts_the_run_in_weeks() -> None:
    weekly_richer = EscalatingSchedule(start=40, step=6, escalate_per=EscalatePer.WEEK)
    versions = ((MONDAY, EscalatingSchedule(start=40, step=6)), (MONDAY + timedelta(weeks=2), weekly_richer))

    awards = evaluate_versions(versions, in_order(weekly(["NN", "NN", "NN"])), "stimulants", 25)

    # The run reaches its third calendar week on the change: 40 + 2 x 6 for both successes of that week.
    assert points(awards) == [40, 46, 52, 58, 52, 52]


def test_the_preview_uses_the_version_in_force_on_the_preview_date() -> None:
    versions = ((MONDAY, VOUCHERS), (DAY_3, RICHER))
    history = daily("NN")

    today = preview_next(VOUCHERS, history, MONDAY + timedelta(days=2), "cocaine", versions)
    later = preview_next(VOUCHERS, history, DAY_3, "cocaine", versions)

    assert (today.points, later.points) == (60, 40)
    assert later.reset_points == 20


def test_the_program_preview_follows_the_versions_too() -> None:
    target = _target(VOUCHERS, ((MONDAY, VOUCHERS), (DAY_3, RICHER)))

    previews = preview_program(_program(target), {"cocaine": daily("NN")}, DAY_3)

    assert previews["cocaine"].points == 40


@settings(max_examples=200, deadline=None)
@given(schedules, histories(), windows, st.integers(0, 3000))
def test_a_single_version_gives_exactly_the_results_of_a_plain_schedule(schedule, specimens, window, cap) -> None:
    plain = ProgramRules(25, cap, window, None, (_target(schedule),))
    versioned = ProgramRules(25, cap, window, None, (_target(schedule, ((FIRST_DAY, schedule),)),))

    assert evaluate_program(versioned, {"cocaine": specimens}).awards == \
        evaluate_program(plain, {"cocaine": specimens}).awards


@settings(max_examples=200, deadline=None)
@given(schedules, histories(), st.lists(st.integers(0, 120), min_size=1, max_size=4))
def test_splitting_a_schedule_into_identical_versions_changes_nothing(schedule, events, offsets) -> None:
    versions = tuple((FIRST_DAY + timedelta(days=d), schedule) for d in sorted(offsets))

    assert evaluate_versions(versions, in_order(events), "cocaine", 25) == evaluate_target(schedule, events,
                                                                                          "cocaine", 25)


@settings(max_examples=200, deadline=None)
@given(schedules, schedules, histories(), st.integers(0, 120))
def test_awards_before_a_change_are_those_the_old_version_gave(old, new, events, offset) -> None:
    change = FIRST_DAY + timedelta(days=offset)

    before = [a for a in evaluate_target(old, events, "cocaine", 25) if a.on < change]
    after = evaluate_versions(((FIRST_DAY, old), (change, new)), in_order(events), "cocaine", 25)

    assert after[: len(before)] == before


@settings(max_examples=100, deadline=None)
@given(schedules, schedules, histories(), st.integers(0, 120), st.integers(0, 6))
def test_the_preview_matches_what_the_next_success_earns_across_versions(old, new, events, offset, gap) -> None:
    versions = ((FIRST_DAY, old), (FIRST_DAY + timedelta(days=offset), new))
    on = (events[-1].on if events else FIRST_DAY) + timedelta(days=gap)
    success = evaluate_versions(versions, in_order([*events, _success(on)]), "", 0)[-1]

    preview = preview_next(old, events, on, "", versions)

    assert (preview.points, preview.draws) == (success.points, success.draws)


def _success(on: date) -> TargetEvent:
    return TargetEvent(("z", 0), datetime.combine(on, time(23), UTC), on, Outcome.SUCCESS)


def test_a_preview_holds_until_the_day_before_the_next_version_or_the_end_of_a_weekly_schedule_s_week():
    """engine.program.preview_holds_until: what a stored preview may be kept for; past that day preview_next says
    something else for the same history."""
    from datetime import date, timedelta

    from cm_tracker.engine import EscalatingSchedule, Outcome, TargetEvent, TargetKind, TargetRules
    from cm_tracker.engine.evaluate import preview_next
    from cm_tracker.engine.program import preview_holds_until
    from cm_tracker.engine.schedules import EscalatePer, FixedSchedule

    thursday = date(2026, 1, 15)
    weekly = EscalatingSchedule(start=10, step=5, escalate_per=EscalatePer.WEEK)
    history = [TargetEvent(("specimen", 1), datetime(2026, 1, 12, 17, tzinfo=UTC), date(2026, 1, 12), Outcome.SUCCESS)]
    target = TargetRules("t", TargetKind.ABSTINENCE, "t", frozenset({"cocaine"}), weekly)
    sunday = preview_holds_until(target, thursday)
    assert sunday == date(2026, 1, 18)
    assert preview_next(weekly, history, sunday).points == preview_next(weekly, history, thursday).points == 10
    assert preview_next(weekly, history, sunday + timedelta(days=1)).points == 15

    richer = EscalatingSchedule(start=20, step=10)
    versions = ((date(2026, 1, 1), EscalatingSchedule(start=10, step=5)), (date(2026, 1, 20), richer))
    changing = TargetRules("t", TargetKind.ABSTINENCE, "t", frozenset({"cocaine"}), versions[0][1], versions)
    assert preview_holds_until(changing, thursday) == date(2026, 1, 19)
    assert preview_holds_until(changing, date(2026, 1, 20)) is None
    fixed = TargetRules("t", TargetKind.ABSTINENCE, "t", frozenset({"cocaine"}), FixedSchedule(points=5))
    assert preview_holds_until(fixed, thursday) is None
