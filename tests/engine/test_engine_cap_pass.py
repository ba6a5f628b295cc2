"""The cap pass stops once the cap is used, and only where that is exact (engine/caps.py, docs/rules.md 5).

Each short-cut is checked against a plain model of the limits written here, which walks every award in the order
it happened and computes its room from scratch: the short-cuts must change no number, flag or sentence.
"""

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from cm_tracker.engine import (
    CapSpend,
    CapWindow,
    EscalatingSchedule,
    FixedSchedule,
    Outcome,
    ProgramRules,
    TargetEvent,
    TargetKind,
    TargetRules,
    evaluate_program,
)
from cm_tracker.engine.caps import CAP, CEILING, cap_cuts, limit_phrase
from cm_tracker.engine.text import count, money
from engine.engine_helpers import MONDAY, VOUCHERS, daily, event

SESSIONS = FixedSchedule(points=12)
NEVER = 10**12


class Valued(NamedTuple):
    on: date
    value_cents: int


def rules(cap: int, window: CapWindow, max_award: int | None = None, point_value: int = 25) -> ProgramRules:
    specimens = TargetRules("stimulants", TargetKind.ABSTINENCE, "stimulants", frozenset({"cocaine"}), VOUCHERS)
    sessions = TargetRules("sessions", TargetKind.ATTENDANCE, "group sessions", frozenset(), SESSIONS)
    return ProgramRules(point_value, cap, window, max_award, (specimens, sessions))


def model(limited: ProgramRules, events: dict, spends: list[CapSpend]) -> dict:
    """(target, key) -> (points, value, capped, explanation), by the plain walk of docs/rules.md 5."""
    free = evaluate_program(ProgramRules(limited.point_value_cents, NEVER, limited.cap_window, None, limited.targets),
                            events)  # fmt: skip
    order = {t.key: n for n, t in enumerate(limited.targets)}
    walk = sorted(((t, a) for (t, _), a in free.awards.items() if a.value_cents),
                  key=lambda item: (item[1].at, item[1].key, order[item[0]]))  # fmt: skip
    kept: list[tuple[date, int]] = [(s.on, s.value_cents) for s in spends]
    pv, cap, ceiling = limited.point_value_cents, limited.cap_cents, limited.max_award_cents
    result = {key: (a.points, a.value_cents, False, a.explanation) for key, a in free.awards.items()}
    for target, award in walk:
        fit, why = award.value_cents, ""
        if ceiling is not None and fit > ceiling:
            fit, why = ceiling, f"one award may be worth at most {money(ceiling)}"
        room = cap - max(_use(limited.cap_window, kept, award.on, end) for end in _ends(limited, kept, award.on))
        if fit > room:
            fit, why = max(room, 0), f"{limit_phrase(limited.cap_window, cap)} is reached"
        points = fit // pv
        kept.append((award.on, points * pv))
        if points != award.points:
            said = f"cut to {count(points, 'point')}" if points else "no points paid"
            result[(target, award.key)] = (points, points * pv, True, f"{award.explanation}; {said}: {why}")
    return result


def _ends(limited: ProgramRules, kept: list[tuple[date, int]], on: date) -> list[date]:
    """The windows containing `on`: its own, and for a rolling cap each later one ending on a day with a value."""
    if limited.cap_window != CapWindow.ROLLING_365:
        return [on]
    return [on, *(day for day, _ in kept if on < day <= on + timedelta(days=364))]


def _use(window: CapWindow, kept: list[tuple[date, int]], on: date, end: date) -> int:
    if window == CapWindow.EPISODE:
        return sum(cents for _, cents in kept)
    if window == CapWindow.CALENDAR_YEAR:
        return sum(cents for day, cents in kept if day.year == on.year)
    return sum(cents for day, cents in kept if end - timedelta(days=364) <= day <= end)


def engine(limited: ProgramRules, events: dict, spends: list[CapSpend]) -> dict:
    evaluation = evaluate_program(limited, events, spends)
    return {key: (a.points, a.value_cents, a.capped, a.explanation) for key, a in evaluation.awards.items()}


