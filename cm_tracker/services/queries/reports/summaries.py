"""The rows of the report cache (EventOutcome rows, EnrollmentWeek rows and one EnrollmentSummary per enrolment), as
the engine's evaluation and the stored facts make them.

usecases.reevaluation.reevaluate_and_refresh calls queries.reports.cache.refresh_outcomes after
core.evaluation.reevaluate posts the differences, with the evaluation it just computed, so every write that can
change an outcome (a result, a late entry, a correction, an excuse) brings the enrollment's rows up to date in the
same transaction, writing only the rows that differ; usecases.report_cache rebuilds every enrollment's. `outcome_rows`,
`week_rows`, `summary_of` and `ledger_totals` are shared with the bulk builder (tooling.scale), which has the same
facts in memory, so both write exactly the same rows.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cm_tracker.engine.outcomes import ActivityStatus, AttendanceStatus, Outcome, SpecimenStatus
from cm_tracker.engine.program import ProgramEvaluation
from cm_tracker.engine.rules import ProgramRules, TargetKind
from cm_tracker.models import (
    EntryKind,
)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What reports count about an event besides its outcome."""

    is_submitted: bool = False
    is_excused: bool = False
    is_attended: bool = False


CAME_FOR_SPECIMEN = {SpecimenStatus.FINAL, SpecimenStatus.PENDING, SpecimenStatus.REFUSED}


def specimen_facts(status: str) -> EventFacts:
    """A specimen given (whatever its result) or refused means the patient came (docs/rules.md 8: retention)."""
    return EventFacts(is_submitted=status == SpecimenStatus.FINAL, is_excused=status == SpecimenStatus.EXCUSED,
                      is_attended=status in CAME_FOR_SPECIMEN)


def attendance_facts(status: str) -> EventFacts:
    return EventFacts(is_excused=status == AttendanceStatus.EXCUSED, is_attended=status == AttendanceStatus.ATTENDED)


def activity_facts(status: str) -> EventFacts:
    return EventFacts(is_attended=status == ActivityStatus.VERIFIED)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def primary_target(rules: ProgramRules) -> Hashable | None:
    """The first abstinence target, else the first target: the one percent negative and LDA are reported on."""
    for target in rules.targets:
        if target.kind == TargetKind.ABSTINENCE:
            return target.key
    return rules.targets[0].key if rules.targets else None


def outcome_rows(enrollment_id: int, patient_id: int, program_id: int, evaluation: ProgramEvaluation,
                 facts: Mapping[Hashable, EventFacts]) -> Iterator[dict[str, Any]]:
    """One row per (target, event) of the evaluation; `facts` maps an event key to its facts."""
    primary = primary_target(evaluation.rules)
    kinds = {t.key: t.kind for t in evaluation.rules.targets}
    none = EventFacts()
    for target, awards in evaluation.by_target.items():
        previous_run = 0
        for award in awards:
            event_type, event_id = award.key  # type: ignore[misc]
            fact = facts.get(award.key, none)
            yield {
                "enrollment_id": enrollment_id, "patient_id": patient_id, "program_id": program_id,
                "target_key": str(target), "target_kind": kinds[target], "is_primary": target == primary,
                "event_type": event_type, "event_id": event_id, "occurred_at": award.at,
                "occurred_on": award.on, "week_on": monday_of(award.on), "outcome": award.outcome,
                "is_submitted": fact.is_submitted, "is_excused": fact.is_excused, "is_attended": fact.is_attended,
                "points": award.points, "draws": award.draws, "value_cents": award.value_cents,
                "bonus_points": award.bonus_points, "bonus_draws": award.bonus_draws,
                "level": award.level, "run": award.run, "is_recovered": award.recovered,
                "is_reset": award.outcome == Outcome.FAILURE and previous_run > 0, "is_capped": award.capped,
            }  # fmt: skip
            previous_run = award.run


