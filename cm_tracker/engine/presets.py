"""Labelled starting points for a new program, each naming its source (docs/rules.md sections 1 and 4).

Presets are offered, never applied silently: a clinic picks one and edits it. Where we have not seen the
primary table behind a number, the caveat says so ("commonly cited; primary table not seen").
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from cm_tracker.engine.rules import CapWindow, ProgramRules, TargetKind, parse_program_rules

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STIMULANTS = ("amphetamine", "cocaine", "methamphetamine")

# CTN-0007 bowl (docs/rules.md 1): 500 slips; nominal values small $1, large $20, jumbo $100.
CTN_0007_BOWL = (
    {"tier": "good_job", "slips": 250, "value_cents": 0},
    {"tier": "small", "slips": 209, "value_cents": 100},
    {"tier": "large", "slips": 40, "value_cents": 2000},
    {"tier": "jumbo", "slips": 1, "value_cents": 10000},
)


@dataclass(frozen=True, slots=True)
class VisitBlock:
    """Weeks `first_week` to `last_week` (1-based, inclusive) have `per_week` visits each."""

    first_week: int
    last_week: int
    per_week: int


@dataclass(frozen=True, slots=True)
class PresetTarget:
    key: str
    kind: TargetKind
    label: str
    analytes: tuple[str, ...]
    schedule: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Preset:
    """A program template: its fields as the API takes them, plus where they come from and how sure we are."""

    name: str
    title: str
    description: str
    source: str
    caveat: str
    point_value_cents: int
    weeks: int
    visits: tuple[VisitBlock, ...]
    visit_days: tuple[str, ...]
    cap_cents: int
    cap_window: CapWindow
    max_award_cents: int | None
    targets: tuple[PresetTarget, ...]

    def program_data(self) -> dict[str, Any]:
        """The program JSON of docs/api.md POST /programs, ready to edit."""
        data: dict[str, Any] = {
            "name": self.title,
            "point_value_cents": self.point_value_cents,
            "weeks": self.weeks,
            "visit_days": list(self.visit_days),
            "cap_cents": self.cap_cents,
            "cap_window": self.cap_window.value,
            "targets": [_target_data(t) for t in self.targets],
        }
        if self.max_award_cents is not None:
            data["max_award_cents"] = self.max_award_cents
        return data

    def rules(self) -> ProgramRules:
        return parse_program_rules(self.program_data())

    def visit_dates(self, start_on: date) -> list[date]:
        """The scheduled visit dates from an enrollment start, following the weekly pattern."""
        return visit_dates(start_on, self.visit_days, self.visits)


def _target_data(target: PresetTarget) -> dict[str, Any]:
    data: dict[str, Any] = {"key": target.key, "kind": target.kind.value, "label": target.label}
    if target.analytes:
        data["analytes"] = list(target.analytes)
    return data | {"schedule": copy.deepcopy(dict(target.schedule))}


def visit_dates(start_on: date, visit_days: tuple[str, ...], blocks: tuple[VisitBlock, ...]) -> list[date]:
    """Visit dates: in program week w (7 days from start_on + 7 (w - 1)), the first `per_week` of `visit_days`."""
    dates = []
    for block in blocks:
        for week in range(block.first_week, block.last_week + 1):
            week_start = start_on + timedelta(weeks=week - 1)
            for day in visit_days[: block.per_week]:
                offset = (WEEKDAYS.index(day) - week_start.weekday()) % 7
                dates.append(week_start + timedelta(days=offset))
    return sorted(dates)


def _schedule(**fields: Any) -> Mapping[str, Any]:
    return MappingProxyType(fields)


def _bowl() -> list[dict[str, Any]]:
    return [dict(tier) for tier in CTN_0007_BOWL]


HIGGINS_VOUCHERS = Preset(
    name="higgins_vouchers",
    title="Escalating vouchers (Higgins and Budney)",
    description=(
        "Points worth $0.25 each for every cocaine-negative urine test, three tests a week for 12 weeks: 10 points "
        "for the first, 5 more for each negative in a row, and a 40-point bonus on every third in a row. A positive "
        "or missed test resets the value to 10 points; five negatives in a row restore the earlier value. "
        "Points are exchanged for goods that staff buy; no cash."
    ),
    source=(
        "Budney AJ, Higgins ST. A Community Reinforcement Plus Vouchers Approach: Treating Cocaine Addiction. "
        "NIDA Therapy Manuals for Drug Addiction, Manual 2 (1998); Higgins ST et al. (1991, 1994)."
    ),
    caveat=(
        "Amounts commonly cited; primary table not seen. The manual confirms that a missed sample counts as "
        "positive, that use resets the value, that five consecutive negatives restore it, and that points earned "
        "are never lost. At most 3,990 points ($997.50)."
    ),
    point_value_cents=25,
    weeks=12,
    visits=(VisitBlock(1, 12, 3),),
    visit_days=("mon", "wed", "fri"),
    cap_cents=99750,
    cap_window=CapWindow.EPISODE,
    max_award_cents=None,
    targets=(
        PresetTarget(
            "cocaine", TargetKind.ABSTINENCE, "cocaine", ("cocaine",),
            _schedule(kind="escalating", start=10, step=5, bonus_every=3, bonus=40, recovery_after=5),
        ),
    ),
)  # fmt: skip

CALIFORNIA_RIP = Preset(
    name="california_rip",
    title="California-like stimulant incentives",
    description=(
        "Stimulant-negative tests only: two tests a week in weeks 1 to 12, one a week in weeks 13 to 24 (36 tests). "
        "Each negative earns $10 in the first week of continuous negatives, $1.50 more for each further week, "
        "at most $26.50; a positive or missed test drops the next negative back to $10. At most $599 per episode."
    ),
    source=(
        "California DHCS Recovery Incentives Program (Medi-Cal, 2023-2026); Freese TE et al., Recovery Incentives "
        "Program: California's contingency management benefit, Preventive Medicine 176 (2023) 107703."
    ),
    caveat=(
        "California-like, not the DHCS schedule itself: the per-test table was not seen. The ladder here rises "
        "once per calendar week and holds at $26.50; the $599 episode cap cuts what would pass it "
        "(all 36 negatives would otherwise be worth $756)."
    ),
    point_value_cents=25,
    weeks=24,
    visits=(VisitBlock(1, 12, 2), VisitBlock(13, 24, 1)),
    visit_days=("mon", "thu"),
    cap_cents=59900,
    cap_window=CapWindow.EPISODE,
    max_award_cents=None,
    targets=(
        PresetTarget(
            "stimulants", TargetKind.ABSTINENCE, "stimulants", STIMULANTS,
            _schedule(kind="escalating", start=40, step=6, max=106, escalate_per="week"),
        ),
    ),
)  # fmt: skip

PETRY_PRIZE_DRAWS = Preset(
    name="petry_prize_draws",
    title="Prize draws (Petry fishbowl, CTN-0007 bowl)",
    description=(
        "Each stimulant-negative test earns draws from a bowl of 500 slips: half say good job, the rest win a "
        "small (~$1), large (~$20) or jumbo (~$100) prize chosen from the prize cabinet. One draw per test in the "
        "first week of continuous negatives, one more each further week, at most 12; 2 bonus draws when the "
        "test is also negative for alcohol and opiates; 1 draw for each counseling session attended. "
        "A positive or missed test resets the draws to 1."
    ),
    source=(
        "Petry NM et al., Arch Gen Psychiatry 62 (2005) 1148-1156 (CTN-0006); Peirce JM et al., Arch Gen "
        "Psychiatry 63 (2006) 201-208 (CTN-0007); "
        "Petry NM, Contingency Management for Substance Abuse Treatment (2012)."
    ),
    caveat=(
        "The bowl is the CTN-0007 bowl of docs/rules.md; the escalation, the bonus draws and the attendance draw "
        "are commonly cited; primary table not seen. Prize values are nominal. Set the cap your funder requires."
    ),
    point_value_cents=25,
    weeks=12,
    visits=(VisitBlock(1, 12, 2),),
    visit_days=("mon", "thu"),
    cap_cents=59900,
    cap_window=CapWindow.CALENDAR_YEAR,
    max_award_cents=None,
    targets=(
        PresetTarget(
            "stimulants", TargetKind.ABSTINENCE, "stimulants", STIMULANTS,
            _schedule(
                kind="prize_draws", start_draws=1, step_draws=1, max_draws=12, escalate_per="week",
                bonus_draws=2, bonus_analytes=["alcohol", "opiates"], bowl=_bowl(),
            ),
        ),
        PresetTarget(
            "counseling", TargetKind.ATTENDANCE, "counseling sessions", (),
            _schedule(kind="fixed", draws=1),
        ),
    ),
)  # fmt: skip

SILVERMAN_ATTENDANCE = Preset(
    name="silverman_attendance",
    title="Escalating attendance (Silverman job-skills model)",
    description=(
        "Each weekday attended earns $8.00 on the first day, $0.90 more for each further day in a row, "
        "at most $34.10; a missed (unexcused) day drops the next back to $8.00. Points are worth $0.10."
    ),
    source="Silverman K et al., therapeutic workplace and job-skills training studies (e.g. Silverman et al. 2001).",
    caveat=(
        "Amounts commonly cited; primary table not seen. The cap is set to what 12 weeks of full attendance "
        "earn ($1,654.50); lower it to the limit your funder allows."
    ),
    point_value_cents=10,
    weeks=12,
    visits=(VisitBlock(1, 12, 5),),
    visit_days=("mon", "tue", "wed", "thu", "fri"),
    cap_cents=165450,
    cap_window=CapWindow.EPISODE,
    max_award_cents=None,
    targets=(
        PresetTarget(
            "workplace", TargetKind.ATTENDANCE, "workplace attendance", (),
            _schedule(kind="escalating", start=80, step=9, max=341),
        ),
    ),
)  # fmt: skip

FIXED_ATTENDANCE = Preset(
    name="fixed_attendance",
    title="Fixed reward for group attendance",
    description=(
        "Each weekly group session attended earns 20 points ($5.00); nothing escalates and nothing resets. "
        "At most $15 per award and $75 per calendar year."
    ),
    source="HHS-OIG guidance on nominal value: $15 per item, $75 per patient per year (2016).",
    caveat=(
        "A simple schedule inside the nominal-value limits, not taken from a trial. Fixed rewards reinforce less "
        "than escalating ones; prefer an escalating schedule where the budget allows."
    ),
    point_value_cents=25,
    weeks=12,
    visits=(VisitBlock(1, 12, 1),),
    visit_days=("wed",),
    cap_cents=7500,
    cap_window=CapWindow.CALENDAR_YEAR,
    max_award_cents=1500,
    targets=(PresetTarget("group", TargetKind.ATTENDANCE, "group sessions", (), _schedule(kind="fixed", points=20)),),
)

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (HIGGINS_VOUCHERS, CALIFORNIA_RIP, PETRY_PRIZE_DRAWS, SILVERMAN_ATTENDANCE, FIXED_ATTENDANCE)
}