def test_after_the_episode_cap_is_used_every_award_is_zero_and_capped_as_before() -> None:
    limited = rules(3000, CapWindow.EPISODE)
    events = {"stimulants": daily("NNNNNNPNNNNNNNN"), "sessions": [event(100 + i, MONDAY + timedelta(days=i), "N")
                                                                   for i in range(15)]}  # fmt: skip

    result = engine(limited, events, [])

    assert result == model(limited, events, [])
    after = [result[("stimulants", ("specimen", n))] for n in range(8, 15)]
    assert all(points == 0 and capped for points, _, capped, _ in after)
    assert all(text.endswith("; no points paid: the $30.00 limit for this treatment episode is reached")
               for *_, text in after)  # fmt: skip


def test_the_pass_stops_at_the_award_that_uses_an_episode_cap() -> None:
    walk = [Valued(MONDAY + timedelta(days=n), 250) for n in range(6)]

    cuts, stopped = cap_cuts(CapWindow.EPISODE, 600, None, 25, walk, [])

    assert (cuts, stopped) == ([(2, 100, CAP)], 3)  # 250, 250, 100 of 250: the rest keep nothing


def test_the_pass_stops_when_less_than_one_point_is_left() -> None:
    walk = [Valued(MONDAY + timedelta(days=n), 250) for n in range(4)]

    cuts, stopped = cap_cuts(CapWindow.EPISODE, 510, None, 25, walk, [])

    assert (cuts, stopped) == ([], 2)  # 10 cents left: not a point, so the third award on keep nothing


def test_the_pass_goes_on_while_one_point_is_left() -> None:
    walk = [Valued(MONDAY + timedelta(days=n), 250) for n in range(4)]

    cuts, stopped = cap_cuts(CapWindow.EPISODE, 525, None, 25, walk, [])

    assert (cuts, stopped) == ([(2, 25, CAP)], 3)  # 25 cents left after two awards: the third keeps one point


def test_a_ceiling_below_the_point_value_is_not_taken_for_a_used_cap() -> None:
    walk = [Valued(MONDAY + timedelta(days=n), 250) for n in range(3)]

    cuts, stopped = cap_cuts(CapWindow.EPISODE, 10_000, 10, 25, walk, [])

    assert (cuts, stopped) == ([(0, 0, CEILING), (1, 0, CEILING), (2, 0, CEILING)], 3)


def test_a_calendar_year_cap_used_up_pays_again_in_the_next_year() -> None:
    days = [date(2025, 12, 20), date(2025, 12, 22), date(2025, 12, 24), date(2025, 12, 27), date(2026, 1, 5),
            date(2026, 1, 7)]  # fmt: skip
    limited = rules(1000, CapWindow.CALENDAR_YEAR)
    events = {"stimulants": [event(i, day, "N") for i, day in enumerate(days)]}

    result = engine(limited, events, [])

    assert result == model(limited, events, [])
    assert [result[("stimulants", ("specimen", n))][:3] for n in range(6)] == [
        (10, 250, False), (15, 375, False), (15, 375, True), (0, 0, True), (30, 750, False), (10, 250, True),
    ]  # fmt: skip
    walk = [Valued(day, 1000) for day in days]
    cuts, stopped = cap_cuts(CapWindow.CALENDAR_YEAR, 1000, None, 25, walk, [])
    assert stopped == len(walk)
    assert cuts == [(1, 0, CAP), (2, 0, CAP), (3, 0, CAP), (5, 0, CAP)]


def test_a_rolling_cap_used_up_pays_again_once_the_window_has_moved_on() -> None:
    days = [MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=200), MONDAY + timedelta(days=366)]
    walk = [Valued(day, 1000) for day in days]

    cuts, stopped = cap_cuts(CapWindow.ROLLING_365, 1000, None, 25, walk, [])

    assert (cuts, stopped) == ([(1, 0, CAP), (2, 0, CAP)], 4)


def test_a_rolling_window_with_one_point_left_pays_it() -> None:
    walk = [Valued(MONDAY, 975), Valued(MONDAY + timedelta(days=1), 250), Valued(MONDAY + timedelta(days=2), 250)]

    cuts, _ = cap_cuts(CapWindow.ROLLING_365, 1000, None, 25, walk, [])

    assert cuts == [(1, 25, CAP), (2, 0, CAP)]