def _longest(flags: list[bool | None]) -> int:
    """The longest run of True; None (neutral) neither breaks nor extends a run."""
    best = run = 0
    for flag in flags:
        if flag is None:
            continue
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def summary_of(enrollment_id: int, patient_id: int, program_id: int, rows: list[dict[str, Any]],
               scheduled: list[date], excused_visits: set[date], computed_on: date,
               scheduled_days: int, ledger: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The whole-episode counts of queries.reports.counting, for one enrolment, from its outcome rows, its test
    visits due before `computed_on`, the visit dates excused by an excuse or a closure, and its ledger totals
    (`ledger_totals`; None: through entry 0, so reports count every entry live)."""
    primary = sorted((r for r in rows if r["is_primary"]),
                     key=lambda r: (r["occurred_at"], str(r["event_type"]), r["event_id"]))
    recorded_days = {r["occurred_on"] for r in primary}
    excused_unrecorded = sorted({d for d in scheduled if d in excused_visits and d not in recorded_days})
    attended = [r["occurred_on"] for r in rows if r["is_attended"]]
    weeks: dict[date, list[int]] = {}
    for r in primary:
        week = weeks.setdefault(r["week_on"], [0, 0, 0, 0])
        week[0] += r["outcome"] == Outcome.SUCCESS
        week[1] += r["outcome"] == Outcome.FAILURE
        week[2] += bool(r["is_excused"])
    for day in scheduled:
        weeks.setdefault(monday_of(day), [0, 0, 0, 0])[3] += 1
    for day in excused_unrecorded:
        weeks.setdefault(monday_of(day), [0, 0, 0, 0])[2] += 1
    week_flags = [(s > 0 and f == 0 and s + x >= n) if (f > 0 or s > 0 or x < n) else None
                  for s, f, x, n in (weeks[w] for w in sorted(weeks))]
    return {
        "enrollment_id": enrollment_id, "program_id": program_id, "patient_id": patient_id,
        "successes": sum(r["outcome"] == Outcome.SUCCESS for r in primary),
        "failures": sum(r["outcome"] == Outcome.FAILURE for r in primary),
        "submitted": sum(bool(r["is_submitted"]) for r in primary),
        "excused_tests": sum(bool(r["is_excused"]) for r in primary) + len(excused_unrecorded),
        "attended_days": len(set(attended)),
        "excused_days": len({r["occurred_on"] for r in rows if r["is_excused"]}) + len(excused_unrecorded),
        "last_attended_on": max(attended, default=None),
        "lda_samples": _longest([r["outcome"] == Outcome.SUCCESS if r["outcome"] != Outcome.NEUTRAL else None
                                 for r in primary]),
        "lda_weeks": _longest(week_flags),
        "engine_points": sum(r["points"] for r in rows), "engine_cents": sum(r["value_cents"] for r in rows),
        "scheduled_tests": len(scheduled), "scheduled_days": scheduled_days, "computed_on": computed_on,
        **(ledger or NO_LEDGER),
    }  # fmt: skip


def week_rows(enrollment_id: int, program_id: int, rows: list[dict[str, Any]],
              scheduled: list[date]) -> list[dict[str, Any]]:
    """Per ISO week: the primary target's successes, specimens with a final result, failures and excused events,
    and the test visits due before the summary's day, as queries.reports.counting.weekly_negative counts them."""
    weeks: dict[date, list[int]] = {}
    for r in rows:
        if r["is_primary"]:
            week = weeks.setdefault(r["week_on"], [0, 0, 0, 0, 0])
            week[0] += r["outcome"] == Outcome.SUCCESS
            week[1] += bool(r["is_submitted"])
            week[2] += r["outcome"] == Outcome.FAILURE
            week[3] += bool(r["is_excused"])
    for day in scheduled:
        weeks.setdefault(monday_of(day), [0, 0, 0, 0, 0])[4] += 1
    return [{"enrollment_id": enrollment_id, "week_on": week, "program_id": program_id, "successes": s,
             "submitted": sub, "failures": f, "excused": x, "scheduled_tests": n}
            for week, (s, sub, f, x, n) in sorted(weeks.items())]


NO_LEDGER = {"ledger_through_id": 0, "manual_cents": 0, "manual_points": 0, "redeemed_points": 0, "prize_cents": 0}
# The ledger's kinds reports count apart from the engine's (queries.reports.counting.ledger_counts).
OTHER_KINDS = (EntryKind.MANUAL, EntryKind.REDEMPTION, EntryKind.DRAW)


def ledger_totals(entries: Iterable[tuple[int, str, datetime, int, int]], last_id: int,
                  before: datetime) -> dict[str, int]:
    """The non-engine totals through the enrolment's last entry `last_id`, from its (id, kind, moment, points,
    value_cents) entries of OTHER_KINDS. An entry dated from `before` on (the end of the summary's day) stops the
    totals just before it, so every entry a summary counts is one a whole-episode report on any later day counts;
    reports add the entries after `ledger_through_id` live (queries.reports.whole_episode)."""
    found = sorted(entries)
    through = last_id
    for entry_id, _, moment, _, _ in found:
        if moment >= before:
            through = min(through, entry_id - 1)
    totals = dict(NO_LEDGER, ledger_through_id=through)
    for entry_id, kind, _, points, cents in found:
        if entry_id > through:
            break
        if kind == EntryKind.MANUAL:
            totals["manual_cents"] += cents
            totals["manual_points"] += points
        elif kind == EntryKind.REDEMPTION:
            totals["redeemed_points"] += points
        else:
            totals["prize_cents"] += cents
    return totals