def test_a_rolling_award_is_held_back_by_a_later_spend_when_its_own_window_has_room() -> None:
    walk = [Valued(MONDAY, 1000), Valued(MONDAY + timedelta(days=300), 1000)]
    spend = [(MONDAY + timedelta(days=400), 1500)]  # in every window holding the second award, not the first's

    cuts, _ = cap_cuts(CapWindow.ROLLING_365, 2000, None, 25, walk, spend)

    assert cuts == [(1, 500, CAP)]


def test_a_rolling_award_in_a_used_window_keeps_nothing_whatever_the_later_spends() -> None:
    walk = [Valued(MONDAY, 2000), Valued(MONDAY + timedelta(days=10), 1000)]
    spend = [(MONDAY + timedelta(days=370), 100)]  # in a window holding the second award, not the first

    cuts, _ = cap_cuts(CapWindow.ROLLING_365, 2000, None, 25, walk, spend)

    assert cuts == [(1, 0, CAP)]


codes = st.text(alphabet="NNNNPMX", min_size=0, max_size=45)
gaps = st.lists(st.integers(0, 40), min_size=45, max_size=45)


@st.composite
def histories(draw: st.DrawFn) -> dict[str, list[TargetEvent]]:
    """Specimens and sessions with gaps of up to 40 days, so that calendar years and rolling windows turn over."""
    spaced = draw(gaps)
    specimens, sessions = [], []
    day = date(2024, 10, 1)
    for n, code in enumerate(draw(codes)):
        day += timedelta(days=spaced[n])
        specimens.append(event(n, day, code))
        if draw(st.booleans()):
            outcome = Outcome.SUCCESS if code != "X" else Outcome.NEUTRAL
            at = datetime.combine(day, time(9), UTC) + timedelta(minutes=n)  # same instant: target order decides
            sessions.append(TargetEvent(("specimen", n), at, day, outcome, reason="attended"))
    return {"stimulants": specimens, "sessions": sessions}


@settings(max_examples=150, deadline=None)
@given(
    histories(),
    st.sampled_from(list(CapWindow)),
    st.integers(0, 6000),
    st.none() | st.integers(1, 2000),
    st.sampled_from([1, 25, 100]),
    st.lists(st.tuples(st.integers(0, 800), st.integers(1, 2500)), max_size=4),
)
def test_the_short_cuts_match_the_plain_walk(events, window, cap, max_award, point_value, spent) -> None:
    limited = rules(cap, window, max_award, point_value)
    spends = [CapSpend(datetime.combine(date(2024, 10, 1) + timedelta(days=d), time(12), UTC),
                       date(2024, 10, 1) + timedelta(days=d), cents) for d, cents in spent]  # fmt: skip

    assert engine(limited, events, spends) == model(limited, events, spends)


def test_an_escalating_schedule_is_cut_the_same_under_every_window() -> None:
    steep = EscalatingSchedule(start=40, step=20)
    target = TargetRules("stimulants", TargetKind.ABSTINENCE, "stimulants", frozenset({"cocaine"}), steep)
    events = {"stimulants": daily("NNNNNNNNNN")}
    for window in CapWindow:
        limited = ProgramRules(25, 5000, window, 2500, (target,))
        assert engine(limited, events, []) == model(limited, events, [])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40) | st.sampled_from([363, 364, 365]), st.integers(1, 40)), max_size=40),
    st.booleans(),
    st.integers(0, 6000),
    st.none() | st.integers(1, 900),
)
def test_a_rolling_walk_without_spends_is_cut_as_the_general_walk_cuts_it(steps, shuffled, cap, ceiling) -> None:
    """Without spends a rolling cap keeps a running sum of the last 365 days (caps._rolling_cuts_in_order); a spend
    of nothing long before the first award sends the same walk through the general one, which must agree, also for
    awards dated out of order (where the running sum hands over to it)."""
    walk, day = [], MONDAY
    for gap, points in steps:
        day += timedelta(days=gap)  # a year apart now and then, to the day: windows fill, empty and meet their ends
        walk.append(Valued(day, points * 25))
    if shuffled:
        walk.reverse()
    nothing_long_ago = [(MONDAY - timedelta(days=5000), 0)]

    assert cap_cuts(CapWindow.ROLLING_365, cap, ceiling, 25, walk, []) == \
        cap_cuts(CapWindow.ROLLING_365, cap, ceiling, 25, walk, nothing_long_ago)  # fmt: skip


def _random_history(rng: random.Random, targets: int) -> dict[str, list[TargetEvent]]:
    """Specimens (and sessions) with gaps that turn calendar years and rolling windows over, a neutral now and then,
    about one in eight corrected after entry (same key, another outcome) and the list handed over shuffled, as late
    entries arrive."""
    specimens, sessions = [], []
    day = date(2024, 11, 1)
    for n in range(rng.randrange(0, 120)):
        day += timedelta(days=rng.choice([1, 2, 2, 3, 5, 30, 90]))
        code = rng.choice("NNNNNNPMX")
        if rng.random() < 0.125:
            code = rng.choice("NPX".replace(code, ""))  # a correction: the row now says otherwise
        specimens.append(event(n, day, code))
        if targets == 2 and rng.random() < 0.5:
            outcome = rng.choice([Outcome.SUCCESS, Outcome.SUCCESS, Outcome.NEUTRAL])
            at = datetime.combine(day, time(9), UTC) + timedelta(minutes=n)  # same instant: target order decides
            sessions.append(TargetEvent(("specimen", n), at, day, outcome, reason="attended"))
    rng.shuffle(specimens)
    rng.shuffle(sessions)
    return {"stimulants": specimens, "sessions": sessions} if targets == 2 else {"stimulants": specimens}


def _limited(rng: random.Random, targets: int, window: CapWindow) -> ProgramRules:
    point_value = rng.choice([1, 25, 100])
    # Caps that are not a multiple of the point value, so awards are cut mid-way (partly paid) as well as to nothing.
    cap = rng.choice([0, 1010, 2990, 5000, 7777, 20_000, NEVER])
    max_award = rng.choice([None, None, 300, 1000, 1013])
    both = rules(cap, window, max_award, point_value)
    return both if targets == 2 else ProgramRules(point_value, cap, window, max_award, both.targets[:1])


def test_every_award_matches_the_plain_walk_on_many_seeded_histories() -> None:
    """The limits change points, value, capped and the sentence only: every other field, and the order of the awards
    in `awards` and `by_target`, is what the targets' schedules gave; for one target and for two, every window."""
    rng = random.Random(20261202)
    capped = partly = 0
    for _ in range(400):
        targets, window = rng.choice([1, 2]), rng.choice(list(CapWindow))
        limited, events = _limited(rng, targets, window), _random_history(rng, targets)
        days = [rng.randrange(0, 700) for _ in range(rng.choice([0, 0, 1, 3]))]
        spends = [CapSpend(datetime.combine(date(2024, 11, 1) + timedelta(days=d), time(12), UTC),
                           date(2024, 11, 1) + timedelta(days=d), rng.randrange(1, 2500)) for d in days]  # fmt: skip
        evaluation = evaluate_program(limited, events, spends)
        free = evaluate_program(ProgramRules(limited.point_value_cents, NEVER, window, None, limited.targets), events)

        assert engine(limited, events, spends) == model(limited, events, spends)
        assert list(evaluation.awards) == list(free.awards)
        assert {t: [a.key for a in awards] for t, awards in evaluation.by_target.items()} == \
            {t: [a.key for a in awards] for t, awards in free.by_target.items()}  # fmt: skip
        for key, award in evaluation.awards.items():
            assert evaluation.by_target[key[0]][[a.key for a in evaluation.by_target[key[0]]].index(key[1])] is award
            assert award._replace(points=0, why="", value_cents=0, capped=False) == \
                free.awards[key]._replace(points=0, why="", value_cents=0, capped=False)  # fmt: skip
            capped += award.capped
            partly += award.capped and award.points > 0
    assert capped > 1000 and partly > 50  # the histories do reach the caps, and some awards are paid in part
